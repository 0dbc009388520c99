"""levante doctor's examination: each kind of stuck thing, its reason, and the recovery named.

Rows are written as an outage would leave them (both databases, a real
nats-server); the examination reads them and the broker's queues.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from nats.aio.client import Client

from levante.api.doctor import DoctorServicer
from levante.api.identity import Caller, acting_as
from levante.doctor import Doctor
from levante.errors import ForbiddenError
from levante.internal.v1 import messages_pb2
from levante.messaging import jetstream
from levante.messaging.outbox import utcnow
from levante.persistence import models
from levante.persistence.db import Database
from levante.recovery_rules import RecoveryTiming, interrupted_message, lost_message, resent_note
from levante.v2 import doctor_pb2

OLD = 900.0  # seconds: older than the examination's threshold


def _execution(session: Any, *, age: float, state: str = "RUNNING") -> str:
    execution_id = str(uuid.uuid4())
    when = utcnow() - timedelta(seconds=age)
    session.add(
        models.WorkflowExecution(
            id=execution_id, workflow_id="w", workflow_name="wf", definition="", params={},
            input={}, output={}, context={}, state=state, created_at=when, updated_at=when,
        )
    )  # fmt: skip
    return execution_id


def _task(session: Any, execution_id: str, *, age: float, state: str = "RUNNING") -> str:
    task_id = str(uuid.uuid4())
    when = utcnow() - timedelta(seconds=age)
    session.add(
        models.TaskExecution(
            id=task_id, name="t", workflow_execution_id=execution_id,
            root_execution_id=execution_id, workflow_id="w", workflow_name="wf", state=state,
            in_context={}, published={}, runtime_context={}, created_at=when, updated_at=when,
        )
    )  # fmt: skip
    return task_id


def _action(
    session: Any,
    execution_id: str,
    task_id: str,
    *,
    age: float,
    state: str = "RUNNING",
    safe: bool = False,
    target: str | None = None,
    accepted: bool = False,
    state_info: str | None = None,
    output: Any = None,
) -> str:
    action_id = str(uuid.uuid4())
    when = utcnow() - timedelta(seconds=age)
    session.add(
        models.ActionExecution(
            id=action_id, name="std.echo", task_execution_id=task_id, task_name="t",
            workflow_execution_id=execution_id, root_execution_id=execution_id,
            workflow_name="wf", state=state, state_info=state_info, accepted=accepted,
            input={}, output=output, params={"safe_rerun": safe, "target": target},
            created_at=when, updated_at=when,
        )
    )  # fmt: skip
    return action_id


@pytest.fixture
async def engine_events(nats_client: Client):
    """The engine consumer, with an event nobody takes."""
    js = nats_client.jetstream()
    await jetstream.ensure_consumer(
        js,
        stream=jetstream.EVENTS_STREAM,
        durable=jetstream.ENGINE_CONSUMER,
        subject=jetstream.ENGINE_EVENTS_SUBJECT,
        ack_wait=30,
    )
    await js.publish(jetstream.ENGINE_EVENTS_SUBJECT, b"waiting")
    return js


async def test_every_kind_of_stuck_thing_is_named_with_its_recovery(
    database: Database, nats_client: Client, engine_events: Any
) -> None:
    js = engine_events
    ids: dict[str, str] = {}
    with database.write() as session:
        stuck = _execution(session, age=OLD)
        task = _task(session, stuck, age=OLD)
        ids["lost"] = _action(session, stuck, task, age=OLD, safe=True)
        ids["outbox"] = _action(session, stuck, task, age=OLD)
        ids["queued"] = _action(session, stuck, task, age=OLD, target="gpu")
        ids["async"] = _action(session, stuck, task, age=OLD, accepted=True)
        alone = _execution(session, age=OLD)  # no task open, nothing to wait for
        busy = _execution(session, age=OLD)
        busy_task = _task(session, busy, age=OLD)
        ids["young"] = _action(session, busy, busy_task, age=5)  # progress a moment ago
        done = _execution(session, age=60, state="SUCCESS")
        done_task = _task(session, done, age=60, state="SUCCESS")
        now = utcnow()
        ids["resent"] = _action(
            session, done, done_task, age=60, state="SUCCESS", state_info=resent_note(now)
        )
        ids["failed_lost"] = _action(
            session, done, done_task, age=60, state="ERROR",
            output={"result": lost_message("std.echo", "x")},
        )  # fmt: skip
        ids["interrupted"] = _action(
            session, done, done_task, age=60, state="ERROR",
            output={"result": interrupted_message("std.echo", "y")},
        )  # fmt: skip
        _action(session, done, done_task, age=60, state="ERROR", output={"result": "boom"})
        session.add(
            models.OutboxMessage(
                id=ids["outbox"], subject="levante.work.default.x", payload=b"",
                created_at=now - timedelta(seconds=OLD),
            )
        )  # fmt: skip
        session.add(
            models.Timer(
                id=str(uuid.uuid4()), due_at=now - timedelta(seconds=120), root_execution_id=done,
                task_execution_id=done_task, subject=jetstream.ENGINE_EVENTS_SUBJECT, payload=b"",
                created_at=now,
            )
        )  # fmt: skip
    # The queued action's work waits for executors of target `gpu`: none pulls.
    work = messages_pb2.RunAction(action_execution_id=ids["queued"])
    await js.publish(jetstream.work_subject("gpu", ids["queued"]), work.SerializeToString())

    doctor = Doctor(database, js, timing=RecoveryTiming(after_seconds=120, interval_seconds=30))
    diagnosis = await doctor.diagnose(stuck_after=300, recovered_within=3600)
    found = {(f.kind, f.resource): f for f in diagnosis.findings}

    def finding(kind: str, resource: str):  # noqa: ANN202
        assert (kind, resource) in found, sorted(found)
        return found[(kind, resource)]

    assert diagnosis.running_executions == 3
    assert finding("EXECUTION_WITHOUT_PROGRESS", f"executions/{stuck}").recovery_state == "MANUAL"
    lonely = finding("EXECUTION_WITHOUT_PROGRESS", f"executions/{alone}")
    assert "no task is open" in lonely.reason and lonely.recovery_state == "MANUAL"
    assert ("EXECUTION_WITHOUT_PROGRESS", f"executions/{busy}") not in found

    lost = finding("ACTION_LOST", f"action_executions/{ids['lost']}")
    assert (lost.recovery_state, lost.execution_id) == ("AUTOMATIC", stuck)
    assert "re-sends it (safe-rerun)" in lost.recovery and "120s" in lost.recovery
    outbox = finding("ACTION_NOT_PUBLISHED", f"action_executions/{ids['outbox']}")
    assert outbox.recovery_state == "AUTOMATIC"
    queued = finding("ACTION_WAITING_FOR_EXECUTOR", f"action_executions/{ids['queued']}")
    assert queued.recovery_state == "MANUAL" and "--executor-target gpu" in queued.recovery
    waiting = finding("ACTION_WAITING_FOR_RESULT", f"action_executions/{ids['async']}")
    assert waiting.recovery_state == "MANUAL"
    assert not any(ids["young"] in resource for _, resource in found)

    applied = {
        resource.removeprefix("action_executions/"): f.recovery
        for (kind, resource), f in found.items()
        if kind == "ACTION_RECOVERED"
    }
    assert set(applied) == {ids["resent"], ids["failed_lost"], ids["interrupted"]}
    assert "re-sent" in applied[ids["resent"]]
    assert "recovery" in applied[ids["failed_lost"]]
    assert "executor" in applied[ids["interrupted"]]
    assert finding("OUTBOX_BACKLOG", "outbox").recovery_state == "AUTOMATIC"
    assert "1 timers" in finding("TIMERS_OVERDUE", "timers").reason
    events = finding(
        "ENGINE_EVENTS_WAITING",
        f"streams/{jetstream.EVENTS_STREAM}/consumers/{jetstream.ENGINE_CONSUMER}",
    )
    assert events.recovery_state == "MANUAL"

    # Through the servicer: every finding converts, and only administrators ask.
    servicer = DoctorServicer(doctor)
    answer = await servicer.Diagnose(doctor_pb2.DiagnoseRequest(page_size=3), None)
    assert len(answer.findings) == 3 and answer.truncated
    assert answer.findings[0].kind == doctor_pb2.FINDING_KIND_EXECUTION_WITHOUT_PROGRESS
    full = await servicer.Diagnose(doctor_pb2.DiagnoseRequest(), None)
    assert len(full.findings) == len(diagnosis.findings) and not full.truncated
    with acting_as(Caller(project_id="p")), pytest.raises(ForbiddenError):
        await servicer.Diagnose(doctor_pb2.DiagnoseRequest(), None)
