"""The `Action` base class, its input signature, and secret parameters.

An action declares its input in one of two ways:

- as keyword parameters of `run` after the context:
  `async def run(self, context, *, output, delay=0)`;
- or as a class-level `parameters` mapping (name -> default, `REQUIRED` for
  none) with `run(self, context, **action_input)` receiving them.

`run` may be a coroutine function (runs on the executor's event loop) or a
plain function (runs in the executor's bounded thread pool: use it for
blocking libraries). Parameters named with `secret(...)` never appear in
logs or error messages (pike secure-sensitive-data).
"""

from __future__ import annotations

import inspect
import json
import weakref
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

if TYPE_CHECKING:
    from levante.actions.context import ActionContext

#: What `mask` puts in place of a secret value.
MASK = "***"


class _Required:
    """Marks a parameter without a default."""

    def __repr__(self) -> str:
        return "REQUIRED"


#: Default of a required parameter in a class-level `parameters` mapping.
REQUIRED: Any = _Required()


class InvalidInputError(ValueError):
    """Input is missing required parameters or has unknown ones (Mistral's wording)."""

    def __init__(
        self, *, name: str, class_name: str, missing: list[str], unexpected: list[str]
    ) -> None:
        super().__init__(
            f"Invalid input [name={name}, class={class_name}, "
            f"missing={missing}, unexpected={unexpected}]"
        )
        self.missing = missing
        self.unexpected = unexpected


@dataclass(frozen=True, slots=True)
class Parameter:
    """One input parameter; `default` is `REQUIRED` when it has none."""

    name: str
    default: Any = REQUIRED

    @property
    def required(self) -> bool:
        """Whether the input must name this parameter."""
        return self.default is REQUIRED

    def render(self) -> str:
        """`name` or `name=<default as JSON>`, as Mistral lists action input."""
        if self.required:
            return self.name
        try:
            return f"{self.name}={json.dumps(self.default)}"
        except TypeError:
            return f"{self.name}={self.default!r}"


@dataclass(frozen=True, slots=True)
class Signature:
    """An action's input: its parameters, and the name of `**extra` if it takes any input."""

    parameters: tuple[Parameter, ...] = ()
    extra: str | None = None

    def render(self) -> str:
        """Mistral's form, e.g. `output, delay=0` or `url, method="GET", ...`."""
        parts = [p.render() for p in self.parameters]
        if self.extra:
            parts.append(f"**{self.extra}")
        return ", ".join(parts)

    def names(self) -> tuple[str, ...]:
        """Names of the declared parameters, in order."""
        return tuple(p.name for p in self.parameters)

    def bind(self, given: Mapping[str, Any], *, name: str, class_name: str) -> dict[str, Any]:
        """The full input: `given` plus defaults.

        Raises:
            InvalidInputError: naming every missing and every unexpected parameter.
        """
        declared = {p.name: p for p in self.parameters}
        missing = [p.name for p in self.parameters if p.required and p.name not in given]
        unexpected = [] if self.extra else [k for k in given if k not in declared]
        if missing or unexpected:
            raise InvalidInputError(
                name=name, class_name=class_name, missing=missing, unexpected=unexpected
            )
        values = {p.name: p.default for p in self.parameters if not p.required}
        values.update(given)
        return values


