"""The standard actions the executor runs, by Mistral's names.

An action is an async function; its keyword parameters are its input, so a
call with missing or unexpected input fails with Mistral's message naming
both. A failing action raises `ActionError` (message, optional data).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

ActionFunction = Callable[..., Awaitable[Any]]


class ActionError(Exception):
    """An action failed; `data` is its structured error result, if any."""

    def __init__(self, message: str, *, data: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.data = data


async def noop() -> None:
    """Does nothing; the result is null."""
    return None


async def echo(output: Any, delay: float = 0) -> Any:
    """Returns `output`, after `delay` seconds."""
    if delay:
        await asyncio.sleep(float(delay))
    return output


async def fail(error_data: Any = None) -> None:
    """Always fails; `error_data` becomes the task's error result."""
    if error_data is not None:
        raise ActionError(str(error_data), data=error_data)
    raise ActionError("Fail action expected exception.")


async def sleep(seconds: float = 1) -> None:
    """Waits `seconds`, then succeeds with a null result."""
    await asyncio.sleep(float(seconds))


async def test_dict(size: int = 0, key_prefix: str = "", val: str = "") -> dict[str, str]:
    """Returns a dict of `size` entries `{key_prefix}{i}: val` (for testing big results)."""
    return {f"{key_prefix}{i}": val for i in range(int(size))}


STANDARD_ACTIONS: dict[str, ActionFunction] = {
    "std.noop": noop,
    "std.echo": echo,
    "std.fail": fail,
    "std.sleep": sleep,
    "std.test_dict": test_dict,
}


def check_input(name: str, function: ActionFunction, given: dict[str, Any]) -> None:
    """Raises ActionError naming missing and unexpected input, as Mistral words it."""
    parameters = inspect.signature(function).parameters
    missing = [
        p
        for p, spec in parameters.items()
        if spec.default is inspect.Parameter.empty and p not in given
    ]
    unexpected = [key for key in given if key not in parameters]
    if missing or unexpected:
        raise ActionError(
            f"Invalid input [name={name}, class={function.__name__}, "
            f"missing={missing}, unexpected={unexpected}]"
        )


async def run_action(name: str, action_input: dict[str, Any]) -> Any:
    """Runs a standard action by name; raises ActionError on any failure."""
    function = STANDARD_ACTIONS.get(name)
    if function is None:
        raise ActionError(f"Failed to find action [action_name={name}]")
    check_input(name, function, action_input)
    try:
        return await function(**action_input)
    except ActionError:
        raise
    except Exception as error:  # an action's own bug or environment failure
        raise ActionError(
            f"The action raised an exception [action={name}, error={error}]"
        ) from error
