"""The engine runtime against real databases: one transaction per tree, under a lock."""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import datetime

from sqlalchemy import select

from levante import language
from levante.engine.runtime import EngineRuntime
from levante.internal.v1 import engine_pb2, messages_pb2
from levante.messaging.outbox import OutboxRelay
from levante.persistence import models
from levante.persistence.db import Database
from levante.persistence.repository import NewWorkflow, Repository

PARALLEL = """\
version: '2.0'
parallel:
  output:
    total: <% $.a + $.b %>
  tasks:
    a:
      action: std.echo output=1
      publish: {a: <% task().result %>}
    b:
      action: std.echo output=2
      publish: {b: <% task().result %>}
"""


def _store_workflow(db: Database, text: str) -> None:
    spec = language.parse(text).workflows[0]
    Repository(db).create_workflows(
        [
            NewWorkflow(
                name=spec.name,
                definition=text,
                checksum=hashlib.md5(text.encode()).hexdigest(),
                input=language.render_input(spec),
                interface=language.interface(spec),
                tags=[],
            )
        ],
        namespace="",
        scope="private",
        project_id="p",
        now=datetime(2026, 1, 1),
    )


def _runtime(db: Database) -> EngineRuntime:
    # These tests call the transactional core directly; nothing is published.
    return EngineRuntime(db, OutboxRelay(db, None))  # type: ignore[arg-type]


def _result_event(execution_id: str, command: messages_pb2.RunAction) -> messages_pb2.EngineEvent:
    result = messages_pb2.ActionResult(
        action_execution_id=command.action_execution_id,
        task_execution_id=command.task_execution_id,
        result_json=json.dumps(json.loads(command.input_json)["output"]).encode(),
    )
    return messages_pb2.EngineEvent(
        event_id=f"e-{command.action_execution_id}",
        execution_id=execution_id,
        root_execution_id=execution_id,
        action_result=result,
    )


def _start(db: Database) -> tuple[str, list[messages_pb2.RunAction]]:
    execution_id, outgoing = _runtime(db)._start(
        engine_pb2.StartExecutionRequest(workflow_name="parallel", project_id="p")
    )
    commands = []
    for message in outgoing:
        if not message.subject.startswith("levante.work."):
            continue  # a state-change event
        command = messages_pb2.RunAction()
        command.ParseFromString(message.payload)
        commands.append(command)
    return execution_id, commands


def test_concurrent_completions_finish_the_execution_exactly_once(database: Database) -> None:
    _store_workflow(database, PARALLEL)
    for _ in range(5):
        execution_id, commands = _start(database)
        assert len(commands) == 2
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def apply(
            command: messages_pb2.RunAction,
            barrier: threading.Barrier = barrier,
            execution_id: str = execution_id,
            errors: list[BaseException] = errors,
        ) -> None:
            runtime = _runtime(database)
            barrier.wait()
            try:
                runtime._apply_events(execution_id, [_result_event(execution_id, command)])
            except BaseException as error:  # reported below
                errors.append(error)

        threads = [threading.Thread(target=apply, args=(c,)) for c in commands]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        with database.read() as session:
            row = session.get(models.WorkflowExecution, execution_id)
            assert row.state == "SUCCESS", row.state_info
            assert row.output == {"total": 3}


def test_applying_an_event_twice_is_harmless(database: Database) -> None:
    _store_workflow(database, PARALLEL)
    execution_id, commands = _start(database)
    runtime = _runtime(database)
    event = _result_event(execution_id, commands[0])
    first = runtime._apply_events(execution_id, [event])
    again = runtime._apply_events(execution_id, [event, event])
    # The first application announces the action's and task's new states but
    # sends no work; applying it again changes nothing and announces nothing.
    assert [m.subject.split(".")[-1] for m in first] == ["action", "task"]
    assert again == []
    with database.read() as session:
        tasks = session.scalars(
            select(models.TaskExecution).where(
                models.TaskExecution.workflow_execution_id == execution_id
            )
        ).all()
        assert sorted((t.name, t.state) for t in tasks) == [("a", "SUCCESS"), ("b", "RUNNING")]
        owed = session.scalars(select(models.OutboxMessage.subject)).all()
        work = [subject for subject in owed if subject.startswith("levante.work.")]
        assert len(work) == 2, "only the two RunAction commands of the start are owed"
        # Besides them, the state changes: the start's 5 and the completion's 2.
        assert len(owed) - len(work) == 7


def test_start_and_commands_are_in_the_outbox_until_published(database: Database) -> None:
    _store_workflow(database, PARALLEL)
    execution_id, commands = _start(database)
    with database.read() as session:
        rows = session.execute(select(models.OutboxMessage.id, models.OutboxMessage.subject)).all()
    ids = {row.id for row in rows if row.subject.startswith("levante.work.")}
    assert ids == {c.action_execution_id for c in commands}
    # The state changes of the start are owed too: the execution, each task, each action.
    events = [row.subject for row in rows if row.subject.startswith("levante.events.")]
    assert sorted(s.split(".")[-1] for s in events) == [
        "action",
        "action",
        "task",
        "task",
        "workflow",
    ]
    assert {c.action_name for c in commands} == {"std.echo"}
    assert all(c.execution_id == execution_id for c in commands)
