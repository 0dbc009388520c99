"""Rich renderables for the `levante` command line: live trees, tables, reports."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from levante.client.progress import ExecutionProgress, TaskView, WorkflowView

#: Icon and style per state.
STATES: dict[str, tuple[str, str]] = {
    "SUCCESS": ("✔", "green"),
    "ERROR": ("✘", "bold red"),
    "CANCELLED": ("⊘", "magenta"),
    "RUNNING": ("▶", "yellow"),
    "RUNNING_DELAYED": ("◷", "yellow"),
    "PAUSED": ("‖", "cyan"),
    "WAITING": ("…", "dim"),
    "IDLE": ("○", "dim"),
}
#: Longest state_info shown on one line of a tree.
INFO_WIDTH = 100


def state_text(state: str) -> Text:
    """A state with its icon, coloured."""
    icon, style = STATES.get(state, ("·", "dim"))
    return Text(f"{icon} {state or 'PENDING'}", style=style)


def _one_line(text: str, width: int = INFO_WIDTH) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def progress_tree(progress: ExecutionProgress, *, elapsed: float | None = None) -> RenderableType:
    """The live tree: the root execution, its tasks, with-items bars, sub-workflows."""
    root = progress.root
    if root is None:
        return Text(f"waiting for execution {progress.root_id} …", style="dim")
    tree = Tree(_workflow_label(root, elapsed=elapsed), guide_style="dim")
    _add_tasks(tree, progress, root, depth=0)
    return tree


def failure_path(progress: ExecutionProgress) -> tuple[list[str], str] | None:
    """Names from the root to the deepest failed task, and that task's state_info."""
    root = progress.root
    if root is None:
        return None

    def walk(workflow: WorkflowView, depth: int) -> tuple[list[str], str] | None:
        for task in workflow.tasks.values():
            if task.state != "ERROR":
                continue
            for child in progress.children_of(task.id):
                if child.state == "ERROR" and depth < 16:
                    found = walk(child, depth + 1)
                    if found:
                        return [workflow.name, task.name, *found[0]], found[1]
            return [workflow.name, task.name], task.state_info
        return None

    return walk(root, 0)


def _workflow_label(workflow: WorkflowView, *, elapsed: float | None = None) -> Table:
    # No state_info here: a failed workflow's says which task failed, which
    # the tree shows; the failing leaf task carries the message.
    grid = Table.grid(padding=(0, 1))
    grid.add_row(
        Text(workflow.name or "workflow", style="bold"),
        state_text(workflow.state),
        Text(workflow.id, style="dim"),
        Text(f"{elapsed:.1f}s", style="dim") if elapsed is not None else Text(""),
    )
    return grid


def _add_tasks(tree: Tree, progress: ExecutionProgress, workflow: WorkflowView, depth: int) -> None:
    tasks = [t for t in workflow.tasks.values() if t.name]
    width = max((len(t.name) for t in tasks), default=0)
    for task in tasks:
        children = progress.children_of(task.id)
        branch = tree.add(_task_label(task, width, leaf=not children))
        if depth < 8:
            for child in children:
                sub = branch.add(_workflow_label(child))
                _add_tasks(sub, progress, child, depth + 1)


def _task_label(task: TaskView, width: int, *, leaf: bool) -> RenderableType:
    grid = Table.grid(padding=(0, 1))
    cells: list[RenderableType] = [Text(task.name.ljust(width)), state_text(task.state)]
    items = task.items
    if items is not None:
        total = items.total if items.total is not None else max(items.done, 1)
        done = min(items.done, total)
        bar_style = "red" if items.failed else ("green" if done == total else "yellow")
        cells.append(
            ProgressBar(
                total=total,
                completed=done,
                width=24,
                complete_style=bar_style,
                finished_style=bar_style,
            )
        )
        count = f"{done}/{items.total if items.total is not None else '?'} items"
        if items.failed:
            count += f", {items.failed} failed"
        cells.append(Text(count, style="dim"))
    grid.add_row(*cells)
    if leaf and task.state == "ERROR" and task.state_info:
        return Group(grid, Text(_one_line(task.state_info), style="red"))
    return grid


# -- tables -------------------------------------------------------------------


