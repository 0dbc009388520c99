"""Mistral's basic standard actions: std.noop, std.async_noop, std.echo, std.fail, std.sleep,
std.test_dict."""

from __future__ import annotations

import asyncio
from typing import Any

from levante.actions.base import Action
from levante.actions.context import ActionContext
from levante.actions.results import ActionError


def _seconds(value: Any) -> float:
    """A non-negative number of seconds; Mistral treats bad or negative values as 0."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return 0.0
    return max(seconds, 0.0)


class NoOpAction(Action):
    """Does nothing; the result is null. Useful for testing and as a placeholder."""

    async def run(self, context: ActionContext) -> None:
        return None


class AsyncNoOpAction(Action):
    """Asynchronous no-op: starts nothing and waits for its result to be sent through the API."""

    is_sync = False

    async def run(self, context: ActionContext) -> None:
        return None


class EchoAction(Action):
    """Returns `output` as the result, after `delay` seconds.

    Useful as a stub while designing workflows.
    """

    async def run(self, context: ActionContext, output: Any, delay: Any = 0) -> Any:
        seconds = _seconds(delay)
        if seconds:
            await asyncio.sleep(seconds)
        return output

    def test(self, context: ActionContext, **action_input: Any) -> Any:
        return "Echo"


class FailAction(Action):
    """Always fails; with `error_data` the failure carries it as the task's error result."""

    async def run(self, context: ActionContext, error_data: Any = None) -> None:
        if error_data is not None:
            raise ActionError(str(error_data), error_data)
        # Worded as Mistral reports an action that raised, so scripts matching
        # its state_info keep working.
        raise ActionError(
            "The action raised an exception [action=Fail action, "
            f"action_ex_id={context.execution.action_execution_id}, "
            "msg='Fail action expected exception.']"
        )

    def test(self, context: ActionContext, **action_input: Any) -> Any:
        raise ActionError("Fail action expected exception.")


class SleepAction(Action):
    """Waits `seconds` (fractions allowed), then succeeds with a null result.

    Unlike Mistral, which truncates to whole seconds, fractions are honoured.
    """

    async def run(self, context: ActionContext, seconds: Any = 1) -> None:
        await asyncio.sleep(_seconds(seconds))


class TestDictAction(Action):
    """Returns a dict of `size` entries `{key_prefix}{i}: val` (for testing big results)."""

    async def run(
        self, context: ActionContext, size: Any = 0, key_prefix: str = "", val: Any = ""
    ) -> dict[str, Any]:
        try:
            count = int(size)
        except (TypeError, ValueError) as error:
            raise ActionError(f"std.test_dict: size must be an integer, got {size!r}") from error
        return {f"{key_prefix}{i}": val for i in range(count)}

    def test(self, context: ActionContext, **action_input: Any) -> Any:
        return {}
