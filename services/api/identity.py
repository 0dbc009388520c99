"""Who is calling: the one place the API learns the caller's project and rights.

While authentication is off every request is made by the default
project, as an administrator (Levante's choice: Mistral with authentication
off treats the anonymous caller as a non-admin and refuses public
resources). With authentication on, the code that verifies a token (the
REST middleware and the gRPC interceptor of `levante.api.authn`) runs the
request inside `acting_as(caller)`; everything else reads `current()` and
never looks at headers or metadata itself.

Every read and write is scoped to the caller's project: what another
project owns does not exist for it (404), except public resources, which
anyone may read and only their owner may change (403 for others). Only
listings cross projects, for administrators asking for `all_projects`.

The caller lives in a context variable: each request runs in its own
asyncio task, and `asyncio.to_thread` copies the context, so repository
calls made on worker threads see the same caller.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from levante.errors import ForbiddenError
from levante.persistence.models import DEFAULT_PROJECT

#: Mistral's message when a policy refuses an operation.
FORBIDDEN = "Operation forbidden (insufficient permissions)"


@dataclass(frozen=True, slots=True)
class Caller:
    """The project (and user) a request acts for, and whether it may administer."""

    project_id: str
    user_id: str = ""
    is_admin: bool = False


#: The caller of every request while authentication is off.
ANONYMOUS = Caller(project_id=DEFAULT_PROJECT, is_admin=True)

_caller: ContextVar[Caller] = ContextVar("levante_caller", default=ANONYMOUS)


def current() -> Caller:
    """The caller of the request being served."""
    return _caller.get()


def project_id() -> str:
    """The caller's project: owner of what it creates, scope of what it sees."""
    return _caller.get().project_id


@contextmanager
def acting_as(caller: Caller) -> Iterator[Caller]:
    """Serves the enclosed code as `caller` (set by authentication; used by tests)."""
    token = _caller.set(caller)
    try:
        yield caller
    finally:
        _caller.reset(token)


def list_scope(all_projects: bool = False) -> str | None:
    """The project a listing is limited to: the caller's, or None for every project.

    `all_projects` (Mistral's query parameter) is for administrators; anyone
    else asking for it gets ForbiddenError (Mistral's 403).
    """
    caller = _caller.get()
    if not all_projects:
        return caller.project_id
    if not caller.is_admin:
        raise ForbiddenError(FORBIDDEN)
    return None


def authorize_scope(scope: str) -> str:
    """Returns `scope` if the caller may give it; public resources are admin-only.

    Raises ForbiddenError (Mistral's 403) for `public` from a non-admin.
    """
    if scope == "public" and not _caller.get().is_admin:
        raise ForbiddenError(FORBIDDEN)
    return scope


__all__ = [
    "ANONYMOUS",
    "FORBIDDEN",
    "Caller",
    "acting_as",
    "authorize_scope",
    "current",
    "list_scope",
    "project_id",
]
