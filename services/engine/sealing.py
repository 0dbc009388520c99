"""Hidden values in the engine: opened when an execution is loaded, sealed when it is saved.

The machine works on plain values; only the store's edges (`load`, `save`,
the start of an execution or sub-workflow, the RunAction command, the
state-change events) call in here. What is sealed and how is
`levante.security.secrets`; this module knows the engine's rows and states.

An execution tree's secret texts (its root's `secrets` column) are kept in
memory per root, refreshed whenever an execution of the tree is read from
the database. An execution whose workflow hides nothing, in a tree that has
no secrets, costs one dictionary lookup per save.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from levante.engine.state import ExecutionState, TaskRun
from levante.language.spec import WorkflowSpec
from levante.persistence import models
from levante.security import secrets

_MAX_TREES = 10_000
_known: OrderedDict[str, frozenset[str]] = OrderedDict()


def known(root_id: str) -> frozenset[str]:
    """The secret texts of a tree, as this process last saw them."""
    return _known.get(root_id, frozenset())


def _learn(root_id: str, texts: frozenset[str]) -> None:
    _known[root_id] = texts
    _known.move_to_end(root_id)
    while len(_known) > _MAX_TREES:
        _known.popitem(last=False)
    secrets.remember(texts)


def refresh(session: Session, row: models.WorkflowExecution) -> frozenset[str]:
    """Reads the tree's secrets from its root row (the row itself for a root)."""
    root_id = row.root_execution_id or row.id
    if root_id == row.id:
        column = row.secrets
    else:
        column = session.scalar(
            select(models.WorkflowExecution.secrets).where(models.WorkflowExecution.id == root_id)
        )
    texts = secrets.open_texts(column)
    if texts or root_id in _known:
        _learn(root_id, texts)
    return texts


def _grow(session: Session, root_id: str, found: set[str]) -> frozenset[str]:
    """Adds texts to the tree's secrets (memory and the root's column); returns them all."""
    current = known(root_id)
    if found <= current:
        return current
    column = session.scalar(
        select(models.WorkflowExecution.secrets).where(models.WorkflowExecution.id == root_id)
    )
    merged = frozenset(found) | secrets.open_texts(column) | current
    session.execute(
        update(models.WorkflowExecution)
        .where(models.WorkflowExecution.id == root_id)
        .values(secrets=secrets.seal_texts(merged))
    )
    _learn(root_id, merged)
    return merged


# -- loading -----------------------------------------------------------------


def opener(
    session: Session, row: models.WorkflowExecution, spec: WorkflowSpec
) -> Callable[[Any], Any] | None:
    """What opens the stored values of this execution, or None when nothing can be sealed."""
    texts = refresh(session, row)
    if not texts and not spec.hidden:
        return None
    return secrets.open_value


def open_child_record(record: dict[str, Any]) -> dict[str, Any]:
    """A stored sub-workflow record (`TaskExecution.subworkflows`) with its values opened."""
    return {
        **record,
        "input": secrets.open_value(record.get("input")),
        "output": secrets.open_value(record.get("output")),
    }


# -- starting ----------------------------------------------------------------


def seal_start(
    spec: WorkflowSpec, workflow_input: dict[str, Any], execution_id: str
) -> tuple[dict[str, Any], str | None]:
    """A new root execution's input, sealed, and its `secrets` column."""
    if not spec.hidden:
        return workflow_input, None
    found: set[str] = set()
    sealed = secrets.seal_mapping(workflow_input, hidden=spec.hidden, found=found)
    if not found:
        return sealed, None
    _learn(execution_id, frozenset(found))
    return sealed, secrets.seal_texts(found)


def seal_child_input(
    session: Session, spec: WorkflowSpec, workflow_input: dict[str, Any], root_id: str
) -> dict[str, Any]:
    """A sub-workflow's input, sealed by its own hidden names and its tree's secrets."""
    tree = known(root_id)
    if not spec.hidden and not tree:
        return workflow_input
    found: set[str] = set()
    sealed = secrets.seal_mapping(workflow_input, hidden=spec.hidden, secrets=tree, found=found)
    if found:
        _grow(session, root_id, found)
    return sealed


# -- saving ------------------------------------------------------------------

_TASK_MAPPINGS = ("published", "in_context")
_EXECUTION_MAPPINGS = ("context", "output", "published_global")


