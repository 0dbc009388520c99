"""Expressions are analysed and compiled once per text, then reused."""

from __future__ import annotations

import pytest

from levante.expressions import (
    ExpressionContext,
    check_syntax,
    clear_caches,
    evaluate,
    jinja_engine,
    yaql_engine,
)


def test_a_validated_yaql_expression_is_not_parsed_again():
    clear_caches()
    assert check_syntax("<% $.x * 7 %>") is None
    assert yaql_engine.parse.cache_info().misses == 1
    for _ in range(3):
        assert evaluate("<% $.x * 7 %>", ExpressionContext(data={"x": 2})) == 14
    info = yaql_engine.parse.cache_info()
    assert (info.misses, info.hits) == (1, 3)


def test_jinja_expressions_are_compiled_once():
    clear_caches()
    for value in range(3):
        assert evaluate("{{ _.x * 7 }}", ExpressionContext(data={"x": value})) == value * 7
    info = jinja_engine._compiled_expression.cache_info()
    assert (info.misses, info.hits) == (1, 2)


def test_jinja_templates_are_compiled_once():
    clear_caches()
    for value in range(3):
        assert evaluate("n={{ _.x }}", ExpressionContext(data={"x": value})) == f"n={value}"
    info = jinja_engine._compiled_template.cache_info()
    assert (info.misses, info.hits) == (1, 2)


def test_syntax_verdicts_are_cached():
    clear_caches()
    for _ in range(3):
        assert check_syntax("<% $.a + %>").startswith("Invalid YAQL expression '$.a +'")
    # An invalid expression is parsed once, not once per check.
    assert yaql_engine.parse.cache_info().misses == 1


def test_data_reads_skip_yaql():
    clear_caches()
    context = ExpressionContext(data={"a": {"b": [1, {"c": None}]}})
    assert evaluate("<% $.a.b %>", context) == [1, {"c": None}]
    assert evaluate("<% $ %>", context) == {"a": {"b": [1, {"c": None}]}}
    assert evaluate("<% $.a.missing %>", context) is None
    assert yaql_engine.parse.cache_info().currsize == 0


@pytest.mark.parametrize(
    ("expression", "path"),
    [
        ("$", ()),
        ("$.a", ("a",)),
        (" $.a.b_2 ", ("a", "b_2")),
        ("$ . a", ("a",)),
        ("$.a[0]", None),
        ("$.a + 1", None),
        ("$.null", None),
        ("$.a.len()", None),
        ("$a", None),
    ],
)
def test_fast_path_recognises_only_plain_reads(expression, path):
    assert yaql_engine.fast_path(expression) == path


def test_an_expression_of_a_known_valid_shape_is_only_lexed():
    clear_caches()
    assert check_syntax("<% $.value_1 + 1 %>") is None
    assert check_syntax("<% $.other_name + 22 %>") is None
    assert yaql_engine.parse.cache_info().misses == 1
    # Same token types, but not a valid expression: still parsed, still refused.
    assert check_syntax("<% $.a + %>").startswith("Invalid YAQL expression '$.a +'")
