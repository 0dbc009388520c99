"""When a `join` task may run: pure functions over the workflow graph and task runs.

For each inbound task (a task with a transition to the join task) the join
sees one of three things: it triggered this join run (satisfied); it has not
finished yet, or has not run but still can (waiting); or it finished without
triggering the join, or can no longer run at all (failed). `join: all` needs
every inbound task satisfied, `join: N` any N of them, `join: one` one. A join
that can no longer be satisfied fails with Mistral's state_info
`Failed by tasks: ['b']`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from levante.engine.state import TaskRun
from levante.language.spec import TaskSpec, TransitionKind, WorkflowSpec
from levante.states import COMPLETED, State

RUN = "run"
WAIT = "wait"
FAIL = "fail"


@dataclass(frozen=True, slots=True)
class JoinDecision:
    """What to do with a waiting join run; `blocking` names the inbound tasks that failed it."""

    action: str
    blocking: tuple[str, ...] = ()


def targets(spec: TaskSpec) -> set[str]:
    """Names of the tasks any transition of `spec` may start."""
    return {
        t.target
        for t in (*spec.on_success, *spec.on_error, *spec.on_complete)
        if t.kind is TransitionKind.TASK and t.target
    }


def inbound(workflow: WorkflowSpec, name: str) -> list[str]:
    """Tasks with a transition to `name`, in definition order."""
    return [task.name for task in workflow.tasks.values() if name in targets(task)]


def required(join: object, inbound_count: int) -> int:
    """How many inbound tasks `join` needs: all, one, or a number."""
    if join == "all":
        return inbound_count
    if join == "one":
        return 1
    return int(join)  # type: ignore[call-overload]


def decide(
    workflow: WorkflowSpec, spec: TaskSpec, run: TaskRun, tasks: Iterable[TaskRun]
) -> JoinDecision:
    """Whether the waiting join `run` of `spec` runs now, keeps waiting, or fails."""
    runs = list(tasks)
    by_id = {t.id: t for t in runs}
    triggered = {by_id[t["task_id"]].name for t in run.triggered_by if t["task_id"] in by_id}
    since = _previous_join_end(runs, spec.name)
    satisfied, waiting, failed = 0, 0, []
    for name in inbound(workflow, spec.name):
        if name in triggered:
            satisfied += 1
            continue
        latest = _latest(runs, name, after=since)
        if latest is None:
            if _reachable(workflow, runs, name, join=spec.name):
                waiting += 1
            else:
                failed.append(name)
        elif latest.state not in COMPLETED or not latest.processed:
            waiting += 1
        else:
            failed.append(name)
    need = required(spec.join, satisfied + waiting + len(failed))
    if satisfied >= need:
        return JoinDecision(RUN)
    if satisfied + waiting < need:
        return JoinDecision(FAIL, tuple(failed))
    return JoinDecision(WAIT)


def _previous_join_end(runs: list[TaskRun], name: str) -> datetime | None:
    """Creation time of the last finished run of the join task (joins in loops)."""
    done = [t.created_at for t in runs if t.name == name and t.state is not State.WAITING]
    return max(done) if done else None


def _latest(runs: list[TaskRun], name: str, *, after: datetime | None) -> TaskRun | None:
    candidates = [t for t in runs if t.name == name and (after is None or t.created_at > after)]
    return max(candidates, key=lambda t: t.created_at) if candidates else None


def _reachable(workflow: WorkflowSpec, runs: list[TaskRun], name: str, *, join: str) -> bool:
    """Whether a task that is still active (other than the join) could lead to `name`."""
    frontier = [
        t.name for t in runs if (t.state not in COMPLETED or not t.processed) and t.name != join
    ]
    seen: set[str] = set()
    while frontier:
        current = frontier.pop()
        if current in seen:
            continue
        seen.add(current)
        following = targets(workflow.tasks[current]) if current in workflow.tasks else set()
        if name in following:
            return True
        frontier.extend(following - seen)
    return False
