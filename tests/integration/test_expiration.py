"""Execution expiration: old finished executions go, in batches; nothing else does."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from levante.errors import InputError
from levante.messaging.outbox import utcnow
from levante.persistence import models
from levante.persistence.db import Database
from levante.scheduler.expiration import ExpirationPolicy, Expirer


def _execution(
    database: Database, state: str, *, age_minutes: float, parent_task: str | None = None
) -> str:
    execution_id = str(uuid.uuid4())
    when = utcnow() - timedelta(minutes=age_minutes)
    with database.write() as session:
        session.add(
            models.WorkflowExecution(
                id=execution_id,
                workflow_id="w",
                workflow_name="wf",
                workflow_namespace="",
                definition="",
                description="",
                tags=[],
                params={},
                input={},
                output={},
                context={},
                published_global={},
                state=state,
                state_info=None,
                task_execution_id=parent_task,
                root_execution_id=None,
                scope="private",
                project_id="p",
                created_at=when,
                updated_at=when,
            )
        )
    return execution_id


def _ids(database: Database) -> set[str]:
    with database.read() as session:
        return set(session.scalars(select(models.WorkflowExecution.id)).all())


def test_expires_old_finished_executions_in_batches(database: Database) -> None:
    old = {
        _execution(database, state, age_minutes=120)
        for state in ("SUCCESS", "SUCCESS", "CANCELLED", "SUCCESS", "SUCCESS")
    }
    kept = {
        _execution(database, "ERROR", age_minutes=120),  # ignored state
        _execution(database, "RUNNING", age_minutes=500),  # never touched
        _execution(database, "PAUSED", age_minutes=500),
        _execution(database, "SUCCESS", age_minutes=10),  # not old enough
    }
    policy = ExpirationPolicy(
        older_than_minutes=60, batch_size=2, ignored_states=frozenset({"ERROR"})
    )
    assert Expirer(database, policy).expire() == len(old)
    assert _ids(database) == kept


def test_policy_from_env() -> None:
    policy = ExpirationPolicy.from_env(
        {
            "LEVANTE_EXPIRATION_OLDER_THAN_MINUTES": "30",
            "LEVANTE_EXPIRATION_BATCH_SIZE": "5",
            "LEVANTE_EXPIRATION_IGNORED_STATES": "error, cancelled",
        }
    )
    assert policy.enabled and policy.batch_size == 5
    assert policy.ignored_states == {"ERROR", "CANCELLED"}
    assert not ExpirationPolicy.from_env({}).enabled
    with pytest.raises(InputError, match="not finished states"):
        ExpirationPolicy.from_env({"LEVANTE_EXPIRATION_IGNORED_STATES": "RUNNING"})
    with pytest.raises(InputError, match="Invalid LEVANTE_EXPIRATION"):
        ExpirationPolicy.from_env({"LEVANTE_EXPIRATION_OLDER_THAN_MINUTES": "soon"})
