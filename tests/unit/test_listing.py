"""The one filter and ordering grammar."""

from __future__ import annotations

import pytest

from levante.errors import InputError
from levante.listing import Filter, Order, format_filter, format_order, parse_filter, parse_order

FILTERS = [
    ('state = "ERROR"', (Filter("state", "eq", "ERROR"),)),
    ("state=ERROR", (Filter("state", "eq", "ERROR"),)),
    ('name : "wf_"', (Filter("name", "has", "wf_"),)),
    ('created_at >= "2026-01-01 00:00:00"', (Filter("created_at", "gte", "2026-01-01 00:00:00"),)),
    ("task_execution_id = null", (Filter("task_execution_id", "eq", None),)),
    ('state IN ("ERROR", "CANCELLED")', (Filter("state", "in", ("ERROR", "CANCELLED")),)),
    ('name NOT IN ("a")', (Filter("name", "nin", ("a",)),)),
    (
        'state != "SUCCESS" AND name = "x y"',
        (Filter("state", "neq", "SUCCESS"), Filter("name", "eq", "x y")),
    ),
    ("", ()),
]


@pytest.mark.parametrize(("text", "expected"), FILTERS, ids=[f[0] or "empty" for f in FILTERS])
def test_parse_filter(text: str, expected: tuple[Filter, ...]) -> None:
    assert parse_filter(text) == expected


@pytest.mark.parametrize("filters", [f[1] for f in FILTERS if f[1]], ids=str)
def test_format_then_parse_round_trips(filters: tuple[Filter, ...]) -> None:
    assert parse_filter(format_filter(filters)) == filters


@pytest.mark.parametrize("text", ["state ~ x", "= x", "state IN x", 'a = "unterminated'])
def test_bad_filters_name_the_term(text: str) -> None:
    with pytest.raises(InputError, match="Invalid filter term"):
        parse_filter(text)


def test_order() -> None:
    assert parse_order("created_at desc, id") == (Order("created_at", True), Order("id"))
    assert parse_order(format_order((Order("name"), Order("id", True)))) == (
        Order("name"),
        Order("id", True),
    )
    with pytest.raises(InputError, match="Invalid order_by term"):
        parse_order("created_at sideways")
