"""Task policies: pause-before, wait-before, timeout, fail-on, retry, wait-after.

A mixin of the machine's step scratchpad (`levante.engine.machine._Run`).
Every delay is a durable timer (`ScheduleTimer`), delivered back as a
`TimerFired` event by the scheduler service; nothing sleeps in-process.
Stale timers (for an attempt or a task that moved on) change nothing.
Policy values may be expressions, evaluated in the task's context. What the
policies did shows in the task's runtime_context under Mistral's keys
(`retry_task_policy`, `wait_before_policy`, `wait_after_policy`).
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from levante.engine.state import ScheduleTimer, TaskRun, TimerFired
from levante.errors import ExpressionError
from levante.language.spec import TaskSpec
from levante.states import COMPLETED, State

if TYPE_CHECKING:
    from levante.engine.machine import _Run as _Base
else:
    _Base = object

PAUSED_BY_POLICY = "Set by 'pause-before' policy"
FAILED_BY_POLICY = "Failed by 'fail-on' policy"


class PolicyError(ValueError):
    """A policy value is not usable (not a number of seconds, a bad expression)."""


class PolicyMixin(_Base):
    """Policy handling for the step scratchpad."""

    # -- before the task runs -------------------------------------------------

    def _begin(self, task: TaskRun, spec: TaskSpec) -> None:
        """Runs a created task, honoring pause-before, wait-before and timeout."""
        try:
            if not task.policy.get("pause_before_done") and self._flag(spec.pause_before, task):
                policy = {**task.policy, "pause_before_done": True}
                self._put(
                    dataclasses.replace(
                        task,
                        state=State.IDLE,
                        state_info=PAUSED_BY_POLICY,
                        policy=policy,
                        updated_at=self.now,
                    )
                )
                self._set_execution(state=State.PAUSED)
                return
            delay = self._seconds(spec.wait_before, task)
            if delay and "wait_before_policy" not in task.policy:
                policy = {**task.policy, "wait_before_policy": {"skip": False}}
                task = self._put(
                    dataclasses.replace(
                        task,
                        state=State.RUNNING_DELAYED,
                        state_info=None,
                        policy=policy,
                        updated_at=self.now,
                    )
                )
                self._schedule(task, "wait-before", delay)
                return
            timeout = self._seconds(spec.timeout, task)
        except (ExpressionError, PolicyError) as error:
            self._policy_failed(task, spec, error)
            return
        task = self._put(
            dataclasses.replace(
                task,
                state=State.RUNNING,
                state_info=None,
                started_at=task.started_at or self.now,
                updated_at=self.now,
            )
        )
        if timeout:
            self._schedule(task, "timeout", timeout)
        self._run_task(self.tasks[task.id], spec)

    # -- after an attempt -------------------------------------------------------

    def _finish_attempt(
        self, task: TaskRun, spec: TaskSpec, outcome: State, *, result: Any, info: str | None
    ) -> None:
        """Applies fail-on, retry and wait-after, then completes the task."""
        attempt = dataclasses.replace(task, state=outcome, result=result, state_info=info)
        try:
            if outcome is State.SUCCESS and self._flag(spec.fail_on, attempt):
                outcome, info = State.ERROR, FAILED_BY_POLICY
                attempt = dataclasses.replace(attempt, state=outcome, state_info=info)
            if spec.retry is not None and self._should_retry(attempt, spec):
                self._retry(task, spec)
                return
            delay = self._seconds(spec.wait_after, attempt)
        except (ExpressionError, PolicyError) as error:
            self._policy_failed(task, spec, error)
            return
        if delay and "wait_after_policy" not in task.policy:
            policy = {
                **task.policy,
                "wait_after_policy": {"skip": False},
                "pending": {"state": str(outcome), "info": info},
            }
            task = self._put(
                dataclasses.replace(
                    task,
                    state=State.RUNNING_DELAYED,
                    result=result,
                    policy=policy,
                    updated_at=self.now,
                )
            )
            self._schedule(task, "wait-after", delay)
            return
        self._complete_task(task, spec, outcome, result=result, info=info)

    def _should_retry(self, attempt: TaskRun, spec: TaskSpec) -> bool:
        retry = spec.retry
        assert retry is not None
        done = int(attempt.policy.get("retry_task_policy", {}).get("retry_no", 0))
        if done >= self._count(retry.count, attempt):
            return False
        if attempt.state is State.ERROR:
            return not (retry.break_on and self._flag(retry.break_on, attempt))
        return bool(retry.continue_on and self._flag(retry.continue_on, attempt))

    def _retry(self, task: TaskRun, spec: TaskSpec) -> None:
        assert spec.retry is not None
        number = int(task.policy.get("retry_task_policy", {}).get("retry_no", 0)) + 1
        policy = {**task.policy, "retry_task_policy": {"retry_no": number}}
        delay = self._seconds(spec.retry.delay, task)
        task = self._put(
            dataclasses.replace(
                task,
                policy=policy,
                state=State.RUNNING_DELAYED if delay else State.RUNNING,
                updated_at=self.now,
            )
        )
        if delay:
            self._schedule(task, "retry", delay, token=number)
        else:
            self._run_again(task, spec)

    def _run_again(self, task: TaskRun, spec: TaskSpec) -> None:
        """Another attempt of a task: a new action (or sub-workflow) after the earlier ones."""
        task = self._put(dataclasses.replace(task, state=State.RUNNING, updated_at=self.now))
        try:
            action_input = self._evaluate(spec.input, task.in_context, current=task)
        except ExpressionError as error:
            info = f"Failed to evaluate the input of task '{spec.name}': {error}"
            self._complete_task(task, spec, State.ERROR, result=info, info=info)
            return
        self._dispatch(task, spec, action_input, index=len(task.live_actions))

    # -- timers -----------------------------------------------------------------

    def fire_timer(self, event: TimerFired) -> None:
        task = self.tasks.get(event.task_id)
        if task is None or task.state in COMPLETED or self.state.state in COMPLETED:
            return
        if self.state.state is State.PAUSED:
            due = [*task.policy.get("due_timers", []), {"kind": event.kind, "token": event.token}]
            self._put(dataclasses.replace(task, policy={**task.policy, "due_timers": due}))
            return
        self._apply_timer(task, event.kind, event.token)
        self._settle()

    def _apply_timer(self, task: TaskRun, kind: str, token: int) -> None:
        spec = self.state.spec.tasks[task.name]
        policy = {k: v for k, v in task.policy.items() if k != "timer"}
        task = self._put(dataclasses.replace(task, policy=policy))
        if kind == "wait-before" and task.state is State.RUNNING_DELAYED:
            policy["wait_before_policy"] = {"skip": True}
            self._begin(self._put(dataclasses.replace(task, policy=policy)), spec)
        elif kind == "retry" and task.state is State.RUNNING_DELAYED:
            if policy.get("retry_task_policy", {}).get("retry_no") == token:
                self._run_again(task, spec)
        elif kind == "wait-after" and "pending" in policy:
            pending = policy.pop("pending")
            policy["wait_after_policy"] = {"skip": True}
            task = self._put(dataclasses.replace(task, policy=policy))
            self._complete_task(
                task, spec, State(pending["state"]), result=task.result, info=pending["info"]
            )
        elif kind == "timeout":
            seconds = self._seconds(spec.timeout, task)
            shown = int(seconds) if seconds.is_integer() else seconds
            info = f"Task timed out [timeout(s)={shown}]."
            self._complete_task(task, spec, State.ERROR, result=task.result, info=info)

    def _due_timers_after_resume(self, task: TaskRun) -> None:
        due = task.policy.get("due_timers")
        if not due:
            return
        policy = {k: v for k, v in task.policy.items() if k != "due_timers"}
        task = self._put(dataclasses.replace(task, policy=policy))
        for timer in due:
            current = self.tasks[task.id]
            if current.state not in COMPLETED and self.state.state is State.RUNNING:
                self._apply_timer(current, timer["kind"], timer["token"])

    # -- helpers ------------------------------------------------------------------

    def _schedule(self, task: TaskRun, kind: str, seconds: float, *, token: int = 0) -> None:
        due = self.now + timedelta(seconds=seconds)
        # Remembered on the task so that recovery can re-deliver a lost timer.
        timer = {"kind": kind, "token": token, "due_at": due.isoformat()}
        self._put(
            dataclasses.replace(
                self.tasks[task.id], policy={**self.tasks[task.id].policy, "timer": timer}
            )
        )
        self.commands.append(
            ScheduleTimer(
                execution_id=self.state.id,
                root_execution_id=self.state.root_id,
                due_at=due,
                kind=kind,
                task_id=task.id,
                token=token,
            )
        )

    def _policy_failed(self, task: TaskRun, spec: TaskSpec, error: Exception) -> None:
        info = f"Failed to apply the policies of task '{spec.name}': {error}"
        self._complete_task(task, spec, State.ERROR, result=info, info=info)

    def _value(self, value: Any, task: TaskRun) -> Any:
        if isinstance(value, str):
            return self._evaluate(value, task.in_context, current=task)
        return value

    def _flag(self, value: Any, task: TaskRun) -> bool:
        return value is not None and bool(self._value(value, task))

    def _seconds(self, value: Any, task: TaskRun) -> float:
        if value is None:
            return 0.0
        result = self._value(value, task)
        try:
            seconds = float(result)
        except (TypeError, ValueError) as error:
            raise PolicyError(f"expected a number of seconds, got {result!r}") from error
        if seconds < 0:
            raise PolicyError(f"expected a number of seconds, got {seconds}")
        return seconds

    def _count(self, value: Any, task: TaskRun) -> int:
        result = self._value(value, task)
        try:
            return int(result)
        except (TypeError, ValueError) as error:
            raise PolicyError(f"expected a retry count, got {result!r}") from error
