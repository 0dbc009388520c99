"""How fast the workflow language library is.

    .venv/bin/python bench/language.py [--tasks 1000] [--runs 9]

Prints:

- parse + validate of a generated workflow of --tasks tasks (a chain where
  every task runs an action with an inline YAQL parameter, publishes a
  YAQL and a Jinja value, retries with an expression delay, and moves on
  under a YAQL condition or fails with a message), median and best of
  --runs. "cold" starts every run with empty expression caches, as for a
  definition never seen before; "warm" re-validates the same text (caches
  full). Each task's expressions are distinct texts (names and numbers
  differ) of a few shapes, as in real workflows: YAQL syntax verdicts are
  shared by expressions with the same token types.
- the cost of one evaluation of a cached expression: YAQL reading data
  (`<% $.a.b %>`), YAQL with an operator (`<% $.x + 1 %>`), and Jinja
  (`{{ _.x + 1 }}`), in microseconds (median of repeated batches).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from levante.expressions import ExpressionContext, clear_caches, evaluate
from levante.language import parse

BUDGET_MS = 200.0


def generate(tasks: int) -> str:
    """A direct workflow chaining `tasks` tasks, as a user would write it."""
    lines = [
        "version: '2.0'",
        "big:",
        "  description: A generated chain.",
        "  input:",
        "    - seed: 1",
        "  output:",
        f"    last: <% $.value_{tasks} %>",
        "  tasks:",
    ]
    for i in range(tasks):
        lines += [
            f"    task_{i}:",
            f"      action: std.echo output=<% $.value_{i} + {i} %>",
            "      publish:",
            f"        value_{i + 1}: <% task().result %>",
            f"        note_{i}: '{{{{ _.seed * {i} }}}}'",
            "      retry:",
            "        count: 3",
            "        delay: <% $.seed %>",
        ]
        if i + 1 < tasks:
            lines += [
                "      on-success:",
                f"        - task_{i + 1}: <% $.value_{i + 1} != null %>",
                "      on-error:",
                f"        - fail msg='task {i} failed'",
            ]
    return "\n".join(lines) + "\n"


def _time_ms(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    function()
    return (time.perf_counter() - start) * 1000


def parse_figures(tasks: int, runs: int) -> tuple[list[float], list[float]]:
    text = generate(tasks)
    document = parse(text)  # also checks the generated text is valid
    assert len(document.workflows[0].tasks) == tasks
    cold, warm = [], []
    for _ in range(runs):
        clear_caches()
        cold.append(_time_ms(lambda: parse(text)))
        warm.append(_time_ms(lambda: parse(text)))
    return cold, warm


def evaluation_us(expression: str, context: ExpressionContext, batch: int = 2000) -> float:
    evaluate(expression, context)  # compile and cache
    samples = []
    for _ in range(7):
        start = time.perf_counter()
        for _ in range(batch):
            evaluate(expression, context)
        samples.append((time.perf_counter() - start) / batch * 1e6)
    return statistics.median(samples)


def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    arguments.add_argument("--tasks", type=int, default=1000)
    arguments.add_argument("--runs", type=int, default=9)
    options = arguments.parse_args()

    cold, warm = parse_figures(options.tasks, options.runs)
    verdict = "within" if statistics.median(cold) <= BUDGET_MS else "OVER"
    print(
        f"parse + validate, {options.tasks} tasks: "
        f"cold median {statistics.median(cold):.1f} ms (best {min(cold):.1f}), "
        f"warm median {statistics.median(warm):.1f} ms (best {min(warm):.1f}) "
        f"[{verdict} the {BUDGET_MS:.0f} ms budget]"
    )
    context = ExpressionContext(data={"x": 41, "a": {"b": [1, 2, 3]}})
    for label, expression in (
        ("YAQL data read", "<% $.a.b %>"),
        ("YAQL operator", "<% $.x + 1 %>"),
        ("Jinja", "{{ _.x + 1 }}"),
    ):
        print(
            f"cached {label} {expression}: {evaluation_us(expression, context):.1f} µs/evaluation"
        )


if __name__ == "__main__":
    main()
