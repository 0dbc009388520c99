"""Invalid definitions: every issue, with its message, path and position."""

from __future__ import annotations

import textwrap

import pytest

from levante.errors import DefinitionError
from levante.language import Position, parse, validate

# (definition, expected message fragment, path, line, column)
CASES = [
    (
        """\
        version: '2.0'
        wf:
          tasks: [
        """,
        "Definition could not be parsed: ", "", 4, 1,
    ),
    (
        """\
        wf:
          tasks:
            t: {action: std.noop}
        """,
        "Missing required key 'version'", "", 1, 1,
    ),
    (
        """\
        version: '1.0'
        wf:
          tasks:
            t: {action: std.noop}
        """,
        "Unsupported version '1.0'", "version", 1, 10,
    ),
    ("- just\n- a list\n", "Definition must be a mapping", "", 1, 1),
    (
        """\
        version: '2.0'
        wf:
          taskz:
            t: {action: std.noop}
          tasks:
            t: {action: std.noop}
        """,
        "Unknown key 'taskz' in workflow 'wf'", "wf.taskz", 3, 3,
    ),
    (
        """\
        version: '2.0'
        wf:
          tasks:
            t:
              action: std.noop
              on_success: [t2]
        """,
        "Unknown key 'on_success' in task 't' of workflow 'wf'", "wf.tasks.t.on_success", 6, 7,
    ),
    (
        """\
        version: '2.0'
        wf:
          tasks:
            task1:
              action: std.noop
              on-success:
                - task2
                - missing_task
            task2: {action: std.noop}
        """,
        "Task 'missing_task' referenced in on-success of task 'task1' does not exist",
        "wf.tasks.task1.on-success[1]", 8, 11,
    ),
    (
        """\
        version: '2.0'
        wf:
          tasks:
            task1:
              action: std.noop
              on-error: nowhere
        """,
        "Task 'nowhere' referenced in on-error of task 'task1' does not exist",
        "wf.tasks.task1.on-error", 6, 17,
    ),
    (
        """\
        version: '2.0'
        wf:
          tasks:
            task1:
              action: std.noop
              on-complete:
                - fail: <% $.x %>
                - ghost: <% $.y %>
        """,
        "Task 'ghost' referenced in on-complete of task 'task1' does not exist",
        "wf.tasks.task1.on-complete[1]", 8, 11,
    ),
    (
        """\
        version: '2.0'
        wf:
          tasks:
            task1:
              action: std.echo
              publish:
                result: <% $.x + %>
        """,
        "Invalid YAQL expression '$.x +'", "wf.tasks.task1.publish.result", 7, 17,
    ),
    (
        """\
        version: '2.0'
        wf:
          output:
            out: "{{ _.x + }}"
          tasks:
            t: {action: std.noop}
        """,
        "Invalid Jinja expression '{{ _.x + }}'", "wf.output.out", 4, 10,
    ),
    (
        """\
        version: '2.0'
        wf:
          tasks:
            t:
              action: std.echo output=<% $.a $.b %>
        """,
        "Invalid YAQL expression '$.a $.b'", "wf.tasks.t.action.output", 5, 15,
    ),
    (
        """\
        version: '2.0'
        wf:
          tasks:
            t:
              action: std.noop
              on-success:
                - fail msg=<% $.oops( %>
        """,
        "Invalid YAQL expression '$.oops('", "wf.tasks.t.on-success[0]", 7, 11,
    ),
    (
        """\
        version: '2.0'
        wf:
          tasks:
            t:
              action: std.echo
              input:
                mixed: <% $.a %> and {{ _.b }}
        """,
        "Mixing expression types", "wf.tasks.t.input.mixed", 7, 16,
    ),
    (
        """\
        version: '2.0'
        wf:
          tasks:
            both:
              action: std.echo
              workflow: other
        """,
        "Task 'both' of workflow 'wf' cannot have both 'action' and 'workflow'",
        "wf.tasks.both", 4, 5,
    ),
    (
        """\
        version: '2.0'
        wf:
          description: no tasks here
        """,
        "Workflow 'wf' has no 'tasks'", "wf", 2, 1,
    ),
    (
        """\
        version: '2.0'
        wf:
          tasks: {}
        """,
        "'tasks' of workflow 'wf' must be a non-empty mapping", "wf.tasks", 3, 10,
    ),
    (
        """\
        version: '2.0'
        wf:
          type: sideways
          tasks:
            t: {action: std.noop}
        """,
        "'type' of workflow 'wf' must be 'direct' or 'reverse'", "wf.type", 3, 9,
    ),
    (
        """\
        version: '2.0'
        wf:
          input: name
          tasks:
            t: {action: std.noop}
        """,
        "'input' of workflow 'wf' must be a list", "wf.input", 3, 10,
    ),
    (
        """\
        version: '2.0'
        wf:
          input:
            - a
            - {b: 1, c: 2}
          tasks:
            t: {action: std.noop}
        """,
        "must be names or single 'name: default' pairs", "wf.input[1]", 5, 7,
    ),
    (
        """\
        version: '2.0'
        wf:
          tasks:
            t:
              action: std.noop
              keep-result: maybe
        """,
        "'keep-result' of task 't' of workflow 'wf' must be a boolean",
        "wf.tasks.t.keep-result", 6, 20,
    ),
    (
        """\
        version: '2.0'
        wf:
          tasks:
            t:
              action: std.noop
              timeout: -5
        """,
        "'timeout' of task 't' of workflow 'wf' must be a non-negative integer or an expression",
        "wf.tasks.t.timeout", 6, 16,
    ),
    (
        """\
        version: '2.0'
        wf:
          tasks:
            t:
              action: std.noop
              retry: {count: 3}
        """,
        "requires 'delay'", "wf.tasks.t.retry", 6, 14,
    ),
    (
        """\
        version: '2.0'
        wf:
          tasks:
            t:
              action: std.noop
              with-items: x from <% $.xs %>
        """,
        "Invalid 'with-items' of task 't' of workflow 'wf' entry 'x from <% $.xs %>'",
        "wf.tasks.t.with-items", 6, 19,
    ),
    (
        """\
        version: '2.0'
        wf:
          tasks:
            t:
              action: std.echo output
        """,
        "Invalid 'action' of task 't' of workflow 'wf': Expected 'name=value' at 'output'",
        "wf.tasks.t.action", 5, 15,
    ),
    (
        """\
        version: '2.0'
        wf:
          tasks:
            t:
              action: std.noop
              on-success:
                - a: not an expression
            a: {action: std.noop}
        """,
        "Condition of 'a' must be an expression", "wf.tasks.t.on-success[0].a", 7, 14,
    ),
    (
        """\
        version: '2.0'
        wf:
          tasks:
            t:
              action: std.noop
              on-error: fail code=3
        """,
        "Engine command 'fail' in on-error of task 't' of workflow 'wf' accepts only 'msg'",
        "wf.tasks.t.on-error", 6, 17,
    ),
    (
        """\
        version: '2.0'
        wf:
          tasks:
            t:
              action: std.noop
              on-success:
                publish: {branch: {x: 1}, local: {y: 2}}
                next: [t2]
            t2: {action: std.noop}
        """,
        "Unknown publish scope 'local'", "wf.tasks.t.on-success.publish.local", 7, 35,
    ),
    (
        """\
        version: '2.0'
        wf:
          type: reverse
          tasks:
            t:
              action: std.noop
              on-success: [t2]
            t2: {action: std.noop}
        """,
        "Key 'on-success' in task 't' of workflow 'wf' is not allowed in a reverse workflow",
        "wf.tasks.t.on-success", 7, 7,
    ),
    (
        """\
        version: '2.0'
        wf:
          type: reverse
          tasks:
            t:
              action: std.noop
              requires: [t2, ghost]
            t2: {action: std.noop}
        """,
        "Task 'ghost' referenced in requires of task 't' does not exist",
        "wf.tasks.t.requires[1]", 7, 22,
    ),
    (
        """\
        version: '2.0'
        wf:
          tasks:
            a: {action: std.noop, on-success: [b]}
            b: {action: std.noop, on-success: [a]}
        """,
        "Direct workflow 'wf' has no start task", "wf.tasks", 4, 5,
    ),
    (
        """\
        version: '2.0'
        wf:
          tasks:
            a: {action: std.noop, on-success: [c]}
            c:
              action: std.noop
              join: 2
        """,
        "Task 'c' has 'join: 2' but only 1 inbound task(s)", "wf.tasks.c.join", 7, 13,
    ),
    (
        """\
        version: '2.0'
        wf:
          task-defaults:
            on-error: [cleanup]
            keep-result: false
          tasks:
            t: {action: std.noop}
        """,
        "Task 'cleanup' referenced in on-error of task-defaults does not exist",
        "wf.task-defaults.on-error[0]", 4, 16,
    ),
    (
        """\
        version: '2.0'
        wf:
          tasks:
            t: {action: std.noop}
            t: {action: std.echo}
        """,
        "Duplicate key 't'", "wf.tasks.t", 5, 5,
    ),
    (
        """\
        version: '2.0'
        name: book
        workflows:
          wf:
            tasks:
              t: {action: std.noop, bogus: 1}
        """,
        "Unknown key 'bogus' in task 't' of workflow 'book.wf'",
        "workflows.wf.tasks.t.bogus", 6, 29,
    ),
    (
        """\
        version: '2.0'
        name: book
        flows: {}
        """,
        "Unknown key 'flows' in workbook", "flows", 3, 1,
    ),
]  # fmt: skip
IDS = [
    "bad-yaml", "missing-version", "wrong-version", "not-a-mapping", "unknown-workflow-key",
    "unknown-task-key", "unknown-task-in-list", "unknown-task-as-string",
    "unknown-task-guarded", "bad-yaql-in-publish", "bad-jinja-in-output",
    "bad-expression-in-inline-param", "bad-expression-in-command-msg", "mixed-expressions",
    "action-and-workflow", "missing-tasks", "empty-tasks", "bad-type", "input-not-list",
    "bad-input-entry", "keep-result-not-bool", "negative-timeout", "retry-without-delay",
    "bad-with-items", "bad-shorthand", "condition-not-expression", "unknown-command-param",
    "unknown-publish-scope", "direct-key-in-reverse", "unknown-required-task",
    "no-start-task", "join-too-high", "task-defaults", "duplicate-task", "workbook-task",
    "workbook-key",
]  # fmt: skip


