"""Properties of the expression machinery: the fast path for data reads
reads what yaql reads, and syntax verdicts shared by token shape are the
verdicts parsing gives."""

from __future__ import annotations

import pytest

from levante.errors import ExpressionError
from levante.expressions import ExpressionContext, clear_caches, evaluate, yaql_engine
from levante.expressions.values import to_plain

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

# Data the fast path must read exactly as yaql does (or leave to yaql).
_KEYS = st.sampled_from(["a", "b", "c"])
_DATA = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5)),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(_KEYS, children, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_KEYS, _DATA, max_size=3), st.lists(_KEYS, max_size=4))
def test_fast_path_agrees_with_yaql(data, keys):
    expression = "$" + "".join(f".{key}" for key in keys)
    context = ExpressionContext(data=data)
    try:
        expected = to_plain(yaql_engine.evaluate(expression, yaql_engine.new_context(context)))
    except Exception:  # yaql refuses (`.x` of null or of a string): so must evaluate()
        with pytest.raises(ExpressionError):
            evaluate(f"<% {expression} %>", context)
        return
    assert evaluate(f"<% {expression} %>", context) == expected


_PIECES = st.sampled_from(
    [
        "$", ".", "x", "y_2", "task", "(", ")", "[", "]", "{", "}", ",", "+", "-", "*", "=",
        "!=", "and", "or", "not", "in", "=>", "1", "2.5", "'s'", '"d"', "true", "null",
        "len(", "where(", "$.a", "->", "?", ":",
    ]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(_PIECES, min_size=1, max_size=8), min_size=1, max_size=6))
def test_shape_verdicts_agree_with_parsing(expressions):
    clear_caches()
    for pieces in expressions:
        text = " ".join(pieces)
        try:
            yaql_engine._ENGINE(text)
            parses = True
        except Exception:
            parses = False
        assert (yaql_engine.syntax_error(text) is None) is parses, text
