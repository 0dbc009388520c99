"""Jinja expressions (`{{ ... }}`, `{% ... %}`): values, functions, errors."""

from __future__ import annotations

import json

import pytest

from levante.errors import ExpressionError
from levante.expressions import ExpressionContext, check_syntax, evaluate


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("{{ _.x }}", 3),
        ("{{ _.x * 2 + 1 }}", 7),
        ("{{ _.name }}", "Bob"),
        ("{{ _.flag }}", True),
        ("{{ _.nothing }}", None),
        ("{{ _.numbers }}", [1, 2, 3]),
        ("{{ _.person }}", {"name": "Ann", "age": 41}),
        ("{{ _.person.age }}", 41),
        ("{{ _['person']['name'] }}", "Ann"),
        ("{{ _.numbers | length }}", 3),
        ("{{ _.people | map(attribute='name') | list }}", ["Ann", "Cy"]),
        ("{{ _.name | upper }}", "BOB"),
        ("{{ {'a': {'b': [1]}} }}", {"a": {"b": [1]}}),
        ("{{ (1, 2) }}", [1, 2]),
        ("{{ range(3) }}", [0, 1, 2]),
        ("{{- _.x -}}", 3),
        ("  {{ _.x }}  ", 3),
        ("{{_.x}}", 3),
    ],
    ids=[
        "int", "arithmetic", "string", "bool", "null", "list", "dict", "nested", "subscript",
        "filter", "map-filter", "string-filter", "dict-literal-with-braces", "tuple", "range",
        "whitespace-control", "surrounding-whitespace", "no-spaces",
    ],
)  # fmt: skip
def test_typed_results(expression, expected, context):
    result = evaluate(expression, context)
    assert result == expected
    assert type(result) is type(expected)


def test_missing_key_is_null(context):
    assert evaluate("{{ _.missing }}", context) is None
    assert evaluate("{{ _.person.missing }}", context) is None


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("{{ task('t1').result.out }}", 5),
        ("{{ task('t2').state }}", "ERROR"),
        ("{{ task().result }}", "current result"),
        ("{{ tasks() | map(attribute='name') | list }}", ["t1", "t2"]),
        ("{{ tasks(state='SUCCESS')[0].id }}", "id-1"),
        ("{{ env().region }}", "eu"),
        ("{{ execution().id }}", "wf-1"),
        ("{{ global('counter') }}", 7),
        ("{{ json_parse('[1, 2]') }}", [1, 2]),
        ("{{ json_dump(_.numbers) }}", json.dumps([1, 2, 3], indent=4)),
        ("{{ _.person | json_dump }}", json.dumps({"name": "Ann", "age": 41}, indent=4)),
        ("{{ 'k: 1' | yaml_parse }}", {"k": 1}),
    ],
    ids=[
        "task", "task-state", "task-current", "tasks", "tasks-state", "env", "execution",
        "global", "json-parse", "json-dump", "json-dump-filter", "yaml-parse-filter",
    ],
)  # fmt: skip
def test_mistral_functions(expression, expected, context):
    assert evaluate(expression, context) == expected


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("hi {{ _.name }}!", "hi Bob!"),
        ("{{ _.x }} and {{ _.name }}", "3 and Bob"),
        ("{% if _.x > 2 %}big{% else %}small{% endif %}", "big"),
        ("{% for i in _.numbers %}{{ i }},{% endfor %}", "1,2,3,"),
        ("p={{ _.person }}", 'p={"name": "Ann", "age": 41}'),
        ("l={{ _.numbers }}", "l=[1, 2, 3]"),
        ("n={{ _.nothing }} b={{ _.flag }}", "n=None b=True"),
        ("m=[{{ _.missing }}]", "m=[]"),
        ("region {{ env().region }} of {{ execution().name }}", "region eu of my_wf"),
    ],
    ids=[
        "interpolate",
        "two-expressions",
        "if-block",
        "for-block",
        "dict-as-json",
        "list-as-json",
        "scalars-as-str",
        "undefined-renders-empty",
        "functions",
    ],
)
def test_templates(template, expected, context):
    assert evaluate(template, context) == expected


@pytest.mark.parametrize(
    ("expression", "inner", "error_fragment"),
    [
        ("{{ _.missing.x }}", "_.missing.x", "has no attribute 'missing'"),
        ("{{ task('nosuch') }}", "task('nosuch')", "Task 'nosuch' not found"),
        ("{{ _.x + }}", "_.x +", "unexpected"),
        ("{{ _.numbers.append(4) }}", "_.numbers.append(4)", "unsafe"),
        ("{{ 1 / 0 }}", "1 / 0", "division"),
        ("a {{ _.missing.x }} b", "a {{ _.missing.x }} b", "has no attribute 'missing'"),
    ],
    ids=["attribute-of-undefined", "unknown-task", "syntax", "sandbox", "division", "template"],
)
def test_errors_name_the_expression(expression, inner, error_fragment, context):
    with pytest.raises(ExpressionError) as raised:
        evaluate(expression, context)
    error = raised.value
    assert error.expression == inner
    assert error.message.startswith(f"Can not evaluate Jinja expression [expression={inner}, ")
    assert error_fragment in error.message
    assert context.data["numbers"] == [1, 2, 3]


def test_no_current_task():
    with pytest.raises(ExpressionError, match="only available in a task's scope"):
        evaluate("{{ task().result }}", ExpressionContext())


def test_the_snapshot_is_not_reachable_by_name(context):
    assert evaluate("{{ levante }}", context) is None


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("{{ _.x }}", None),
        ("{% if _.x %}a{% endif %}", None),
        ("{{ _.x + }}", "Invalid Jinja expression '{{ _.x + }}'"),
        ("{% if _.x %}a", "Invalid Jinja expression '{% if _.x %}a'"),
        ("{{ a }} {{ b c }}", "Invalid Jinja expression '{{ a }} {{ b c }}'"),
        ("<% $.x %> {{ _.y }}", "The line already contains an expression of type 'yaql'"),
    ],
    ids=["valid", "valid-block", "incomplete", "unclosed-block", "second-bad", "mixed"],
)
def test_check_syntax(text, error):
    result = check_syntax(text)
    if error is None:
        assert result is None
    else:
        assert result is not None and result.startswith(error)
