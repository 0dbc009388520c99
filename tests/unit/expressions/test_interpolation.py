"""Strings with text around expressions, and nested values."""

from __future__ import annotations

import copy

import pytest

from levante.expressions import ExpressionContext, evaluate, is_expression


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hi <% $.name %>!", "hi Bob!"),
        ("<% $.name %> is <% $.person.age %>", "Bob is 41"),
        ("x=<% $.x %>", "x=3"),
        ("n=<% $.nothing %>", "n=None"),
        ("f=<% $.flag %>", "f=True"),
        ("d=<% $.person %>", 'd={"name": "Ann", "age": 41}'),
        ("l=<% $.numbers %>", "l=[1, 2, 3]"),
        ("m=<% $.missing %>", "m=None"),
        ("<% $.x %><% $.x %>", "33"),
        ("<% $.x %> ", 3),
        ("multi\nline <% $.name %>", "multi\nline Bob"),
        ("<% $.x +\n 1 %>", 4),
        ("no expressions", "no expressions"),
        ("<% incomplete", "<% incomplete"),
        ("", ""),
    ],
    ids=[
        "around", "two", "int", "null", "bool", "dict-json", "list-json", "missing",
        "adjacent", "single-with-space", "multiline-text", "multiline-expression", "plain",
        "unclosed-is-text", "empty",
    ],
)  # fmt: skip
def test_yaql_interpolation(text, expected, context):
    assert evaluate(text, context) == expected


def test_mixed_languages_evaluate_yaql_only(context):
    # As in Mistral: YAQL wins, Jinja markup stays text (validation rejects it).
    assert evaluate("<% $.x %> {{ _.x }}", context) == "3 {{ _.x }}"


def test_nested_values_are_evaluated_recursively(context):
    value = {
        "plain": 1,
        "typed": "<% $.x %>",
        "text": "hi {{ _.name }}",
        "list": ["<% $.numbers %>", "{{ _.flag }}", None, 2.5, ["<% $.name %>"]],
        "nested": {"deep": {"deeper": "<% task(t1).result.out %>"}},
        "tuple": ("<% $.x %>", 1),
        "<% $.name %>": "key evaluated",
        "{{ _.x }}": "jinja key evaluated",
        "<% $.person %>": "dict key as json",
    }
    original = copy.deepcopy(value)
    assert evaluate(value, context) == {
        "plain": 1,
        "typed": 3,
        "text": "hi Bob",
        "list": [[1, 2, 3], True, None, 2.5, ["Bob"]],
        "nested": {"deep": {"deeper": 5}},
        "tuple": [3, 1],
        "Bob": "key evaluated",
        "3": "jinja key evaluated",
        '{"name": "Ann", "age": 41}': "dict key as json",
    }
    assert value == original


@pytest.mark.parametrize(
    "value", [None, 3, 2.5, True, b"bytes"], ids=["none", "int", "float", "bool", "bytes"]
)
def test_non_strings_are_returned_as_they_are(value, context):
    assert evaluate(value, context) is value


def test_evaluating_without_expressions_needs_no_context():
    assert evaluate({"a": ["b", 1]}, ExpressionContext()) == {"a": ["b", 1]}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<% $.x %>", True),
        ("{{ _.x }}", True),
        ("{% if x %}{% endif %}", True),
        ("a <% b %> c", True),
        ("plain", False),
        ("<% not closed", False),
        (3, False),
        (None, False),
    ],
    ids=["yaql", "jinja", "jinja-block", "embedded", "plain", "unclosed", "int", "none"],
)
def test_is_expression(value, expected):
    assert is_expression(value) is expected
