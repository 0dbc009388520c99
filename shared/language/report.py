"""Collecting issues while parsing, and the type checks that report them.

The parser never stops at the first problem: each check reports an `Issue`
(message, path, position) and returns None, and parsing carries on with
what is usable, so one `validate()` lists everything wrong at once.
"""

from __future__ import annotations

from typing import Any

from levante.errors import Issue
from levante.expressions import check_syntax, is_expression
from levante.language.source import Source, child_path, item_path


class Reporter:
    """Accumulates issues, positioned through the definition's `Source`."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.issues: list[Issue] = []

    def at_value(self, message: str, path: str) -> None:
        """Report a problem with the value at `path`."""
        self.issues.append(Issue(message, path, self.source.value_at(path)))

    def at_key(self, message: str, path: str) -> None:
        """Report a problem with the key of the entry at `path`."""
        self.issues.append(Issue(message, path, self.source.key_at(path)))

    def unknown_keys(
        self, raw: dict[Any, Any], allowed: frozenset[str], path: str, owner: str
    ) -> None:
        """Report every key of `raw` not in `allowed` ("Unknown key 'k' in <owner>")."""
        for key in raw:
            if key not in allowed:
                self.at_key(f"Unknown key '{key}' in {owner}", child_path(path, key))

    def expressions(self, value: Any, path: str) -> None:
        """Syntax-check every expression in `value`, keys included."""
        if isinstance(value, str):
            error = check_syntax(value)
            if error is not None:
                self.at_value(error, path)
        elif isinstance(value, dict):
            for key, item in value.items():
                entry = child_path(path, key)
                if isinstance(key, str) and (error := check_syntax(key)) is not None:
                    self.at_key(error, entry)
                self.expressions(item, entry)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self.expressions(item, item_path(path, index))

    # Type checks: each returns the value when it fits, else reports and
    # returns None. `what` names the thing in the message ("'input' of task 't'").

    def string(self, value: Any, path: str, what: str) -> str | None:
        if isinstance(value, str) and value.strip():
            return value
        self.at_value(f"{what} must be a non-empty string", path)
        return None

    def text(self, value: Any, path: str, what: str) -> str | None:
        """Any string, empty included (descriptions)."""
        if isinstance(value, str):
            return value
        self.at_value(f"{what} must be a string", path)
        return None

    def mapping(self, value: Any, path: str, what: str) -> dict[str, Any] | None:
        if isinstance(value, dict):
            return value
        self.at_value(f"{what} must be a mapping", path)
        return None

    def string_list(self, value: Any, path: str, what: str) -> tuple[str, ...] | None:
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            if len(set(value)) == len(value):
                return tuple(value)
            self.at_value(f"{what} must not repeat items", path)
            return None
        self.at_value(f"{what} must be a list of strings", path)
        return None

    def string_or_list(self, value: Any, path: str, what: str) -> tuple[str, ...] | None:
        """A single string or a list of strings, as a tuple."""
        if isinstance(value, str) and value.strip():
            return (value,)
        return self.string_list(value, path, what)

    def boolean(self, value: Any, path: str, what: str) -> bool | None:
        if isinstance(value, bool):
            return value
        self.at_value(f"{what} must be a boolean", path)
        return None

    def boolean_or_expression(self, value: Any, path: str, what: str) -> bool | str | None:
        if isinstance(value, bool) or is_expression(value):
            return value
        self.at_value(f"{what} must be a boolean or an expression", path)
        return None

    def count_or_expression(self, value: Any, path: str, what: str) -> int | str | None:
        """A non-negative integer or an expression text."""
        if (isinstance(value, int) and not isinstance(value, bool) and value >= 0) or (
            is_expression(value)
        ):
            return value
        self.at_value(f"{what} must be a non-negative integer or an expression", path)
        return None

    def expression(self, value: Any, path: str, what: str) -> str | None:
        if is_expression(value):
            return value
        self.at_value(f"{what} must be an expression (<% ... %> or {{{{ ... }}}})", path)
        return None