def cell(value: Any, *, width: int = 60) -> str:
    """A value as one table cell."""
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        value = json.dumps(value)
    return _one_line(str(value), width)


def table(items: Iterable[dict[str, Any]], columns: Iterable[str], *, title: str = "") -> Table:
    """A table of resources with the given columns."""
    columns = list(columns)
    result = Table(title=title or None, header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)
    for column in columns:
        # Ids are what one copies into the next command: never wrapped.
        is_id = column == "id" or column.endswith("_id")
        result.add_column(
            column.replace("_", " "),
            overflow="fold",
            no_wrap=is_id,
            min_width=36 if is_id else None,
        )
    for item in items:
        row = []
        for column in columns:
            value = item.get(column)
            text = Text(cell(value))
            if column == "state" and isinstance(value, str):
                text = state_text(value)
            row.append(text)
        result.add_row(*row)
    return result


def details(item: dict[str, Any], *, title: str = "") -> Table:
    """One resource as field/value rows (JSON text fields pretty-printed)."""
    result = Table(title=title or None, show_header=False, box=None, padding=(0, 2))
    result.add_column("field", style="bold")
    result.add_column("value", overflow="fold")
    for key, value in item.items():
        if isinstance(value, str) and value[:1] in "{[" and key != "definition":
            try:
                value = json.dumps(json.loads(value), indent=2)
            except ValueError:
                pass
        elif isinstance(value, (dict, list)):
            value = json.dumps(value, indent=2)
        text = (
            state_text(value)
            if key == "state" and isinstance(value, str)
            else Text("" if value is None else str(value))
        )
        result.add_row(key, text)
    return result


# -- reports ------------------------------------------------------------------

_ANALYSIS_KEYS = ("summary", "error_class", "root_cause", "path", "trace")


def report(data: dict[str, Any]) -> RenderableType:
    """An execution report: the server's analysis (or one read off the tree), then the tree.

    Levante's server adds `root_cause`, `path`, `error_class`, `summary`
    (and `trace` when asked) to Mistral's report; without them the failure
    is read off Mistral's tree (`root_workflow_execution`).
    """
    parts: list[RenderableType] = []
    root = data.get("root_workflow_execution")
    if data.get("root_cause") or data.get("error_class"):
        parts.append(_analysis(data))
    elif not any(key in data for key in _ANALYSIS_KEYS) and isinstance(root, dict):
        found = _deepest_error(root) if root.get("state") == "ERROR" else None
        if found is not None:
            path, info = found
            parts.append(_analysis({"root_cause": {"error": info}, "path": path}))
    if isinstance(root, dict):
        tree = Tree(_report_label("workflow", root, leaf=False), guide_style="dim")
        _report_tasks(tree, root)
        parts.append(tree)
    if isinstance(data.get("summary"), dict):
        parts.append(_counts(data["summary"]))
    elif isinstance(data.get("statistics"), dict):
        parts.append(_statistics(data["statistics"]))
    return Group(*parts)


def _deepest_error(workflow: dict[str, Any]) -> tuple[list[str], str] | None:
    """The path of names to the deepest failed task or action of a Mistral report tree."""
    for task in workflow.get("task_executions") or []:
        if task.get("state") != "ERROR":
            continue
        for child in task.get("workflow_executions") or []:
            if child.get("state") == "ERROR":
                found = _deepest_error(child)
                if found is not None:
                    return [workflow.get("name", "?"), task.get("name", "?"), *found[0]], found[1]
        failed = [a for a in task.get("action_executions") or [] if a.get("state") == "ERROR"]
        info = (failed[-1].get("state_info") if failed else None) or task.get("state_info") or ""
        return [workflow.get("name", "?"), task.get("name", "?")], str(info)
    return None


