"""One grammar for list filters and ordering, parsed in one place.

Filters (the `filter` field of List requests) are terms joined by `AND`:

    state = "ERROR" AND created_at >= "2026-01-01 00:00:00"
    name : "wf_"                      # substring ("has")
    state IN ("ERROR", "CANCELLED")   # also NOT IN
    task_execution_id = null

Ordering (`order_by`) is `field [asc|desc], ...`. The Mistral REST face
builds the same `Filter` values from its query parameters (`?state=eq:X`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from levante.errors import InputError

OPERATORS = ("eq", "neq", "lt", "lte", "gt", "gte", "has", "in", "nin")
_SYMBOLS = {"=": "eq", "!=": "neq", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte", ":": "has"}
_TERM = re.compile(
    r"""\s*(?P<field>[A-Za-z_][A-Za-z0-9_.]*)\s*
    (?:(?P<symbol><=|>=|!=|=|<|>|:)\s*(?P<value>"(?:[^"\\]|\\.)*"|[^\s()]+)
      |(?P<not>NOT\s+)?IN\s*\((?P<values>[^)]*)\))\s*$""",
    re.VERBOSE | re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Filter:
    """`field <op> value`; for `in` / `nin` the value is a tuple."""

    field: str
    op: str
    value: Any


@dataclass(frozen=True, slots=True)
class Order:
    """One ordering key."""

    field: str
    descending: bool = False


def parse_filter(text: str) -> tuple[Filter, ...]:
    """Parses a filter expression; raises InputError naming the bad term."""
    if not text.strip():
        return ()
    filters = []
    for term in re.split(r"\s+AND\s+", text.strip(), flags=re.IGNORECASE):
        match = _TERM.match(term)
        if not match:
            raise InputError(f"Invalid filter term: {term!r}")
        if match["symbol"]:
            filters.append(
                Filter(match["field"], _SYMBOLS[match["symbol"]], _value(match["value"]))
            )
        else:
            values = tuple(_value(v.strip()) for v in match["values"].split(",") if v.strip())
            filters.append(Filter(match["field"], "nin" if match["not"] else "in", values))
    return tuple(filters)


def format_filter(filters: tuple[Filter, ...] | list[Filter]) -> str:
    """The text form of filters, which parse_filter reads back."""
    terms = []
    for item in filters:
        if item.op in ("in", "nin"):
            values = ", ".join(_literal(v) for v in item.value)
            terms.append(f"{item.field} {'NOT IN' if item.op == 'nin' else 'IN'} ({values})")
        else:
            symbol = next(s for s, op in _SYMBOLS.items() if op == item.op)
            terms.append(f"{item.field} {symbol} {_literal(item.value)}")
    return " AND ".join(terms)


def parse_order(text: str) -> tuple[Order, ...]:
    """Parses `field [asc|desc], ...`."""
    orders = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        words = part.split()
        if len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise InputError(f"Invalid order_by term: {part!r}")
        orders.append(Order(words[0], len(words) == 2 and words[1].lower() == "desc"))
    return tuple(orders)


def format_order(orders: tuple[Order, ...] | list[Order]) -> str:
    """The text form of an ordering."""
    return ", ".join(f"{o.field} {'desc' if o.descending else 'asc'}" for o in orders)


def _value(token: str) -> Any:
    if token.startswith('"'):
        try:
            return json.loads(token)
        except json.JSONDecodeError as error:
            raise InputError(f"Invalid filter term: unterminated string {token!r}") from error
    if token.lower() == "null":
        return None
    return token


def _literal(value: Any) -> str:
    return "null" if value is None else json.dumps(str(value))
