"""YAQL and Jinja expressions of the Mistral workflow language.

A pure library: `evaluate()` reads only the `ExpressionContext` snapshot it
is given, and `check_syntax()` only the text.
"""

from __future__ import annotations

from levante.expressions.context import ExpressionContext
from levante.expressions.evaluator import (
    Language,
    check_syntax,
    evaluate,
    is_expression,
    language_of,
)

__all__ = [
    "ExpressionContext",
    "Language",
    "check_syntax",
    "evaluate",
    "is_expression",
    "language_of",
]
