"""YAQL expressions (`<% ... %>`): values, Mistral's functions, errors."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from levante.errors import ExpressionError
from levante.expressions import ExpressionContext, check_syntax, evaluate, yaql_engine


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("<% $.x %>", 3),
        ("<% $.x * 2 + 1 %>", 7),
        ("<% $.name %>", "Bob"),
        ("<% $.flag %>", True),
        ("<% $.nothing %>", None),
        ("<% $.numbers %>", [1, 2, 3]),
        ("<% $.person %>", {"name": "Ann", "age": 41}),
        ("<% $.person.age %>", 41),
        ("<% $.people.name %>", ["Ann", "Cy"]),
        ("<% $.numbers.select($ * 10) %>", [10, 20, 30]),
        ("<% $.numbers.where($ > 1).len() %>", 2),
        ("<% $.name.toUpper() %>", "BOB"),
        ("<% dict(a => 1) %>", {"a": 1}),
        ("<% list(1, 2) %>", [1, 2]),
        ("<% str($.x) %>", "3"),
        ("<% $.x > 2 and $.flag %>", True),
        ("<% 'a' in $.person.keys() %>", False),
        ("<%$.x%>", 3),
        ("  <% $.x %>  ", 3),
    ],
    ids=[
        "int", "arithmetic", "string", "bool", "null", "list", "dict", "nested", "collection",
        "select", "where-len", "string-method", "dict-builder", "list-builder", "str",
        "logic", "in", "no-spaces", "surrounding-whitespace",
    ],
)  # fmt: skip
def test_typed_results(expression, expected, context):
    result = evaluate(expression, context)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    "expression",
    ["<% $.missing %>", "<% $.person.missing %>", "<% $.people.missing %>"],
    ids=["root", "nested", "collection"],
)
def test_missing_keys_are_null(expression, context):
    result = evaluate(expression, context)
    assert result is None or result == [None, None]


def test_results_are_plain_json_values(context):
    result = evaluate("<% dict(a => list(1, 2), b => set(3)) %>", context)
    assert result == {"a": [1, 2], "b": [3]}
    assert json.loads(json.dumps(result)) == result
    assert type(result["a"]) is list and type(result["b"]) is list


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("<% task(t1).result.out %>", 5),
        ("<% task('t1').result %>", {"out": 5, "list": [1, 2]}),
        ("<% task(t2).state_info %>", "boom"),
        ("<% task().result %>", "current result"),
        ("<% task(t3).state %>", "RUNNING"),
        ("<% tasks().name %>", ["t1", "t2"]),
        ("<% tasks(state => 'ERROR').name %>", ["t2"]),
        ("<% tasks(execution().id, true, 'SUCCESS').id %>", ["id-1"]),
        ("<% tasks('other-wf') %>", []),
        ("<% env().region %>", "eu"),
        ("<% env().limits.cpu %>", 2),
        ("<% execution().name %>", "my_wf"),
        ("<% execution().input.a %>", 1),
        ("<% global(counter) %>", 7),
        ("<% global('unknown') %>", None),
        ("<% json_parse('{\"k\": [1]}') %>", {"k": [1]}),
        ("<% yaml_parse('k: v') %>", {"k": "v"}),
        ("<% json_dump($.person) %>", json.dumps({"name": "Ann", "age": 41}, indent=4)),
        ("<% json_pp($.numbers) %>", json.dumps([1, 2, 3], indent=4)),
        ("<% yaml_dump($.person) %>", yaml.safe_dump({"name": "Ann", "age": 41})),
    ],
    ids=[
        "task-by-name", "task-quoted", "task-state-info", "task-current",
        "task-current-by-name", "tasks", "tasks-state", "tasks-positional", "tasks-other-wf",
        "env", "env-nested", "execution", "execution-input", "global", "global-missing",
        "json-parse", "yaml-parse", "json-dump", "json-pp", "yaml-dump",
    ],
)  # fmt: skip
def test_mistral_functions(expression, expected, context):
    assert evaluate(expression, context) == expected


def test_uuid(context):
    value = evaluate("<% uuid() %>", context)
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", value)
    assert value != evaluate("<% uuid() %>", context)


def test_functions_do_not_expose_the_snapshot_for_mutation(context):
    result = evaluate("<% task(t1).result %>", context)
    result["out"] = 99
    assert context.tasks["t1"]["result"]["out"] == 5


@pytest.mark.parametrize(
    ("expression", "inner", "error_fragment"),
    [
        ("<% $.missing.x %>", "$.missing.x", "Can not read 'x': the value is null"),
        ("<% task('nosuch').result %>", "task('nosuch').result", "Task 'nosuch' not found"),
        ("<% $.x + %>", "$.x +", "Parse error"),
        ("<% 1 / 0 %>", "1 / 0", "division"),
        ("<% $.numbers[10] %>", "$.numbers[10]", "IndexError"),
        ("value: <% unknown_function() %>", "unknown_function()", "unknown_function"),
    ],
    ids=["attribute-of-null", "unknown-task", "syntax", "division", "index", "unknown-function"],
)
def test_errors_name_the_expression(expression, inner, error_fragment, context):
    with pytest.raises(ExpressionError) as raised:
        evaluate(expression, context)
    error = raised.value
    assert error.expression == inner
    assert error.message.startswith(f"Can not evaluate YAQL expression [expression={inner}, ")
    assert error_fragment in error.message
    assert '"name": "Bob"' in error.message  # the data is shown


def test_task_without_name_outside_a_task_scope_fails():
    with pytest.raises(ExpressionError, match="only available in a task's scope"):
        evaluate("<% task().result %>", ExpressionContext())


def test_default_context_is_empty():
    assert evaluate("<% [$, env()] %>", ExpressionContext()) == [{}, {}]
    assert evaluate("<% execution() %>", ExpressionContext()) == {
        "id": None, "name": None, "input": None, "params": None, "spec": None,
        "created_at": None, "root_execution_id": None,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("<% $.x %>", None),
        ("no expressions at all", None),
        ("a <% $.x %> b <% $.y.len() %>", None),
        ("<% $.x + %>", "Invalid YAQL expression '$.x +': Parse error"),
        ("ok <% $.x %> then <% ) %>", "Invalid YAQL expression ')'"),
        ("<% %>", "Invalid YAQL expression ''"),
        ("<% 'unterminated %>", "Invalid YAQL expression ''unterminated'"),
    ],
    ids=["valid", "plain", "several-valid", "incomplete", "second-bad", "empty", "lexical"],
)
def test_check_syntax(text, error):
    result = check_syntax(text)
    if error is None:
        assert result is None
    else:
        assert result is not None and result.startswith(error)


def test_parsed_expressions_are_cached(context):
    yaql_engine.parse.cache_clear()
    for _ in range(3):
        evaluate("<% $.x + 100 %>", context)
    info = yaql_engine.parse.cache_info()
    assert (info.misses, info.hits) == (1, 2)
