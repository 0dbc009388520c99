"""The Mistral workflow language v2: definition text -> immutable specs.

A pure library: no I/O, no database, no clock. `parse()` returns a
`Document` or raises `DefinitionError` listing every issue; `validate()`
returns the issues as data.

The functions are loaded lazily (PEP 562): `levante.errors` imports
`levante.language.spec`, which runs this package's `__init__` first, and the
parser itself imports `levante.errors` — an eager import here would make
`import levante.errors` circular.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from levante.language.spec import (
    ENGINE_COMMANDS,
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
    from levante.language.parser import parse, validate
    from levante.language.presentation import interface, render_input

_LAZY = {
    "parse": "levante.language.parser",
    "validate": "levante.language.parser",
    "render_input": "levante.language.presentation",
    "interface": "levante.language.presentation",
}

__all__ = [
    "ENGINE_COMMANDS",
    "Document",
    "InputParam",
    "Position",
    "RetryPolicy",
    "TaskSpec",
    "Transition",
    "TransitionKind",
    "WorkflowSpec",
    "WorkflowType",
    "interface",
    "parse",
    "render_input",
    "validate",
]


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value
