"""The action catalogue: the standard actions plus plugins, by name, and how to run one.

Plugins are Python entry points in the group `levante.actions`: the entry
point's name is the action's name, its object an `Action` subclass:

    [project.entry-points."levante.actions"]
    "example.greet" = "levante_example_actions:GreetAction"

LEVANTE_ACTION_PACKS (comma-separated) limits which plugins load: an item
matches a plugin when it is the plugin's distribution name or a prefix of
the action name (`example` matches `example.greet`). Unset: all plugins.
The standard actions are always there (the engine itself relies on them).
"""

from __future__ import annotations

import asyncio
import functools
import importlib.metadata
import inspect
import re
import traceback
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import structlog

from levante.actions.base import Action, InvalidInputError, Signature, scrub, secret_values
from levante.actions.context import ActionContext
from levante.actions.results import ActionError, Failure, Outcome, Pending, Success
from levante.actions.std import standard_actions
from levante.actions.std.netguard import ALLOWED_HOSTS_VARIABLE, NetworkPolicy

log = structlog.get_logger(__name__)

ENTRY_POINT_GROUP = "levante.actions"
PACKS_VARIABLE = "LEVANTE_ACTION_PACKS"
DEFAULT_THREADS = 16


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    """One action the catalogue can run.

    Attributes:
        name: Action name, e.g. `std.echo`.
        action_class: The `Action` subclass.
        signature: Its input signature.
        description: First paragraph of the class docstring.
        is_sync: False for asynchronous actions (result delivered later).
        blocking: True when `run` is a plain function (runs in the thread pool).
        distribution: The plugin's distribution name; None for standard actions.
        factory: Makes a fresh instance for one run.
    """

    name: str
    action_class: type[Action]
    signature: Signature
    description: str
    is_sync: bool
    blocking: bool
    distribution: str | None
    factory: Callable[[], Action]

    @classmethod
    def of(
        cls,
        name: str,
        action_class: type[Action],
        *,
        factory: Callable[[], Action] | None = None,
        distribution: str | None = None,
    ) -> CatalogueEntry:
        """Describes `action_class` under `name`.

        Raises:
            TypeError: if it is not an Action subclass or its signature is broken.
        """
        if not (isinstance(action_class, type) and issubclass(action_class, Action)):
            raise TypeError(f"{action_class!r} is not a levante.actions.Action subclass")
        return cls(
            name=name,
            action_class=action_class,
            signature=action_class.input_signature(),
            description=action_class.description(),
            is_sync=bool(action_class.is_sync),
            blocking=action_class.runs_blocking(),
            distribution=distribution,
            factory=factory or action_class,
        )

    @property
    def input(self) -> str:
        """The input signature as Mistral renders it: `output, delay=0`."""
        return self.signature.render()

    @property
    def secret_parameters(self) -> frozenset[str]:
        """Names of the parameters whose values are secret."""
        return self.action_class.secret_parameters


class ActionCatalogue:
    """Actions by name; runs them with validated input, blocking ones in a bounded pool.

    Call `close()` when done (it stops the thread pool).
    """

    def __init__(
        self,
        entries: Iterable[CatalogueEntry] = (),
        *,
        threads: int = DEFAULT_THREADS,
        load_errors: Iterable[str] = (),
    ) -> None:
        if threads < 1:
            raise ValueError("threads must be at least 1")
        self._entries: dict[str, CatalogueEntry] = {}
        errors = list(load_errors)
        for entry in entries:
            if entry.name in self._entries:
                errors.append(f"action {entry.name} is defined twice; keeping the first")
                continue
            self._entries[entry.name] = entry
        self.load_errors: tuple[str, ...] = tuple(errors)
        self._threads = threads
        self._pool: ThreadPoolExecutor | None = None

    @classmethod
    def standard(
        cls, *, network: NetworkPolicy | None = None, threads: int = DEFAULT_THREADS
    ) -> ActionCatalogue:
        """The standard actions only."""
        return cls(_standard_entries(network or NetworkPolicy()), threads=threads)

    @classmethod
    def load(
        cls,
        *,
        packs: str | Collection[str] | None = None,
        network: NetworkPolicy | None = None,
        threads: int = DEFAULT_THREADS,
    ) -> ActionCatalogue:
        """The standard actions plus the installed plugins that `packs` selects (None: all)."""
        errors: list[str] = []
        entries = _standard_entries(network or NetworkPolicy())
        entries += _plugin_entries(_parse_packs(packs), errors)
        catalogue = cls(entries, threads=threads, load_errors=errors)
        for error in catalogue.load_errors:
            log.error("action plugin not loaded", error=error)
        return catalogue

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str], *, threads: int = DEFAULT_THREADS
    ) -> ActionCatalogue:
        """`load` configured by LEVANTE_ACTION_PACKS and LEVANTE_HTTP_ALLOWED_HOSTS."""
        return cls.load(
            packs=environ.get(PACKS_VARIABLE) or None,
            network=NetworkPolicy.parse(environ.get(ALLOWED_HOSTS_VARIABLE)),
            threads=threads,
        )

    def get(self, name: str) -> CatalogueEntry | None:
        """The entry of action `name`, or None."""
        return self._entries.get(name)

    def names(self) -> list[str]:
        """Every action name, sorted."""
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[CatalogueEntry]:
        return iter(sorted(self._entries.values(), key=lambda e: e.name))

    def __len__(self) -> int:
        return len(self._entries)

    async def run(
        self,
        name: str,
        action_input: Mapping[str, Any],
        context: ActionContext,
        *,
        dry_run: bool = False,
    ) -> Outcome:
        """Runs action `name`; returns Success, Failure or Pending and never raises for it.

        Input is validated first (Mistral's "Invalid input [...]" failure).
        An asynchronous action's success becomes `Pending`; its failure stays
        a failure. Secret input values are scrubbed from failures. With
        `dry_run`, the action's `test` runs instead of `run`.
        """
        entry = self._entries.get(name)
        if entry is None:
            return Failure(f"Failed to find action [action_name={name}]")
        try:
            values = entry.signature.bind(
                action_input, name=name, class_name=entry.action_class.__name__
            )
        except InvalidInputError as error:
            return Failure(str(error))
        secrets = secret_values(values, entry.secret_parameters)
        outcome = await self._invoke(entry, values, context.bound(self), dry_run, secrets)
        if not entry.is_sync and not dry_run and isinstance(outcome, Success):
            return Pending()
        if isinstance(outcome, Failure) and secrets:
            return Failure(scrub(outcome.message, secrets), scrub(outcome.data, secrets))
        return outcome

    async def _invoke(
        self,
        entry: CatalogueEntry,
        values: dict[str, Any],
        context: ActionContext,
        dry_run: bool,
        secrets: tuple[str, ...],
    ) -> Outcome:
        try:
            action = entry.factory()
            method = action.test if dry_run else action.run
            if inspect.iscoroutinefunction(method):
                returned = await method(context, **values)
            else:
                call = functools.partial(method, context, **values)
                returned = await asyncio.get_running_loop().run_in_executor(self._executor(), call)
        except ActionError as error:
            return Failure(error.message, error.data)
        except Exception as error:  # an action's own bug or its environment
            log.warning(
                "action raised an exception",
                action=entry.name,
                traceback=scrub("".join(traceback.format_exception(error)), secrets),
            )
            return Failure(
                f"The action raised an exception [action={entry.name}, "
                f"error={type(error).__name__}: {error}]"
            )
        if isinstance(returned, Success | Failure | Pending):
            return returned
        return Success(returned)

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="levante-action")
        return self._pool

    def close(self) -> None:
        """Stops the thread pool; blocking actions still running finish on their own."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def _standard_entries(network: NetworkPolicy) -> list[CatalogueEntry]:
    return [
        CatalogueEntry.of(name, cls, factory=factory)
        for name, (cls, factory) in standard_actions(network=network).items()
    ]


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _parse_packs(packs: str | Collection[str] | None) -> frozenset[str] | None:
    if packs is None:
        return None
    items = packs.split(",") if isinstance(packs, str) else packs
    return frozenset(p.strip() for p in items if p.strip())


def _selected(action: str, distribution: str | None, packs: frozenset[str] | None) -> bool:
    if packs is None:
        return True
    for pack in packs:
        if distribution and _normalize(pack) == _normalize(distribution):
            return True
        prefix = pack if pack.endswith(".") else f"{pack}."
        if action == pack or action.startswith(prefix):
            return True
    return False


def _plugin_entries(packs: frozenset[str] | None, errors: list[str]) -> list[CatalogueEntry]:
    entries: list[CatalogueEntry] = []
    seen: set[tuple[str, str]] = set()
    for point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if (point.name, point.value) in seen:  # one distribution found twice on sys.path
            continue
        seen.add((point.name, point.value))
        distribution = point.dist.name if point.dist is not None else None
        if not _selected(point.name, distribution, packs):
            continue
        if point.name.startswith("std."):
            errors.append(f"{point.name} ({distribution}): the std. prefix is reserved")
            continue
        try:
            entries.append(CatalogueEntry.of(point.name, point.load(), distribution=distribution))
        except Exception as error:  # a broken plugin must not stop the executor
            errors.append(f"{point.name} ({point.value}): {type(error).__name__}: {error}")
    return entries
