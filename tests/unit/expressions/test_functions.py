"""Each expression function, the same in YAQL and in Jinja.

Every case is written once per language; both must give the same value.
"""

from __future__ import annotations

import datetime
import json
import re

import pytest
import yaml

from levante.errors import ExpressionError
from levante.expressions import (
    EXECUTION_KEYS,
    TASK_KEYS,
    ExpressionContext,
    InMemoryRuntime,
    RuntimeData,
    evaluate,
)
from levante.language import parse

TASK_SPEC = {
    "name": "t1",
    "version": "2.0",
    "type": "direct",
    "action": "std.echo output=5",
    "publish": {"p": "<% task().result %>"},
}
WORKFLOW_SPEC = {"name": "my_wf", "version": "2.0", "tasks": {"t1": TASK_SPEC}}


@pytest.fixture
def snapshot() -> ExpressionContext:
    return ExpressionContext(
        data={"person": {"name": "Ann", "age": 41}, "numbers": [1, 2, 3], "text": "k: [1, 2]"},
        tasks={
            "t1": {
                "id": "id-1",
                "name": "t1",
                "state": "SUCCESS",
                "state_info": None,
                "result": {"out": 5},
                "published": {"p": 5},
                "spec": TASK_SPEC,
                "type": "ACTION",
                "workflow_execution_id": "wf-1",
            },
            # Only the user-model basics: the missing keys read as null.
            "t2": {"id": "id-2", "name": "t2", "state": "ERROR", "state_info": "boom"},
        },
        current_task={"id": "id-3", "name": "t3", "state": "RUNNING", "result": "mine"},
        env={"region": "eu"},
        execution={
            "id": "wf-1",
            "name": "my_wf",
            "input": {"a": 1},
            "params": {"env": {"region": "eu"}},
            "spec": WORKFLOW_SPEC,
            "created_at": datetime.datetime(2024, 1, 31, 12, 30, 5),
            "root_execution_id": "root-1",
        },
        global_vars={"counter": 7, "flags": {"on": True}},
    )


# (YAQL, Jinja, expected)
CASES = [
    ("<% task(t1).id %>", "{{ task('t1').id }}", "id-1"),
    ("<% task(t1).name %>", "{{ task('t1').name }}", "t1"),
    ("<% task(t1).state %>", "{{ task('t1').state }}", "SUCCESS"),
    ("<% task(t2).state_info %>", "{{ task('t2').state_info }}", "boom"),
    ("<% task(t1).result %>", "{{ task('t1').result }}", {"out": 5}),
    ("<% task(t1).published %>", "{{ task('t1').published }}", {"p": 5}),
    ("<% task(t1).spec %>", "{{ task('t1').spec }}", TASK_SPEC),
    ("<% task(t1).spec.action %>", "{{ task('t1').spec.action }}", "std.echo output=5"),
    ("<% task(t2).result %>", "{{ task('t2').result }}", None),
    ("<% task(t2).published %>", "{{ task('t2').published }}", {}),
    ("<% task().result %>", "{{ task().result }}", "mine"),
    ("<% task(t3).state %>", "{{ task('t3').state }}", "RUNNING"),
    ("<% task(t1).keys().len() >= 7 %>", "{{ task('t1') | length >= 7 }}", True),
    ("<% execution().id %>", "{{ execution().id }}", "wf-1"),
    ("<% execution().name %>", "{{ execution().name }}", "my_wf"),
    ("<% execution().input %>", "{{ execution().input }}", {"a": 1}),
    ("<% execution().params.env %>", "{{ execution().params.env }}", {"region": "eu"}),
    ("<% execution().spec.tasks.t1.action %>", "{{ execution().spec.tasks.t1.action }}",
     "std.echo output=5"),
    ("<% execution().created_at %>", "{{ execution().created_at }}", "2024-01-31 12:30:05"),
    ("<% execution().root_execution_id %>", "{{ execution().root_execution_id }}", "root-1"),
    ("<% env().region %>", "{{ env().region }}", "eu"),
    ("<% env() %>", "{{ env() }}", {"region": "eu"}),
    ("<% global(counter) %>", "{{ global('counter') }}", 7),
    ("<% global('flags').on %>", "{{ global('flags').on }}", True),
    ("<% global(nothing) %>", "{{ global('nothing') }}", None),
    ("<% json_pp($.person) %>", "{{ json_pp(_.person) }}", json.dumps({"name": "Ann", "age": 41},
                                                                      indent=4)),
    ("<% json_dump($.numbers) %>", "{{ json_dump(_.numbers) }}", json.dumps([1, 2, 3], indent=4)),
    ("<% json_parse('{\"a\": [1, null]}') %>", "{{ json_parse('{\"a\": [1, null]}') }}",
     {"a": [1, None]}),
    ("<% yaml_dump($.person) %>", "{{ yaml_dump(_.person) }}",
     yaml.safe_dump({"name": "Ann", "age": 41}, default_flow_style=False)),
    ("<% yaml_parse($.text) %>", "{{ yaml_parse(_.text) }}", {"k": [1, 2]}),
    ("<% json_parse(json_dump($.person)) %>", "{{ json_parse(json_dump(_.person)) }}",
     {"name": "Ann", "age": 41}),
    ("<% yaml_parse(yaml_dump($.numbers)) %>", "{{ yaml_parse(yaml_dump(_.numbers)) }}",
     [1, 2, 3]),
]  # fmt: skip
IDS = [
    "task-id", "task-name", "task-state", "task-state-info", "task-result", "task-published",
    "task-spec", "task-spec-field", "task-missing-result", "task-missing-published",
    "task-current", "task-current-by-name", "task-has-all-keys", "execution-id",
    "execution-name", "execution-input", "execution-params", "execution-spec",
    "execution-created-at", "execution-root", "env-key", "env", "global", "global-nested",
    "global-missing", "json-pp", "json-dump", "json-parse", "yaml-dump", "yaml-parse",
    "json-round-trip", "yaml-round-trip",
]  # fmt: skip


