"""YAQL and Jinja expressions of the Mistral workflow language.

A pure library: `evaluate()` reads only the `ExpressionContext` it is given
(snapshots, and for cross-execution queries the engine's `RuntimeData`), and
`check_syntax()` only the text. Expressions are parsed once and cached by
their text.
"""

from __future__ import annotations

from levante.expressions.context import ExpressionContext
from levante.expressions.evaluator import (
    Language,
    check_syntax,
    clear_caches,
    evaluate,
    is_expression,
    language_of,
)
from levante.expressions.functions import EXECUTION_KEYS, TASK_KEYS
from levante.expressions.runtime import InMemoryRuntime, RuntimeData

__all__ = [
    "EXECUTION_KEYS",
    "ExpressionContext",
    "InMemoryRuntime",
    "Language",
    "RuntimeData",
    "TASK_KEYS",
    "check_syntax",
    "clear_caches",
    "evaluate",
    "is_expression",
    "language_of",
]
