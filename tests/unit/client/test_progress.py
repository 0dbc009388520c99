"""The watcher's model of an execution tree, and choosing between events and polling."""

from __future__ import annotations

from typing import Any

import pytest

from levante.client import ClientError, LockedProgress, NotFoundError, follow, read_definition
from levante.client.events import WatchNotOfferedError
from levante.client.progress import ExecutionProgress, items_total

WF = "EVENT_ENTITY_WORKFLOW_EXECUTION"
TASK = "EVENT_ENTITY_TASK_EXECUTION"
ACTION = "EVENT_ENTITY_ACTION_EXECUTION"


def event(entity: str, execution: str, entity_id: str, new_state: str, **extra: Any) -> dict:
    return {
        "entity": entity,
        "execution_id": execution,
        "entity_id": entity_id,
        "new_state": new_state,
        **extra,
    }


def test_events_build_the_tree_with_sub_workflows_and_item_counts() -> None:
    progress = ExecutionProgress("root")
    progress.apply(event(WF, "root", "root", "RUNNING", name="hello"))
    progress.apply(event(TASK, "root", "t1", "RUNNING", name="wave", task_execution_id="t1"))
    for index in range(3):
        touched = progress.apply(
            event(ACTION, "root", f"a{index}", "RUNNING", task_execution_id="t1", item_index=index)
        )
        assert touched is not None and touched.id == "t1"
    progress.set_items_total("t1", 3)
    progress.apply(event(ACTION, "root", "a0", "SUCCESS", task_execution_id="t1"))
    progress.apply(event(ACTION, "root", "a1", "ERROR", task_execution_id="t1"))
    progress.apply(event(TASK, "root", "t2", "RUNNING", name="book", task_execution_id="t2"))
    progress.apply(event(WF, "child", "child", "RUNNING", name="guest", task_execution_id="t2"))
    progress.apply(event(TASK, "child", "c1", "SUCCESS", name="write", task_execution_id="c1"))

    root = progress.root
    assert root is not None and root.name == "hello" and root.state == "RUNNING"
    assert [t.name for t in root.tasks.values()] == ["wave", "book"]
    items = root.tasks["t1"].items
    assert items is not None and (items.total, items.done, items.failed) == (3, 2, 1)
    (child,) = progress.children_of("t2")
    assert child.name == "guest" and [t.name for t in child.tasks.values()] == ["write"]
    assert not progress.finished
    progress.apply(event(WF, "root", "root", "SUCCESS", name="hello"))
    assert progress.finished


def test_snapshots_merge_executions_tasks_and_items() -> None:
    progress = ExecutionProgress("root")
    progress.merge_execution({"id": "root", "workflow_name": "hello", "state": "RUNNING"})
    task = {
        "id": "t1",
        "name": "wave",
        "state": "RUNNING",
        "workflow_execution_id": "root",
        "runtime_context": '{"with_items": {"capacity": 2, "count": 4}}',
    }
    assert items_total(task) == 4
    assert items_total({"runtime_context": "{}"}) is None
    progress.merge_task(task)
    progress.set_items("t1", [{"id": "a", "state": "SUCCESS"}, {"id": "b", "state": "RUNNING"}])
    items = progress.root.tasks["t1"].items  # type: ignore[union-attr]
    assert items is not None and (items.total, items.done) == (4, 1)


class FakeRest:
    """Just enough of RestClient for the watchers: a two-step execution."""

    def __init__(self, *, events: Any) -> None:
        self._events = events
        self.polls = 0

    def events(self, execution_id: str, *, replay: bool = True) -> Any:
        return self._events(execution_id)

    def execution(self, execution_id: str) -> dict:
        self.polls += 1
        state = "RUNNING" if self.polls < 2 else "SUCCESS"
        return {"id": execution_id, "workflow_name": "wf", "state": state}

    def tasks(self, execution_id: str) -> list[dict]:
        state = "RUNNING" if self.polls < 2 else "SUCCESS"
        return [{"id": "t1", "name": "only", "state": state, "workflow_execution_id": "x"}]

    def descendants(self, execution_id: str) -> list[dict]:
        return []

    def task(self, task_id: str) -> dict:
        return {"id": task_id, "runtime_context": "{}"}

    def task_action_executions(self, task_id: str) -> list[dict]:
        return []


def _missing(execution_id: str) -> Any:
    raise NotFoundError("no such route", status=404)


def test_polling_is_the_fallback_when_the_server_offers_no_stream() -> None:
    rest = FakeRest(events=_missing)
    seen = [p.source for p in follow("x", rest=rest, grpc_address=None)]  # type: ignore[arg-type]
    assert seen and set(seen) == {"polling"}
    assert rest.polls == 2


def test_events_are_used_when_offered_and_a_final_snapshot_settles_the_tree() -> None:
    def stream(execution_id: str) -> Any:
        yield event(WF, execution_id, execution_id, "RUNNING", name="wf")
        yield event(WF, execution_id, execution_id, "SUCCESS", name="wf")

    rest = FakeRest(events=stream)
    rest.polls = 1  # the snapshot after the stream sees the final state
    progress = LockedProgress("x")
    sources = [p.source for p in follow("x", rest=rest, grpc_address=None, progress=progress)]
    assert set(sources) == {"sse"}
    assert progress.finished and progress.events == 2
    assert [t.name for t in progress.root.tasks.values()] == ["only"]  # type: ignore[union-attr]


def test_a_stream_that_breaks_halfway_hands_over_to_polling() -> None:
    def stream(execution_id: str) -> Any:
        yield event(WF, execution_id, execution_id, "RUNNING", name="wf")
        raise WatchNotOfferedError("connection lost")

    rest = FakeRest(events=stream)
    sources = [p.source for p in follow("x", rest=rest, grpc_address=None)]  # type: ignore[arg-type]
    assert sources[0] == "sse" and sources[-1] == "polling"


def test_an_unknown_execution_is_reported_not_polled_forever() -> None:
    class Gone(FakeRest):
        def execution(self, execution_id: str) -> dict:
            raise NotFoundError("Execution not found", status=404)

    with pytest.raises(NotFoundError):
        list(follow("x", rest=Gone(events=_missing), grpc_address=None))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "names", "workbook"),
    [
        ("version: '2.0'\na:\n  tasks: {}\nb:\n  tasks: {}\n", ("a", "b"), None),
        (
            "version: '2.0'\nname: book\nworkflows:\n  one:\n    tasks: {}\n",
            ("book.one",),
            "book",
        ),
    ],
    ids=["workflows", "workbook"],
)
def test_definitions_name_their_workflows_in_order(
    text: str, names: tuple[str, ...], workbook: str | None
) -> None:
    definition = read_definition(text)
    assert definition.workflows == names and definition.workbook == workbook


def test_a_definition_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(ClientError, match="YAML mapping"):
        read_definition("- just\n- a list\n")
