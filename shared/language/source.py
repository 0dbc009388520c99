"""Definition text -> plain data, remembering where every node came from.

Values are built by PyYAML; positions come from a walk over the composed
node tree and are indexed by the same dotted paths issues use
(`wf.tasks.task1.on-success[0]`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from levante.errors import DefinitionError, Issue
from levante.language.spec import Position


class _Loader(yaml.SafeLoader):
    """SafeLoader without implicit timestamps.

    Specs hold JSON-like values only; an unquoted `2024-01-01` stays text
    instead of becoming a `datetime.date` nothing downstream can store.
    """


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def child_path(parent: str, key: Any) -> str:
    """The path of mapping entry `key` under `parent`."""
    return f"{parent}.{key}" if parent else str(key)


def item_path(parent: str, index: int) -> str:
    """The path of sequence item `index` under `parent`."""
    return f"{parent}[{index}]"


def _position(node: yaml.Node) -> Position:
    mark = node.start_mark
    return Position(line=mark.line + 1, column=mark.column + 1)


@dataclass(frozen=True, slots=True)
class Source:
    """The loaded data and the positions of its nodes.

    `values` maps a path to where its value starts, `keys` maps a mapping
    entry's path to where its key starts; `duplicates` lists keys that occur
    twice in one mapping (YAML keeps the last silently), with the position
    of the repeated key.
    """

    data: Any
    values: dict[str, Position] = field(default_factory=dict)
    keys: dict[str, Position] = field(default_factory=dict)
    duplicates: tuple[tuple[str, Position], ...] = ()

    def value_at(self, path: str) -> Position | None:
        """Where the value at `path` starts, else its nearest known ancestor."""
        while True:
            found = self.values.get(path)
            if found is not None or not path:
                return found
            path = _parent(path)

    def key_at(self, path: str) -> Position | None:
        """Where the key of the entry at `path` starts, else its value's position."""
        found = self.keys.get(path)
        return found if found is not None else self.value_at(path)


def _parent(path: str) -> str:
    cut = max(path.rfind("."), path.rfind("["))
    return path[:cut] if cut > 0 else ""


def load(text: str) -> Source:
    """Parse YAML text into a `Source`.

    Raises:
        DefinitionError: the text is not well-formed YAML; the message starts
            with "Definition could not be parsed: " and carries one issue
            positioned at the problem.
    """
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as error:
        raise _syntax_error(error) from error
    finally:
        loader.dispose()
    indexer = _Indexer()
    if node is not None:
        indexer.visit(node, "")
    return Source(data, indexer.values, indexer.keys, tuple(indexer.duplicates))


def _syntax_error(error: yaml.YAMLError) -> DefinitionError:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    position = Position(mark.line + 1, mark.column + 1) if mark is not None else None
    if position is None and isinstance(error, yaml.reader.ReaderError):
        position = Position(1, error.position + 1)
    message = f"Definition could not be parsed: {error}"
    return DefinitionError(message, issues=(Issue(message, "", position),))


class _Indexer:
    """Records node positions by path, in document order, so that for a
    repeated key the last occurrence (the one YAML keeps) wins."""

    def __init__(self) -> None:
        self.values: dict[str, Position] = {}
        self.keys: dict[str, Position] = {}
        self.duplicates: list[tuple[str, Position]] = []
        # Aliased collections are indexed once: an alias may refer back to
        # an ancestor, and positions of the anchor are what the user wrote.
        self._visited: set[int] = set()

    def visit(self, node: yaml.Node, path: str) -> None:
        self.values[path] = _position(node)
        if isinstance(node, yaml.ScalarNode) or id(node) in self._visited:
            return
        self._visited.add(id(node))
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key_node, value_node in node.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
                entry = child_path(path, key)
                if key in seen:
                    self.duplicates.append((entry, _position(key_node)))
                seen.add(key)
                self.keys[entry] = _position(key_node)
                self.visit(value_node, entry)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self.visit(item, item_path(path, index))
