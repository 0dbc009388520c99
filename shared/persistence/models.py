"""SQLAlchemy models: the one place that knows table and column names.

Structured values are JSON columns; timestamps are naive UTC. Every
resource carries `project_id` and `scope` from the first migration.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

DEFAULT_PROJECT = "<default-project>"

ID = String(36)
NAME = String(255)


class Base(DeclarativeBase):
    """Declarative base of every Levante table."""


class WorkflowDefinition(Base):
    """A workflow definition, as uploaded."""

    __tablename__ = "workflow_definitions"
    __table_args__ = (UniqueConstraint("name", "namespace", "project_id"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(NAME)
    namespace: Mapped[str] = mapped_column(NAME, default="")
    definition: Mapped[str] = mapped_column(Text)
    checksum: Mapped[str] = mapped_column(String(32))
    input: Mapped[str] = mapped_column(Text, default="")
    interface: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The workbook that defined it; deleting the workbook deletes it.
    workbook_name: Mapped[str | None] = mapped_column(NAME, nullable=True)
    scope: Mapped[str] = mapped_column(String(16), default="private")
    project_id: Mapped[str] = mapped_column(NAME, default=DEFAULT_PROJECT)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class WorkflowExecution(Base):
    """One run of a workflow, with the engine's per-execution state."""

    __tablename__ = "workflow_executions"
    __table_args__ = (
        Index("ix_workflow_executions_root", "root_execution_id"),
        Index("ix_workflow_executions_created", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    workflow_id: Mapped[str] = mapped_column(ID)
    workflow_name: Mapped[str] = mapped_column(NAME)
    workflow_namespace: Mapped[str] = mapped_column(NAME, default="")
    # The definition text this execution runs, frozen at start so updating
    # the workflow never changes a running execution.
    definition: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    input: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    output: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    published_global: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Handed to every action in its context, never as input; not shown by the API.
    custom_context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Bumped by every change the engine saves (see levante.engine.cache).
    version: Mapped[int] = mapped_column(Integer, default=0)
    # Definitions of the stored ad-hoc actions this execution uses, frozen at
    # start like `definition`: action name -> its definition text.
    adhoc_actions: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # On a root execution: the secret texts of its whole tree, encrypted
    # (levante.security.secrets); None when the tree has no hidden values.
    secrets: Mapped[str | None] = mapped_column(Text, nullable=True)
    state: Mapped[str] = mapped_column(String(20))
    state_info: Mapped[str | None] = mapped_column(Text, nullable=True)
    task_execution_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    root_execution_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    scope: Mapped[str] = mapped_column(String(16), default="private")
    project_id: Mapped[str] = mapped_column(NAME, default=DEFAULT_PROJECT)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class TaskExecution(Base):
    """One run of a task."""

    __tablename__ = "task_executions"
    __table_args__ = (
        Index("ix_task_executions_execution", "workflow_execution_id"),
        Index("ix_task_executions_created", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(NAME)
    type: Mapped[str] = mapped_column(String(16), default="ACTION")
    workflow_execution_id: Mapped[str] = mapped_column(ID)
    root_execution_id: Mapped[str] = mapped_column(ID)
    workflow_id: Mapped[str] = mapped_column(ID)
    workflow_name: Mapped[str] = mapped_column(NAME)
    workflow_namespace: Mapped[str] = mapped_column(NAME, default="")
    state: Mapped[str] = mapped_column(String(20))
    state_info: Mapped[str | None] = mapped_column(Text, nullable=True)
    in_context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    published: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[Any] = mapped_column(JSON, nullable=True)
    runtime_context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The zipped loop values of a with-items task, one mapping per action.
    items: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    # The task's own record of the sub-workflow executions it started and of
    # the outcomes it has applied (the children's rows may be ahead of it).
    subworkflows: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    processed: Mapped[bool] = mapped_column(Boolean, default=False)
    error_handled: Mapped[bool] = mapped_column(Boolean, default=False)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    scope: Mapped[str] = mapped_column(String(16), default="private")
    project_id: Mapped[str] = mapped_column(NAME, default=DEFAULT_PROJECT)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class ActionExecution(Base):
    """One run of an action."""

    __tablename__ = "action_executions"
    __table_args__ = (
        Index("ix_action_executions_task", "task_execution_id"),
        Index("ix_action_executions_created", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(NAME)
    task_execution_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    task_name: Mapped[str | None] = mapped_column(NAME, nullable=True)
    workflow_execution_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    root_execution_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    workflow_name: Mapped[str | None] = mapped_column(NAME, nullable=True)
    workflow_namespace: Mapped[str] = mapped_column(NAME, default="")
    state: Mapped[str] = mapped_column(String(20))
    state_info: Mapped[str | None] = mapped_column(Text, nullable=True)
    accepted: Mapped[bool] = mapped_column(Boolean, default=False)
    # Position of the action in its with-items task (0 otherwise).
    item_index: Mapped[int] = mapped_column(Integer, default=0)
    input: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    output: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    description: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    scope: Mapped[str] = mapped_column(String(16), default="private")
    project_id: Mapped[str] = mapped_column(NAME, default=DEFAULT_PROJECT)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class Environment(Base):
    """A named set of variables an execution can take as its env."""

    __tablename__ = "environments"
    __table_args__ = (UniqueConstraint("name", "project_id"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(NAME)
    description: Mapped[str] = mapped_column(Text, default="")
    variables: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    scope: Mapped[str] = mapped_column(String(16), default="private")
    project_id: Mapped[str] = mapped_column(NAME, default=DEFAULT_PROJECT)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class ActionDefinition(Base):
    """An ad-hoc action, uploaded on its own or as part of a workbook."""

    __tablename__ = "action_definitions"
    __table_args__ = (UniqueConstraint("name", "namespace", "project_id"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(NAME)
    namespace: Mapped[str] = mapped_column(NAME, default="")
    definition: Mapped[str] = mapped_column(Text)
    input: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The workbook that defined it; deleting the workbook deletes it.
    workbook_name: Mapped[str | None] = mapped_column(NAME, nullable=True)
    scope: Mapped[str] = mapped_column(String(16), default="private")
    project_id: Mapped[str] = mapped_column(NAME, default=DEFAULT_PROJECT)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class WorkbookDefinition(Base):
    """A workbook: workflows and ad-hoc actions uploaded together under one name."""

    __tablename__ = "workbook_definitions"
    __table_args__ = (UniqueConstraint("name", "namespace", "project_id"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(NAME)
    namespace: Mapped[str] = mapped_column(NAME, default="")
    definition: Mapped[str] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    scope: Mapped[str] = mapped_column(String(16), default="private")
    project_id: Mapped[str] = mapped_column(NAME, default=DEFAULT_PROJECT)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class CronTrigger(Base):
    """A schedule that starts a workflow; the scheduler fires it when due."""

    __tablename__ = "cron_triggers"
    __table_args__ = (
        UniqueConstraint("name", "project_id"),
        Index("ix_cron_triggers_next", "next_execution_time"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(NAME)
    pattern: Mapped[str] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64), default="")
    workflow_name: Mapped[str] = mapped_column(NAME)
    workflow_id: Mapped[str] = mapped_column(ID)
    workflow_namespace: Mapped[str] = mapped_column(NAME, default="")
    workflow_input: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    workflow_params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    first_execution_time: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    next_execution_time: Mapped[datetime] = mapped_column(DateTime)
    remaining_executions: Mapped[int | None] = mapped_column(Integer, nullable=True)
    scope: Mapped[str] = mapped_column(String(16), default="private")
    project_id: Mapped[str] = mapped_column(NAME, default=DEFAULT_PROJECT)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class ResourceMember(Base):
    """A workflow or workbook shared with another project (the mitaka sharing spec).

    The owner's project (`project_id`) shares a resource, by id, with a
    project (`member_id`); the member accepts or rejects it (`status`).
    """

    __tablename__ = "resource_members"
    __table_args__ = (
        UniqueConstraint("resource_id", "resource_type", "member_id"),
        # What a project sees: the resources shared with it and accepted.
        Index("ix_resource_members_member", "member_id", "resource_type", "status"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    resource_id: Mapped[str] = mapped_column(ID)
    resource_type: Mapped[str] = mapped_column(String(50))
    project_id: Mapped[str] = mapped_column(NAME)
    member_id: Mapped[str] = mapped_column(NAME)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class Timer(Base):
    """An event to deliver to the engine at `due_at` (wait-before/after, retry delay, timeout).

    Written by the engine in the transaction that decided it; the scheduler
    leases due rows (`leased_until`), publishes their event with
    `Nats-Msg-Id` = `id`, and deletes them. A lease that expires (its
    scheduler died) makes the row due again; JetStream and the engine both
    drop a repeated delivery.
    """

    __tablename__ = "timers"
    __table_args__ = (Index("ix_timers_due", "due_at"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    due_at: Mapped[datetime] = mapped_column(DateTime)
    leased_until: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    root_execution_id: Mapped[str] = mapped_column(ID)
    task_execution_id: Mapped[str] = mapped_column(ID, index=True)
    subject: Mapped[str] = mapped_column(String(255))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class OutboxMessage(Base):
    """A message a committed transaction owes the broker.

    Written in the same transaction as the state change that produced it;
    the relay publishes it with `Nats-Msg-Id` = `id` and deletes it once the
    broker acked, so a crash in between re-publishes and JetStream drops the
    duplicate.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_created", "created_at"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    subject: Mapped[str] = mapped_column(String(255))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime)
