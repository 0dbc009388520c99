"""Mistral's list parameters and JSON-in-JSON fields."""

from __future__ import annotations

import pytest

from levante.api.mistral import ListParams, json_object
from levante.errors import InputError
from levante.listing import Filter, Order

COLUMNS = ("id", "name", "state", "created_at", "tags", "root_execution_id")


def test_defaults() -> None:
    params = ListParams({}, columns=COLUMNS)
    assert params.limit == 1000 and params.marker is None
    assert params.order == (Order("created_at"),)
    assert params.filters == () and params.fields == []


def test_filters_sorting_and_nulls() -> None:
    params = ListParams(
        {
            "state": "in:ERROR,CANCELLED",
            "name": "has:wf",
            "tags": "x",
            "sort_keys": "name,created_at",
            "sort_dirs": "desc",
            "nulls": "root_execution_id",
            "unknown_param": "ignored",
        },
        columns=COLUMNS,
    )
    assert params.order == (Order("name", True), Order("created_at", False))
    assert set(params.filters) == {
        Filter("state", "in", ("ERROR", "CANCELLED")),
        Filter("name", "has", "wf"),
        Filter("tags", "eq", "x"),
        Filter("root_execution_id", "eq", None),
    }


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"limit": "0"}, "Limit must be positive."),
        ({"limit": "-3"}, "Limit must be positive."),
        ({"sort_dirs": "up"}, "Unknown sort direction, must be 'desc' or 'asc'."),
        (
            {"sort_keys": "name", "sort_dirs": "asc,desc"},
            "Length of sort_keys must be equal or greater than sort_dirs.",
        ),
        ({"sort_keys": "nosuch"}, "Sort key supplied is invalid: nosuch"),
        ({"fields": "name,nosuch"}, "Some fields do not exist  [nosuch], please choose from [id, "),
    ],
)
def test_bad_parameters(query: dict[str, str], message: str) -> None:
    with pytest.raises(InputError) as raised:
        ListParams(query, columns=COLUMNS)
    assert raised.value.message.startswith(message)


def test_next_link_only_when_the_page_is_full() -> None:
    params = ListParams({"limit": "2", "state": "eq:SUCCESS", "fields": "name"}, columns=COLUMNS)
    items = [{"id": "a"}, {"id": "b"}]
    assert params.next_link("http://h/v2", "tasks", items) == (
        "http://h/v2/tasks?sort_keys=created_at,id&sort_dirs=asc,asc&state=eq:SUCCESS"
        "&limit=2&marker=b&fields=id,name"
    )
    assert params.next_link("http://h/v2", "tasks", items[:1]) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, {}),
        ("", {}),
        ('{"a": 1}', {"a": 1}),
        ({"a": 1}, {"a": 1}),
    ],
)
def test_json_object_accepts_text_or_object(value, expected) -> None:
    assert json_object(value, "input") == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1", "JsonType field value must be a dictionary [actual=1]"),
        ("[1]", "JsonType field value must be a dictionary [actual=[1]]"),
        ("{bad", "Invalid input for field/attribute input. Value: '{bad'."),
    ],
)
def test_json_object_rejects_the_rest(value, message) -> None:
    with pytest.raises(InputError) as raised:
        json_object(value, "input")
    assert raised.value.message.startswith(message)
