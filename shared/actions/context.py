"""What an action knows about the run it is part of (pike custom-actions API, rocky custom context).

The executor builds one `ActionContext` per action run from the work it was
given; an action reads it and may call other actions through it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from levante.actions.results import Outcome

#: How deep actions may call actions through `ActionContext.call_action`.
MAX_CALL_DEPTH = 8


@dataclass(frozen=True, slots=True)
class SecurityContext:
    """Who the action runs for. The token is kept out of `repr` (and so out of logs)."""

    user: str | None = None
    project_id: str | None = None
    auth_token: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class ExecutionContext:
    """Where in a workflow the action runs; empty names for actions run directly."""

    workflow_name: str = ""
    workflow_namespace: str = ""
    workflow_execution_id: str = ""
    task_name: str = ""
    task_execution_id: str = ""
    action_execution_id: str = ""
    #: Where an asynchronous action's result is sent (PUT, Mistral's REST face).
    callback_url: str = ""


class ActionRunner(Protocol):
    """What runs actions by name (the `ActionCatalogue`)."""

    async def run(
        self, name: str, action_input: Mapping[str, Any], context: ActionContext
    ) -> Outcome:
        """Runs action `name` with `action_input`; never raises for the action's failure."""
        ...


@dataclass(frozen=True, slots=True)
class _Binding:
    runner: ActionRunner
    loop: asyncio.AbstractEventLoop
    depth: int


def _frozen_mapping(value: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    return MappingProxyType(dict(value or {}))


@dataclass(frozen=True, slots=True)
class ActionContext:
    """Everything an action may know about its run besides its input.

    Attributes:
        security: User, project and auth token of the run.
        execution: Workflow, task and action execution identity, callback URL.
        custom_context: The execution's `custom_context` (rocky spec): free
            data such as correlation ids, read-only.
    """

    security: SecurityContext = field(default_factory=SecurityContext)
    execution: ExecutionContext = field(default_factory=ExecutionContext)
    custom_context: Mapping[str, Any] = field(default_factory=_frozen_mapping)
    _binding: _Binding | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.custom_context, MappingProxyType):
            object.__setattr__(self, "custom_context", _frozen_mapping(self.custom_context))

    @property
    def call_depth(self) -> int:
        """How many `call_action` calls deep this run is (0 for the action the executor ran)."""
        return self._binding.depth if self._binding else 0

    def bound(self, runner: ActionRunner, *, depth: int | None = None) -> ActionContext:
        """This context, able to call actions through `runner` (done by the catalogue)."""
        binding = _Binding(
            runner=runner,
            loop=asyncio.get_running_loop(),
            depth=self.call_depth if depth is None else depth,
        )
        return ActionContext(self.security, self.execution, self.custom_context, binding)

    async def call_action(self, name: str, action_input: Mapping[str, Any]) -> Outcome:
        """Runs another action through the same catalogue, as a workflow task would.

        Its input is validated and its secrets masked exactly as for a task's
        action. Returns `Success`, `Failure` or `Pending`; never raises for the
        called action's failure.

        Raises:
            RuntimeError: if this context is not bound to a catalogue (a
                context an action built itself).
        """
        from levante.actions.results import Failure

        if self._binding is None:
            raise RuntimeError("this ActionContext is not bound to an action catalogue")
        if self._binding.depth >= MAX_CALL_DEPTH:
            return Failure(
                f"Too deep action calls [action_name={name}, max_depth={MAX_CALL_DEPTH}]"
            )
        nested = ActionContext(
            self.security,
            self.execution,
            self.custom_context,
            _Binding(self._binding.runner, self._binding.loop, self._binding.depth + 1),
        )
        return await self._binding.runner.run(name, action_input, nested)

    def call_action_blocking(
        self, name: str, action_input: Mapping[str, Any], *, timeout: float | None = None
    ) -> Outcome:
        """`call_action` for a blocking `run` (one running in the executor's thread pool).

        Raises:
            RuntimeError: if called on the event loop's own thread (it would
                deadlock: use `await call_action` there), or if unbound.
        """
        if self._binding is None:
            raise RuntimeError("this ActionContext is not bound to an action catalogue")
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._binding.loop:
            raise RuntimeError("call_action_blocking on the event loop thread: await call_action")
        future = asyncio.run_coroutine_threadsafe(
            self.call_action(name, action_input), self._binding.loop
        )
        return future.result(timeout)
