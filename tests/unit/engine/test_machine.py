"""The pure engine, replayed against table-driven rehearsals and targeted cases."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import yaml

from levante.engine.machine import step
from levante.engine.state import ActionCompleted, StartExecution
from levante.states import State
from tests.unit.engine.rehearsal import rehearse

CASES = yaml.safe_load((Path(__file__).parent / "cases.yaml").read_text())


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_rehearsal(case: dict) -> None:
    replay = rehearse(
        case["workflow"],
        workflow_input=case.get("input"),
        results=case.get("results"),
        params=case.get("params"),
        run=case.get("run"),
    )
    expect = case["expect"]
    final = replay.state
    assert final.state == State(expect["state"]), final.state_info
    if "order" in expect:
        assert replay.order == expect["order"]
    if "output" in expect:
        assert final.output == expect["output"]
    if "state_info" in expect:
        assert final.state_info == expect["state_info"]
    if "state_info_starts" in expect:
        assert final.state_info.startswith(expect["state_info_starts"]), final.state_info
    if "state_info_contains" in expect:
        assert expect["state_info_contains"] in final.state_info
    states = {t.name: str(t.state) for t in final.tasks}
    for name, state in expect.get("tasks", {}).items():
        assert states[name] == state
    for name, text in expect.get("task_info_contains", {}).items():
        [task] = [t for t in final.tasks if t.name == name]
        assert text in task.state_info
    for name, text in expect.get("task_info", {}).items():
        [task] = [t for t in final.tasks if t.name == name]
        assert task.state_info == text
    for name, result in expect.get("results", {}).items():
        [task] = [t for t in final.tasks if t.name == name]
        assert task.result == result
    if "timers" in expect:
        assert replay.timers == expect["timers"]
    for name, policy in expect.get("policy", {}).items():
        [task] = [t for t in final.tasks if t.name == name]
        assert {k: v for k, v in task.policy.items() if k in policy} == policy
    for name, count in expect.get("task_count", {}).items():
        assert sum(1 for t in final.tasks if t.name == name) == count


DEFINITION = """\
version: '2.0'
wf:
  tasks:
    a:
      action: std.echo output=1
      on-success: b
    b:
      action: std.echo output=2
"""


def test_a_redelivered_result_changes_nothing() -> None:
    replay = rehearse(DEFINITION)
    first = replay.commands[0]
    again = step(
        replay.state,
        ActionCompleted(action_id=first.action_id, task_id=first.task_id, result="late duplicate"),
        now=datetime(2030, 1, 1),
        new_id=lambda: "never-used",
    )
    assert again.state is replay.state
    assert again.commands == ()


def test_a_repeated_start_changes_nothing() -> None:
    replay = rehearse(DEFINITION)
    again = step(replay.state, StartExecution(), now=datetime(2030, 1, 1), new_id=lambda: "x")
    assert again.state is replay.state and again.commands == ()


def test_commands_carry_evaluated_input_and_routing() -> None:
    replay = rehearse(
        """\
version: '2.0'
wf:
  input: [who]
  tasks:
    a:
      action: std.echo
      input:
        output: hi <% $.who %>
      target: gpu-nodes
      safe-rerun: true
