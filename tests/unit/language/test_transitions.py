"""Every form of on-success / on-error / on-complete."""

from __future__ import annotations

import textwrap

import pytest

from levante.language import ENGINE_COMMANDS, Transition, TransitionKind, parse, validate

TASK, FAIL, SUCCEED, PAUSE, NOOP = (
    TransitionKind.TASK,
    TransitionKind.FAIL,
    TransitionKind.SUCCEED,
    TransitionKind.PAUSE,
    TransitionKind.NOOP,
)


def _workflow_with_clause(clause: str, key: str = "on-success"):
    """A workflow whose task `t` has `clause` under `key`; tasks a, b, c exist."""
    text = (
        "version: '2.0'\nwf:\n  tasks:\n    t:\n      action: std.noop\n"
        f"      {key}:"
        + (
            "\n" + textwrap.indent(textwrap.dedent(clause), "        ")
            if "\n" in clause
            else f" {clause}\n"
        )
        + "    a: {action: std.noop}\n    b: {action: std.noop}\n    c: {action: std.noop}\n"
    )
    return parse(text).workflows[0]


CASES = [
    ("a", (Transition(TASK, target="a"),)),
    ("[a, b]", (Transition(TASK, "a"), Transition(TASK, "b"))),
    ("- a\n- b\n", (Transition(TASK, "a"), Transition(TASK, "b"))),
    (
        "- a\n- b: <% $.go %>\n- c: '{{ _.x > 1 }}'\n",
        (
            Transition(TASK, "a"),
            Transition(TASK, "b", condition="<% $.go %>"),
            Transition(TASK, "c", condition="{{ _.x > 1 }}"),
        ),
    ),
    ("{a: <% $.only_if %>}", (Transition(TASK, "a", condition="<% $.only_if %>"),)),
    ("fail", (Transition(FAIL),)),
    ("succeed", (Transition(SUCCEED),)),
    ("pause", (Transition(PAUSE),)),
    ("noop", (Transition(NOOP),)),
    ("fail msg='Something broke'", (Transition(FAIL, message="Something broke"),)),
    ('fail msg="double quoted"', (Transition(FAIL, message="double quoted"),)),
    ("fail(msg='function form')", (Transition(FAIL, message="function form"),)),
    ('fail(msg="dq function form")', (Transition(FAIL, message="dq function form"),)),
    ("succeed msg=<% $.why %>", (Transition(SUCCEED, message="<% $.why %>"),)),
    (
        "- fail(msg='bad input'): <% $.x < 0 %>\n- fail msg=\"too big\": <% $.x > 9 %>\n- a\n",
        (
            Transition(FAIL, condition="<% $.x < 0 %>", message="bad input"),
            Transition(FAIL, condition="<% $.x > 9 %>", message="too big"),
            Transition(TASK, "a"),
        ),
    ),
    ("- pause: <% $.wait %>\n", (Transition(PAUSE, condition="<% $.wait %>"),)),
    ("next: [a, b]\n", (Transition(TASK, "a"), Transition(TASK, "b"))),
    ("next: a\n", (Transition(TASK, "a"),)),
    (
        "next:\n  - a: <% $.ok %>\n  - fail msg='no'\n",
        (Transition(TASK, "a", condition="<% $.ok %>"), Transition(FAIL, message="no")),
    ),
]
IDS = [
    "name", "flow-list", "block-list", "guarded-names", "single-guarded-mapping",
    "fail", "succeed", "pause", "noop", "fail-msg-single-quotes", "fail-msg-double-quotes",
    "fail-function-form", "fail-function-form-double-quotes", "msg-expression",
    "guarded-commands", "guarded-pause", "advanced-next-list", "advanced-next-name",
    "advanced-next-mixed",
]  # fmt: skip


@pytest.mark.parametrize("key", ["on-success", "on-error", "on-complete"])
@pytest.mark.parametrize(("clause", "expected"), CASES, ids=IDS)
def test_clause_forms(clause, expected, key):
    task = _workflow_with_clause(clause, key).tasks["t"]
    field = key.replace("-", "_")
    assert getattr(task, field) == expected
    others = {"on_success", "on_error", "on_complete"} - {field}
    assert all(getattr(task, other) == () for other in others)


def test_advanced_form_keeps_publish():
    task = _workflow_with_clause(
        "publish:\n  branch: {x: <% $.x %>}\n  global: {y: 1}\nnext: [a]\n", "on-complete"
    ).tasks["t"]
    assert task.on_complete == (Transition(TASK, "a"),)
    assert task.on_complete_publish == {"branch": {"x": "<% $.x %>"}, "global": {"y": 1}}
    assert task.on_success_publish == {} == task.on_error_publish


def test_advanced_form_with_publish_only():
    task = _workflow_with_clause("publish:\n  atomic: {z: 2}\n", "on-error").tasks["t"]
    assert task.on_error == ()
    assert task.on_error_publish == {"atomic": {"z": 2}}


def test_engine_commands_are_not_start_task_blockers():
    workflow = _workflow_with_clause("[a, fail]")
    assert [task.name for task in workflow.start_tasks()] == ["t", "b", "c"]


def test_engine_commands_set():
    assert ENGINE_COMMANDS == {FAIL, SUCCEED, PAUSE, NOOP}


@pytest.mark.parametrize("command", ["fail", "succeed", "pause", "noop"])
def test_task_named_like_a_command_is_refused(command):
    # In a transition the name would mean the engine command, so Mistral
    # reserves these names; `on-success: [fail]` is the command.
    text = (
        f"version: '2.0'\nwf:\n  tasks:\n    t: {{on-success: [{command}]}}\n"
        f"    {command}: {{action: std.noop}}\n"
    )
    (issue,) = validate(text)
    assert issue.message == (
        f"Task name '{command}' in workflow 'wf' is reserved: "
        "fail, noop, pause, succeed are engine commands"
    )
    assert issue.path == f"wf.tasks.{command}"
