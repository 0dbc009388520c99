"""A workflow's graph as Graphviz DOT: tasks, transitions, joins, engine commands.

Direct workflows draw their transitions (labelled on-success, on-error or
on-complete, with the condition when there is one); reverse workflows
draw `requires`. Join tasks are drawn with a double border and their join
value; with-items tasks and sub-workflows say so in their label. `svg`
runs Graphviz's `dot` when it is installed.
"""

from __future__ import annotations

import shutil
import subprocess

from levante.language import Transition, TransitionKind, WorkflowSpec, WorkflowType

#: Edge colours per transition kind.
_COLOURS = {"on-success": "#2e7d32", "on-error": "#c62828", "on-complete": "#1565c0"}
_COMMAND_STYLE = {
    TransitionKind.FAIL: ("#ffcdd2", "fail"),
    TransitionKind.SUCCEED: ("#c8e6c9", "succeed"),
    TransitionKind.PAUSE: ("#fff9c4", "pause"),
    TransitionKind.NOOP: ("#eeeeee", "noop"),
}


class GraphvizMissingError(RuntimeError):
    """Graphviz's `dot` is not installed."""


def quote(text: str) -> str:
    """A DOT string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(workflow: WorkflowSpec) -> str:
    """The DOT text of one workflow."""
    lines = [
        f"digraph {quote(workflow.name)} {{",
        "  rankdir=TB;",
        f"  label={quote(f'{workflow.name} ({workflow.type.value})')};",
        "  labelloc=t;",
        '  node [shape=box, style="rounded,filled", fillcolor="#f5f5f5", fontname="Helvetica"];',
        '  edge [fontname="Helvetica", fontsize=10];',
    ]
    for task in workflow.tasks.values():
        details = []
        if task.action:
            details.append(task.action)
        if task.workflow:
            details.append(f"workflow: {task.workflow}")
        if task.with_items:
            details.append("with-items")
        attributes = [f"label={quote(chr(10).join([task.name, *details]))}"]
        if task.join is not None:
            attributes += [
                "peripheries=2",
                'fillcolor="#e3f2fd"',
                f"xlabel={quote(f'join: {task.join}')}",
            ]
        elif task.workflow:
            attributes.append('fillcolor="#ede7f6"')
        lines.append(f"  {quote(task.name)} [{', '.join(attributes)}];")
    if workflow.type is WorkflowType.REVERSE:
        lines += _requires(workflow)
    else:
        lines += _transitions(workflow)
    lines.append("}")
    return "\n".join(lines) + "\n"


def _transitions(workflow: WorkflowSpec) -> list[str]:
    lines: list[str] = []
    targeted: set[str] = set()
    commands = 0
    for task in workflow.tasks.values():
        for kind, transitions in (
            ("on-success", task.on_success),
            ("on-error", task.on_error),
            ("on-complete", task.on_complete),
        ):
            for transition in transitions:
                label = _label(kind, transition)
                colour = _COLOURS[kind]
                style = f"label={quote(label)}, color={quote(colour)}, fontcolor={quote(colour)}"
                if transition.kind is TransitionKind.TASK and transition.target:
                    targeted.add(transition.target)
                    lines.append(f"  {quote(task.name)} -> {quote(transition.target)} [{style}];")
                else:
                    commands += 1
                    node = f"__{transition.kind.value}_{commands}"
                    fill, text = _COMMAND_STYLE.get(transition.kind, ("#eeeeee", "?"))
                    if transition.message:
                        text += f"\n{transition.message}"
                    lines.append(
                        f"  {quote(node)} [label={quote(text)}, shape=octagon, "
                        f"fillcolor={quote(fill)}];"
                    )
                    lines.append(f"  {quote(task.name)} -> {quote(node)} [{style}];")
    starts = [name for name in workflow.tasks if name not in targeted]
    if starts:
        lines.append(
            '  "__start__" [label="start", shape=circle, fillcolor="#212121", '
            "fontcolor=white, fontsize=9];"
        )
        lines += [f'  "__start__" -> {quote(name)} [style=dashed];' for name in starts]
    return lines


def _requires(workflow: WorkflowSpec) -> list[str]:
    return [
        f'  {quote(required)} -> {quote(task.name)} [label="requires", style=dashed];'
        for task in workflow.tasks.values()
        for required in task.requires
    ]


def _label(kind: str, transition: Transition) -> str:
    if transition.condition:
        return f"{kind}\n{transition.condition}"
    return kind


def svg(dot: str, *, timeout: float = 30.0) -> bytes:
    """Renders DOT text to SVG with Graphviz; raises GraphvizMissingError without it."""
    binary = shutil.which("dot")
    if binary is None:
        raise GraphvizMissingError(
            "Graphviz is not installed (no `dot` on PATH), so no SVG can be drawn: install it "
            "(Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz), or take "
            "the DOT text this command prints without --svg to any Graphviz viewer"
        )
    done = subprocess.run(
        [binary, "-Tsvg"], input=dot.encode(), capture_output=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"dot failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout
