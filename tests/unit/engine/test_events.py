"""State-change events derived from what one engine step changed."""

from __future__ import annotations

import itertools
import json
from datetime import datetime

from levante.engine.events import SUMMARY_LIMIT, state_events, summary
from levante.engine.machine import step
from levante.engine.state import ActionCompleted, ExecutionState, RunAction, StartExecution
from levante.language import parse
from levante.states import State
from levante.v2 import event_pb2

NOW = datetime(2026, 1, 1, 12, 0, 0)

TWO_STEPS = """\
version: '2.0'
wf:
  output:
    out: <% $.b %>
  tasks:
    a:
      action: std.echo output=1
      publish: {a: <% task().result %>}
      on-success: b
    b:
      with-items: x in [10, 20]
      action: std.echo output=<% $.x %>
      publish: {b: <% task().result %>}
"""


def _state(definition: str) -> ExecutionState:
    spec = parse(definition).workflows[0]
    return ExecutionState(
        id="ex",
        root_id="root",
        workflow_id="w",
        workflow_name=spec.name,
        workflow_namespace="",
        spec=spec,
        state=State.IDLE,
        input={},
        params={"env": {}},
        created_at=NOW,
        parent_execution_id="parent",
        parent_task_id="parent-task",
    )


def _decode(outgoing) -> list[event_pb2.ExecutionEvent]:
    events = []
    for message in outgoing:
        event = event_pb2.ExecutionEvent()
        event.ParseFromString(message.payload)
        assert message.msg_id == event.id
        entity = {1: "workflow", 2: "task", 3: "action"}[event.entity]
        assert message.subject == f"levante.events.root.ex.{entity}"
        events.append(event)
    return events


def _changes(events) -> list[tuple[str, str, str, str]]:
    kinds = {1: "workflow", 2: "task", 3: "action"}
    return [(kinds[e.entity], e.name, e.old_state, e.new_state) for e in events]


def test_each_state_change_of_a_run_is_announced_in_order() -> None:
    ids = (f"id-{n}" for n in itertools.count())
    new_id = lambda: next(ids)  # noqa: E731
    state = _state(TWO_STEPS)
    seen: list[event_pb2.ExecutionEvent] = []
    pending: list[RunAction] = []

    def apply(event) -> None:
        nonlocal state
        outcome = step(state, event, now=NOW, new_id=new_id)
        seen.extend(_decode(state_events(state, outcome.state, NOW, new_id)))
        pending.extend(c for c in outcome.commands if isinstance(c, RunAction))
        state = outcome.state

    apply(StartExecution())
    while pending:
        command = pending.pop(0)
        apply(
            ActionCompleted(
                action_id=command.action_id,
                task_id=command.task_id,
                result=command.input["output"],
            )
        )
    assert state.state is State.SUCCESS
    assert _changes(seen) == [
        ("workflow", "wf", "IDLE", "RUNNING"),
        ("task", "a", "", "RUNNING"),
        ("action", "std.echo", "", "RUNNING"),
        ("action", "std.echo", "RUNNING", "SUCCESS"),
        ("task", "a", "RUNNING", "SUCCESS"),
        ("task", "b", "", "RUNNING"),
        ("action", "std.echo", "", "RUNNING"),
        ("action", "std.echo", "", "RUNNING"),
        ("action", "std.echo", "RUNNING", "SUCCESS"),
        ("action", "std.echo", "RUNNING", "SUCCESS"),
        ("task", "b", "RUNNING", "SUCCESS"),
        ("workflow", "wf", "RUNNING", "SUCCESS"),
    ]
    assert len({e.id for e in seen}) == len(seen)
    assert all(e.root_execution_id == "root" and e.execution_id == "ex" for e in seen)
    assert all(e.parent_execution_id == "parent" for e in seen)
    task_a = seen[4]
    assert json.loads(task_a.summary_json) == {"a": 1}
    assert seen[3].task_execution_id == task_a.entity_id == seen[1].entity_id
    items = [e for e in seen if e.entity == 3 and e.new_state == "SUCCESS"][1:]
    assert sorted((e.item_index, json.loads(e.summary_json)) for e in items) == [
        (0, 10),
        (1, 20),
    ]
    assert json.loads(seen[-1].summary_json) == {"out": [10, 20]}
    assert seen[-1].task_execution_id == "parent-task"


def test_a_step_that_changes_nothing_announces_nothing() -> None:
    state = _state(TWO_STEPS)
    started = step(state, StartExecution(), now=NOW, new_id=lambda: "x").state
    again = step(started, StartExecution(), now=NOW, new_id=lambda: "y").state
    assert state_events(started, again, NOW, lambda: "z") == []


def test_summaries_are_cut_to_the_limit() -> None:
    assert summary(None) == "" and summary({}) == ""
    assert summary({"k": [1, 2]}) == '{"k":[1,2]}'
    long = summary({"k": "x" * 10_000})
    assert len(long) == SUMMARY_LIMIT and long.endswith("...")