class Sealer:
    """Seals what one `save` writes: hidden-named entries and entries showing a secret."""

    def __init__(self, hidden: tuple[str, ...], tree: frozenset[str], found: set[str]) -> None:
        self.hidden = hidden
        self.tree = tree
        self.found = found
        self.secrets = tree | frozenset(found)

    def mapping(self, value: Any) -> Any:
        """A JSON object with its top-level entries sealed as needed."""
        return secrets.seal_mapping(value, hidden=self.hidden, secrets=self.secrets)

    def value(self, value: Any) -> Any:
        """A whole value (a result) sealed if it shows a secret."""
        return secrets.seal_value(value, self.secrets)

    def text(self, value: str | None) -> str | None:
        """A message with the secrets it shows masked."""
        return secrets.scrub(value, self.secrets) if value else value

    def execution(self, changes: dict[str, Any]) -> dict[str, Any]:
        """The execution row's changed columns, sealed."""
        sealed = dict(changes)
        for column in _EXECUTION_MAPPINGS:
            if column in sealed:
                sealed[column] = self.mapping(sealed[column])
        if sealed.get("state_info"):
            sealed["state_info"] = self.text(sealed["state_info"])
        return sealed

    def task(self, values: dict[str, Any]) -> None:
        """A task row's values (new or changed), sealed in place."""
        for column in _TASK_MAPPINGS:
            if column in values:
                values[column] = self.mapping(values[column])
        if "result" in values:
            values["result"] = self.value(values["result"])
        if values.get("items"):
            values["items"] = [
                secrets.seal_mapping(item, secrets=self.secrets) for item in values["items"]
            ]
        if values.get("subworkflows"):
            values["subworkflows"] = [
                {
                    **record,
                    "input": self.mapping(record.get("input")),
                    "output": self.mapping(record.get("output")),
                }
                for record in values["subworkflows"]
            ]
        if values.get("state_info"):
            values["state_info"] = self.text(values["state_info"])

    def action(self, values: dict[str, Any]) -> None:
        """An action row's values (new or changed), sealed in place."""
        if "input" in values:
            values["input"] = self.mapping(values["input"])
        if values.get("output"):
            values["output"] = secrets.seal_mapping(values["output"], secrets=self.secrets)
        if values.get("state_info"):
            values["state_info"] = self.text(values["state_info"])

    def rows(self, rows: list[dict[str, Any]], model: type) -> None:
        """Seals a batch of row values of `model` in place."""
        for values in rows:
            if model is models.TaskExecution:
                self.task(values)
            elif model is models.ActionExecution:
                self.action(values)

    def commit(self, session: Session, root_id: str) -> None:
        """Records newly found secrets on the tree's root."""
        if self.found:
            _grow(session, root_id, self.found)


def sealer(before: ExecutionState, after: ExecutionState) -> Sealer | None:
    """The sealer for a save of `after`, or None when it has nothing to seal."""
    hidden = after.spec.hidden
    tree = known(after.root_id)
    if not hidden and not tree:
        return None
    found: set[str] = set()
    if hidden:
        for value in (after.context, after.output, after.globals):
            _hidden_texts(value, hidden, found)
        old = {t.id: t for t in before.tasks}
        for task in after.tasks:
            if old.get(task.id) is not task:
                _task_texts(task, hidden, found)
    return Sealer(hidden, tree, found - tree)


def _task_texts(task: TaskRun, hidden: tuple[str, ...], found: set[str]) -> None:
    _hidden_texts(task.published, hidden, found)
    _hidden_texts(task.in_context, hidden, found)


def _hidden_texts(value: Any, hidden: tuple[str, ...], found: set[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if secrets.is_hidden(key, hidden):
                found.update(secrets.texts_of(item))


# -- commands and events -----------------------------------------------------


def seal_command_input(action_input: dict[str, Any], root_id: str) -> dict[str, Any]:
    """A RunAction's input with the entries showing a secret sealed (the executor opens them)."""
    tree = known(root_id)
    if not tree:
        return action_input
    return secrets.seal_mapping(action_input, secrets=tree)


def shown(execution: ExecutionState, value: Any) -> Any:
    """A value of an execution as events may show it: hidden entries and secrets masked."""
    hidden = execution.spec.hidden
    tree = known(execution.root_id)
    if not hidden and not tree:
        return value
    if hidden and isinstance(value, dict):
        value = {k: secrets.MASK if secrets.is_hidden(k, hidden) else v for k, v in value.items()}
    return secrets.redact(value, tree)


def shown_text(execution: ExecutionState, text: str | None) -> str | None:
    """A message of an execution as events may show it."""
    tree = known(execution.root_id)
    return secrets.scrub(text, tree) if text and tree else text


__all__ = [
    "Sealer",
    "known",
    "open_child_record",
    "opener",
    "refresh",
    "seal_child_input",
    "seal_command_input",
    "seal_start",
    "sealer",
    "shown",
    "shown_text",
]
