"""Finding, checking and evaluating expressions inside definition values.

A string holds YAQL (`<% ... %>`) or Jinja (`{{ ... }}`, `{% ... %}`)
expressions, never both (Mistral rejects mixing; at run time, as in
Mistral, YAQL wins and Jinja markup stays text). A string that is exactly one
expression evaluates to the expression's typed value; otherwise each
expression's value is interpolated into the text.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from levante.errors import ExpressionError
from levante.expressions import budget, jinja_engine, yaql_engine
from levante.expressions.context import ExpressionContext
from levante.expressions.values import as_text, describe_data, to_plain

# DOTALL: an expression may span lines (folded YAML scalars keep newlines).
_YAQL_PATTERN = re.compile(r"<%(.*?)%>", re.DOTALL)
_JINJA_PATTERN = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)


class Language(StrEnum):
    """The expression languages of the workflow language."""

    YAQL = "yaql"
    JINJA = "jinja"


# How many distinct strings keep their analysis (and syntax verdict) cached.
# A 1,000-task workflow holds a few thousand distinct strings.
CACHE_SIZE = 16384


@dataclass(frozen=True, slots=True)
class _Plan:
    """How to evaluate one string, worked out once per distinct text.

    For YAQL, `single` is the expression when the string is exactly one
    (whitespace around allowed); else `parts` alternates literal text and
    expressions (`(text, expression-or-None)` pairs). For Jinja both are
    empty (see `_Session._string`).
    """

    language: Language
    single: str | None = None
    parts: tuple[tuple[str, str | None], ...] = ()


def _plan(text: str) -> _Plan | None:
    # Most strings of a definition (names, prose) hold no expression at all.
    if "<%" not in text and "{{" not in text and "{%" not in text:
        return None
    return _analysed(text)


@functools.lru_cache(maxsize=CACHE_SIZE)
def _analysed(text: str) -> _Plan | None:
    matches = list(_YAQL_PATTERN.finditer(text))
    if matches:
        if len(matches) == 1 and matches[0].group(0) == text.strip():
            return _Plan(Language.YAQL, single=matches[0].group(1))
        parts, position = [], 0
        for match in matches:
            parts.append((text[position : match.start()], match.group(1)))
            position = match.end()
        parts.append((text[position:], None))
        return _Plan(Language.YAQL, parts=tuple(parts))
    if _JINJA_PATTERN.search(text):
        # Whether it is one `{{ }}` is only worked out when evaluating
        # (`jinja_engine.single_expression`, cached): it takes Jinja's
        # lexer, and validation doesn't need it.
        return _Plan(Language.JINJA)
    return None


def language_of(text: str) -> Language | None:
    """Which language's expressions `text` holds (YAQL first), or None."""
    plan = _plan(text)
    return plan.language if plan is not None else None


def is_expression(value: Any) -> bool:
    """Whether `value` is a string holding at least one expression."""
    return isinstance(value, str) and _plan(value) is not None


def check_syntax(text: str) -> str | None:
    """The error message for the first expression in `text` that does not
    parse, or None when all parse (or there are none).

    Mixing YAQL and Jinja in one string is an error, as in Mistral. Verdicts
    are cached by text, and so are the parsed expressions, so evaluating an
    expression that was validated does not parse it again.
    """
    if "<%" not in text and "{{" not in text and "{%" not in text:
        return None
    return _check_syntax(text)


@functools.lru_cache(maxsize=CACHE_SIZE)
def _check_syntax(text: str) -> str | None:
    plan = _plan(text)
    if plan is None:
        return None
    if plan.language is Language.YAQL:
        if _JINJA_PATTERN.search(_YAQL_PATTERN.sub("", text)) is not None:
            return (
                "The line already contains an expression of type 'yaql'. "
                "Mixing expression types in a single line is not allowed."
            )
        expressions = [plan.single] if plan.single is not None else [e for _, e in plan.parts]
        for expression in expressions:
            if expression is None:
                continue
            error = yaql_engine.syntax_error(expression)
            if error is not None:
                return f"Invalid YAQL expression '{expression.strip()}': {error}"
        return None
    error = jinja_engine.syntax_error(text)
    if error is not None:
        return f"Invalid Jinja expression '{text.strip()}': {error}"
    return None


