"""Expression limits: a runaway expression fails with a clear error; evaluation goes on."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from levante.errors import ExpressionError
from levante.expressions import ExpressionContext, budget, evaluate

CONTEXT = ExpressionContext(data={"items": [1, 2, 3]})


@pytest.fixture(autouse=True)
def tight_limits() -> Iterator[None]:
    before = (budget.LIMITS.timeout, budget.LIMITS.memory)
    budget.configure(timeout=0.3, memory=16 * 1024 * 1024)
    yield
    budget.configure(timeout=before[0], memory=before[1])


RUNAWAY = [
    ("<% range(0, 1000000000000).sum() %>", "took longer than 0.3 s"),
    ("<% range(0, 100000000).select($ * 2).toList() %>", "longer than|too much memory"),
    ("<% 'abc' * 100000000 %>", "too much memory"),
    ("<% pow(7, 1000000000) %>", "exceed the expression memory limit"),
    ("{{ 'abc' * 100000000 }}", "exceed the expression memory limit"),
    ("{{ [1, 2] * 100000000 }}", "exceed the expression memory limit"),
    ("{{ 7 ** 1000000000 }}", "exceed the expression memory limit"),
    (
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        "took longer than 0.3 s",
    ),
]


@pytest.mark.parametrize(("text", "message"), RUNAWAY, ids=[r[0][:40] for r in RUNAWAY])
def test_a_runaway_expression_fails_with_a_clear_error(text: str, message: str) -> None:
    started = time.monotonic()
    with pytest.raises(ExpressionError, match=message):
        evaluate(text, CONTEXT)
    assert time.monotonic() - started < 5
    # And the next expression evaluates as usual.
    assert evaluate("<% $.items.len() %>", CONTEXT) == 3


def test_reasonable_expressions_are_not_limited() -> None:
    assert evaluate("<% range(0, 1000).sum() %>", CONTEXT) == 499500
    assert evaluate("{{ '-' * 80 }}", CONTEXT) == "-" * 80
    assert evaluate("<% pow(2, 64) %>", CONTEXT) == 2**64


def test_deadlines_are_per_thread() -> None:
    results: dict[str, object] = {}

    def slow() -> None:
        try:
            evaluate("<% range(0, 1000000000000).sum() %>", CONTEXT)
        except ExpressionError as error:
            results["slow"] = error.message

    def quick() -> None:
        results["quick"] = [evaluate("<% $.items.sum() %>", CONTEXT) for _ in range(200)][-1]

    threads = [threading.Thread(target=slow), threading.Thread(target=quick)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert results["quick"] == 6
    assert "took longer" in str(results["slow"])


@st.composite
def expressions(draw: st.DrawFn) -> str:
    """Expressions built from pieces that can blow up (huge ranges, repeats, powers)."""
    size = draw(st.sampled_from(["10", "100000000", "1000000000000"]))
    yaql = [
        f"range(0, {size}).sum()",
        f"'x' * {size}",
        f"pow(3, {size})",
        f"range(0, {size}).select([$] * 3).len()",
        f"$.items.select(range(0, {size}).len())",
    ]
    jinja = [f"'x' * {size}", f"3 ** {size}", f"range({size}) | list | length", f"[0] * {size}"]
    if draw(st.booleans()):
        return "<% " + draw(st.sampled_from(yaql)) + " %>"
    return "{{ " + draw(st.sampled_from(jinja)) + " }}"


FUZZED = 60


@settings(max_examples=FUZZED, deadline=None, suppress_health_check=list(HealthCheck))
@given(expressions())
def test_fuzzed_runaway_expressions_never_escape(text: str) -> None:
    """Whatever it is, an expression returns a value or raises ExpressionError, in time."""
    started = time.monotonic()
    try:
        evaluate(text, CONTEXT)
    except ExpressionError:
        pass
    assert time.monotonic() - started < 5