@pytest.mark.parametrize(("text", "message", "path", "line", "column"), CASES, ids=IDS)
def test_issue_message_path_and_position(text, message, path, line, column):
    text = textwrap.dedent(text)
    issues = validate(text)
    matching = [issue for issue in issues if message in issue.message]
    assert matching, f"no issue containing {message!r} in {issues}"
    (issue,) = matching
    assert issue.path == path
    assert issue.position == Position(line, column)
    with pytest.raises(DefinitionError) as raised:
        parse(text)
    assert issue in raised.value.issues


def test_yaml_error_message():
    with pytest.raises(DefinitionError) as raised:
        parse("version: '2.0'\nwf:\n  tasks: [\n")
    error = raised.value
    assert error.message.startswith("Definition could not be parsed: ")
    assert "line 4, column 1" in error.message
    assert len(error.issues) == 1
    assert error.issues[0].message == error.message


def test_all_issues_are_collected_in_text_order():
    text = textwrap.dedent(
        """\
        version: '2.0'
        wf:
          tasks:
            t1:
              actoin: std.noop
              on-success: [nope]
            t2:
              action: std.echo
              workflow: sub
              publish: {x: <% ) %>}
        """
    )
    issues = validate(text)
    assert [(issue.position.line, issue.message) for issue in issues] == [
        (5, "Unknown key 'actoin' in task 't1' of workflow 'wf'"),
        (6, "Task 'nope' referenced in on-success of task 't1' does not exist"),
        (7, "Task 't2' of workflow 'wf' cannot have both 'action' and 'workflow'"),
        (10, issues[3].message),
    ]
    assert issues[3].message.startswith("Invalid YAQL expression ')'")
    with pytest.raises(DefinitionError) as raised:
        parse(text)
    message = raised.value.message
    assert message.startswith("Invalid DSL: ")
    assert message == "Invalid DSL: " + "; ".join(str(issue) for issue in issues)
    assert "[wf.tasks.t1.actoin] (line 5, column 7)" in message


def test_definition_error_is_an_input_error():
    from levante.errors import InputError

    with pytest.raises(InputError):
        parse("version: '2.0'\n")