class Action:
    """Base class of every action; subclass it and implement `run`.

    Class attributes:
        is_sync: True (default) when `run`'s return is the result; False when
            `run` only starts the work and the result is delivered later
            through the API (the action execution stays RUNNING). A failure
            of an asynchronous action's `run` is still reported at once.
        parameters: Optional class-level input signature (name -> default,
            `REQUIRED` for none); when None, `run`'s keyword parameters are
            the input.
        secret_parameters: Names of sensitive parameters (set by `secret`).

    One instance runs one action execution. `__init__` takes no input; the
    catalogue may hand an instance its dependencies as keyword arguments.
    """

    is_sync: ClassVar[bool] = True
    parameters: ClassVar[Mapping[str, Any] | None] = None
    secret_parameters: ClassVar[frozenset[str]] = frozenset()

    async def run(self, context: ActionContext, **action_input: Any) -> Any:
        """Does the work; returns the result, a `Success`/`Failure`, or raises `ActionError`.

        May also be a plain (blocking) method; it then runs in a thread pool.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement run()")

    def test(self, context: ActionContext, **action_input: Any) -> Any:
        """Dry run: returns what `run` would, without side effects (None by default)."""
        return None

    @classmethod
    def input_signature(cls) -> Signature:
        """The action's input signature (see the module docstring).

        Raises:
            TypeError: if `run` does not take a context, or cannot receive a
                declared class-level parameter.
        """
        return _signature_of(cls)

    @classmethod
    def description(cls) -> str:
        """The first paragraph of the class docstring (not inherited), or ''."""
        doc = cls.__dict__.get("__doc__") or ""
        first = inspect.cleandoc(doc).split("\n\n", 1)[0]
        return " ".join(first.split())

    @classmethod
    def runs_blocking(cls) -> bool:
        """Whether `run` is a plain function (it then runs in a thread pool)."""
        return not inspect.iscoroutinefunction(cls.run)


A = TypeVar("A", bound=type[Action])


def secret(*names: str) -> Callable[[A], A]:
    """Class decorator marking input parameters as sensitive.

    Their values are replaced by `***` wherever the executor logs input
    and are scrubbed from failure messages and data:

        @secret("password")
        class Login(Action):
            async def run(self, context, *, user, password): ...
    """
    if not names or not all(isinstance(n, str) and n for n in names):
        raise TypeError("secret() takes one or more parameter names")

    def mark(cls: A) -> A:
        cls.secret_parameters = frozenset(cls.secret_parameters) | frozenset(names)
        return cls

    return mark


def _secret_names(action: type[Action] | Action | Collection[str]) -> frozenset[str]:
    if isinstance(action, Action) or (isinstance(action, type) and issubclass(action, Action)):
        return action.secret_parameters
    return frozenset(action)


def mask(
    action_input: Mapping[str, Any], action: type[Action] | Action | Collection[str]
) -> dict[str, Any]:
    """A copy of `action_input` with the values of `action`'s secret parameters as `***`.

    `action` is an Action class or instance, or a collection of parameter
    names. Use it for anything that logs or shows action input.
    """
    hidden = _secret_names(action)
    return {k: (MASK if k in hidden else v) for k, v in action_input.items()}


def secret_values(
    action_input: Mapping[str, Any], action: type[Action] | Action | Collection[str]
) -> tuple[str, ...]:
    """The text of every secret value in `action_input` (longest first), for `scrub`."""
    hidden = _secret_names(action)
    found = {text for k, v in action_input.items() if k in hidden for text in _leaves(v)}
    return tuple(sorted((t for t in found if t), key=len, reverse=True))


def scrub(value: Any, secrets: Iterable[str]) -> Any:
    """`value` with every occurrence of each secret text replaced by `***`.

    Walks strings inside dicts, lists and tuples; other values are returned
    as they are.
    """
    texts = tuple(secrets)
    if not texts:
        return value
    return _scrub(value, texts)


def _scrub(value: Any, texts: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        for text in texts:
            value = value.replace(text, MASK)
        return value
    if isinstance(value, Mapping):
        return {_scrub(k, texts): _scrub(v, texts) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_scrub(v, texts) for v in value)
    return value


def _leaves(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int | float):
        yield str(value)
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _leaves(item)


_SIGNATURES: weakref.WeakKeyDictionary[type[Action], Signature] = weakref.WeakKeyDictionary()


def _signature_of(cls: type[Action]) -> Signature:
    known = _SIGNATURES.get(cls)
    if known is None:
        known = _SIGNATURES[cls] = _derive_signature(cls)
    return known


def _derive_signature(cls: type[Action]) -> Signature:
    run_parameters = list(inspect.signature(cls.run).parameters.values())[1:]  # drop self
    if not run_parameters or run_parameters[0].kind not in (
        inspect.Parameter.POSITIONAL_ONLY,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
    ):
        raise TypeError(f"{cls.__name__}.run must take the context as its first argument")
    rest = run_parameters[1:]
    var_keyword = next((p.name for p in rest if p.kind is inspect.Parameter.VAR_KEYWORD), None)
    named = [
        p
        for p in rest
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    ]
    if cls.parameters is not None:
        accepted = {p.name for p in named}
        cannot = [n for n in cls.parameters if n not in accepted and var_keyword is None]
        if cannot:
            raise TypeError(f"{cls.__name__}.run cannot receive declared parameters {cannot}")
        return Signature(tuple(Parameter(n, d) for n, d in cls.parameters.items()))
    declared = tuple(
        Parameter(p.name, REQUIRED if p.default is inspect.Parameter.empty else p.default)
        for p in named
    )
    return Signature(declared, var_keyword)