def clear_caches() -> None:
    """Forget every cached analysis, verdict and compiled expression (for
    benchmarks and tests that measure the cold path)."""
    _analysed.cache_clear()
    _check_syntax.cache_clear()
    yaql_engine.clear_caches()
    jinja_engine.clear_caches()


def evaluate(value: Any, context: ExpressionContext) -> Any:
    """Evaluate every expression in `value` against `context`.

    Dicts (keys included), lists and tuples are walked recursively and come
    back as new dicts and lists; other non-strings are returned as they are.
    The result is plain JSON-like Python.

    Raises:
        ExpressionError: an expression does not parse or fails to evaluate;
            `expression` holds its text (without the delimiters).
    """
    return _Session(context).evaluate(value)


class _Session:
    """One `evaluate()` call: builds each engine's per-snapshot state at most
    once, however many strings the value holds."""

    __slots__ = ("_context", "_yaql_context", "_jinja_variables")

    def __init__(self, context: ExpressionContext) -> None:
        self._context = context
        self._yaql_context: Any = None
        self._jinja_variables: dict[str, Any] | None = None

    def evaluate(self, value: Any) -> Any:
        if isinstance(value, str):
            return self._string(value)
        if isinstance(value, dict):
            return {self._key(k): self.evaluate(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.evaluate(item) for item in value]
        return value

    def _key(self, key: Any) -> Any:
        if not is_expression(key):
            return key
        # Keys must stay hashable and JSON object keys are text.
        return as_text(self._string(key))

    def _string(self, text: str) -> Any:
        plan = _plan(text)
        if plan is None:
            return text
        if plan.language is Language.YAQL:
            if plan.single is not None:
                return self._yaql(plan.single)
            return "".join(
                literal + (as_text(self._yaql(expression)) if expression is not None else "")
                for literal, expression in plan.parts
            )
        return self._jinja(text, jinja_engine.single_expression(text))

    def _yaql(self, expression: str) -> Any:
        try:
            path = yaql_engine.fast_path(expression)
            if path is not None:
                found, value = yaql_engine.follow(path, self._context.data)
                if found:
                    return to_plain(value)
            if self._yaql_context is None:
                self._yaql_context = yaql_engine.new_context(self._context)
            return to_plain(budget.bounded(yaql_engine.evaluate, expression, self._yaql_context))
        except Exception as error:  # user code: any failure is the user's
            raise self._error("YAQL", expression, error) from error

    def _jinja(self, text: str, expression: str | None) -> Any:
        if self._jinja_variables is None:
            self._jinja_variables = jinja_engine.variables(self._context)
        try:
            if expression is not None:
                return to_plain(
                    budget.bounded(
                        jinja_engine.evaluate_expression, expression, self._jinja_variables
                    )
                )
            return budget.bounded(jinja_engine.render, text, self._jinja_variables)
        except Exception as error:  # user code: any failure is the user's
            raise self._error("Jinja", expression or text, error) from error

    def _error(self, language: str, expression: str, error: Exception) -> ExpressionError:
        expression = expression.strip()
        message = (
            f"Can not evaluate {language} expression [expression={expression}, "
            f"error={_describe_error(error)}, data={describe_data(self._context.data)}]"
        )
        return ExpressionError(message, expression=expression)


_PROPERTY_ERROR = re.compile(r'Unknown function "#property#(.+)"')


def _describe_error(error: Exception) -> str:
    text = str(error)
    # yaql's wording for `.name` on something that is not a mapping (often
    # null, from a missing key earlier in the chain) hides the cause.
    if match := _PROPERTY_ERROR.search(text):
        return f"Can not read '{match.group(1)}': the value is null or not a mapping"
    # A bare KeyError/IndexError prints only the key; say what it was.
    if isinstance(error, (KeyError, IndexError)) or not text:
        return f"{type(error).__name__}: {text}"
    return text