def _analysis(data: dict[str, Any]) -> RenderableType:
    rows = Table.grid(padding=(0, 2))
    rows.add_column(style="bold")
    rows.add_column(overflow="fold")
    cause = data.get("root_cause")
    if isinstance(cause, dict):
        if cause.get("error") or cause.get("state_info"):
            rows.add_row("error", Text(str(cause.get("error") or cause["state_info"]), style="red"))
        where = [
            cause.get(key)
            for key in ("workflow_name", "task_name", "action_name")
            if cause.get(key)
        ]
        if where:
            rows.add_row("where", Text(" › ".join(where)))
        for key in ("input", "workflow_input"):
            if cause.get(key) not in (None, {}, []):
                rows.add_row(key.replace("_", " "), Text(json.dumps(cause[key], default=str)))
    elif cause:
        rows.add_row("root cause", _nested(cause))
    if data.get("error_class"):
        rows.add_row("error class", Text(str(data["error_class"])))
    if data.get("path"):
        rows.add_row("path", _path(data["path"]))
    trace = data.get("trace")
    if isinstance(trace, list) and trace:
        rows.add_row("trace", _trace(trace))
    return Panel(rows, title="why it failed", title_align="left", border_style="red")


def _trace(steps: list[Any]) -> RenderableType:
    lines = []
    for step in steps:
        if not isinstance(step, dict):
            lines.append(Text(str(step)))
            continue
        line = Text("  " * int(step.get("depth") or 0))
        line += Text(f"{step.get('type', '')} {step.get('name', '?')} ")
        line += state_text(str(step.get("state", "")))
        if step.get("state_info"):
            line += Text(f"  {_one_line(str(step['state_info']), 160)}", style="dim")
        lines.append(line)
    return Group(*lines)


def _counts(summary: dict[str, Any]) -> Text:
    parts = []
    for kind, counts in summary.items():
        if isinstance(counts, dict) and counts:
            shown = ", ".join(f"{state} {count}" for state, count in counts.items())
            parts.append(f"{kind}: {shown}")
    return Text(" · ".join(parts) or "nothing ran", style="dim")


def _nested(value: Any) -> RenderableType:
    if isinstance(value, dict):
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="dim")
        grid.add_column(overflow="fold")
        for key, inner in value.items():
            if inner in (None, "", [], {}):
                continue
            if key == "state" and isinstance(inner, str):
                grid.add_row(key, state_text(inner))
            elif isinstance(inner, (dict, list)):
                grid.add_row(key, _nested(inner))
            else:
                grid.add_row(key, Text(str(inner)))
        return grid
    if isinstance(value, list):
        return Group(*(_nested(item) for item in value))
    return Text(str(value))


def _path(path: Any) -> RenderableType:
    if not isinstance(path, list):
        return _nested(path)
    steps = []
    for step in path:
        if isinstance(step, dict):
            kind = step.get("type") or step.get("kind") or ""
            name = step.get("name") or step.get("workflow_name") or step.get("id") or "?"
            state = step.get("state", "")
            # A path leads through failures: only a step in another state says so.
            shown = f" [{state}]" if state and state != "ERROR" else ""
            steps.append(f"{kind + ' ' if kind else ''}{name}{shown}")
        else:
            steps.append(str(step))
    return Text(" → ".join(steps))


def _report_label(kind: str, entry: dict[str, Any], *, leaf: bool) -> RenderableType:
    grid = Table.grid(padding=(0, 1))
    grid.add_row(
        Text(kind, style="dim"),
        Text(str(entry.get("name", "?")), style="bold" if kind == "workflow" else ""),
        state_text(str(entry.get("state", ""))),
        Text(str(entry.get("id", "")), style="dim"),
    )
    info = entry.get("state_info")
    # Only where the failure happened: the parents' state_info repeats it.
    if leaf and info and entry.get("state") == "ERROR":
        return Group(grid, Text(_one_line(str(info), 240), style="red"))
    return grid


def _report_tasks(tree: Tree, workflow: dict[str, Any]) -> None:
    for task in workflow.get("task_executions") or []:
        actions = task.get("action_executions") or []
        children = task.get("workflow_executions") or []
        branch = tree.add(_report_label("task", task, leaf=not children and not actions))
        for action in actions:
            branch.add(_report_label("action", action, leaf=True))
        for child in children:
            sub = branch.add(_report_label("workflow", child, leaf=False))
            _report_tasks(sub, child)


def _statistics(statistics: dict[str, Any]) -> Text:
    shown = []
    for key in ("total", "success", "error", "running", "idle", "paused"):
        count = statistics.get(f"{key}_tasks_count")
        if count:
            shown.append(f"{key} {count}")
    return Text("tasks: " + (", ".join(shown) or "none"), style="dim")
