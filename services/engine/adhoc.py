"""Ad-hoc actions: resolved by the engine before dispatch, pure.

An ad-hoc action runs its `base` action (itself possibly ad-hoc) with
`base-input` evaluated over the ad-hoc action's own input (`$`), and its
`output`, evaluated over the base action's result (`$`), becomes the result.
The definitions an execution may use are frozen into it when it starts:
those of its own document (a workbook's `actions:`) and the stored ones
(`POST /v2/actions`) its tasks name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from levante.language.spec import ActionSpec

MAX_DEPTH = 10


class AdHocError(ValueError):
    """An ad-hoc action cannot be resolved (bad input, a loop of bases)."""


def chain(name: str, actions: Mapping[str, ActionSpec]) -> list[ActionSpec]:
    """The ad-hoc actions from `name` down to the first non-ad-hoc base, outermost first."""
    found: list[ActionSpec] = []
    while name in actions:
        if len(found) >= MAX_DEPTH:
            raise AdHocError(f"ad-hoc action {found[0].name!r} has more than {MAX_DEPTH} bases")
        found.append(actions[name])
        name = actions[name].base
    return found


def resolve(
    name: str,
    action_input: dict[str, Any],
    actions: Mapping[str, ActionSpec],
    evaluate: Callable[[Any, dict[str, Any]], Any],
) -> tuple[str, dict[str, Any]]:
    """The base action to run and its input; raises AdHocError for bad input."""
    current_input = dict(action_input)
    for spec in chain(name, actions):
        declared = {p.name: p for p in spec.input}
        missing = [p for p, d in declared.items() if not d.has_default and p not in current_input]
        unexpected = [k for k in current_input if k not in declared]
        if missing or unexpected:
            raise AdHocError(
                f"Invalid input [name={spec.name}, class=AdHocAction, missing={missing}, "
                f"unexpected={unexpected}]"
            )
        data = {**{p: d.default for p, d in declared.items() if d.has_default}, **current_input}
        current_input = dict(evaluate(spec.base_input, data) or {})
        name = spec.base
    return name, current_input


def transform(
    name: str,
    result: Any,
    actions: Mapping[str, ActionSpec],
    evaluate: Callable[[Any, Any], Any],
) -> Any:
    """The ad-hoc action's result: each `output` applied from the innermost base outwards."""
    for spec in reversed(chain(name, actions)):
        if spec.output is not None:
            result = evaluate(spec.output, result)
    return result
