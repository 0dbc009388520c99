"""Conversions between expression-engine values and plain JSON-like data."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator, Mapping
from typing import Any

import jinja2

_SCALARS = (str, int, float, bool, type(None))


def to_plain(value: Any) -> Any:
    """Return `value` as plain JSON-like Python: dict, list and scalars.

    YAQL hands out FrozenDicts, tuples, sets and iterators, and Jinja may
    hand out Undefined or Markup; callers store results as JSON, so every
    result leaves the evaluator through here.
    """
    if isinstance(value, jinja2.Undefined):
        return None
    if isinstance(value, str):
        # Markup and other str subclasses become plain str.
        return str(value)
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, Mapping):
        return {_plain_key(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset, Iterator, range)):
        return [to_plain(item) for item in value]
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    # Anything else (a yaql lambda, an object) has no JSON form; its text
    # is more useful downstream than a serialization failure.
    return str(value)


def _plain_key(key: Any) -> Any:
    return key if isinstance(key, _SCALARS) else str(to_plain(key))


def as_text(value: Any) -> str:
    """Render a value interpolated into a string, as Mistral does.

    Scalars render with `str()` (so `None` is `None`, `True` is `True`);
    dicts and lists render as JSON so they can be parsed back.
    """
    plain = to_plain(value)
    if isinstance(plain, (dict, list)):
        return json.dumps(plain)
    return str(plain)


def describe_data(data: Any, *, limit: int = 1000) -> str:
    """A bounded JSON rendering of an expression's data, for error messages."""
    try:
        text = json.dumps(to_plain(data), sort_keys=True, default=str)
    except (TypeError, ValueError):
        text = repr(data)
    return text if len(text) <= limit else text[:limit] + "..."
