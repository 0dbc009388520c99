"""Jinja evaluation in a sandbox, with Mistral's functions as globals.

One environment is built at import and shared; compiled expressions and
templates are cached by their text. `_` is the data (Mistral's name for it;
`$` is YAQL only).
"""

from __future__ import annotations

import functools
from typing import Any

import jinja2
import jinja2.lexer
from jinja2.parser import Parser
from jinja2.sandbox import ImmutableSandboxedEnvironment

from levante.expressions import budget, functions
from levante.expressions.context import ExpressionContext
from levante.expressions.values import as_text

# Not a valid Jinja identifier, so templates can't name the snapshot.
_SNAPSHOT_KEY = "levante-context"


def _snapshot(context: jinja2.runtime.Context) -> ExpressionContext:
    return context[_SNAPSHOT_KEY]


@jinja2.pass_context
def _task(context: jinja2.runtime.Context, name: str | None = None) -> Any:
    return functions.task(_snapshot(context), name)


@jinja2.pass_context
def _tasks(
    context: jinja2.runtime.Context,
    workflow_execution_id: str | None = None,
    recursive: bool = False,
    state: str | None = None,
    flat: bool = False,
) -> Any:
    return functions.tasks(_snapshot(context), workflow_execution_id, recursive, state, flat)


@jinja2.pass_context
def _execution(context: jinja2.runtime.Context) -> Any:
    return functions.execution(_snapshot(context))


@jinja2.pass_context
def _env(context: jinja2.runtime.Context) -> Any:
    return functions.env(_snapshot(context))


@jinja2.pass_context
def _global(context: jinja2.runtime.Context, name: str) -> Any:
    return functions.global_var(_snapshot(context), name)


def _finalize(value: Any) -> Any:
    # How `{{ x }}` inside a longer string renders: the same text as YAQL
    # interpolation (JSON for dicts and lists), and nothing for undefined.
    if isinstance(value, jinja2.Undefined):
        return ""
    return as_text(value)


class _BoundedSandbox(ImmutableSandboxedEnvironment):
    """The sandbox, refusing repetitions and powers beyond the expression memory limit."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            budget.check_repeat(left, right)
            budget.check_repeat(right, left)
        elif operator == "**":
            budget.check_power(left, right)
        return super().call_binop(context, operator, left, right)


def _build_environment() -> jinja2.Environment:
    # Immutable sandbox: expressions see the engine's snapshot by reference,
    # so they must not be able to mutate it (`_.list.append(...)`).
    environment = _BoundedSandbox(
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_finalize,
        # A missing key or attribute reads as an Undefined that becomes null,
        # like `$.missing` in YAQL; using it further (`_.missing.x`) raises.
        undefined=jinja2.Undefined,
    )
    environment.globals.update(
        task=_task,
        tasks=_tasks,
        execution=_execution,
        env=_env,
        uuid=functions.new_uuid,
        json_pp=functions.json_pp,
        json_dump=functions.json_dump,
        json_parse=functions.json_parse,
        yaml_dump=functions.yaml_dump,
        yaml_parse=functions.yaml_parse,
    )
    environment.globals["global"] = _global
    # Mistral also offers its data functions as filters: `{{ _.x | json_dump }}`.
    environment.filters.update(
        json_pp=functions.json_pp,
        json_dump=functions.json_dump,
        json_parse=functions.json_parse,
        yaml_dump=functions.yaml_dump,
        yaml_parse=functions.yaml_parse,
    )
    return environment


_ENVIRONMENT = _build_environment()


def variables(snapshot: ExpressionContext) -> dict[str, Any]:
    """The template variables for evaluating against `snapshot`."""
    return {"_": snapshot.data, _SNAPSHOT_KEY: snapshot}


@functools.lru_cache(maxsize=16384)
def _compiled_expression(expression: str) -> Any:
    return _ENVIRONMENT.compile_expression(expression, undefined_to_none=False)


@functools.lru_cache(maxsize=16384)
def _compiled_template(text: str) -> jinja2.Template:
    return _ENVIRONMENT.from_string(text)


def clear_caches() -> None:
    """Forget compiled expressions and templates."""
    _compiled_expression.cache_clear()
    _compiled_template.cache_clear()
    single_expression.cache_clear()


@functools.lru_cache(maxsize=16384)
def single_expression(text: str) -> str | None:
    """If `text` is exactly one `{{ ... }}` (whitespace around allowed),
    the expression inside it; else None.

    Uses Jinja's lexer rather than a regex because `}}` may legitimately
    occur inside the expression (`{{ {'a': {'b': 1}} }}`).
    """
    stripped = text.strip()
    if not (stripped.startswith("{{") and stripped.endswith("}}")):
        return None
    try:
        tokens = list(_ENVIRONMENT.lex(stripped))
    except Exception:  # any lexing failure: not one well-formed expression
        return None
    if not tokens or tokens[0][1] != "variable_begin" or tokens[-1][1] != "variable_end":
        return None
    if sum(1 for token in tokens if token[1] == "variable_begin") != 1:
        return None
    # Begin/end tokens may carry whitespace control (`{{-`, `-}}`).
    return stripped[len(tokens[0][2]) : len(stripped) - len(tokens[-1][2])]


def syntax_error(text: str) -> str | None:
    """The syntax error of a string holding Jinja expressions, or None.

    A string that is plainly one `{{ expression }}` has just its expression
    parsed (what evaluating it compiles); anything else is parsed as a
    template.
    """
    inner = _plain_single(text)
    if inner is not None:
        try:
            parser = Parser(_ENVIRONMENT, inner, state="variable")
            parser.parse_expression()
            if not parser.stream.eos:
                token = jinja2.lexer.describe_token(parser.stream.current)
                return f"expected token 'end of print statement', got '{token}'"
            return None
        except jinja2.TemplateSyntaxError as error:
            return error.message or str(error)
        except RecursionError:
            return "the expression is nested too deeply"
        except Exception as error:
            return f"{type(error).__name__}: {error}"
    try:
        _ENVIRONMENT.parse(text)
    except jinja2.TemplateSyntaxError as error:
        return str(error)
    except RecursionError:
        return "the expression is nested too deeply"
    except Exception as error:  # the parser failing on odd input is still invalid input
        return f"{type(error).__name__}: {error}"
    return None


def _plain_single(text: str) -> str | None:
    """The inside of `{{ ... }}` when `text` is obviously one expression and
    nothing else (no other markup, no braces or whitespace control that
    would need the lexer to tell apart); else None."""
    stripped = text.strip()
    if not (stripped.startswith("{{") and stripped.endswith("}}")):
        return None
    inner = stripped[2:-2]
    if any(marker in inner for marker in ("{", "}", "{%", "%}", "{#", "#}")):
        return None
    edge = inner.strip()
    if not edge or edge[0] in "-+" or edge[-1] in "-+":
        return None
    return inner


def evaluate_expression(expression: str, snapshot_variables: dict[str, Any]) -> Any:
    """The raw value of one Jinja expression (the text inside `{{ }}`).

    Raises whatever Jinja raises; the caller wraps it.
    """
    return _compiled_expression(expression.strip())(**snapshot_variables)


def render(text: str, snapshot_variables: dict[str, Any]) -> str:
    """Render a string with Jinja expressions and blocks around text.

    Raises whatever Jinja raises; the caller wraps it.
    """
    return _compiled_template(text).render(**snapshot_variables)
