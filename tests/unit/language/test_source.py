"""The YAML loader: values as `yaml.safe_load` gives them, positions, and
refusal of what could hurt (deep nesting, alias bombs, recursive aliases)."""

from __future__ import annotations

import time

import pytest
import yaml

from levante.errors import DefinitionError
from levante.language import Position
from levante.language.source import MAX_DEPTH, load


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\nb: [x, 'y', \"z\"]\nc: {d: null, e: ~, f: true, g: no, h: 1.5, i: 0x1F}\n",
        "list:\n  - one\n  - {k: v}\n  -\n    - nested\n",
        "text: |\n  line one\n  line two\nfolded: >\n  a\n  b\n",
        "base: &b {x: 1, y: 2}\nref: *b\nmerged:\n  <<: *b\n  y: 3\n",
        "many: [&a 1, *a]\nmerge_list: {<<: [{a: 1}, {a: 2, b: 2}], c: 3}\n",
        "quoted: '2024-01-01'\nplain: 2024-01-01\nint: 007\nneg: -3\nexp: 1e3\n",
        "? plain key\n: value\n'quoted key': 1\n123: int key\nnull: null key\n",
        "!!map {a: !!str 1, b: !!int '2', c: !!float '3', d: !!bool 'true', e: !!null ''}",
        "",
        "# only a comment\n",
        "--- scalar document\n",
    ],
    ids=[
        "scalars", "nesting", "block-scalars", "aliases-and-merge", "more-aliases",
        "dates-stay-text", "keys", "explicit-tags", "empty", "comment", "scalar-document",
    ],
)  # fmt: skip
def test_values_are_those_of_safe_load(text):
    expected = yaml.safe_load(text)
    if isinstance(expected, dict) and "plain" in expected:
        expected["plain"] = "2024-01-01"  # no implicit dates
    assert load(text).data == expected


def test_positions_of_keys_and_values():
    source = load("wf:\n  tasks:\n    t1:\n      on-success:\n        - a\n        - b: c\n")
    assert source.key_at("wf.tasks.t1") == Position(3, 5)
    assert source.value_at("wf.tasks.t1.on-success") == Position(5, 9)
    assert source.value_at("wf.tasks.t1.on-success[1]") == Position(6, 11)
    assert source.value_at("wf.tasks.t1.on-success[1].b") == Position(6, 14)
    # Unknown paths fall back to their nearest known ancestor.
    assert source.value_at("wf.tasks.t1.nothing[3]") == Position(4, 7)
    assert source.key_at("wf.tasks.t1.nothing") == Position(4, 7)


def test_positions_count_characters_not_bytes():
    source = load("é: {ü: [1, ö]}\n")
    assert source.value_at("é.ü[1]") == Position(1, 12)


def test_duplicate_keys_are_listed_and_the_last_wins():
    source = load("a: 1\nb:\n  c: 1\n  c: 2\na: 3\n")
    assert source.data == {"a": 3, "b": {"c": 2}}
    assert source.duplicates == (("b.c", Position(4, 3)), ("a", Position(5, 1)))


def test_an_alias_is_positioned_where_it_is_used():
    source = load("x: &anchor [1]\ny: *anchor\n")
    assert source.value_at("y") == Position(2, 4)


def _error(text: str) -> str:
    with pytest.raises(DefinitionError) as raised:
        load(text)
    (issue,) = raised.value.issues
    assert issue.message == raised.value.message
    return raised.value.message


def test_an_alias_bomb_is_refused_quickly():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    start = time.perf_counter()
    message = _error("\n".join(lines) + "\n")
    assert time.perf_counter() - start < 2
    assert "expands to more than" in message


def test_deep_nesting_is_refused_before_the_end_of_the_text():
    start = time.perf_counter()
    message = _error("[" * 200_000)
    assert time.perf_counter() - start < 2
    assert f"nesting is deeper than {MAX_DEPTH} levels" in message


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("a: &x [*x]\n", "found a recursive alias 'x'"),
        ("a: *nowhere\n", "found undefined alias 'nowhere'"),
        ("a: !!set {x: null}\n", "unsupported tag 'tag:yaml.org,2002:set'"),
        ("a: !!timestamp 2024-01-01\n", "unsupported tag 'tag:yaml.org,2002:timestamp'"),
        ("a: !custom x\n", "unsupported tag '!custom'"),
        ("a: !!int nope\n", "'nope' is not a valid int"),
        ("? [a, b]\n: c\n", "found a collection as a key"),
        ("k: &k [1]\n*k : 2\n", "found unhashable key"),
        ("a: {<<: 1}\n", "expected a mapping or list of mappings for merging"),
        ("a: 1\n--- \nb: 2\n", "expected a single document in the stream"),
        ("a: [1, 2\n", "while parsing a flow sequence"),
        ("\t- tab\n", "cannot start any token"),
    ],
    ids=[
        "recursive-alias", "undefined-alias", "set", "timestamp", "custom-tag", "bad-int",
        "collection-key", "aliased-collection-key", "bad-merge", "two-documents",
        "unclosed-flow", "tab",
    ],
)  # fmt: skip
def test_refused_yaml(text, fragment):
    message = _error(text)
    assert message.startswith("Definition could not be parsed: ")
    assert fragment in message


def test_text_that_is_not_unicode():
    assert _error("a: b\nc: x\ud800") == (
        "Definition could not be parsed: the text is not valid Unicode (surrogates not allowed)"
    )
