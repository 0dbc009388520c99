"""The three kinds of documents: workflows, workbooks and ad-hoc actions."""

from __future__ import annotations

import textwrap

import pytest

from levante.errors import DefinitionError, Issue
from levante.language import (
    ActionSpec,
    InputParam,
    Kind,
    Position,
    interface,
    parse,
    parse_actions,
    parse_workbook,
    render_input,
    summarize,
    validate,
    validate_actions,
    validate_workbook,
)

WORKBOOK = textwrap.dedent(
    """\
    version: '2.0'
    name: book
    description: Greets people.
    tags: [demo]
    actions:
      greet:
        description: Says hello.
        base: std.echo
        base-input:
          output: "Hello, <% $.who %><% $.mark %>"
        input:
          - who
          - mark: "!"
        output: <% $ %>
      shout:
        base: greet mark="!!!"
        tags: [loud]
    workflows:
      main:
        input: [who]
        tasks:
          hello:
            action: greet who=<% $.who %>
            on-success: [again]
          again:
            workflow: helper
          global_action:
            action: std.noop
          qualified:
            action: book.shout who=x
      helper:
        tasks:
          only: {action: shout who=me}
    """
)


def test_workbook_fields():
    document = parse_workbook(WORKBOOK)
    assert (document.name, document.description, document.tags) == (
        "book",
        "Greets people.",
        ("demo",),
    )
    assert [wf.name for wf in document.workflows] == ["book.main", "book.helper"]
    assert [action.name for action in document.actions] == ["book.greet", "book.shout"]


def test_workbook_actions():
    greet, shout = parse_workbook(WORKBOOK).actions
    assert greet == ActionSpec(
        name="book.greet",
        base="std.echo",
        base_input={"output": "Hello, <% $.who %><% $.mark %>"},
        input=(InputParam("who"), InputParam("mark", has_default=True, default="!")),
        output="<% $ %>",
        description="Says hello.",
        position=Position(6, 3),
    )
    # The base may be another action of the workbook, by its local name,
    # with inline parameters.
    assert (shout.base, shout.base_input, shout.tags) == ("book.greet", {"mark": "!!!"}, ("loud",))


def test_workbook_local_names_are_qualified():
    main, helper = parse_workbook(WORKBOOK).workflows
    assert main.tasks["hello"].action == "book.greet"
    assert main.tasks["hello"].input == {"who": "<% $.who %>"}
    assert main.tasks["again"].workflow == "book.helper"
    assert main.tasks["global_action"].action == "std.noop"
    assert main.tasks["qualified"].action == "book.shout"
    assert helper.tasks["only"].action == "book.shout"
    # The spec as written keeps the local name.
    assert main.tasks["hello"].as_dict()["action"] == "greet who=<% $.who %>"


def test_parse_accepts_a_workbook_when_no_kind_is_given():
    assert parse(WORKBOOK).name == "book"
    assert validate(WORKBOOK) == ()


def test_workbook_without_workflows_or_actions():
    document = parse_workbook("version: '2.0'\nname: empty\n")
    assert (document.name, document.workflows, document.actions) == ("empty", (), ())


def test_action_document():
    document = parse_actions(
        textwrap.dedent(
            """\
            version: '2.0'
            my_echo:
              base: std.echo output=<% $.text %>
              input: [text]
            error_email:
              description: Mails the admin.
              tags: [mail]
              input:
                - execution_id
              base: std.email
              base-input:
                to_addrs: [admin@example.org]
                subject: Workflow failed
                body: Execution <% $.execution_id %> failed.
              output:
                sent: <% $ != null %>
            """
        )
    )
    assert document.workflows == () and document.name is None
    my_echo, email = document.actions
    assert (my_echo.name, my_echo.base, my_echo.base_input) == (
        "my_echo",
        "std.echo",
        {"output": "<% $.text %>"},
    )
    assert render_input(my_echo) == "text"
    assert email.description == "Mails the admin."
    assert email.tags == ("mail",)
    assert email.base_input["to_addrs"] == ["admin@example.org"]
    assert email.output == {"sent": "<% $ != null %>"}
    assert interface(email) == {"input": ["execution_id"], "output": ["sent"]}
    assert email.as_dict()["name"] == "error_email"


def test_action_base_within_a_document_is_resolved_by_name():
    document = parse_actions(
        "version: '2.0'\nfirst: {base: std.noop}\nsecond: {base: first, input: [x]}\n"
    )
    assert [action.base for action in document.actions] == ["std.noop", "first"]


@pytest.mark.parametrize(
    ("function", "kind"),
    [(parse, Kind.WORKFLOWS), (parse, "workflows")],
    ids=["enum", "text"],
)
def test_workflow_kind_refuses_a_workbook(function, kind):
    with pytest.raises(DefinitionError) as raised:
        function(WORKBOOK, kind)
    (issue,) = raised.value.issues
    assert issue.message == (
        "A workbook (top-level 'name') was given where workflow definitions were expected: "
        "a workflow definition has workflow names at its top level"
    )
    assert (issue.path, issue.position) == ("name", Position(2, 1))


def test_unknown_kind_is_a_programming_error():
    with pytest.raises(ValueError, match="Unknown definition kind 'books'"):
        parse("version: '2.0'\n", "books")


def test_validation_entry_points_agree_with_parse():
    workflow_text = "version: '2.0'\nwf:\n  tasks:\n    t: {action: std.noop, bogus: 1}\n"
    actions_text = "version: '2.0'\na: {base-input: {}}\n"
    workbook_text = "version: '2.0'\nname: b\nworkflowz: {}\n"
    for validate_function, parse_function, text in (
        (validate, parse, workflow_text),
        (validate_actions, parse_actions, actions_text),
        (validate_workbook, parse_workbook, workbook_text),
    ):
        issues = validate_function(text)
        assert issues
        with pytest.raises(DefinitionError) as raised:
            parse_function(text)
        assert raised.value.issues == issues
        assert raised.value.message == summarize(issues)


@pytest.mark.parametrize(
    ("issues", "expected"),
    [
        ((), ""),
        (
            (Issue("Definition could not be parsed: bad", "", Position(1, 2)),),
            "Definition could not be parsed: bad",
        ),
        (
            (Issue("A", "x.y", Position(3, 4)), Issue("B", "", None)),
            "Invalid DSL: A [x.y] (line 3, column 4); B",
        ),
    ],
    ids=["none", "yaml", "several"],
)
def test_summarize(issues, expected):
    assert summarize(issues) == expected


def test_validation_result_as_the_api_answers_it():
    # What POST /v2/<kind>/validate builds: {"valid": ..., "error": ...}.
    issues = validate_actions("version: '2.0'\nstd.mine: {base: std.echo}\n")
    assert {"valid": not issues, "error": summarize(issues)} == {
        "valid": False,
        "error": "Invalid DSL: Action name 'std.mine' is reserved: names starting with "
        "'std.' belong to system actions [std.mine] (line 2, column 1)",
    }
    assert validate_actions("version: '2.0'\nmine: {base: std.echo}\n") == ()
