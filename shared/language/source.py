"""Definition text -> plain data, remembering where every node came from.

One pass over the YAML event stream (libyaml's parser when PyYAML has it,
else PyYAML's own) builds the value, the position of every node, indexed by
the same dotted paths issues use (`wf.tasks.task1.on-success[0]`), and the
keys a mapping repeats. Building from events rather than from a composed
node tree is both faster (no tree, no second walk) and safer: nesting depth
and alias expansion are bounded while the text is read, so a hostile
definition (`[[[[...`, a "billion laughs" of aliases, an alias to its own
ancestor) is refused early with a positioned error instead of exhausting
the stack, the memory or the clock.

The values are those `yaml.safe_load` gives, restricted to JSON-like data:
strings, numbers, booleans, null, lists and string-or-scalar-keyed dicts.
Implicit timestamps stay strings; tags that build other types (`!!binary`,
`!!set`, `!!timestamp`...) are refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.events import (
    AliasEvent,
    MappingEndEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)

from levante.errors import DefinitionError, Issue
from levante.language.spec import Position

# Deeper than any real definition; keeps every recursive walk far from
# Python's recursion limit.
MAX_DEPTH = 100
# Nodes after expanding aliases (a 1,000-task workflow has ~20,000).
MAX_NODES = 2_000_000

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """The safe loader without implicit timestamps.

    Specs hold JSON-like values only; an unquoted `2024-01-01` stays text
    instead of becoming a `datetime.date` nothing downstream can store.
    """


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

_TAG = "tag:yaml.org,2002:"
_STR, _MAP, _SEQ, _MERGE = _TAG + "str", _TAG + "map", _TAG + "seq", _TAG + "merge"
_SCALAR_TAGS = frozenset({_TAG + "int", _TAG + "float", _TAG + "bool", _TAG + "null"})
# The characters a plain scalar with an implicit non-string type starts with.
_IMPLICIT_FIRST = frozenset(first for first in _Loader.yaml_implicit_resolvers if first)


def child_path(parent: str, key: Any) -> str:
    """The path of mapping entry `key` under `parent`."""
    return f"{parent}.{key}" if parent else str(key)


def item_path(parent: str, index: int) -> str:
    """The path of sequence item `index` under `parent`."""
    return f"{parent}[{index}]"


@dataclass(frozen=True, slots=True)
class Source:
    """The loaded data and the positions of its nodes.

    `values` maps a path to where its value starts, `keys` maps a mapping
    entry's path to where its key starts (both as YAML marks with 0-based
    `line` and `column`; read them through `value_at` / `key_at`);
    `duplicates` lists keys that occur twice in one mapping (YAML keeps the
    last silently), with the position of the repeated key.
    """

    data: Any
    values: dict[str, Any] = field(default_factory=dict)
    keys: dict[str, Any] = field(default_factory=dict)
    duplicates: tuple[tuple[str, Position], ...] = ()

    def value_at(self, path: str) -> Position | None:
        """Where the value at `path` starts, else its nearest known ancestor."""
        while True:
            found = self.values.get(path)
            if found is not None:
                return _position(found)
            if not path:
                return None
            path = _parent(path)

    def key_at(self, path: str) -> Position | None:
        """Where the key of the entry at `path` starts, else its value's position."""
        found = self.keys.get(path)
        return _position(found) if found is not None else self.value_at(path)


def _parent(path: str) -> str:
    cut = max(path.rfind("."), path.rfind("["))
    return path[:cut] if cut > 0 else ""


def load(text: str) -> Source:
    """Parse YAML text into a `Source`.

    Raises:
        DefinitionError: the text is not well-formed YAML, has more than one
            document, uses an unsupported tag, nests deeper than `MAX_DEPTH`
            or expands through aliases to more than `MAX_NODES` nodes; the
            message starts with "Definition could not be parsed: " and
            carries one issue positioned at the problem.
    """
    if not isinstance(text, str):
        raise _error("the definition must be text", None)
    try:
        loader = _Loader(text)
    except UnicodeError as error:  # lone surrogates cannot be encoded for libyaml
        index = getattr(error, "start", 0)
        line = text.count("\n", 0, index)
        column = index - (text.rfind("\n", 0, index) + 1)
        raise _error(
            f"the text is not valid Unicode ({error.reason})", Position(line + 1, column + 1)
        ) from error
    try:
        builder = _Builder(loader)
        data = builder.document()
    except yaml.YAMLError as error:
        raise _syntax_error(error) from error
    finally:
        loader.dispose()
    return Source(data, builder.values, builder.keys, tuple(builder.duplicates))