@pytest.mark.parametrize(("yaql", "jinja", "expected"), CASES, ids=IDS)
@pytest.mark.parametrize("language", ["yaql", "jinja"])
def test_function(language, yaql, jinja, expected, snapshot):
    expression = yaql if language == "yaql" else jinja
    assert evaluate(expression, snapshot) == expected


def test_task_returns_every_user_model_key(snapshot):
    for expression in ("<% task(t2) %>", "{{ task('t2') }}"):
        model = evaluate(expression, snapshot)
        assert list(model)[: len(TASK_KEYS)] == list(TASK_KEYS)
        assert model == {
            "id": "id-2", "name": "t2", "state": "ERROR", "state_info": "boom",
            "result": None, "published": {}, "spec": None,
        }  # fmt: skip


def test_task_keeps_extra_keys_the_engine_provides(snapshot):
    model = evaluate("<% task(t1) %>", snapshot)
    assert model["type"] == "ACTION" and model["workflow_execution_id"] == "wf-1"


def test_execution_returns_every_key(snapshot):
    for expression in ("<% execution() %>", "{{ execution() }}"):
        assert tuple(evaluate(expression, snapshot)) == EXECUTION_KEYS


def test_execution_keys_missing_from_the_snapshot_are_null():
    context = ExpressionContext(execution={"id": "x", "updated_at": "later"})
    assert evaluate("{{ execution() }}", context) == {
        "id": "x", "name": None, "input": None, "params": None, "spec": None,
        "created_at": None, "root_execution_id": None, "updated_at": "later",
    }  # fmt: skip


@pytest.mark.parametrize("expression", ["<% uuid() %>", "{{ uuid() }}"], ids=["yaql", "jinja"])
def test_uuid(expression, snapshot):
    first, second = evaluate(expression, snapshot), evaluate(expression, snapshot)
    pattern = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}"
    assert re.fullmatch(pattern, first) and re.fullmatch(pattern, second)
    assert first != second


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("<% task(nosuch) %>", "Task 'nosuch' not found"),
        ("{{ task('nosuch') }}", "Task 'nosuch' not found"),
        ("<% json_parse('{not json') %>", "Expecting property name"),
        ("{{ json_parse('{not json') }}", "Expecting property name"),
        ("<% yaml_parse('a: [') %>", "while parsing a flow"),
        ("{{ yaml_parse('a: [') }}", "while parsing a flow"),
    ],
    ids=["yaql-task", "jinja-task", "yaql-json", "jinja-json", "yaql-yaml", "jinja-yaml"],
)
def test_function_errors_are_expression_errors(expression, fragment, snapshot):
    with pytest.raises(ExpressionError, match=re.escape(fragment)):
        evaluate(expression, snapshot)


def test_task_spec_comes_from_the_parsed_definition():
    workflow = parse(
        "version: '2.0'\nwf:\n  tasks:\n    t1:\n      action: std.echo output=5\n"
        "      publish: {p: <% task().result %>}\n"
    ).workflows[0]
    spec = workflow.tasks["t1"].as_dict()
    assert spec == TASK_SPEC
    context = ExpressionContext(
        tasks={"t1": {"id": "1", "name": "t1", "state": "SUCCESS", "spec": spec}},
        execution={"id": "e", "spec": workflow.as_dict()},
    )
    assert evaluate("<% task(t1).spec.publish.p %>", context) == "<% task().result %>"
    assert evaluate("{{ execution().spec.tasks.t1.publish }}", context) == {
        "p": "<% task().result %>"
    }


