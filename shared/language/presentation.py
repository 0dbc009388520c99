"""How a workflow's interface is shown to API clients, as Mistral shows it."""

from __future__ import annotations

import json
from typing import Any

from levante.language.spec import ActionSpec, WorkflowSpec


def render_input(spec: WorkflowSpec | ActionSpec) -> str:
    """The input list as one line: `name, greeting="Hello", count=3`.

    Parameters without a default are bare names; defaults are JSON (so
    strings are double-quoted and None is `null`).
    """
    return ", ".join(
        f"{param.name}={json.dumps(param.default)}" if param.has_default else param.name
        for param in spec.input
    )


def interface(spec: WorkflowSpec | ActionSpec) -> dict[str, Any]:
    """`{"input": [...], "output": [...]}` as Mistral's API reports it.

    Input entries are names, or `{name: default}` for parameters with a
    default; output lists the keys of the output mapping (none when the
    output is an expression or absent).
    """
    inputs: list[Any] = [
        {param.name: param.default} if param.has_default else param.name for param in spec.input
    ]
    outputs = list(spec.output) if isinstance(spec.output, dict) else []
    return {"input": inputs, "output": outputs}
