"""YAQL evaluation with the options and functions Mistral uses.

The engine, the root context (standard library plus Mistral's functions)
and parsed expressions are built once and shared: they are immutable once
built, and rebuilding them per evaluation dominates the cost of evaluating.
Each evaluation gets a cheap child context holding `$` and the snapshot.
"""

from __future__ import annotations

# yaql 3.x refers to collections.abc without importing it; importing it
# here, before yaql, makes the attribute exist on `collections`.
import collections.abc  # noqa: F401
import functools
import re
import threading
from collections.abc import Mapping
from typing import Any

import yaql
from yaql.language import contexts, conventions, factory, specs, utils, yaqltypes

from levante.expressions import budget, functions
from levante.expressions.context import ExpressionContext

# Mistral's defaults for its [yaql] options.
_ENGINE_OPTIONS = {
    "yaql.limitIterators": -1,
    "yaql.memoryQuota": -1,
    "yaql.convertTuplesToLists": True,
    "yaql.convertSetsToLists": False,
    "yaql.iterableDicts": False,
    "yaql.convertOutputData": True,
}


def _new_engine(options: dict[str, Any]) -> Any:
    return factory.YaqlFactory(keyword_operator="=>", allow_delegates=False).create(options=options)


_ENGINE = _new_engine(_ENGINE_OPTIONS)


def set_memory_quota(quota: int) -> None:
    """Bounds the collections one expression may build (bytes; 0 for no bound).

    The engine carries its options: it is rebuilt, and expressions parsed
    with the old one are forgotten. Called once, at start (`budget.configure`).
    """
    global _ENGINE
    with _PARSE_LOCK:
        _ENGINE = _new_engine({**_ENGINE_OPTIONS, "yaql.memoryQuota": quota if quota > 0 else -1})
    clear_caches()


# Names in a yaql context are `$`-prefixed identifiers in expressions; '#'
# cannot appear in one, so expressions can't reach the snapshot directly.
_SNAPSHOT_KEY = "#levante_context"


def _snapshot(context: contexts.ContextBase) -> ExpressionContext:
    return context[_SNAPSHOT_KEY]


@specs.parameter("d", utils.MappingType, alias="dict")
@specs.parameter("key", yaqltypes.Keyword())
@specs.name("#operator_.")
def _dict_attribute_or_null(d: Any, key: str) -> Any:
    # yaql 3 raises KeyError for `$.missing`; Mistral workflows rely on the
    # older behaviour where a missing key reads as null.
    return d.get(key)


def _task(context: Any, name: str | None = None) -> Any:
    return functions.task(_snapshot(context), name)


def _tasks(
    context: Any,
    workflow_execution_id: Any = None,
    recursive: Any = None,
    state: Any = None,
    flat: Any = None,
) -> Any:
    # Defaults of None: yaql types a parameter by its default's type, and
    # `tasks(execution().id, ERROR)` (the ocata spec's own example) must
    # reach the function.
    return functions.tasks(_snapshot(context), workflow_execution_id, recursive, state, flat)


def _execution(context: Any) -> Any:
    return functions.execution(_snapshot(context))


def _env(context: Any) -> Any:
    return functions.env(_snapshot(context))


def _global(context: Any, name: str) -> Any:
    return functions.global_var(_snapshot(context), name)


def _json_pp(data: Any) -> str:
    return functions.json_pp(data)


def _json_dump(data: Any) -> str:
    return functions.json_dump(data)


def _json_parse(data: str) -> Any:
    return functions.json_parse(data)


def _yaml_dump(data: Any) -> str:
    return functions.yaml_dump(data)


def _yaml_parse(data: str) -> Any:
    return functions.yaml_parse(data)


def _uuid() -> str:
    return functions.new_uuid()


@specs.parameter("a", yaqltypes.Number())
@specs.parameter("b", yaqltypes.Number())
@specs.parameter("c", yaqltypes.Number(nullable=True))
@specs.name("pow")
def _bounded_pow(a: Any, b: Any, c: Any = None) -> Any:
    # The standard library's pow, refusing results beyond the memory limit
    # (a huge power is one long C call no deadline can interrupt).
    if c is None:
        budget.check_power(a, b)
    return pow(a, b, c)


_MISTRAL_FUNCTIONS = {
    "task": _task,
    "tasks": _tasks,
    "execution": _execution,
    "env": _env,
    "global": _global,
    "json_pp": _json_pp,
    "json_dump": _json_dump,
    "json_parse": _json_parse,
    "yaml_dump": _yaml_dump,
    "yaml_parse": _yaml_parse,
    "uuid": _uuid,
}


