"""The Mistral workflow language v2: definition text -> immutable specs.

A pure library: no I/O, no database, no clock. `parse()` (workflows or a
workbook), `parse_workbook()` and `parse_actions()` return a `Document` or
raise `DefinitionError` listing every issue; `validate()`,
`validate_workbook()` and `validate_actions()` return the issues as data,
and `summarize()` turns them into the message the parse functions raise
(what an API answers as `{"valid": false, "error": ...}`).

The functions are loaded lazily (PEP 562): `levante.errors` imports
`levante.language.spec`, which runs this package's `__init__` first, and the
parser itself imports `levante.errors` — an eager import here would make
`import levante.errors` circular.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from levante.language.spec import (
    ENGINE_COMMANDS,
    RESERVED_TASK_NAMES,
    ActionSpec,
    Document,
    InputParam,
    Position,
    RetryPolicy,
    TaskSpec,
    Transition,
    TransitionKind,
    WorkflowSpec,
    WorkflowType,
)

if TYPE_CHECKING:
    from levante.language.parser import (
        Kind,
        parse,
        parse_actions,
        parse_workbook,
        summarize,
        validate,
        validate_actions,
        validate_workbook,
    )
    from levante.language.presentation import interface, render_input

_LAZY = {
    "Kind": "levante.language.parser",
    "parse": "levante.language.parser",
    "parse_actions": "levante.language.parser",
    "parse_workbook": "levante.language.parser",
    "summarize": "levante.language.parser",
    "validate": "levante.language.parser",
    "validate_actions": "levante.language.parser",
    "validate_workbook": "levante.language.parser",
    "render_input": "levante.language.presentation",
    "interface": "levante.language.presentation",
}

__all__ = [
    "ENGINE_COMMANDS",
    "RESERVED_TASK_NAMES",
    "ActionSpec",
    "Document",
    "InputParam",
    "Kind",
    "Position",
    "RetryPolicy",
    "TaskSpec",
    "Transition",
    "TransitionKind",
    "WorkflowSpec",
    "WorkflowType",
    "interface",
    "parse",
    "parse_actions",
    "parse_workbook",
    "render_input",
    "summarize",
    "validate",
    "validate_actions",
    "validate_workbook",
]


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value
