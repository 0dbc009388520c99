"""Property: whatever text it is given, the parser either returns a document
or raises the library's own `DefinitionError`, and validation returns
issues, never raises. Fed with arbitrary text, arbitrary YAML, and
arbitrary mutations of valid workflows, workbooks and action documents.

Also: the loader's values are exactly `yaml.safe_load`'s.
"""

from __future__ import annotations

import copy
import textwrap
from typing import Any

import pytest
import yaml

from levante.errors import DefinitionError, Issue
from levante.language import Document, Kind, parse, summarize, validate
from levante.language.source import load

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

WORKFLOWS = textwrap.dedent(
    """\
    version: '2.0'
    wf:
      type: direct
      description: Every keyword once.
      tags: [a]
      input: [x, {y: 1}]
      hidden: [x, secret_*]
      output: {o: <% $.x %>}
      output-on-error: {e: '{{ _.y }}'}
      vars: {v: 1}
      task-defaults:
        retry: {count: 2, delay: 1}
        on-error: [handle]
        wait-before: <% $.w %>
      tasks:
        a:
          action: std.echo output=<% $.x %> n=2
          input: {extra: '{{ _.v }}'}
          publish: {p: <% task().result %>}
          publish-on-error: {err: <% task().state_info %>}
          with-items: ['i in <% $.l %>', 'j in [1, 2]']
          concurrency: 2
          retry: count=3 delay=<% $.d %> break-on=<% $.stop %>
          on-success:
            - b: <% $.p %>
            - fail(msg='bad')
            - succeed msg="fine": <% $.done %>
          on-complete:
            publish: {branch: {q: 1}, global: {g: 2}, atomic: {c: 3}}
            next: [b]
        b:
          workflow: other p=1
          join: all
          timeout: <% $.t %>
          pause-before: true
          wait-after: 2
          keep-result: false
          target: t
          safe-rerun: true
          fail-on: <% $.f %>
          on-error: pause
        handle:
          description: no-op
    rev:
      type: reverse
      task-defaults: {requires: [first]}
      tasks:
        first: {action: std.noop}
        second: {action: std.noop, requires: first}
    """
)
WORKBOOK = textwrap.dedent(
    """\
    version: '2.0'
    name: book
    description: d
    tags: [t]
    workflows:
      wf:
        tasks:
          a: {action: greet who=me, on-success: [b]}
          b: {workflow: wf}
    actions:
      greet:
        base: std.echo output=hi
        base-input: {x: <% $.who %>}
        input: [who, {mark: '!'}]
        output: <% $ %>
        description: d
        tags: [x]
    """
)
ACTIONS = textwrap.dedent(
    """\
    version: '2.0'
    greet:
      base: std.echo
      base-input: {output: '{{ _.text }}'}
      input: [text]
      output: {said: <% $ %>}
    shout:
      base: greet text=HI
    """
)
VALID = [(WORKFLOWS, None), (WORKFLOWS, Kind.WORKFLOWS), (WORKBOOK, Kind.WORKBOOK),
         (ACTIONS, Kind.ACTIONS)]  # fmt: skip

# Values that hit the parser's special cases: expressions (valid and not),
# shorthand, engine commands, keywords and names of the documents above.
_SPECIAL = st.sampled_from(
    [
        "<% $.x %>", "<% $.x + %>", "<% ) %>", "{{ _.y }}", "{{ x y }}", "{% if %}", "<%",
        "{{", "<% $.a %> {{ _.b }}", "fail msg='m'", "fail(msg=", "succeed", "pause", "noop",
        "a in <% $.l %>", "x in [1, [2", "std.echo a=1 b=[1, {c: 2}]", "std.echo a='",
        "count=1 delay=2", "direct", "reverse", "all", "one", "a", "b", "handle", "first",
        "version", "2.0", "greet", "std.x", "book", "0f8fad5b-d9cb-469f-a165-70867728950e",
        "[" * 60, "a: [1", "!!binary", "&x", "*x",
    ]
)  # fmt: skip
_KEYWORDS = st.sampled_from(
    [
        "action", "workflow", "input", "publish", "publish-on-error", "on-success",
        "on-error", "on-complete", "join", "requires", "with-items", "concurrency", "retry",
        "count", "delay", "break-on", "continue-on", "wait-before", "wait-after", "timeout",
        "pause-before", "keep-result", "target", "safe-rerun", "fail-on", "tasks", "type",
        "task-defaults", "output", "output-on-error", "vars", "next", "branch", "global",
        "atomic", "base", "base-input", "name", "workflows", "actions", "version", "tags",
        "description",
    ]
)  # fmt: skip
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=12),
    _SPECIAL,
)
_VALUES = st.recursive(
    _SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(_KEYWORDS, st.text(max_size=6), st.integers(), st.booleans()),
            children,
            max_size=4,
        ),
    ),
    max_leaves=16,
)


