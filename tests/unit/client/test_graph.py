"""Workflow graphs as Graphviz DOT."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from levante import language
from levante.client import graph

DIRECT = """
version: '2.0'
deploy:
  tasks:
    build:
      action: std.noop
      on-success:
        - test: <% $.run_tests %>
        - package
      on-error:
        - fail msg="build broke"
    test:
      action: std.echo output=ok
      on-complete:
        - report
    package:
      with-items: x in [1, 2]
      action: std.noop
      on-success:
        - report
    report:
      join: all
      workflow: notify
"""

REVERSE = """
version: '2.0'
setup:
  type: reverse
  tasks:
    network:
      action: std.noop
    vm:
      action: std.noop
      requires: [network]
"""


def _spec(text: str) -> language.WorkflowSpec:
    return language.parse(text).workflows[0]


def test_direct_workflow_transitions_are_labelled_by_kind_and_condition() -> None:
    dot = graph.to_dot(_spec(DIRECT))
    assert dot.startswith('digraph "deploy" {')
    assert '"build" -> "test" [label="on-success\\n<% $.run_tests %>"' in dot
    assert '"build" -> "package" [label="on-success"' in dot
    assert '"test" -> "report" [label="on-complete"' in dot
    assert '"package" [label="package\\nstd.noop\\nwith-items"]' in dot
    # The engine command is a node of its own, reached on-error.
    assert '"__fail_1" [label="fail\\nbuild broke", shape=octagon' in dot
    assert '"build" -> "__fail_1" [label="on-error", color="#c62828"' in dot
    # Joins are marked; the only task nothing leads to is where it starts.
    assert "peripheries=2" in dot and 'xlabel="join: all"' in dot
    assert '"__start__" -> "build" [style=dashed];' in dot
    assert '"__start__" -> "test"' not in dot


def test_reverse_workflows_draw_requires() -> None:
    dot = graph.to_dot(_spec(REVERSE))
    assert '"network" -> "vm" [label="requires", style=dashed];' in dot
    assert "__start__" not in dot


def test_names_with_quotes_are_escaped() -> None:
    assert graph.quote('say "hi"\n') == '"say \\"hi\\"\\n"'


def test_svg_needs_graphviz_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(graph.GraphvizMissingError, match="Graphviz is not installed"):
        graph.svg("digraph {}")


def test_svg_is_drawn_by_dot() -> None:
    assert shutil.which("dot"), "Graphviz's dot is installed by `make test` (Makefile: tools)"
    svg = graph.svg(graph.to_dot(_spec(DIRECT)))
    assert b"<svg" in svg and b"build" in svg
    # And the DOT is valid for dot itself, not only for our string checks.
    done = subprocess.run(
        ["dot", "-Tcanon"],
        input=graph.to_dot(_spec(REVERSE)).encode(),
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
