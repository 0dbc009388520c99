"""The `notify` param: its validation, Mistral's event names, and the payload."""

from __future__ import annotations

from datetime import datetime

import pytest

from levante import notifications as n
from levante.errors import InputError


def test_targets_parse_with_mistral_and_levante_keys() -> None:
    targets = n.parse_targets(
        [
            {"type": "webhook", "url": "https://h.example/x", "headers": {"X-Token": "t"}},
            {"type": "webhook", "url": "http://10.0.0.1:8080/", "event_types": ["TASK_FAILED"]},
            {"type": "nats", "subject": "ops.workflows", "events": ["WORKFLOW_FAILED"]},
            {"type": "noop"},
        ]
    )
    assert [t.type for t in targets] == ["webhook", "webhook", "nats", "noop"]
    assert targets[0].headers == (("X-Token", "t"),) and targets[0].event_types is None
    assert targets[1].wants("TASK_FAILED") and not targets[1].wants("TASK_SUCCEEDED")
    assert targets[2].subject == "ops.workflows" and targets[2].wants("WORKFLOW_FAILED")
    assert targets[3].wants("WORKFLOW_LAUNCHED")
    assert n.parse_targets(None) == ()
    n.validate_params({"env": {}})  # no notify: nothing to check


BAD = [
    ({"type": "webhook"}, "params.notify: expected a list"),
    (["x"], "params.notify[0]: expected an object, got a string"),
    ([{"url": "http://h/"}], "params.notify[0].type: None"),
    ([{"type": "email"}], "params.notify[0].type: 'email'; expected one of nats, noop, webhook"),
    ([{"type": "webhook"}], "params.notify[0].url: a webhook target needs a url"),
    ([{"type": "webhook", "url": "ftp://h/x"}], "is not an http or https URL"),
    ([{"type": "webhook", "url": "http:///x"}], "is not an http or https URL with a host"),
    ([{"type": "webhook", "url": "http://h:99999/"}], "is not a URL"),
    ([{"type": "webhook", "url": "http://h/", "headers": {"a": 1}}], ".headers: expected"),
    ([{"type": "webhook", "url": "http://h/", "headers": {"a": "x\r\ny"}}], "newlines"),
    ([{"type": "webhook", "url": "http://h/", "subject": "a"}], "unknown key(s) subject"),
    ([{"type": "nats"}], "params.notify[0].subject: a nats target needs a subject"),
    ([{"type": "nats", "subject": "a.*"}], "is not a NATS subject"),
    ([{"type": "nats", "subject": "a..b"}], "is not a NATS subject"),
    ([{"type": "noop", "event_types": "TASK_FAILED"}], ".event_types: expected a list"),
    ([{"type": "noop", "events": ["TASK_EXPLODED"]}], "unknown event(s) TASK_EXPLODED"),
    ([{"type": "noop", "events": [], "event_types": []}], "event_types or events, not both"),
]


@pytest.mark.parametrize(("notify", "message"), BAD, ids=[m for _, m in BAD])
def test_bad_notify_is_an_input_error_naming_the_problem(notify: object, message: str) -> None:
    with pytest.raises(InputError) as caught:
        n.validate_params({"notify": notify})
    assert message in caught.value.message
    assert caught.value.message.startswith("Invalid params.notify")


WORKFLOW = [
    ("", "RUNNING", "WORKFLOW_LAUNCHED"),
    ("IDLE", "RUNNING", "WORKFLOW_LAUNCHED"),
    ("PAUSED", "RUNNING", "WORKFLOW_RESUMED"),
    ("ERROR", "RUNNING", None),  # a rerun: Mistral announces none
    ("RUNNING", "PAUSED", "WORKFLOW_PAUSED"),
    ("RUNNING", "SUCCESS", "WORKFLOW_SUCCEEDED"),
    ("RUNNING", "ERROR", "WORKFLOW_FAILED"),
    ("PAUSED", "CANCELLED", "WORKFLOW_CANCELLED"),
    ("", "ERROR", "WORKFLOW_FAILED"),  # a sub-workflow that could not start
]


@pytest.mark.parametrize(
    ("old", "new", "event"), WORKFLOW, ids=[f"{o}>{w}" for o, w, _ in WORKFLOW]
)
def test_workflow_events(old: str, new: str, event: str | None) -> None:
    assert n.workflow_event(old, new) == event


TASK = [
    ("", "RUNNING", "TASK_LAUNCHED"),
    ("RUNNING_DELAYED", "RUNNING", "TASK_LAUNCHED"),
    ("WAITING", "RUNNING", "TASK_RESUMED"),
    ("PAUSED", "RUNNING", "TASK_RESUMED"),
    ("IDLE", "RUNNING", "TASK_RESUMED"),
    ("RUNNING", "SUCCESS", "TASK_SUCCEEDED"),
    ("RUNNING", "ERROR", "TASK_FAILED"),
    ("RUNNING", "CANCELLED", "TASK_CANCELLED"),
    ("RUNNING", "PAUSED", "TASK_PAUSED"),
    ("", "WAITING", None),
    ("RUNNING", "RUNNING_DELAYED", None),
    ("", "SKIPPED", None),
]


@pytest.mark.parametrize(("old", "new", "event"), TASK, ids=[f"{o}>{w}" for o, w, _ in TASK])
def test_task_events(old: str, new: str, event: str | None) -> None:
    assert n.task_event(old, new) == event


def test_payloads() -> None:
    info = n.ExecutionInfo(
        id="sub",
        workflow_id="wf-id",
        workflow_name="wb.child",
        workflow_namespace="",
        root_execution_id="root",
        task_execution_id="t-parent",
        project_id="p",
        created_at=datetime(2026, 1, 2, 3, 4, 5),
    )
    when = datetime(2026, 1, 2, 3, 4, 6, 250000)
    workflow = n.payload(
        "WORKFLOW_FAILED",
        entity_id="sub",
        name="wb.child",
        old_state="RUNNING",
        new_state="ERROR",
        state_info="boom",
        timestamp=when,
        execution=info,
        parent_execution_id="root",
        is_workflow=True,
    )
    assert workflow == {
        "event": "WORKFLOW_FAILED",
        "timestamp": "2026-01-02T03:04:06.250000Z",
        "id": "sub",
        "name": "wb.child",
        "workflow_id": "wf-id",
        "workflow_name": "wb.child",
        "workflow_namespace": "",
        "root_execution_id": "root",
        "old_state": "RUNNING",
        "state": "ERROR",
        "state_info": "boom",
        "project_id": "p",
        "updated_at": "2026-01-02 03:04:06",
        "task_execution_id": "t-parent",
        "parent_execution_id": "root",
        "created_at": "2026-01-02 03:04:05",
    }
    task = n.payload(
        "TASK_LAUNCHED",
        entity_id="t1",
        name="first",
        old_state="",
        new_state="RUNNING",
        state_info="",
        timestamp=when,
        execution=info,
        parent_execution_id="root",
        is_workflow=False,
    )
    assert task["workflow_execution_id"] == "sub" and task["name"] == "first"
    assert task["old_state"] is None and task["state_info"] is None
    assert "task_execution_id" not in task
