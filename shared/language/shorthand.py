"""The inline shorthand `name key=value ...` and `name(key=value, ...)`.

Used by `action:` / `workflow:` (`std.echo output="hi" n=3`), by engine
commands in transitions (`fail msg='boom'`, `fail(msg="boom")`) and by the
one-line retry policy (`count=3 delay=1`).

Values read like YAML scalars: quoted strings (single or double quotes),
JSON/YAML flow lists and dicts, numbers, `true`/`false`/`null`, and bare
words as strings. Expressions (`<% ... %>`, `{{ ... }}`) stay strings,
spaces inside them included.
"""

from __future__ import annotations

import json
import re
from typing import Any

from levante.errors import DefinitionError
from levante.language.source import load

_KEY = re.compile(r"[-\w]+")
# A name with no parameters: no whitespace, parenthesis, `=` or expression.
_BARE_NAME = re.compile(r"(?!<%|\{\{)[^\s(=]+")
_NAME = re.compile(r"[^\s(=]*")
_CLOSERS = {"{": "}", "[": "]", "(": ")"}


class ShorthandError(ValueError):
    """The text is not valid shorthand; the message says what is wrong."""


class _Problem(Exception):
    """What the scanning helpers find wrong; the public functions add the
    text it was found in."""


def parse_command(text: str) -> tuple[str, dict[str, Any]]:
    """Split `text` into a name and its inline parameters.

    The name is a leading expression, or everything up to the first
    whitespace, `(` or `=`. Parameters follow separated by whitespace, or
    in parentheses right after the name, separated by commas or whitespace.

    Raises:
        ShorthandError: a parameter is not `key=value`, a quote, bracket or
            expression is not closed, or the name is missing.
    """
    stripped = text.strip()
    if _BARE_NAME.fullmatch(stripped):  # the common case: just a name
        return stripped, {}
    try:
        return _command(stripped, text)
    except _Problem as problem:
        raise ShorthandError(f"{problem} in '{text}'") from None


def _command(stripped: str, text: str) -> tuple[str, dict[str, Any]]:
    end = _name_end(stripped)
    name, rest = stripped[:end], stripped[end:]
    if not name:
        raise ShorthandError(f"Missing name in '{text}'")
    if rest.startswith("("):
        if _bracketed_end(rest, 0) != len(rest):
            raise ShorthandError(f"Unexpected text after ')' in '{text}'")
        return name, parse_parameters(rest[1:-1], separators=",", context=text)
    if rest and not rest[0].isspace():
        raise ShorthandError(f"Unexpected '{rest[0]}' after '{name}' in '{text}'")
    return name, parse_parameters(rest, context=text)


def parse_parameters(text: str, *, separators: str = "", context: str = "") -> dict[str, Any]:
    """Parse `key=value` pairs separated by whitespace (and `separators`).

    Raises:
        ShorthandError: see `parse_command`.
    """
    where = context or text
    try:
        return _parameters(text, separators, where)
    except _Problem as problem:
        raise ShorthandError(f"{problem} in '{where}'") from None


def _parameters(text: str, separators: str, where: str) -> dict[str, Any]:
    params: dict[str, Any] = {}
    stops = separators
    position, length = 0, len(text)
    while True:
        while position < length and (text[position].isspace() or text[position] in stops):
            position += 1
        if position >= length:
            return params
        key_match = _KEY.match(text, position)
        if key_match is None or not text.startswith("=", key_match.end()):
            raise ShorthandError(f"Expected 'name=value' at '{text[position:]}' in '{where}'")
        value_start = key_match.end() + 1
        value_end = _value_end(text, value_start, stops)
        if value_end == value_start:
            raise ShorthandError(f"Missing value for '{key_match.group()}' in '{where}'")
        params[key_match.group()] = typed_value(text[value_start:value_end])
        position = value_end


def typed_value(raw: str) -> Any:
    """The value a shorthand parameter's text denotes (see the module doc)."""
    if raw[0] in "\"'" and _quoted_end(raw, 0) == len(raw):
        quote = raw[0]
        return raw[1:-1].replace("\\" + quote, quote)
    if raw.startswith(("<%", "{{", "{%")):
        return raw
    if raw[0] in "[{":
        found, value = flow_value(raw)
        return value if found else raw
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    # NaN/Infinity are JSON-ish extensions json accepts; keep them as text.
    if isinstance(value, (bool, int, type(None))) or (
        isinstance(value, float) and raw not in ("NaN", "Infinity", "-Infinity")
    ):
        return value
    return raw


def flow_value(text: str) -> tuple[bool, Any]:
    """`(True, value)` when `text` is a JSON or YAML flow collection, else
    `(False, None)`. YAML goes through the definition loader, so the value
    is JSON-like and bounded like any other part of a definition."""
    try:
        return True, json.loads(text)
    except (ValueError, RecursionError):
        pass
    try:
        return True, load(text).data
    except DefinitionError:
        return False, None


def _name_end(text: str) -> int:
    if text.startswith(("<%", "{{")):
        return _value_end(text, 0, "")
    match = _NAME.match(text)
    return match.end() if match else 0


def _value_end(text: str, start: int, stops: str) -> int:
    """Index just past a value starting at `start`: it ends at unquoted,
    unbracketed whitespace or a stop character."""
    index = start
    while index < len(text) and not (text[index].isspace() or text[index] in stops):
        index = _segment_end(text, index, at_start=index == start)
    return index


def _segment_end(text: str, index: int, *, at_start: bool) -> int:
    if text.startswith("<%", index):
        close = text.find("%>", index + 2)
        if close < 0:
            raise _Problem("Unterminated expression")
        return close + 2
    char = text[index]
    # A quote opens a string only where a value starts: in `msg=don't`
    # the apostrophe is just a character.
    if char in "\"'" and at_start:
        return _quoted_end(text, index)
    if char in _CLOSERS:
        return _bracketed_end(text, index)
    return index + 1


def _quoted_end(text: str, start: int) -> int:
    quote = text[start]
    index = start + 1
    while index < len(text):
        if text[index] == "\\":
            index += 2
            continue
        if text[index] == quote:
            return index + 1
        index += 1
    raise _Problem("Unterminated quote")


def _bracketed_end(text: str, start: int) -> int:
    # Balanced over all bracket kinds, skipping quoted text, so values like
    # {{ {'a': [1]} }} or {"k": "}"} end where they should.
    expected = [_CLOSERS[text[start]]]
    index = start + 1
    while index < len(text):
        char = text[index]
        if char in "\"'":
            index = _quoted_end(text, index)
            continue
        if char in _CLOSERS:
            expected.append(_CLOSERS[char])
        elif char in ")]}":
            if char != expected.pop():
                raise _Problem(f"Unbalanced '{char}'")
            if not expected:
                return index + 1
        index += 1
    raise _Problem(f"Unclosed '{text[start]}'")