def _error(reason: str, position: Position | None) -> DefinitionError:
    message = f"Definition could not be parsed: {reason}"
    return DefinitionError(message, issues=(Issue(message, "", position),))


def _syntax_error(error: yaml.YAMLError) -> DefinitionError:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    position = Position(mark.line + 1, mark.column + 1) if mark is not None else None
    if position is None and isinstance(error, yaml.reader.ReaderError):
        position = Position(1, error.position + 1)
    return _error(str(error), position)


def _position(mark: Any) -> Position:
    return Position(mark.line + 1, mark.column + 1)


class _Anchor:
    """What an anchor names: its value, its expanded size, and whether it is
    complete (an alias met while its anchor is still open is recursive)."""

    __slots__ = ("value", "size", "complete")

    def __init__(self, value: Any) -> None:
        self.value = value
        self.size = 0
        self.complete = False


class _Builder:
    """Builds data and positions from the loader's events.

    Each method takes the event that starts what it builds, already read:
    reading events one by one (no peeking) is what keeps a 20,000-node
    definition in the tens of milliseconds.
    """

    def __init__(self, loader: Any) -> None:
        self.next_event = loader.get_event
        self.loader = loader
        self.values: dict[str, Any] = {}
        self.keys: dict[str, Any] = {}
        self.duplicates: list[tuple[str, Position]] = []
        self.anchors: dict[str, _Anchor] = {}
        self.size = 0

    def document(self) -> Any:
        self.next_event()  # StreamStart
        event = self.next_event()
        if type(event) is StreamEndEvent:
            return None
        start = event  # DocumentStart
        data = self.node(self.next_event(), "", 0)
        self.next_event()  # DocumentEnd
        event = self.next_event()
        if type(event) is not StreamEndEvent:
            raise yaml.composer.ComposerError(
                "expected a single document in the stream",
                start.start_mark,
                "but found another document",
                event.start_mark,
            )
        return data

    def node(self, event: Any, path: str, depth: int) -> Any:
        self.values[path] = event.start_mark
        kind = type(event)
        if kind is ScalarEvent:
            self.size += 1
            value = self._scalar(event)
            if event.anchor is not None:
                anchor = self.anchors[event.anchor] = _Anchor(value)
                anchor.size, anchor.complete = 1, True
            return value
        if kind is AliasEvent:
            return self._alias(event)
        if depth >= MAX_DEPTH:
            raise ConstructorError(
                None, None, f"nesting is deeper than {MAX_DEPTH} levels", event.start_mark
            )
        self._count(1, event)
        before = self.size
        next_event = self.next_event
        if kind is SequenceStartEvent:
            self._collection_tag(event, _SEQ)
            value: Any = []
            anchor = self._open(event, value)
            index = 0
            item = next_event()
            while type(item) is not SequenceEndEvent:
                value.append(self.node(item, f"{path}[{index}]", depth + 1))
                index += 1
                item = next_event()
        else:
            self._collection_tag(event, _MAP)
            value = {}
            anchor = self._open(event, value)
            self._mapping(value, event, path, depth)
        if anchor is not None:
            anchor.size, anchor.complete = self.size - before + 1, True
        return value

    def _mapping(self, mapping: dict[Any, Any], start: Any, path: str, depth: int) -> None:
        next_event = self.next_event
        merged: dict[Any, Any] = {}
        key_event = next_event()
        while type(key_event) is not MappingEndEvent:
            key, is_merge = self._key(key_event, start)
            if is_merge:
                self._merge(merged, start, key_event, path, depth)
            else:
                entry = f"{path}.{key}" if path else str(key)
                if key in mapping:
                    self.duplicates.append((entry, _position(key_event.start_mark)))
                self.keys[entry] = key_event.start_mark
                mapping[key] = self.node(next_event(), entry, depth + 1)
            key_event = next_event()
        if merged:
            # Explicit keys win over merged ones, merged keys come first:
            # what `yaml.safe_load` does.
            explicit = dict(mapping)
            mapping.clear()
            mapping.update(merged)
            mapping.update(explicit)

    def _key(self, event: Any, start: Any) -> tuple[Any, bool]:
        kind = type(event)
        if kind is ScalarEvent:
            self.size += 1
            if event.value == "<<" and event.tag is None and event.implicit[0]:
                return None, True
            key = self._scalar(event)
            if event.anchor is not None:
                anchor = self.anchors[event.anchor] = _Anchor(key)
                anchor.size, anchor.complete = 1, True
            return key, False
        if kind is AliasEvent:
            key = self._alias(event)
            if isinstance(key, (dict, list)):
                raise ConstructorError(
                    "while constructing a mapping",
                    start.start_mark,
                    "found unhashable key",
                    event.start_mark,
                )
            return key, False
        raise ConstructorError(
            "while constructing a mapping",
            start.start_mark,
            "found a collection as a key; keys must be scalars",
            event.start_mark,
        )

    def _merge(self, merged: dict[Any, Any], start: Any, event: Any, path: str, depth: int) -> None:
        # Merged values are indexed under a throwaway path: their positions
        # belong to the anchor they came from, not to this mapping.
        value = self.node(self.next_event(), child_path(path, "<<"), depth + 1)
        sources = value if isinstance(value, list) else [value]
        if not all(isinstance(source, dict) for source in sources):
            raise ConstructorError(
                "while constructing a mapping",
                start.start_mark,
                "expected a mapping or list of mappings for merging",
                event.start_mark,
            )
        # With a list, earlier mappings win over later ones.
        for source in reversed(sources):
            merged.update(source)

    def _alias(self, event: Any) -> Any:
        anchor = self.anchors.get(event.anchor)
        if anchor is None:
            raise yaml.composer.ComposerError(
                None, None, f"found undefined alias {event.anchor!r}", event.start_mark
            )
        if not anchor.complete:
            raise yaml.composer.ComposerError(
                None,
                None,
                f"found a recursive alias {event.anchor!r} (an alias inside its own anchor)",
                event.start_mark,
            )
        self._count(anchor.size, event)
        return anchor.value

    def _open(self, event: Any, value: Any) -> _Anchor | None:
        if event.anchor is None:
            return None
        anchor = self.anchors[event.anchor] = _Anchor(value)
        return anchor

    def _count(self, nodes: int, event: Any) -> None:
        # Scalars add to `size` directly: one text character makes at most
        # one of them, so only aliases and collections need the check.
        self.size += nodes
        if self.size > MAX_NODES:
            raise ConstructorError(
                None,
                None,
                f"the definition expands to more than {MAX_NODES} values through aliases",
                event.start_mark,
            )

    def _collection_tag(self, event: Any, expected: str) -> None:
        if event.tag is not None and event.tag not in ("!", expected):
            raise ConstructorError(None, None, f"unsupported tag {event.tag!r}", event.start_mark)

    def _scalar(self, event: Any) -> Any:
        tag = event.tag
        value = event.value
        if tag is None:
            # Quoted scalars, and plain ones no implicit type can start
            # with, are strings without asking the resolver.
            if not event.implicit[0] or (value and value[0] not in _IMPLICIT_FIRST):
                return value
            tag = self.loader.resolve(yaml.ScalarNode, value, event.implicit)
        elif tag == "!":
            tag = _STR
        if tag == _STR:
            return value
        if tag not in _SCALAR_TAGS:
            raise ConstructorError(None, None, f"unsupported tag {tag!r}", event.start_mark)
        node = yaml.ScalarNode(tag, value, event.start_mark, event.end_mark, event.style)
        try:
            return self.loader.yaml_constructors[tag](self.loader, node)
        except (ValueError, KeyError, TypeError, OverflowError) as error:
            raise ConstructorError(
                None, None, f"{value!r} is not a valid {tag[len(_TAG) :]}", event.start_mark
            ) from error