# The ocata spec "yaql-tasks-function", section Testing: three executions,
# nested workflows, and what each call of tasks() returns.
def _task(name: str, state: str, wf: str, kind: str = "ACTION") -> dict[str, str]:
    return {"id": f"t-{name}", "name": name, "state": state, "type": kind,
            "workflow_execution_id": wf}  # fmt: skip


SPEC_TASKS = [
    _task("top_level_wf1_task_1", "SUCCESS", "1", "WORKFLOW"),
    _task("top_level_wf1_task_2", "SUCCESS", "1"),
    _task("second_level_wf1_task_1", "SUCCESS", "2", "WORKFLOW"),
    _task("second_level_wf1_task_2", "SUCCESS", "2"),
    _task("second_level_wf1_task_3", "SUCCESS", "2"),
    _task("third_level_wf1_task_1", "SUCCESS", "3"),
    _task("third_level_wf1_task_2", "SUCCESS", "3"),
    _task("third_level_wf1_task_3", "ERROR", "3"),
    _task("top_level_wf2_task_1", "SUCCESS", "1001"),
    _task("top_level_wf2_task_2", "SUCCESS", "1001"),
    _task("top_level_wf3_task_1", "ERROR", "300001", "WORKFLOW"),
    _task("top_level_wf3_task_2", "ERROR", "300001"),
    _task("second_level_wf3_task_1", "ERROR", "300002", "WORKFLOW"),
    _task("second_level_wf3_task_2", "SUCCESS", "300002"),
    _task("second_level_wf3_task_3", "SUCCESS", "300002"),
    _task("third_level_wf3_task_1", "SUCCESS", "300003"),
    _task("third_level_wf3_task_2", "SUCCESS", "300003"),
    _task("third_level_wf3_task_3", "ERROR", "300003"),
]
SPEC_EXECUTIONS = [
    {"id": "1", "state": "SUCCESS"},
    {"id": "2", "state": "SUCCESS", "task_execution_id": "t-top_level_wf1_task_1"},
    {"id": "3", "state": "ERROR", "task_execution_id": "t-second_level_wf1_task_1"},
    {"id": "1001", "state": "SUCCESS"},
    {"id": "300001", "state": "ERROR"},
    {"id": "300002", "state": "ERROR", "task_execution_id": "t-top_level_wf3_task_1"},
    {"id": "300003", "state": "ERROR", "task_execution_id": "t-second_level_wf3_task_1"},
]
WF1 = [
    "top_level_wf1_task_1", "second_level_wf1_task_1", "third_level_wf1_task_1",
    "third_level_wf1_task_2", "third_level_wf1_task_3", "second_level_wf1_task_2",
    "second_level_wf1_task_3", "top_level_wf1_task_2",
]  # fmt: skip

# (YAQL arguments, Jinja arguments, expected names in order)
TASKS_CASES = [
    ("", "", [task["name"] for task in SPEC_TASKS]),
    ("'1'", "'1'", ["top_level_wf1_task_1", "top_level_wf1_task_2"]),
    ("1, false", "1, false", ["top_level_wf1_task_1", "top_level_wf1_task_2"]),
    ("1, true", "1, true", WF1),
    ("1001", "1001", ["top_level_wf2_task_1", "top_level_wf2_task_2"]),
    ("1001, true", "1001, true", ["top_level_wf2_task_1", "top_level_wf2_task_2"]),
    ("1, true, ERROR", "1, true, 'ERROR'", ["third_level_wf1_task_3"]),
    ("1, false, ERROR", "1, false, 'ERROR'", []),
    (
        "300001, true, ERROR",
        "300001, true, 'ERROR'",
        ["top_level_wf3_task_1", "second_level_wf3_task_1", "third_level_wf3_task_3",
         "top_level_wf3_task_2"],
    ),
    (
        "300001, true, ERROR, false",
        "300001, true, 'ERROR', false",
        ["top_level_wf3_task_1", "second_level_wf3_task_1", "third_level_wf3_task_3",
         "top_level_wf3_task_2"],
    ),
    ("300001, true, ERROR, true", "300001, true, 'ERROR', true",
     ["third_level_wf3_task_3", "top_level_wf3_task_2"]),
    (
        "1, true, SUCCESS, true",
        "1, true, 'SUCCESS', true",
        # top_level_wf1_task_1 mirrors its nested execution (both SUCCESS) and
        # is left out; second_level_wf1_task_1 succeeded over a failed one.
        ["second_level_wf1_task_1", "third_level_wf1_task_1", "third_level_wf1_task_2",
         "second_level_wf1_task_2", "second_level_wf1_task_3", "top_level_wf1_task_2"],
    ),
    ("null, false, ERROR", "none, false, 'ERROR'",
     [t["name"] for t in SPEC_TASKS if t["state"] == "ERROR"]),
    ("'unknown'", "'unknown'", []),
]  # fmt: skip
TASKS_IDS = [
    "all", "wf1", "wf1-not-recursive", "wf1-recursive", "wf2", "wf2-recursive",
    "wf1-errors", "wf1-errors-top-level", "wf3-errors", "wf3-errors-not-flat",
    "wf3-errors-flat", "wf1-success-flat", "all-errors", "unknown-execution",
]  # fmt: skip