""",
        workflow_input={"who": "you"},
    )
    [command] = replay.commands
    assert command.input == {"output": "hi you"}
    assert command.target == "gpu-nodes" and command.safe_rerun is True
    assert command.execution_id == command.root_execution_id == "ex-1"


def test_tasks_keep_their_creation_order_and_trigger() -> None:
    replay = rehearse(DEFINITION)
    a, b = replay.state.tasks
    assert (a.name, b.name) == ("a", "b")
    assert a.created_at < b.created_at
    assert b.triggered_by == ({"task_id": a.id, "event": "on-success"},)
    assert b.in_context == {} and a.result == 1 and b.result == 2


def _started(definition: str):
    from levante.engine.state import ExecutionState
    from levante.language import parse
    from tests.unit.engine.rehearsal import START

    spec = parse(definition).workflows[0]
    state = ExecutionState(
        id="ex",
        root_id="ex",
        workflow_id="w",
        workflow_name=spec.name,
        workflow_namespace="",
        spec=spec,
        state=State.IDLE,
        input={},
        params={"env": {"k": 1}},
        created_at=START,
    )
    ids = iter(range(1000))
    new_id = lambda: f"n{next(ids)}"  # noqa: E731
    outcome = step(state, StartExecution(), now=START, new_id=new_id)
    return outcome, new_id


def test_pause_defers_transitions_until_resume() -> None:
    from levante.engine.state import PauseExecution, ResumeExecution

    outcome, new_id = _started(DEFINITION)
    [run_a] = outcome.commands
    paused = step(outcome.state, PauseExecution(), now=datetime(2030, 1, 1), new_id=new_id)
    assert paused.state.state is State.PAUSED
    done = step(
        paused.state,
        ActionCompleted(action_id=run_a.action_id, task_id=run_a.task_id, result=1),
        now=datetime(2030, 1, 2),
        new_id=new_id,
    )
    assert done.commands == () and [t.name for t in done.state.tasks] == ["a"]
    assert done.state.tasks[0].state is State.SUCCESS and not done.state.tasks[0].processed
    resumed = step(
        done.state, ResumeExecution(env={"k": 2}), now=datetime(2030, 1, 3), new_id=new_id
    )
    assert resumed.state.state is State.RUNNING
    assert resumed.state.params["env"] == {"k": 2}
    assert [c.task_id for c in resumed.commands] == [resumed.state.tasks[1].id]


def test_stop_cancels_running_tasks_and_ignores_late_results() -> None:
    from levante.engine.state import StopExecution

    outcome, new_id = _started(DEFINITION)
    [run_a] = outcome.commands
    stopped = step(
        outcome.state, StopExecution(state="CANCELLED"), now=datetime(2030, 1, 1), new_id=new_id
    )
    assert stopped.state.state is State.CANCELLED
    assert stopped.state.output == {"result": None}
    assert [t.state for t in stopped.state.tasks] == [State.CANCELLED]
    late = step(
        stopped.state,
        ActionCompleted(action_id=run_a.action_id, task_id=run_a.task_id, result=1),
        now=datetime(2030, 1, 2),
        new_id=new_id,
    )
    assert late.state is stopped.state and late.commands == ()


def test_timeout_fails_the_task_and_a_late_result_is_ignored() -> None:
    from levante.engine.state import ScheduleTimer, TimerFired

    outcome, new_id = _started("""\
version: '2.0'
wf:
  tasks:
    t:
      action: std.sleep seconds=5
      timeout: 2
""")
    timer, run = outcome.commands
    assert isinstance(timer, ScheduleTimer) and timer.kind == "timeout"
    assert (timer.due_at - outcome.state.tasks[0].started_at).total_seconds() == 2
    fired = step(
        outcome.state, TimerFired("timeout", timer.task_id), now=timer.due_at, new_id=new_id
    )
    [task] = fired.state.tasks
    assert (task.state, task.state_info) == (State.ERROR, "Task timed out [timeout(s)=2].")
    assert fired.state.state is State.ERROR
    late = step(
        fired.state,
        ActionCompleted(action_id=run.action_id, task_id=run.task_id),
        now=timer.due_at,
        new_id=new_id,
    )
    assert late.state is fired.state


def test_a_stale_retry_timer_changes_nothing() -> None:
    from levante.engine.state import TimerFired

    outcome, new_id = _started("""\
version: '2.0'
wf:
  tasks:
    t:
      action: std.fail
      retry: {count: 3, delay: 10}
