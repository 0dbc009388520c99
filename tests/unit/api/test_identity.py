"""The caller's identity: one place, the default project as admin while authentication is off."""

from __future__ import annotations

import asyncio

import pytest

from levante.api import identity
from levante.api.identity import ANONYMOUS, Caller, acting_as, authorize_scope
from levante.errors import ForbiddenError
from levante.persistence.models import DEFAULT_PROJECT


def test_without_authentication_everything_is_the_default_project_as_admin() -> None:
    assert identity.current() == ANONYMOUS
    assert identity.project_id() == DEFAULT_PROJECT
    assert authorize_scope("public") == "public"


def test_acting_as_sets_the_caller_for_the_block_only() -> None:
    with acting_as(Caller("project-b")) as caller:
        assert identity.current() is caller and identity.project_id() == "project-b"
        with pytest.raises(ForbiddenError, match=r"Operation forbidden \(insufficient"):
            authorize_scope("public")
        assert authorize_scope("private") == "private"
    assert identity.project_id() == DEFAULT_PROJECT


async def test_the_caller_reaches_worker_threads_and_stays_per_task() -> None:
    async def serve(project: str) -> str:
        with acting_as(Caller(project)):
            await asyncio.sleep(0)
            return await asyncio.to_thread(identity.project_id)

    assert await asyncio.gather(serve("a"), serve("b")) == ["a", "b"]
