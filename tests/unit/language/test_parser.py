"""Parsing valid definitions into specs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from levante.language import (
    InputParam,
    Position,
    RetryPolicy,
    WorkflowType,
    interface,
    parse,
    render_input,
    validate,
)


def _parse(text: str):
    return parse(textwrap.dedent(text))


def _workflow(text: str):
    (workflow,) = _parse(text).workflows
    return workflow


def _task(task_body: str, *, wf_type: str = "direct"):
    text = f"version: '2.0'\nwf:\n  type: {wf_type}\n  tasks:\n    t:\n" + textwrap.indent(
        textwrap.dedent(task_body), "      "
    )
    return parse(text).workflows[0].tasks["t"]


def test_standalone_workflow_fields():
    workflow = _workflow(
        """\
        version: '2.0'
        my_wf:
          description: Says hello.
          tags: [demo, hello]
          input:
            - name
          output:
            greeting: <% $.greeting %>
          output-on-error:
            reason: failed
          vars:
            greeting: Hello
          tasks:
            task1:
              action: std.echo output=hi
            task2:
              action: std.noop
        """
    )
    assert workflow.name == "my_wf"
    assert workflow.type is WorkflowType.DIRECT
    assert workflow.description == "Says hello."
    assert workflow.tags == ("demo", "hello")
    assert workflow.input == (InputParam("name"),)
    assert workflow.output == {"greeting": "<% $.greeting %>"}
    assert workflow.output_on_error == {"reason": "failed"}
    assert workflow.vars == {"greeting": "Hello"}
    assert list(workflow.tasks) == ["task1", "task2"]
    assert workflow.position == Position(2, 1)
    assert workflow.tasks["task1"].position == Position(14, 5)


def test_multiple_workflows_in_one_document():
    document = _parse(
        """\
        version: '2.0'
        first:
          tasks:
            a: {action: std.noop}
        second:
          type: reverse
          tasks:
            b: {action: std.noop}
        """
    )
    assert document.name is None
    assert [wf.name for wf in document.workflows] == ["first", "second"]
    assert [wf.type for wf in document.workflows] == [WorkflowType.DIRECT, WorkflowType.REVERSE]


@pytest.mark.parametrize("version", ["'2.0'", "2.0", '"2.0"'], ids=["quoted", "float", "dquoted"])
def test_version_forms(version):
    document = parse(f"version: {version}\nwf:\n  tasks:\n    t: {{action: std.noop}}\n")
    assert document.version == "2.0"


def test_workbook_prefixes_workflow_names():
    document = _parse(
        """\
        version: '2.0'
        name: my_book
        description: A workbook.
        tags: [x]
        actions:
          greet:
            base: std.echo
        workflows:
          wf1:
            tasks:
              a: {action: std.noop}
          wf2:
            tasks:
              b: {workflow: wf1}
        """
    )
    assert document.name == "my_book"
    assert document.description == "A workbook."
    assert document.tags == ("x",)
    assert [wf.name for wf in document.workflows] == ["my_book.wf1", "my_book.wf2"]
    assert document.workflows[1].tasks["b"].workflow == "my_book.wf1"


def test_input_defaults_render_and_interface():
    workflow = _workflow(
        """\
        version: '2.0'
        wf:
          input:
            - name
            - greeting: "Hello"
            - count: 3
            - flag: true
            - nothing: null
            - items: [1, 2]
          output:
            message: <% $.greeting %>
            total: <% $.count %>
          tasks:
            t: {action: std.noop}
        """
    )
    assert workflow.input == (
        InputParam("name"),
        InputParam("greeting", has_default=True, default="Hello"),
        InputParam("count", has_default=True, default=3),
        InputParam("flag", has_default=True, default=True),
        InputParam("nothing", has_default=True, default=None),
        InputParam("items", has_default=True, default=[1, 2]),
    )
    assert (
        render_input(workflow)
        == 'name, greeting="Hello", count=3, flag=true, nothing=null, items=[1, 2]'
    )
    assert interface(workflow) == {
        "input": [
            "name",
            {"greeting": "Hello"},
            {"count": 3},
            {"flag": True},
            {"nothing": None},
            {"items": [1, 2]},
        ],
        "output": ["message", "total"],
    }


def test_interface_of_workflow_without_input_or_output():
    workflow = _workflow("version: '2.0'\nwf:\n  tasks:\n    t: {action: std.noop}\n")
    assert render_input(workflow) == ""
    assert interface(workflow) == {"input": [], "output": []}


@pytest.mark.parametrize(
    ("action", "name", "params"),
    [
        ("std.noop", "std.noop", {}),
        ("std.echo output=hi", "std.echo", {"output": "hi"}),
        (
            'std.echo output="hi" x=<% $.y %> n=3 flag=true',
            "std.echo",
            {"output": "hi", "x": "<% $.y %>", "n": 3, "flag": True},
        ),
        ("std.echo output='single quoted'", "std.echo", {"output": "single quoted"}),
        ("std.echo a=<% $.x + $.y %> b={{ _.z | length }}", "std.echo",
         {"a": "<% $.x + $.y %>", "b": "{{ _.z | length }}"}),
        ("std.echo f=1.5 neg=-2 n=null off=false", "std.echo",
         {"f": 1.5, "neg": -2, "n": None, "off": False}),
        ('std.http body={"a": [1, "x y"]} l=[1, 2]', "std.http",
         {"body": {"a": [1, "x y"]}, "l": [1, 2]}),
        ("std.http url=http://<% $.host %>:8080/x", "std.http",
         {"url": "http://<% $.host %>:8080/x"}),
        ("std.echo(output='paren form', n=2)", "std.echo", {"output": "paren form", "n": 2}),
        ("std.echo msg=don't", "std.echo", {"msg": "don't"}),
    ],
    ids=[
        "bare", "word", "mixed", "single-quotes", "expressions-with-spaces", "scalars",
        "json", "interpolated", "paren-form", "apostrophe",
    ],
)  # fmt: skip
def test_inline_action_shorthand(action, name, params):
    # JSON strings are valid YAML double-quoted scalars: no YAML escaping surprises.
    task = _task(f"action: {json.dumps(action)}\n")
    assert task.action == name
    assert task.workflow is None
    assert task.input == params


def test_explicit_input_is_merged_over_inline_parameters():
    task = _task(
        """\
        action: std.echo output=inline keep=1
        input:
          output: explicit
          extra: <% $.x %>
        """
    )
    assert task.input == {"output": "explicit", "keep": 1, "extra": "<% $.x %>"}


def test_workflow_shorthand():
    task = _task("workflow: sub_wf param=<% $.p %> count=2\n")
    assert task.workflow == "sub_wf"
    assert task.action is None
    assert task.input == {"param": "<% $.p %>", "count": 2}


def test_task_without_action_or_workflow_is_a_noop():
    task = _task("publish:\n  x: 1\n")
    assert (task.action, task.workflow, task.input) == (None, None, {})
    assert task.publish == {"x": 1}


def test_task_options_are_kept():
    task = _task(
        """\
        action: std.echo output=x
        description: Echoes.
        publish: {a: <% task().result %>}
        publish-on-error: {err: <% task().state_info %>}
        with-items:
          - x in <% $.xs %>
          - y in [1, 2]
        concurrency: 2
        retry: {count: 3, delay: 5, break-on: <% $.stop %>}
        wait-before: 1
        wait-after: <% $.pause %>
        timeout: 30
        pause-before: true
        keep-result: false
        target: worker-1
        safe-rerun: true
        fail-on: <% $.bad %>
        tags: [slow]
        """
    )
    assert task.description == "Echoes."
    assert task.publish == {"a": "<% task().result %>"}
    assert task.publish_on_error == {"err": "<% task().state_info %>"}
    assert task.with_items == {"x": "<% $.xs %>", "y": [1, 2]}
    assert task.concurrency == 2
    assert task.retry == RetryPolicy(count=3, delay=5, break_on="<% $.stop %>")
    assert (task.wait_before, task.wait_after, task.timeout) == (1, "<% $.pause %>", 30)
    assert task.pause_before is True
    assert task.keep_result is False
    assert task.target == "worker-1"
    assert task.safe_rerun is True
    assert task.fail_on == "<% $.bad %>"
    assert task.tags == ("slow",)


def test_task_option_defaults():
    task = _task("action: std.noop\n")
    assert task.keep_result is True
    assert task.safe_rerun is False
    assert task.pause_before is False
    assert (task.retry, task.join, task.with_items, task.target) == (None, None, {}, None)


@pytest.mark.parametrize(
    ("retry", "expected"),
    [
        ("{count: 3, delay: 1}", RetryPolicy(3, 1)),
        ("count=5 delay=<% $.d %>", RetryPolicy(5, "<% $.d %>")),
        (
            "count=2 delay=0 continue-on=<% $.again %>",
            RetryPolicy(2, 0, continue_on="<% $.again %>"),
        ),
    ],
    ids=["mapping", "one-line", "one-line-continue-on"],
)
def test_retry_forms(retry, expected):
    assert _task(f"action: std.noop\nretry: {retry}\n").retry == expected


def test_with_items_single_string():
    task = _task("action: std.echo output=<% $.i %>\nwith-items: i in <% $.items %>\n")
    assert task.with_items == {"i": "<% $.items %>"}


@pytest.mark.parametrize(
    ("join", "expected"), [("all", "all"), ("one", "one"), ("2", 2)], ids=["all", "one", "count"]
)
def test_join(join, expected):
    workflow = _workflow(
        f"""\
        version: '2.0'
        wf:
          tasks:
            a: {{on-success: [c]}}
            b: {{on-success: [c]}}
            c: {{join: {join}}}
        """
    )
    assert workflow.tasks["c"].join == expected
    assert [task.name for task in workflow.start_tasks()] == ["a", "b"]


def test_reverse_workflow_requires():
    workflow = _workflow(
        """\
        version: '2.0'
        wf:
          type: reverse
          tasks:
            a: {action: std.noop}
            b: {action: std.noop, requires: a}
            c: {action: std.noop, requires: [a, b]}
        """
    )
    assert workflow.tasks["b"].requires == ("a",)
    assert workflow.tasks["c"].requires == ("a", "b")


def test_task_defaults_are_applied():
    workflow = _workflow(
        """\
        version: '2.0'
        wf:
          task-defaults:
            on-error: [handle_error]
            retry: count=2 delay=1
            timeout: 10
          tasks:
            a:
              action: std.noop
              timeout: 99
              on-success: [b]
            b:
              action: std.noop
              on-error: [b_failed]
            b_failed: {action: std.noop}
            handle_error: {action: std.noop}
        """
    )
    assert workflow.task_defaults["timeout"] == 10
    a, b, handle = workflow.tasks["a"], workflow.tasks["b"], workflow.tasks["handle_error"]
    assert [t.target for t in a.on_error] == ["handle_error"]
    assert [t.target for t in b.on_error] == ["b_failed"]
    # A default transition to the task itself is dropped, as in Mistral.
    assert handle.on_error == ()
    assert a.timeout == 99 and b.timeout == 10
    assert a.retry == RetryPolicy(2, 1) == b.retry
    assert [task.name for task in workflow.start_tasks()] == ["a"]


def test_reverse_task_defaults_requires_are_merged():
    workflow = _workflow(
        """\
        version: '2.0'
        wf:
          type: reverse
          task-defaults:
            requires: [setup]
          tasks:
            setup: {action: std.noop}
            work: {action: std.noop, requires: [other]}
            other: {action: std.noop}
        """
    )
    assert workflow.tasks["setup"].requires == ()
    assert workflow.tasks["work"].requires == ("other", "setup")
    assert workflow.tasks["other"].requires == ("setup",)


def test_dates_stay_strings():
    workflow = _workflow(
        "version: '2.0'\nwf:\n  vars:\n    day: 2024-01-31\n  tasks:\n    t: {action: std.noop}\n"
    )
    assert workflow.vars == {"day": "2024-01-31"}


def test_validate_returns_no_issues_for_valid_definition():
    assert validate("version: '2.0'\nwf:\n  tasks:\n    t: {action: std.noop}\n") == ()


@pytest.mark.parametrize(
    "first_import",
    ["levante.errors", "levante.expressions", "levante.language", "levante.language.spec"],
    ids=["errors", "expressions", "language", "spec"],
)
def test_modules_import_in_any_order(first_import):
    code = f"import {first_import}\nfrom levante.language import parse\nimport levante.errors\n"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
