"""One row per keyword of the language: what it parses into.

Errors for each keyword are in test_errors.py; transitions in every form
in test_transitions.py; workbooks and ad-hoc actions in test_documents.py.
"""

from __future__ import annotations

import textwrap

import pytest

from levante.language import (
    InputParam,
    RetryPolicy,
    Transition,
    TransitionKind,
    WorkflowType,
    parse,
)

TASK = TransitionKind.TASK


def _task(body: str, *, wf_type: str = "direct"):
    """Task `t` with `body`; in a direct workflow, `a` and `b` lead to it
    (so joins can be met), in a reverse one `a` and `b` exist."""
    inbound = "on-success: [t]" if wf_type == "direct" else "action: std.noop"
    text = (
        f"version: '2.0'\nwf:\n  type: {wf_type}\n  tasks:\n"
        f"    a: {{{inbound}}}\n    b: {{{inbound}}}\n    t:\n"
        + textwrap.indent(textwrap.dedent(body), "      ")
    )
    return parse(text).workflows[0].tasks["t"]


# (id, task body, field, expected value)
TASK_KEYWORDS = [
    ("action", "action: std.noop", "action", "std.noop"),
    ("action-inline", 'action: std.echo output="hi" x=<% $.y %>', "input",
     {"output": "hi", "x": "<% $.y %>"}),
    ("action-inline-paren", "action: std.echo(output='hi', n=2)", "input",
     {"output": "hi", "n": 2}),
    ("workflow", "workflow: sub", "workflow", "sub"),
    ("workflow-inline", "workflow: sub a=1 b=<% $.b %>", "input", {"a": 1, "b": "<% $.b %>"}),
    ("no-op-task", "description: does nothing", "action", None),
    ("input", "action: std.echo\ninput:\n  output: <% $.x %>\n  n: [1, 2]", "input",
     {"output": "<% $.x %>", "n": [1, 2]}),
    ("input-over-inline", "action: std.echo output=a keep=1\ninput: {output: b}", "input",
     {"output": "b", "keep": 1}),
    ("description", "description: Does things.", "description", "Does things."),
    ("publish", "publish:\n  r: <% task().result %>\n  s: '{{ task().state }}'", "publish",
     {"r": "<% task().result %>", "s": "{{ task().state }}"}),
    ("publish-on-error", "publish-on-error: {e: <% task().state_info %>}", "publish_on_error",
     {"e": "<% task().state_info %>"}),
    ("on-success", "on-success: [a]", "on_success", (Transition(TASK, "a"),)),
    ("on-error", "on-error: a", "on_error", (Transition(TASK, "a"),)),
    ("on-complete", "on-complete: [{a: <% $.ok %>}]", "on_complete",
     (Transition(TASK, "a", condition="<% $.ok %>"),)),
    ("join-all", "join: all", "join", "all"),
    ("join-one", "join: one", "join", "one"),
    ("join-count", "join: 2", "join", 2),
    ("with-items-one", "with-items: x in <% $.xs %>", "with_items", {"x": "<% $.xs %>"}),
    ("with-items-list", "with-items: x in [1, 'two']", "with_items", {"x": [1, "two"]}),
    ("with-items-zipped", "with-items:\n  - x in <% $.xs %>\n  - y in {{ _.ys }}", "with_items",
     {"x": "<% $.xs %>", "y": "{{ _.ys }}"}),
    ("concurrency", "concurrency: 3", "concurrency", 3),
    ("concurrency-expression", "concurrency: <% $.n %>", "concurrency", "<% $.n %>"),
    ("retry", "retry: {count: 3, delay: 2}", "retry", RetryPolicy(3, 2)),
    ("retry-one-line", "retry: count=3 delay=2", "retry", RetryPolicy(3, 2)),
    ("retry-expressions", "retry: {count: <% $.n %>, delay: '{{ _.d }}'}", "retry",
     RetryPolicy("<% $.n %>", "{{ _.d }}")),
    ("retry-break-on", "retry: {count: 1, delay: 0, break-on: <% $.stop %>}", "retry",
     RetryPolicy(1, 0, break_on="<% $.stop %>")),
    ("retry-continue-on", "retry:\n  count: 1\n  delay: 0\n  continue-on: <% $.more %>",
     "retry", RetryPolicy(1, 0, continue_on="<% $.more %>")),
    ("wait-before", "wait-before: 5", "wait_before", 5),
    ("wait-before-expression", "wait-before: <% $.w %>", "wait_before", "<% $.w %>"),
    ("wait-after", "wait-after: 0", "wait_after", 0),
    ("wait-after-expression", "wait-after: '{{ _.w }}'", "wait_after", "{{ _.w }}"),
    ("timeout", "timeout: 60", "timeout", 60),
    ("timeout-expression", "timeout: <% $.t %>", "timeout", "<% $.t %>"),
    ("pause-before", "pause-before: true", "pause_before", True),
    ("pause-before-expression", "pause-before: <% $.p %>", "pause_before", "<% $.p %>"),
    ("keep-result", "keep-result: false", "keep_result", False),
    ("keep-result-expression", "keep-result: <% $.keep %>", "keep_result", "<% $.keep %>"),
    ("target", "target: <% $.host %>", "target", "<% $.host %>"),
    ("safe-rerun", "safe-rerun: true", "safe_rerun", True),
    ("safe-rerun-expression", "safe-rerun: <% $.idempotent %>", "safe_rerun",
     "<% $.idempotent %>"),
    ("fail-on", "fail-on: <% $.bad %>", "fail_on", "<% $.bad %>"),
    ("fail-on-boolean", "fail-on: false", "fail_on", False),
    ("tags", "tags: [slow, db]", "tags", ("slow", "db")),
]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "field", "expected"),
    [row[1:] for row in TASK_KEYWORDS],
    ids=[row[0] for row in TASK_KEYWORDS],
)
def test_task_keyword(body, field, expected):
    assert getattr(_task(body), field) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [("requires: a", ("a",)), ("requires: [a, b]", ("a", "b"))],
    ids=["one", "several"],
)
def test_requires_keyword(body, expected):
    assert _task(f"action: std.noop\n{body}", wf_type="reverse").requires == expected