@pytest.fixture
def runtime_context() -> ExpressionContext:
    runtime = InMemoryRuntime(SPEC_TASKS, SPEC_EXECUTIONS)
    return ExpressionContext(execution={"id": "1"}, runtime=runtime)


@pytest.mark.parametrize(("yaql_args", "jinja_args", "expected"), TASKS_CASES, ids=TASKS_IDS)
def test_tasks_as_the_ocata_spec_defines_it(yaql_args, jinja_args, expected, runtime_context):
    yaql = evaluate(f"<% tasks({yaql_args}).name %>", runtime_context)
    jinja = evaluate(
        f"{{{{ tasks({jinja_args}) | map(attribute='name') | list }}}}", runtime_context
    )
    assert yaql == expected
    assert jinja == expected


def test_tasks_items_are_task_user_models(runtime_context):
    (item,) = evaluate("<% tasks(1001).where($.name = 'top_level_wf2_task_1') %>", runtime_context)
    assert item == {
        "id": "t-top_level_wf2_task_1", "name": "top_level_wf2_task_1", "state": "SUCCESS",
        "state_info": None, "result": None, "published": {}, "spec": None, "type": "ACTION",
        "workflow_execution_id": "1001",
    }  # fmt: skip


def test_tasks_accepts_the_spec_examples_state_in_second_place(runtime_context):
    # The spec's example: `tasks(execution().id, ERROR)`.
    context = ExpressionContext(execution={"id": "300001"}, runtime=runtime_context.runtime)
    assert evaluate("<% tasks(execution().id, ERROR).name %>", context) == [
        "top_level_wf3_task_1",
        "top_level_wf3_task_2",
    ]


def test_tasks_without_runtime_reads_the_snapshot(snapshot):
    assert evaluate("<% tasks().name %>", snapshot) == ["t1", "t2"]
    # t2 carries no workflow_execution_id: it belongs to execution().id.
    assert evaluate("<% tasks(execution().id).name %>", snapshot) == ["t1", "t2"]
    assert evaluate(
        "{{ tasks('wf-1', false, 'ERROR') | map(attribute='id') | list }}", snapshot
    ) == ["id-2"]
    assert evaluate("<% tasks('other') %>", snapshot) == []


def test_task_by_name_falls_back_to_the_runtime(runtime_context):
    assert evaluate("<% task(top_level_wf1_task_2).state %>", runtime_context) == "SUCCESS"
    with pytest.raises(ExpressionError, match="Task 'second_level_wf1_task_1' not found"):
        # Not a task of the current execution ("1").
        evaluate("<% task(second_level_wf1_task_1) %>", runtime_context)


def test_task_type_is_inferred_from_the_spec():
    runtime = InMemoryRuntime(
        [
            {"id": "a", "name": "a", "state": "SUCCESS", "workflow_execution_id": "w",
             "spec": {"workflow": "sub"}},
            {"id": "b", "name": "b", "state": "SUCCESS", "workflow_execution_id": "w",
             "spec": {"action": "std.noop"}},
        ],
        [{"id": "n", "state": "ERROR", "task_execution_id": "a"}],
    )  # fmt: skip
    context = ExpressionContext(runtime=runtime)
    assert evaluate("<% tasks(w, true, null, true).name %>", context) == ["a", "b"]
    assert evaluate("<% tasks(w, true, SUCCESS, false).name %>", context) == ["a", "b"]


def test_in_memory_runtime_implements_the_protocol():
    assert isinstance(InMemoryRuntime(), RuntimeData)


def test_a_custom_runtime_is_queried_lazily():
    calls: list[tuple[str, object]] = []

    class Recording:
        def task_executions(self, workflow_execution_id=None):
            calls.append(("tasks", workflow_execution_id))
            return [{"id": "x", "name": "x", "state": "SUCCESS", "type": "WORKFLOW"}]

        def sub_workflow_executions(self, task_execution_id):
            calls.append(("subs", task_execution_id))
            return []

    context = ExpressionContext(runtime=Recording())
    assert evaluate("<% 1 %>", context) == 1
    assert calls == []
    assert evaluate("<% tasks(w1, true).name %>", context) == ["x"]
    assert calls == [("tasks", "w1"), ("subs", "x")]
