"""Why an execution failed: the root cause, the path to it, its class, and a summary.

Levante's answer to Mistral's workflow-error-analysis spec, added to the
execution report (`GET /v2/executions/{id}/report`, `ReportsService`):

- `root_cause`: the failing action (or task, or workflow) deepest in nested
  workflows, its error and the inputs that fed it, secrets masked;
- `path`: from the execution down to it (workflow, task, sub-workflow, task,
  action), and with `include_trace` the same levels with their state_info;
- `error_class`: `syntax_or_expression_error`, `missing_input`,
  `action_failed`, `timeout` or `cancelled`, read from the messages the
  engine writes (services/engine: machine, flow, policies, workflows);
- `summary`: how many workflows, tasks and actions are in each state.

Pure functions over an `ExecutionTree`: nothing here touches the database.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from enum import StrEnum
from fnmatch import fnmatchcase
from typing import Any

from levante.persistence.repository import ActionExecutionRecord, ExecutionRecord, TaskRecord
from levante.persistence.trees import ExecutionTree

#: What a masked value shows.
MASK = "******"
#: The key of a value sealed (encrypted) at rest: shown masked, never as its token.
SEALED = "__levante_secret__"

# Keys whose values look secret whatever the workflow declares.
_SECRET_PARTS = (
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "api_key",
    "api-key",
    "private_key",
    "privatekey",
    "private-key",
    "credential",
    "authorization",
)
_SECRET_KEYS = frozenset({"pwd", "auth", "key", "cookie"})


class ErrorClass(StrEnum):
    """What kind of failure ended the execution."""

    SYNTAX_OR_EXPRESSION_ERROR = "syntax_or_expression_error"
    MISSING_INPUT = "missing_input"
    ACTION_FAILED = "action_failed"
    TIMEOUT = "timeout"
    CANCELLED = "cancelled"


# The engine's messages, most specific first (each level's text is tried, deepest first).
_PATTERNS: tuple[tuple[ErrorClass, re.Pattern[str]], ...] = (
    (ErrorClass.TIMEOUT, re.compile(r"Task timed out|\btimed out\b", re.IGNORECASE)),
    (ErrorClass.MISSING_INPUT, re.compile(r"Invalid input \[")),
    (
        ErrorClass.SYNTAX_OR_EXPRESSION_ERROR,
        re.compile(
            r"Invalid (YAQL|Jinja) expression|Can not evaluate (YAQL|Jinja) expression"
            r"|Can not read '|Failed to (evaluate|prepare|publish|transform)"
            r"|Workflow not found|Invalid DSL|Definition could not be parsed"
        ),
    ),
)
_FAILED_TASKS = re.compile(r"^Failure caused by error in tasks: ([^\n]*)")


def is_secret_key(key: str, hidden: Collection[str] = ()) -> bool:
    """Whether the value under `key` must be masked: declared hidden (a name or a glob
    pattern such as `secret_*`, as a workflow's `hidden` lists them), or named like a secret."""
    if key in hidden or any(fnmatchcase(key, pattern) for pattern in hidden):
        return True
    lowered = key.lower()
    return lowered in _SECRET_KEYS or any(part in lowered for part in _SECRET_PARTS)


def mask_secrets(value: Any, hidden: Collection[str] = ()) -> Any:
    """`value` with the values of secret keys (at any depth), and values sealed for
    storage, replaced by `******`."""
    if isinstance(value, dict) and SEALED in value:
        return MASK
    if isinstance(value, dict):
        return {
            k: MASK if is_secret_key(str(k), hidden) else mask_secrets(v, hidden)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [mask_secrets(v, hidden) for v in value]
    return value


def secret_texts(value: Any, hidden: Collection[str] = ()) -> tuple[str, ...]:
    """The text of every masked value in `value` (longest first), to scrub messages with."""
    found: set[str] = set()

    def walk(item: Any, secret: bool) -> None:
        if isinstance(item, dict):
            for k, v in item.items():
                walk(v, secret or is_secret_key(str(k), hidden))
        elif isinstance(item, list):
            for v in item:
                walk(v, secret)
        elif secret and item not in (None, "", True, False):
            found.add(str(item))

    walk(value, False)
    return tuple(sorted((t for t in found if len(t) >= 3), key=lambda t: (-len(t), t)))


def scrub(text: str | None, secrets: Iterable[str]) -> str | None:
    """`text` with each secret replaced by `******`."""
    if not text:
        return text
    for secret in secrets:
        text = text.replace(secret, MASK)
    return text


def scrub_all(value: Any, secrets: tuple[str, ...]) -> Any:
    """`value` with each secret replaced by `******` in every string inside it."""
    if not secrets:
        return value
    if isinstance(value, str):
        return scrub(value, secrets)
    if isinstance(value, dict):
        return {k: scrub_all(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub_all(v, secrets) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class Step:
    """One level on the way to the failure."""

    type: str  # workflow, task or action
    id: str
    name: str
    state: str
    state_info: str | None
    depth: int

    def json(self, *, with_info: bool) -> dict[str, Any]:
        """The step as the report shows it; `with_info` for the trace."""
        shown: dict[str, Any] = {
            "type": self.type,
            "id": self.id,
            "name": self.name,
            "state": self.state,
        }
        if with_info:
            shown |= {"state_info": self.state_info, "depth": self.depth}
        return shown


@dataclass(frozen=True, slots=True)
class RootCause:
    """The failing thing deepest in the tree, with the inputs that fed it (masked)."""

    execution: ExecutionRecord
    task: TaskRecord | None
    action: ActionExecutionRecord | None

    @property
    def state(self) -> str:
        """The state of the deepest failing thing."""
        return (self.action or self.task or self.execution).state

    @property
    def error(self) -> str | None:
        """Its error: an action's failure message or result, else the state_info."""
        if self.action is not None:
            if self.action.state_info:
                return self.action.state_info
            result = (self.action.output or {}).get("result")
            return None if result is None else str(result)
        return (self.task or self.execution).state_info

    def action_input(self, tree: ExecutionTree) -> Any:
        """The input of the failing action, else of the failing task's last action."""
        if self.action is not None:
            return self.action.input
        if self.task is not None:
            actions = tree.actions_of(self.task.id)
            return actions[-1].input if actions else None
        return None


@dataclass(frozen=True, slots=True)
class Analysis:
    """Levante's analysis of one execution."""

    root_cause: RootCause | None
    path: tuple[Step, ...]
    error_class: ErrorClass | None
    summary: dict[str, dict[str, int]]

    def secrets(
        self,
        tree: ExecutionTree,
        *,
        hidden: Collection[str] = (),
        action_secrets: Collection[str] = (),
    ) -> tuple[str, ...]:
        """The secret texts to scrub from anything shown about this failure, longest first.

        From the failing action's input (`hidden` names, its declared secret
        parameters, secret-looking keys) and every workflow input on the path:
        a parent's password handed down under an innocent name still reads as
        `******`.
        """
        cause = self.root_cause
        if cause is None:
            return ()
        found = set(secret_texts(cause.action_input(tree), {*hidden, *action_secrets}))
        found.update(secret_texts(cause.execution.input, hidden))
        for step in self.path:
            if step.type == "workflow":
                found.update(secret_texts(tree.execution(step.id).input, hidden))
        return tuple(sorted(found, key=lambda t: (-len(t), t)))

    def json(
        self,
        tree: ExecutionTree,
        *,
        include_trace: bool,
        hidden: Collection[str] = (),
        action_secrets: Collection[str] = (),
    ) -> dict[str, Any]:
        """The report's extra keys; inputs masked (`hidden` names, the action's secret
        parameters and secret-looking keys), their secrets scrubbed from messages."""
        shown: dict[str, Any] = {
            "root_cause": None,
            "path": [s.json(with_info=False) for s in self.path],
            "error_class": str(self.error_class) if self.error_class else None,
            "summary": self.summary,
        }
        cause = self.root_cause
        secrets = self.secrets(tree, hidden=hidden, action_secrets=action_secrets)
        if cause is not None:
            action_input = cause.action_input(tree)
            names = {*hidden, *action_secrets}
            shown["root_cause"] = {
                "execution_id": cause.execution.id,
                "workflow_name": cause.execution.workflow_name,
                "task_execution_id": cause.task.id if cause.task else None,
                "task_name": cause.task.name if cause.task else None,
                "action_execution_id": cause.action.id if cause.action else None,
                "action_name": cause.action.name if cause.action else None,
                "state": cause.state,
                "error": scrub(cause.error, secrets),
                "state_info": scrub((cause.task or cause.execution).state_info, secrets),
                "input": scrub_all(mask_secrets(action_input, names), secrets),
                "workflow_input": scrub_all(mask_secrets(cause.execution.input, hidden), secrets),
            }
        if include_trace:
            shown["trace"] = [
                {**s.json(with_info=True), "state_info": scrub(s.state_info, secrets)}
                for s in self.path
            ]
        return shown


def analyze(tree: ExecutionTree, execution_id: str) -> Analysis:
    """The analysis of `execution_id` (any execution of `tree`); raises NotFoundError."""
    execution = tree.execution(execution_id)
    summary = _summary(tree, execution)
    if execution.state not in ("ERROR", "CANCELLED"):
        return Analysis(None, (), None, summary)
    path, cause = _descend(tree, execution, depth=0)
    if execution.state == "CANCELLED" or cause.state == "CANCELLED":
        error_class = ErrorClass.CANCELLED
    else:
        error_class = classify([s.state_info for s in reversed(path)], cause)
    return Analysis(cause, tuple(path), error_class, summary)


def classify(messages: Iterable[str | None], cause: RootCause | None = None) -> ErrorClass:
    """The class of a failure from its messages, deepest first; `action_failed` otherwise."""
    texts = [cause.error] if cause is not None else []
    for text in (*texts, *messages):
        for error_class, pattern in _PATTERNS:
            if text and pattern.search(text):
                return error_class
    return ErrorClass.ACTION_FAILED


def _descend(
    tree: ExecutionTree, execution: ExecutionRecord, *, depth: int
) -> tuple[list[Step], RootCause]:
    path = [_step("workflow", execution, execution.workflow_name, depth)]
    task = _failed_task(tree, execution)
    if task is None:
        return path, RootCause(execution, None, None)
    path.append(_step("task", task, task.name, depth + 1))
    children = [c for c in tree.children_of(task.id) if c.state in ("ERROR", "CANCELLED")]
    if children:
        deeper, cause = _descend(tree, children[0], depth=depth + 2)
        return path + deeper, cause
    actions = [a for a in tree.actions_of(task.id) if a.state in ("ERROR", "CANCELLED")]
    if actions:
        action = actions[0]  # the first failed item of a with-items task
        cause = RootCause(execution, task, action)
        # An action's failure text may be only in its result.
        path.append(Step("action", action.id, action.name, action.state, cause.error, depth + 2))
        return path, cause
    return path, RootCause(execution, task, None)


def _failed_task(tree: ExecutionTree, execution: ExecutionRecord) -> TaskRecord | None:
    """The task that failed the execution: one the failure message names, first to finish."""
    bad = [t for t in tree.tasks_of(execution.id) if t.state in ("ERROR", "CANCELLED")]
    if execution.state == "ERROR":
        errors = [t for t in bad if t.state == "ERROR"]
        bad = errors or bad
    named = _FAILED_TASKS.match(execution.state_info or "")
    if named:
        names = {n.strip() for n in named.group(1).split(",")}
        bad = [t for t in bad if t.name in names] or bad
    if not bad:
        return None
    return min(bad, key=lambda t: (t.finished_at or t.updated_at or t.created_at, t.created_at))


def _step(
    kind: str, record: ExecutionRecord | TaskRecord | ActionExecutionRecord, name: str, depth: int
) -> Step:
    return Step(kind, record.id, name, record.state, record.state_info, depth)


def _summary(tree: ExecutionTree, execution: ExecutionRecord) -> dict[str, dict[str, int]]:
    """Counts per state of the workflows, tasks and actions under `execution` (itself included).

    One pass over each list: trees of with-items tasks hold many actions.
    """
    parent_of_task = {t.id: t.workflow_execution_id for t in tree.tasks}
    children: dict[str, list[str]] = {}
    for child in tree.executions:
        parent = parent_of_task.get(child.task_execution_id or "")
        if parent is not None:
            children.setdefault(parent, []).append(child.id)
    family, pending = {execution.id}, [execution.id]
    while pending:
        for child_id in children.get(pending.pop(), ()):
            family.add(child_id)
            pending.append(child_id)
    workflows = Counter(e.state for e in tree.executions if e.id in family)
    tasks = Counter(t.state for t in tree.tasks if t.workflow_execution_id in family)
    actions = Counter(a.state for a in tree.actions if a.workflow_execution_id in family)
    return {
        "workflows": dict(sorted(workflows.items())),
        "tasks": dict(sorted(tasks.items())),
        "actions": dict(sorted(actions.items())),
    }