def test_task_spec_keeps_the_definition_as_written():
    task = _task("action: std.echo output=hi\nretry: count=1 delay=2\n")
    assert task.as_dict() == {
        "action": "std.echo output=hi",
        "retry": "count=1 delay=2",
        "name": "t",
        "version": "2.0",
        "type": "direct",
    }
    copy = task.as_dict()
    copy["action"] = "changed"
    assert task.as_dict()["action"] == "std.echo output=hi"


def _workflow(body: str):
    text = "version: '2.0'\nwf:\n" + textwrap.indent(textwrap.dedent(body).rstrip() + "\n", "  ")
    if "tasks:" not in body:
        text += "  tasks:\n    t: {action: std.noop}\n"
    return parse(text).workflows[0]


# (id, workflow body, field, expected value)
WORKFLOW_KEYWORDS = [
    ("type-direct", "type: direct", "type", WorkflowType.DIRECT),
    ("type-reverse", "type: reverse", "type", WorkflowType.REVERSE),
    ("type-default", "description: x", "type", WorkflowType.DIRECT),
    ("description", "description: Runs things.", "description", "Runs things."),
    ("tags", "tags: [a, b]", "tags", ("a", "b")),
    ("input-names", "input: [a, b]", "input", (InputParam("a"), InputParam("b"))),
    ("input-defaults", "input:\n  - a\n  - b: 2\n  - c: null", "input",
     (InputParam("a"), InputParam("b", True, 2), InputParam("c", True, None))),
    ("output-mapping", "output: {r: <% $.r %>}", "output", {"r": "<% $.r %>"}),
    ("output-expression", "output: <% $.r %>", "output", "<% $.r %>"),
    ("output-on-error", "output-on-error: {why: <% execution().state_info %>}",
     "output_on_error", {"why": "<% execution().state_info %>"}),
    ("vars", "vars: {v: 1, w: '{{ _.x }}'}", "vars", {"v": 1, "w": "{{ _.x }}"}),
    ("task-defaults", "task-defaults: {timeout: 5}", "task_defaults", {"timeout": 5}),
    ("name", "name: wf", "name", "wf"),
    ("version", "version: '2.0'", "name", "wf"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "field", "expected"),
    [row[1:] for row in WORKFLOW_KEYWORDS],
    ids=[row[0] for row in WORKFLOW_KEYWORDS],
)
def test_workflow_keyword(body, field, expected):
    assert getattr(_workflow(body), field) == expected


# (id, task-defaults body, field of task `t`, expected value)
DEFAULTS_KEYWORDS = [
    ("retry", "retry: {count: 2, delay: 1}", "retry", RetryPolicy(2, 1)),
    ("wait-before", "wait-before: 1", "wait_before", 1),
    ("wait-after", "wait-after: <% $.w %>", "wait_after", "<% $.w %>"),
    ("timeout", "timeout: 9", "timeout", 9),
    ("pause-before", "pause-before: true", "pause_before", True),
    ("concurrency", "concurrency: 4", "concurrency", 4),
    ("safe-rerun", "safe-rerun: true", "safe_rerun", True),
    ("fail-on", "fail-on: <% $.bad %>", "fail_on", "<% $.bad %>"),
    ("on-success", "on-success: [done]", "on_success", (Transition(TASK, "done"),)),
    ("on-error", "on-error: [done]", "on_error", (Transition(TASK, "done"),)),
    ("on-complete", "on-complete: [fail]", "on_complete",
     (Transition(TransitionKind.FAIL),)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "field", "expected"),
    [row[1:] for row in DEFAULTS_KEYWORDS],
    ids=[row[0] for row in DEFAULTS_KEYWORDS],
)
def test_task_defaults_keyword(body, field, expected):
    workflow = _workflow(
        f"task-defaults:\n  {body}\ntasks:\n  t: {{action: std.noop}}\n"
        "  done: {action: std.noop}\n"
    )
    assert getattr(workflow.tasks["t"], field) == expected


def test_task_defaults_requires_in_reverse_workflows():
    workflow = _workflow(
        "type: reverse\ntask-defaults:\n  requires: [setup]\ntasks:\n"
        "  setup: {action: std.noop}\n  t: {action: std.noop}\n"
    )
    assert workflow.tasks["t"].requires == ("setup",)
    assert workflow.tasks["setup"].requires == ()


def test_workflow_spec_keeps_the_definition_as_written():
    workflow = _workflow("description: d\ninput: [a]\n")
    assert workflow.as_dict() == {
        "description": "d",
        "input": ["a"],
        "tasks": {"t": {"action": "std.noop"}},
        "name": "wf",
        "version": "2.0",
    }
