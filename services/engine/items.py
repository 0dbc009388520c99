"""with-items: expanding a task's loop values, pure."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from levante.language.spec import TaskSpec


class ItemsError(ValueError):
    """The with-items values or concurrency of a task are not usable."""


def expand(
    spec: TaskSpec, evaluate: Callable[[Any], Any]
) -> tuple[tuple[dict[str, Any], ...], int | None]:
    """The zipped loop values (one mapping per item) and the concurrency.

    `evaluate` turns an expression (or plain value) into its value in the
    task's context. Several lists are zipped and must have the same length.
    """
    lists: dict[str, list[Any]] = {}
    for name, source in spec.with_items.items():
        value = evaluate(source)
        if isinstance(value, tuple):
            value = list(value)
        if not isinstance(value, list):
            raise ItemsError(f"the value of '{name}' must be a list, got {json.dumps(value)}")
        lists[name] = value
    lengths = {len(v) for v in lists.values()}
    if len(lengths) > 1:
        raise ItemsError(f"Wrong input format for: {lists}. All arrays must have the same length.")
    names = list(lists)
    values = tuple(dict(zip(names, row, strict=True)) for row in zip(*lists.values(), strict=True))
    return values, _capacity(spec.concurrency, evaluate)


def _capacity(concurrency: Any, evaluate: Callable[[Any], Any]) -> int | None:
    if concurrency is None:
        return None
    value = evaluate(concurrency)
    if value is None:
        return None
    try:
        number = int(value)
    except (TypeError, ValueError) as error:
        raise ItemsError(f"concurrency must be a positive integer, got {value!r}") from error
    if number < 0:
        raise ItemsError(f"concurrency must be a positive integer, got {number}")
    return number or None


def error_text(result: Any, error: str | None) -> str:
    """A failed action's text for the task's state_info: its error data, else its message."""
    if result is None:
        return error or "Action failed"
    return result if isinstance(result, str) else json.dumps(result)
