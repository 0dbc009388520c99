"""Ad-hoc actions: raw mappings -> `ActionSpec`.

    my_echo:
      description: Echoes a greeting.
      base: std.echo
      base-input:
        output: "Hello, <% $.name %>"
      input:
        - name
        - punctuation: "!"
      output: <% $ + $.punctuation %>

`base` may carry inline parameters (`base: std.echo output=hi`), merged
under `base-input` (explicit keys win).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from levante.language.inputs import parse_input
from levante.language.report import Reporter
from levante.language.scope import Scope
from levante.language.shorthand import ShorthandError, parse_command
from levante.language.source import child_path
from levante.language.spec import ActionSpec

_KEYS = frozenset(
    {"version", "name", "description", "tags", "base", "base-input", "input", "output"}
)
_UUID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.I)
# System actions live under this prefix; an ad-hoc action can't take it.
RESERVED_PREFIX = "std."


def parse_action(
    reporter: Reporter, name: str, raw: Any, path: str, scope: Scope
) -> ActionSpec | None:
    """Check and convert one ad-hoc action named `name` (workbook prefix
    included); None when it is not even a mapping or has no usable base."""
    owner = f"action '{name}'"
    action = reporter.mapping(raw, path, f"Action '{name}'")
    if action is None:
        return None
    local = name[len(scope.prefix) :] if scope.prefix and name.startswith(scope.prefix) else name
    if _UUID.fullmatch(local):
        reporter.at_key(f"Action name '{name}' must not look like a UUID", path)
    if local.startswith(RESERVED_PREFIX):
        reporter.at_key(
            f"Action name '{name}' is reserved: names starting with "
            f"'{RESERVED_PREFIX}' belong to system actions",
            path,
        )
    reporter.unknown_keys(action, _KEYS, path, owner)
    if "version" in action and str(action["version"]) != "2.0":
        reporter.at_value(f"Unsupported version in {owner}: use '2.0'", child_path(path, "version"))
    if "name" in action:
        reporter.string(action["name"], child_path(path, "name"), f"'name' of {owner}")
    for key in ("base-input", "input", "output"):
        reporter.expressions(action.get(key), child_path(path, key))
    fields: dict[str, Any] = {}
    if "description" in action:
        what = f"'description' of {owner}"
        fields["description"] = (
            reporter.text(action["description"], child_path(path, "description"), what) or ""
        )
    if "tags" in action:
        tags = reporter.string_list(action["tags"], child_path(path, "tags"), f"'tags' of {owner}")
        fields["tags"] = tags or ()
    if "input" in action:
        fields["input"] = parse_input(reporter, action["input"], child_path(path, "input"), owner)
    fields["output"] = action.get("output")
    explicit: dict[str, Any] = {}
    if action.get("base-input") is not None:
        base_input_path = child_path(path, "base-input")
        explicit = (
            reporter.mapping(action["base-input"], base_input_path, f"'base-input' of {owner}")
            or {}
        )
    base = _base(reporter, action, path, owner, scope)
    if base is None:
        return None
    base_name, inline = base
    return ActionSpec(
        name=name,
        base=base_name,
        base_input={**inline, **explicit},
        position=reporter.source.key_at(path),
        definition={**action, "name": name, "version": "2.0"},
        **fields,
    )


def _base(
    reporter: Reporter, action: dict[Any, Any], path: str, owner: str, scope: Scope
) -> tuple[str, dict[str, Any]] | None:
    if "base" not in action:
        reporter.at_key(f"{owner[0].upper()}{owner[1:]} has no 'base' (the action it runs)", path)
        return None
    base_path = child_path(path, "base")
    text = reporter.string(action["base"], base_path, f"'base' of {owner}")
    if text is None:
        return None
    try:
        name, inline = parse_command(text)
    except ShorthandError as error:
        reporter.at_value(f"Invalid 'base' of {owner}: {error}", base_path)
        return None
    reporter.expressions(inline, base_path)
    return scope.action(name), inline


def check_bases(reporter: Reporter, actions: Iterable[ActionSpec], paths: dict[str, str]) -> None:
    """Report actions whose chain of `base` within the document leads back
    to themselves (`a` based on `b` based on `a`, or on itself)."""
    bases = {action.name: action.base for action in actions}
    for start in bases:
        chain, current = [start], bases[start]
        while current in bases and current not in chain:
            chain.append(current)
            current = bases[current]
        if current == start:
            reporter.at_value(
                f"'base' of action '{start}' leads back to it: {' -> '.join([*chain, start])}",
                child_path(paths[start], "base"),
            )
