"""`input:` declarations, shared by workflows and ad-hoc actions."""

from __future__ import annotations

from typing import Any

from levante.language.report import Reporter
from levante.language.source import item_path
from levante.language.spec import InputParam


def parse_input(reporter: Reporter, value: Any, path: str, owner: str) -> tuple[InputParam, ...]:
    """`input:` entries: names, or single-key `{name: default}` mappings.

    Problems (not a list, a malformed entry, a name declared twice) are
    reported; the usable entries are returned in order.
    """
    if value is None:
        return ()
    if not isinstance(value, list):
        reporter.at_value(f"'input' of {owner} must be a list", path)
        return ()
    params: list[InputParam] = []
    seen: set[str] = set()
    for index, entry in enumerate(value):
        entry_path = item_path(path, index)
        if isinstance(entry, str) and entry.strip():
            param = InputParam(entry)
        elif isinstance(entry, dict) and len(entry) == 1 and _is_name(next(iter(entry))):
            ((name, default),) = entry.items()
            param = InputParam(name, has_default=True, default=default)
        else:
            reporter.at_value(
                f"Entries of 'input' of {owner} must be names or single 'name: default' pairs",
                entry_path,
            )
            continue
        if param.name in seen:
            reporter.at_value(f"Input '{param.name}' of {owner} is declared twice", entry_path)
            continue
        seen.add(param.name)
        params.append(param)
    return tuple(params)


def _is_name(key: Any) -> bool:
    return isinstance(key, str) and bool(key.strip())