def _build_root_context() -> contexts.ContextBase:
    root = yaql.create_context(convention=conventions.CamelCaseConvention())
    # A child layer so our `.` overload shadows the standard library's.
    root = root.create_child_context()
    root.register_function(_dict_attribute_or_null)
    root.register_function(_bounded_pow)
    for name, function in _MISTRAL_FUNCTIONS.items():
        root.register_function(function, name=name)
    return root


_ROOT_CONTEXT = _build_root_context()


# yaql's parser (ply) keeps parse state on the shared engine, so parsing
# must not run on two threads at once; evaluation of parsed trees may.
_PARSE_LOCK = threading.Lock()


@functools.lru_cache(maxsize=16384)
def parse(expression: str) -> Any:
    """Parse a YAQL expression (without `<% %>`); cached by its text.

    Raises:
        yaql.language.exceptions.YaqlException: the expression doesn't parse.
    """
    with _PARSE_LOCK:
        return _ENGINE(expression)


# Token-type sequences of expressions known to parse. Whether an expression
# parses depends only on the types of its tokens (the grammar's actions
# build nodes and never refuse a value), so `$.value_1 + 1` being valid
# vouches for `$.value_2 + 2`: checking it takes lexing only. Bounded: the
# set is emptied when full.
_VALID_SHAPES: dict[tuple[str, ...], None] = {}
_SHAPES_LIMIT = 16384


def _shape(expression: str) -> tuple[str, ...]:
    """The token types of an expression; raises what the lexer raises."""
    with _PARSE_LOCK:
        lexer = _ENGINE.lexer
        lexer.input(expression)
        types = []
        while (token := lexer.token()) is not None:
            types.append(token.type)
    return tuple(types)


def syntax_error(expression: str) -> str | None:
    """The parse error of a YAQL expression (without `<% %>`), or None."""
    text = expression.strip()
    try:
        shape = _shape(text)
        if shape in _VALID_SHAPES:
            return None
        parse(text)
    except RecursionError:
        return "the expression is nested too deeply"
    except Exception as error:  # yaql's lexer and parser raise several kinds
        return str(error) or type(error).__name__
    if len(_VALID_SHAPES) >= _SHAPES_LIMIT:
        _VALID_SHAPES.clear()
    _VALID_SHAPES[shape] = None
    return None


def clear_caches() -> None:
    """Forget parsed expressions, valid shapes and fast paths."""
    parse.cache_clear()
    fast_path.cache_clear()
    _VALID_SHAPES.clear()


def new_context(snapshot: ExpressionContext) -> contexts.ContextBase:
    """A child of the shared root context, with `$` and the snapshot set.

    `$` is yaql's immutable form of the data (as Mistral converts it),
    computed once per snapshot: the conversion walks all of the data.
    """
    context = _ROOT_CONTEXT.create_child_context()
    context["$"] = snapshot.derived("yaql-data", _convert_data)
    context[_SNAPSHOT_KEY] = snapshot
    return context


def _convert_data(snapshot: ExpressionContext) -> Any:
    return utils.convert_input_data(snapshot.data)


_ATTRIBUTE_CHAIN = re.compile(r"\s*\$((?:\s*\.\s*[A-Za-z_][A-Za-z0-9_]*)*)\s*")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Words the lexer reads as operators or constants, never as key names.
_KEYWORDS = frozenset({"true", "false", "null", "and", "or", "not", "in"})


@functools.lru_cache(maxsize=16384)
def fast_path(expression: str) -> tuple[str, ...] | None:
    """The keys of an expression that only reads data (`$`, `$.a`,
    `$.a.b`...), or None for anything else.

    Such expressions are most of what workflows hold, and yaql spends tens
    of microseconds resolving overloads of `.` for each step; `follow()`
    does the same lookups directly.
    """
    match = _ATTRIBUTE_CHAIN.fullmatch(expression)
    if match is None:
        return None
    names = tuple(_NAME.findall(match.group(1)))
    if _KEYWORDS.intersection(names):
        return None
    return names


def follow(path: tuple[str, ...], data: Any) -> tuple[bool, Any]:
    """`(True, value)` for `$.<path>` over `data` when every step reads a
    mapping (a missing key is null, as with `$.missing`); `(False, None)`
    when a step meets anything else, which only yaql itself can answer
    (a collection maps the key over its items; null is an error)."""
    value = data
    for name in path:
        if not isinstance(value, Mapping):
            return False, None
        value = value.get(name)
    return True, value


def evaluate(expression: str, context: contexts.ContextBase) -> Any:
    """Evaluate a YAQL expression (without `<% %>`) in a `new_context()`.

    Raises whatever parsing or evaluation raises; the caller wraps it.
    """
    return parse(expression.strip()).evaluate(context=context)
