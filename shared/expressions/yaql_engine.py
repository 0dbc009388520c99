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
import threading
from typing import Any

import yaql
from yaql.language import contexts, conventions, factory, specs, utils, yaqltypes

from levante.expressions import functions
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

_ENGINE = factory.YaqlFactory(keyword_operator="=>", allow_delegates=False).create(
    options=_ENGINE_OPTIONS
)

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
    workflow_execution_id: str | None = None,
    recursive: bool = False,
    state: str | None = None,
    flat: bool = False,
) -> Any:
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
    for name, function in _MISTRAL_FUNCTIONS.items():
        root.register_function(function, name=name)
    return root


_ROOT_CONTEXT = _build_root_context()


# yaql's parser (ply) keeps parse state on the shared engine, so parsing
# must not run on two threads at once; evaluation of parsed trees may.
_PARSE_LOCK = threading.Lock()


@functools.lru_cache(maxsize=4096)
def parse(expression: str) -> Any:
    """Parse a YAQL expression (without `<% %>`); cached by its text.

    Raises:
        yaql.language.exceptions.YaqlException: the expression doesn't parse.
    """
    with _PARSE_LOCK:
        return _ENGINE(expression)


def syntax_error(expression: str) -> str | None:
    """The parse error of a YAQL expression (without `<% %>`), or None."""
    try:
        parse(expression.strip())
    except (yaql.language.exceptions.YaqlException, KeyError, ValueError, TypeError) as error:
        return str(error)
    return None


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


def evaluate(expression: str, context: contexts.ContextBase) -> Any:
    """Evaluate a YAQL expression (without `<% %>`) in a `new_context()`.

    Raises whatever parsing or evaluation raises; the caller wraps it.
    """
    return parse(expression.strip()).evaluate(context=context)
