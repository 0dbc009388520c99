"""Invalid definitions: every issue, with its message, path and position."""

from __future__ import annotations

import textwrap

import pytest

from levante.errors import DefinitionError, Issue
from levante.language import Position, parse, summarize, validate, validate_workbook

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
        "Missing required key 'version' (use '2.0')", "", 1, 1,
    ),
    (
        """\
        version: '1.0'
        wf:
          tasks:
            t: {action: std.noop}
        """,
        "Unsupported version '1.0': use '2.0'", "version", 1, 10,
    ),
    ("- just\n- a list\n", "Definition must be a mapping with 'version' and workflows", "", 1, 1),
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
        "Invalid YAQL expression '$.x +': Parse error: unexpected end of statement",
        "wf.tasks.task1.publish.result", 7, 17,
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
        "Invalid Jinja expression '{{ _.x + }}': unexpected 'end of print statement'",
        "wf.output.out", 4, 10,
    ),
    (
        """\
        version: '2.0'
        wf:
          tasks:
            t:
              action: std.echo output=<% $.a $.b %>
        """,
        "Invalid YAQL expression '$.a $.b': Parse error: unexpected '$' at position 4 of "
        "expression '$.a $.b'", "wf.tasks.t.action.output", 5, 15,
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
        "Invalid YAQL expression '$.oops(': Parse error: unexpected end of statement",
        "wf.tasks.t.on-success[0]", 7, 11,
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
        "The line already contains an expression of type 'yaql'. "
        "Mixing expression types in a single line is not allowed.", "wf.tasks.t.input.mixed", 7, 16,
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
        "'type' of workflow 'wf' must be 'direct' or 'reverse', not 'sideways'", "wf.type", 3, 9,
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
        "Entries of 'input' of workflow 'wf' must be names or single 'name: default' pairs",
        "wf.input[1]", 5, 7,
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
        "'keep-result' of task 't' of workflow 'wf' must be a boolean or an expression",
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
        "'retry' of task 't' of workflow 'wf' requires 'delay'", "wf.tasks.t.retry", 6, 14,
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
        "Invalid 'with-items' of task 't' of workflow 'wf' entry 'x from <% $.xs %>': "
        "use 'var in [a, b]' or 'var in <% $.list %>'",
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
        "Invalid 'action' of task 't' of workflow 'wf': Expected 'name=value' at 'output' "
        "in 'std.echo output'",
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
        "Condition of 'a' must be an expression (<% ... %> or {{ ... }})",
        "wf.tasks.t.on-success[0].a", 7, 14,
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
        "Engine command 'fail' in on-error of task 't' of workflow 'wf' accepts only 'msg', "
        "not ['code']",
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
        "Unknown publish scope 'local' in on-success of task 't' of workflow 'wf' "
        "(use branch, global or atomic)", "wf.tasks.t.on-success.publish.local", 7, 35,
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
        "Direct workflow 'wf' has no start task: every task is the target of a transition",
        "wf.tasks", 4, 5,
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
        "Task 't' is defined twice", "wf.tasks.t", 5, 5,
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
    if message.startswith("Definition could not be parsed: "):
        # The rest is the YAML parser's own wording.
        matching = [issue for issue in issues if issue.message.startswith(message)]
    else:
        matching = [issue for issue in issues if issue.message == message]
    assert matching, f"no issue {message!r} in {issues}"
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


# More errors, per keyword and per kind of document:
# (kind, definition, exact message, path, line, column)
MORE_CASES = [
    (
        None,
        """\
        version: '2.0'
        wf:
          tasks:
            pause: {action: std.noop}
        """,
        "Task name 'pause' in workflow 'wf' is reserved: fail, noop, pause, succeed are "
        "engine commands",
        "wf.tasks.pause", 4, 5,
    ),
    (
        None,
        """\
        version: '2.0'
        0f8fad5b-d9cb-469f-a165-70867728950e:
          tasks:
            t: {action: std.noop}
        """,
        "Workflow name '0f8fad5b-d9cb-469f-a165-70867728950e' must not look like a UUID",
        "0f8fad5b-d9cb-469f-a165-70867728950e", 2, 1,
    ),
    (
        None,
        """\
        version: '2.0'
        wf:
          tasks:
            t: std.noop
        """,
        "Task 't' of workflow 'wf' must be a mapping", "wf.tasks.t", 4, 8,
    ),
    (
        None,
        """\
        version: '2.0'
        wf:
          input:
            - a
            - a: 1
          tasks:
            t: {action: std.noop}
        """,
        "Input 'a' of workflow 'wf' is declared twice", "wf.input[1]", 5, 7,
    ),
    (
        None,
        """\
        version: '2.0'
        wf:
          vars: [a, b]
          tasks:
            t: {action: std.noop}
        """,
        "'vars' of workflow 'wf' must be a mapping", "wf.vars", 3, 9,
    ),
    (
        None,
        """\
        version: '2.0'
        wf:
          output: [a, b]
          tasks:
            t: {action: std.noop}
        """,
        "'output' of workflow 'wf' must be a mapping or an expression", "wf.output", 3, 11,
    ),
    (
        None,
        """\
        version: '2.0'
        wf:
          description: [not, text]
          tasks:
            t: {action: std.noop}
        """,
        "'description' of workflow 'wf' must be a string", "wf.description", 3, 16,
    ),
    (
        None,
        """\
        version: '2.0'
        wf:
          tags: [a, a]
          tasks:
            t: {action: std.noop}
        """,
        "'tags' of workflow 'wf' must not repeat items", "wf.tags", 3, 9,
    ),
    (
        None,
        """\
        version: '2.0'
        wf:
          version: '3.0'
          tasks:
            t: {action: std.noop}
        """,
        "Unsupported version in workflow 'wf': use '2.0'", "wf.version", 3, 12,
    ),
    (
        None,
        """\
        version: '2.0'
        wf:
          task-defaults:
            join: all
          tasks:
            t: {action: std.noop}
        """,
        "Unknown key 'join' in task-defaults of workflow 'wf'", "wf.task-defaults.join", 4, 5,
    ),
    (
        None,
        """\
        version: '2.0'
        wf:
          tasks:
            t:
              action: std.noop
              publish: [a, b]
        """,
        "'publish' of task 't' of workflow 'wf' must be a mapping", "wf.tasks.t.publish", 6, 16,
    ),
    (
        None,
        """\
        version: '2.0'
        wf:
          tasks:
            t:
              action: std.noop
              with-items:
                - x in <% $.xs %>
                - x in [1, 2]
        """,
        "Variable 'x' of 'with-items' of task 't' of workflow 'wf' is declared twice",
        "wf.tasks.t.with-items[1]", 8, 11,
    ),
    (
        None,
        """\
        version: '2.0'
        wf:
          tasks:
            t:
              action: std.noop
              concurrency: -1
        """,
        "'concurrency' of task 't' of workflow 'wf' must be a non-negative integer or an "
        "expression",
        "wf.tasks.t.concurrency", 6, 20,
    ),
    (
        None,
        """\
        version: '2.0'
        wf:
          tasks:
            t:
              action: std.noop
              pause-before: maybe
        """,
        "'pause-before' of task 't' of workflow 'wf' must be a boolean or an expression",
        "wf.tasks.t.pause-before", 6, 21,
    ),
    (
        None,
        """\
        version: '2.0'
        wf:
          tasks:
            t:
              action: std.noop
              safe-rerun: 1
        """,
        "'safe-rerun' of task 't' of workflow 'wf' must be a boolean or an expression",
        "wf.tasks.t.safe-rerun", 6, 19,
    ),
    (
        None,
        """\
        version: '2.0'
        wf:
          tasks:
            t:
              action: std.noop
              wait-before: soon
        """,
        "'wait-before' of task 't' of workflow 'wf' must be a non-negative integer or an "
        "expression",
        "wf.tasks.t.wait-before", 6, 20,
    ),
    (
        None,
        """\
        version: '2.0'
        wf:
          tasks:
            t:
              action: std.noop
              retry:
                count: many
                delay: 1
        """,
        "count in 'retry' of task 't' of workflow 'wf' must be a non-negative integer or an "
        "expression",
        "wf.tasks.t.retry.count", 7, 16,
    ),
    (
        None,
        """\
        version: '2.0'
        wf:
          tasks:
            t:
              action: std.noop
              retry: {count: 1, delay: 1, break-on: yes}
        """,
        "break-on in 'retry' of task 't' of workflow 'wf' must be an expression "
        "(<% ... %> or {{ ... }})",
        "wf.tasks.t.retry.break-on", 6, 45,
    ),
    (
        None,
        """\
        version: '2.0'
        wf:
          tasks:
            t:
              action: std.noop
              retry: {count: 1, delay: 1, backoff: 2}
        """,
        "Unknown key 'backoff' in 'retry' of task 't' of workflow 'wf'",
        "wf.tasks.t.retry.backoff", 6, 35,
    ),
    (
        None,
        """\
        version: '2.0'
        wf:
          tasks:
            t:
              action: std.noop
              retry: count=2 delay
        """,
        "Invalid 'retry' of task 't' of workflow 'wf': Expected 'name=value' at 'delay' in "
        "'count=2 delay'",
        "wf.tasks.t.retry", 6, 14,
    ),
    (
        None,
        """\
        version: '2.0'
        wf:
          tasks:
            a: {on-success: [t]}
            t:
              join: some
        """,
        "'join' of task 't' of workflow 'wf' must be 'all', 'one' or a positive integer",
        "wf.tasks.t.join", 6, 13,
    ),
    (
        None,
        """\
        version: '2.0'
        wf:
          type: reverse
          tasks:
            t:
              join: all
        """,
        "Key 'join' in task 't' of workflow 'wf' is not allowed in a reverse workflow",
        "wf.tasks.t.join", 6, 7,
    ),
    (
        None,
        """\
        version: '2.0'
        wf:
          tasks:
            t:
              requires: [a]
            a: {}
        """,
        "Key 'requires' in task 't' of workflow 'wf' is not allowed in a direct workflow",
        "wf.tasks.t.requires", 5, 7,
    ),
    (
        None,
        """\
        version: '2.0'
        wf:
          tasks:
            t:
              on-success: 42
        """,
        "on-success of task 't' of workflow 'wf' must be a task name, a list of task names "
        "or a mapping with 'next'",
        "wf.tasks.t.on-success", 5, 19,
    ),
    (
        None,
        """\
        version: '2.0'
        wf:
          tasks:
            t:
              on-success:
                - a: <% $.x %>
                  b: <% $.y %>
            a: {}
            b: {}
        """,
        "Each entry of on-success of task 't' of workflow 'wf' must be a name or a single "
        "'name: condition' pair",
        "wf.tasks.t.on-success[0]", 6, 11,
    ),
    (
        None,
        """\
        version: '2.0'
        wf:
          tasks:
            t:
              on-error: fail(msg='unclosed'
        """,
        "Invalid entry 'fail(msg='unclosed'' in on-error of task 't' of workflow 'wf': "
        "Unclosed '(' in 'fail(msg='unclosed''",
        "wf.tasks.t.on-error", 5, 17,
    ),
    (
        None,
        """\
        version: '2.0'
        wf:
          tasks:
            t:
              on-complete: a x=1
            a: {}
        """,
        "Transition to task 'a' in on-complete of task 't' of workflow 'wf' cannot have "
        "parameters",
        "wf.tasks.t.on-complete", 5, 20,
    ),
    (
        None,
        """\
        version: '2.0'
        wf:
          tasks:
            t:
              on-success:
                publish: [x]
                next: a
            a: {}
        """,
        "'publish' of on-success of task 't' of workflow 'wf' must be a mapping",
        "wf.tasks.t.on-success.publish", 6, 18,
    ),
    (
        None,
        """\
        version: '2.0'
        wf:
          tasks:
            t:
              action: std.echo
              input:
                <% $.key( %>: 1
        """,
        "Invalid YAQL expression '$.key(': Parse error: unexpected end of statement",
        "wf.tasks.t.input.<% $.key( %>", 7, 9,
    ),
    (
        None,
        """\
        version: '2.0'
        wf:
          tasks:
            t:
              action: std.echo
              input:
                text: "{% for x in _.xs %}{{ x }}"
        """,
        "Invalid Jinja expression '{% for x in _.xs %}{{ x }}': Unexpected end of template. "
        "Jinja was looking for the following tags: 'endfor' or 'else'. The innermost block "
        "that needs to be closed is 'for'.",
        "wf.tasks.t.input.text", 7, 15,
    ),
    (
        None,
        "version: '2.0'\nwf: !!binary aGVsbG8=\n",
        "Definition could not be parsed: unsupported tag 'tag:yaml.org,2002:binary'\n"
        '  in "<unicode string>", line 2, column 5',
        "", 2, 5,
    ),
    (
        None,
        "version: '2.0'\nwf: &loop\n  tasks: *loop\n",
        "Definition could not be parsed: found a recursive alias 'loop' (an alias inside its "
        'own anchor)\n  in "<unicode string>", line 3, column 10',
        "", 3, 10,
    ),
    (
        None,
        "version: '2.0'\nwf: " + "[" * 120 + "]" * 120 + "\n",
        "Definition could not be parsed: nesting is deeper than 100 levels\n"
        '  in "<unicode string>", line 2, column 104',
        "", 2, 104,
    ),
    (
        None,
        "version: '2.0'\nwf: {tasks: {t: {}}}\n---\nversion: '2.0'\n",
        "Definition could not be parsed: expected a single document in the stream\n"
        '  in "<unicode string>", line 1, column 1\nbut found another document\n'
        '  in "<unicode string>", line 3, column 1',
        "", 3, 1,
    ),
    (
        None,
        "version: '2.0'\nwf:\n  description: caf\ud800\n  tasks: {t: {}}\n",
        "Definition could not be parsed: the text is not valid Unicode (surrogates not allowed)",
        "", 3, 19,
    ),
    (
        "workbook",
        """\
        version: '2.0'
        description: no name
        """,
        "Missing required key 'name' (the workbook's name)", "", 1, 1,
    ),
    (
        "workbook",
        """\
        version: '2.0'
        name: book
        workflows: [wf]
        """,
        "Workbook 'workflows' must be a mapping", "workflows", 3, 12,
    ),
    (
        "workbook",
        """\
        version: '2.0'
        name: book
        workflows:
          wf:
            tasks:
              t: {action: std.noop}
          wf:
            tasks:
              t: {action: std.noop}
        """,
        "Workflow 'wf' is defined twice", "workflows.wf", 7, 3,
    ),
    (
        "workbook",
        """\
        version: '2.0'
        name: book
        actions:
          a:
            base: b
          b:
            base: a
        """,
        "'base' of action 'book.a' leads back to it: book.a -> book.b -> book.a",
        "actions.a.base", 5, 11,
    ),
    (
        "actions",
        """\
        version: '2.0'
        echo_twice:
          base: echo_twice
        """,
        "'base' of action 'echo_twice' leads back to it: echo_twice -> echo_twice",
        "echo_twice.base", 3, 9,
    ),
    (
        "actions",
        """\
        version: '2.0'
        my_action:
          base-input: {output: hi}
        """,
        "Action 'my_action' has no 'base' (the action it runs)", "my_action", 2, 1,
    ),
    (
        "actions",
        """\
        version: '2.0'
        my_action:
          base: std.echo
          base-input: output
        """,
        "'base-input' of action 'my_action' must be a mapping", "my_action.base-input", 4, 15,
    ),
    (
        "actions",
        """\
        version: '2.0'
        my_action:
          base: std.echo output="unclosed
        """,
        "Invalid 'base' of action 'my_action': Unterminated quote in 'std.echo "
        "output=\"unclosed'",
        "my_action.base", 3, 9,
    ),
    (
        "actions",
        """\
        version: '2.0'
        my_action:
          base: std.echo
          input: [{a: 1, b: 2}]
        """,
        "Entries of 'input' of action 'my_action' must be names or single 'name: default' pairs",
        "my_action.input[0]", 4, 11,
    ),
    (
        "actions",
        """\
        version: '2.0'
        my_action:
          base: std.echo
          output: <% $.a + %>
        """,
        "Invalid YAQL expression '$.a +': Parse error: unexpected end of statement",
        "my_action.output", 4, 11,
    ),
    (
        "actions",
        """\
        version: '2.0'
        my_action:
          base: std.echo
          tasks: {}
        """,
        "Unknown key 'tasks' in action 'my_action'", "my_action.tasks", 4, 3,
    ),
    (
        "actions",
        """\
        version: '2.0'
        std.echo:
          base: std.noop
        """,
        "Action name 'std.echo' is reserved: names starting with 'std.' belong to system "
        "actions",
        "std.echo", 2, 1,
    ),
    (
        "actions",
        """\
        version: '2.0'
        a: {base: std.noop}
        a: {base: std.echo}
        """,
        "Action 'a' is defined twice", "a", 3, 1,
    ),
    ("actions", "version: '2.0'\n", "Definition has no actions", "", 1, 1),
]  # fmt: skip
MORE_IDS = [
    "reserved-task-name", "uuid-workflow-name", "task-not-mapping", "duplicate-input",
    "vars-not-mapping", "output-not-mapping", "description-not-text", "repeated-tags",
    "workflow-version", "task-defaults-key", "publish-not-mapping", "duplicate-loop-variable",
    "negative-concurrency", "pause-before-not-boolean", "safe-rerun-not-boolean",
    "wait-before-not-number", "retry-count", "retry-break-on", "retry-unknown-key",
    "retry-one-line", "bad-join", "join-in-reverse", "requires-in-direct", "clause-type",
    "clause-pair", "unclosed-command", "transition-parameters", "advanced-publish",
    "yaql-in-key", "unclosed-jinja-block", "unsupported-tag", "recursive-alias",
    "too-deep", "two-documents", "invalid-unicode", "workbook-without-name",
    "workbook-workflows-list", "workbook-duplicate-workflow", "workbook-base-cycle",
    "action-base-itself", "action-without-base", "action-base-input", "action-bad-base",
    "action-input", "action-output", "action-unknown-key", "action-reserved-name",
    "action-defined-twice", "no-actions",
]  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "text", "message", "path", "line", "column"), MORE_CASES, ids=MORE_IDS
)
def test_more_issues(kind, text, message, path, line, column):
    text = textwrap.dedent(text)
    issues = validate(text, kind)
    assert Issue(message, path, Position(line, column)) in issues, issues
    with pytest.raises(DefinitionError) as raised:
        parse(text, kind)
    assert raised.value.message == summarize(issues)


def test_every_issue_is_reported_with_path_and_position():
    text = textwrap.dedent(
        """\
        version: '2.0'
        name: book
        actions:
          greet:
            base: std.echo
            bogus: 1
          std.x: {base: std.noop}
        workflows:
          wf:
            tasks:
              t1:
                action: greet
                on-success: [missing]
              fail: {}
        """
    )
    assert [(str(issue)) for issue in validate_workbook(text)] == [
        "Unknown key 'bogus' in action 'book.greet' [actions.greet.bogus] (line 6, column 5)",
        "Action name 'book.std.x' is reserved: names starting with 'std.' belong to system "
        "actions [actions.std.x] (line 7, column 3)",
        "Task 'missing' referenced in on-success of task 't1' does not exist "
        "[workflows.wf.tasks.t1.on-success[0]] (line 13, column 22)",
        "Task name 'fail' in workflow 'book.wf' is reserved: fail, noop, pause, succeed are "
        "engine commands [workflows.wf.tasks.fail] (line 14, column 7)",
    ]
