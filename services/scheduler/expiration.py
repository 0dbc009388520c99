"""Execution expiration (Mistral's execution_expiration_policy).

Finished root executions older than `older_than` minutes are deleted with
their tasks, actions and sub-workflows, a batch at a time; executions in one
of `ignored_states` are kept; nothing unfinished is ever touched. Configured
by LEVANTE_EXPIRATION_OLDER_THAN_MINUTES (unset or 0: off),
LEVANTE_EXPIRATION_INTERVAL_SECONDS (60), LEVANTE_EXPIRATION_BATCH_SIZE
(100) and LEVANTE_EXPIRATION_IGNORED_STATES (e.g. `ERROR`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

import structlog
from sqlalchemy import select

from levante import metrics
from levante.errors import InputError
from levante.messaging.outbox import utcnow
from levante.persistence import models
from levante.persistence.db import Database
from levante.persistence.repository import FINISHED, Repository

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class ExpirationPolicy:
    """When finished executions are deleted."""

    older_than_minutes: float = 0.0
    interval_seconds: float = 60.0
    batch_size: int = 100
    ignored_states: frozenset[str] = frozenset()

    @property
    def enabled(self) -> bool:
        """Whether expiration runs at all."""
        return self.older_than_minutes > 0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ExpirationPolicy:
        """Reads LEVANTE_EXPIRATION_*; raises InputError naming a bad value."""
        try:
            policy = cls(
                older_than_minutes=float(env.get("LEVANTE_EXPIRATION_OLDER_THAN_MINUTES") or 0),
                interval_seconds=float(env.get("LEVANTE_EXPIRATION_INTERVAL_SECONDS") or 60),
                batch_size=int(env.get("LEVANTE_EXPIRATION_BATCH_SIZE") or 100),
                ignored_states=frozenset(
                    s.strip().upper()
                    for s in (env.get("LEVANTE_EXPIRATION_IGNORED_STATES") or "").split(",")
                    if s.strip()
                ),
            )
        except ValueError as error:
            raise InputError(f"Invalid LEVANTE_EXPIRATION_* setting: {error}") from error
        unknown = policy.ignored_states - set(FINISHED)
        if unknown:
            raise InputError(
                f"LEVANTE_EXPIRATION_IGNORED_STATES: {sorted(unknown)} are not finished states"
            )
        if policy.batch_size < 1 or policy.interval_seconds <= 0:
            raise InputError("LEVANTE_EXPIRATION_BATCH_SIZE and _INTERVAL_SECONDS must be positive")
        return policy


class Expirer:
    """Deletes expired executions on an interval."""

    def __init__(self, database: Database, policy: ExpirationPolicy) -> None:
        self._db = database
        self._repository = Repository(database)
        self.policy = policy
        self.deleted = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Expires executions until `stop` is set (does nothing when disabled)."""
        if not self.policy.enabled:
            return
        while not stop.is_set():
            try:
                await asyncio.to_thread(self.expire)
            except Exception as error:
                log.warning("expiring executions failed; retrying later", error=str(error))
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.policy.interval_seconds)
            except TimeoutError:
                pass

    def expire(self) -> int:
        """Deletes every expired execution now, a batch at a time; returns how many."""
        total = 0
        while True:
            batch = self._expired_batch()
            for execution_id in batch:
                self._repository.delete_execution(execution_id)
            total += len(batch)
            if len(batch) < self.policy.batch_size:
                break
        if total:
            log.info("expired executions deleted", count=total)
        self.deleted += total
        metrics.EXECUTIONS_EXPIRED.inc(total)
        return total

    def _expired_batch(self) -> list[str]:
        table = models.WorkflowExecution
        states = [s for s in FINISHED if s not in self.policy.ignored_states]
        cutoff = utcnow() - timedelta(minutes=self.policy.older_than_minutes)
        with self._db.read() as session:
            return list(
                session.scalars(
                    select(table.id)
                    .where(
                        table.task_execution_id.is_(None),
                        table.state.in_(states),
                        table.updated_at < cutoff,
                    )
                    .order_by(table.updated_at)
                    .limit(self.policy.batch_size)
                ).all()
            )