def _check(text: str, kind: Kind | None) -> None:
    """The property: parse returns a Document or raises DefinitionError,
    and validate agrees with it."""
    issues = validate(text, kind)
    assert isinstance(issues, tuple)
    assert all(isinstance(issue, Issue) for issue in issues)
    try:
        document = parse(text, kind)
    except DefinitionError as error:
        assert error.issues == issues
        assert error.message == summarize(issues)
        assert issues
        return
    assert isinstance(document, Document)
    assert issues == ()


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _mutate(data: Any, path: tuple[Any, ...], operation: str, new: Any) -> Any:
    data = copy.deepcopy(data)
    if not path:
        return new
    parent = data
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if operation == "replace":
        parent[last] = new
    elif operation == "delete":
        del parent[last]
    elif operation == "rename" and isinstance(parent, dict):
        parent[new if isinstance(new, (str, int, bool)) else str(new)] = parent.pop(last)
    else:  # "add"
        target = parent[last]
        if isinstance(target, dict):
            target[str(new)[:10]] = new
        elif isinstance(target, list):
            target.append(new)
        else:
            parent[last] = [target, new]
    return data


_SETTINGS = settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize(("text", "kind"), VALID, ids=["any", "workflows", "workbook", "actions"])
def test_the_seeds_are_valid(text, kind):
    assert validate(text, kind) == ()


@_SETTINGS
@given(
    st.sampled_from(VALID),
    st.data(),
    st.sampled_from(["replace", "delete", "rename", "add"]),
    _VALUES,
    st.sampled_from([None, True, False]),
)
def test_mutated_definitions(seed, data, operation, new, flow_style):
    text, kind = seed
    raw = yaml.safe_load(text)
    path = data.draw(st.sampled_from(_paths(raw)))
    mutated = _mutate(raw, path, operation, new)
    try:
        mutated_text = yaml.safe_dump(mutated, default_flow_style=flow_style, allow_unicode=True)
    except (yaml.YAMLError, ValueError):
        return  # not representable as YAML at all
    _check(mutated_text, kind)


@_SETTINGS
@given(st.sampled_from(VALID), st.data())
def test_definitions_with_edited_text(seed, data):
    text, kind = seed
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, min(len(text), start + 12)))
    inserted = data.draw(
        st.text(alphabet=st.sampled_from(list("<%>{}[]()$.:-'\"=,|&*!?# \n\tab_09é")), max_size=10)
    )
    _check(text[:start] + inserted + text[end:], kind)


@_SETTINGS
@given(_VALUES, st.sampled_from([None, Kind.WORKFLOWS, Kind.WORKBOOK, Kind.ACTIONS]))
def test_arbitrary_yaml(value, kind):
    try:
        text = yaml.safe_dump(value, allow_unicode=True)
    except (yaml.YAMLError, ValueError):
        return
    _check(text, kind)


@_SETTINGS
@given(st.text(max_size=300), st.sampled_from([None, Kind.WORKFLOWS, Kind.WORKBOOK, Kind.ACTIONS]))
def test_arbitrary_text(text, kind):
    _check(text, kind)


_KEY = st.text(min_size=1, max_size=6)
_JSON = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False),
        st.text(max_size=10),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(_KEY, children, max_size=4)
    ),
    max_leaves=25,
)


@settings(max_examples=200, deadline=None)
@given(_JSON, st.sampled_from([None, True, False]))
def test_round_trip_matches_safe_load(value, flow_style):
    text = yaml.safe_dump(value, default_flow_style=flow_style, allow_unicode=True)
    assert load(text).data == yaml.safe_load(text)