""")
    [run] = outcome.commands
    failed = step(
        outcome.state,
        ActionCompleted(action_id=run.action_id, task_id=run.task_id, failed=True, error="boom"),
        now=datetime(2030, 1, 1),
        new_id=new_id,
    )
    [timer] = failed.commands
    assert timer.kind == "retry" and timer.token == 1
    assert failed.state.tasks[0].state is State.RUNNING_DELAYED
    stale = step(
        failed.state,
        TimerFired("retry", timer.task_id, token=0),
        now=datetime(2030, 1, 2),
        new_id=new_id,
    )
    assert stale.commands == ()
    due = step(
        failed.state,
        TimerFired("retry", timer.task_id, token=1),
        now=datetime(2030, 1, 2),
        new_id=new_id,
    )
    [again] = due.commands
    assert again.action_name == "std.fail" and due.state.tasks[0].state is State.RUNNING
    assert [a.index for a in due.state.tasks[0].actions] == [0, 1]


def test_rerun_of_failed_items_only() -> None:
    from levante.engine.state import RerunTask

    outcome, new_id = _started("""\
version: '2.0'
wf:
  output:
    r: <% $.r %>
  tasks:
    t:
      with-items: n in <% [1, 2, 3] %>
      action: std.echo output=<% $.n %>
      publish:
        r: <% task().result %>
""")
    state = outcome.state
    first = outcome.commands
    for command, failed in zip(first, (False, True, False), strict=True):
        state = step(
            state,
            ActionCompleted(
                action_id=command.action_id,
                task_id=command.task_id,
                failed=failed,
                result=command.input["output"],
                error="boom" if failed else None,
            ),
            now=datetime(2030, 1, 1),
            new_id=new_id,
        ).state
    assert state.state is State.ERROR and state.tasks[0].state is State.ERROR

    rerun = step(
        state,
        RerunTask(task_id=state.tasks[0].id, reset=False, env={"k": 9}),
        now=datetime(2030, 1, 2),
        new_id=new_id,
    )
    assert rerun.state.state is State.RUNNING and rerun.state.params["env"] == {"k": 9}
    [again] = rerun.commands
    assert again.input == {"output": 2}
    task = rerun.state.tasks[0]
    assert [(a.index, a.superseded) for a in task.actions] == [
        (0, False),
        (1, True),
        (2, False),
        (1, False),
    ]
    done = step(
        rerun.state,
        ActionCompleted(action_id=again.action_id, task_id=again.task_id, result=20),
        now=datetime(2030, 1, 3),
        new_id=new_id,
    )
    assert done.state.state is State.SUCCESS
    assert done.state.output == {"r": [1, 20, 3]}


def test_rerun_with_reset_runs_the_task_again() -> None:
    from levante.engine.state import RerunTask

    outcome, new_id = _started(DEFINITION)
    [run_a] = outcome.commands
    failed = step(
        outcome.state,
        ActionCompleted(
            action_id=run_a.action_id, task_id=run_a.task_id, failed=True, error="boom"
        ),
        now=datetime(2030, 1, 1),
        new_id=new_id,
    )
    assert failed.state.state is State.ERROR
    rerun = step(
        failed.state, RerunTask(task_id=run_a.task_id), now=datetime(2030, 1, 2), new_id=new_id
    )
    [again] = rerun.commands
    assert again.task_id == run_a.task_id and again.action_id != run_a.action_id
    late = step(
        rerun.state,
        ActionCompleted(action_id=run_a.action_id, task_id=run_a.task_id, result="stale"),
        now=datetime(2030, 1, 3),
        new_id=new_id,
    )
    assert late.state is rerun.state, "a superseded action's result changes nothing"
    ok = step(
        rerun.state,
        ActionCompleted(action_id=again.action_id, task_id=again.task_id, result=1),
        now=datetime(2030, 1, 3),
        new_id=new_id,
    )
    [run_b] = ok.commands
    assert ok.state.state is State.RUNNING and run_b.action_name == "std.echo"
