"""The action catalogue: outcomes, thread pool, nested calls, secrets."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from levante.actions import (
    MAX_CALL_DEPTH,
    Action,
    ActionCatalogue,
    ActionContext,
    ActionError,
    CatalogueEntry,
    ExecutionContext,
    Failure,
    Pending,
    SecurityContext,
    Success,
    secret,
)


class Plain(Action):
    async def run(self, context: ActionContext, value: Any) -> Any:
        return value


class Explicit(Action):
    async def run(self, context: ActionContext, ok: bool) -> Any:
        return Success("yes") if ok else Failure("no", {"why": "asked"})


class Raises(Action):
    async def run(self, context: ActionContext, kind: str) -> Any:
        if kind == "action":
            raise ActionError("it failed", [1])
        raise KeyError("boom")


class Later(Action):
    is_sync = False

    async def run(self, context: ActionContext, fail: bool = False) -> Any:
        if fail:
            raise ActionError("could not start")
        return "started"


class Blocking(Action):
    active = 0
    peak = 0
    lock = threading.Lock()

    def run(self, context: ActionContext, seconds: float = 0.1) -> str:
        with Blocking.lock:
            Blocking.active += 1
            Blocking.peak = max(Blocking.peak, Blocking.active)
        time.sleep(seconds)
        with Blocking.lock:
            Blocking.active -= 1
        return threading.current_thread().name


class Caller(Action):
    async def run(self, context: ActionContext, name: str, input: Any) -> Any:
        outcome = await context.call_action(name, input)
        return {"type": type(outcome).__name__, "depth": context.call_depth, **vars_of(outcome)}


class BlockingCaller(Action):
    def run(self, context: ActionContext, output: Any) -> Any:
        outcome = context.call_action_blocking("std.echo", {"output": output}, timeout=5)
        return vars_of(outcome)


class Recursive(Action):
    async def run(self, context: ActionContext) -> Any:
        outcome = await context.call_action("test.recursive", {})
        if isinstance(outcome, Failure):
            return Failure(outcome.message)
        return outcome


@secret("password")
class Login(Action):
    async def run(self, context: ActionContext, user: str, password: str) -> Any:
        raise ActionError(f"bad password {password} for {user}", {"tried": password})

    async def test(self, context: ActionContext, **action_input: Any) -> Any:
        return "dry"


def vars_of(outcome: Any) -> dict[str, Any]:
    if isinstance(outcome, Success):
        return {"value": outcome.value}
    if isinstance(outcome, Failure):
        return {"message": outcome.message, "data": outcome.data}
    return {}


TEST_ACTIONS = {
    "test.plain": Plain,
    "test.explicit": Explicit,
    "test.raises": Raises,
    "test.later": Later,
    "test.blocking": Blocking,
    "test.caller": Caller,
    "test.blocking_caller": BlockingCaller,
    "test.recursive": Recursive,
    "test.login": Login,
}


@pytest.fixture
async def catalogue() -> AsyncIterator[ActionCatalogue]:
    entries = [CatalogueEntry.of(n, c) for n, c in TEST_ACTIONS.items()]
    built = ActionCatalogue([*ActionCatalogue.standard(), *entries], threads=2)
    yield built
    built.close()


CONTEXT = ActionContext(
    security=SecurityContext(user="u", project_id="p", auth_token="tok"),
    execution=ExecutionContext(workflow_name="wf", action_execution_id="a-1"),
    custom_context={"k": "v"},
)


@pytest.mark.parametrize(
    ("name", "given", "expected"),
    [
        ("test.plain", {"value": [1]}, Success([1])),
        ("test.plain", {"value": None}, Success(None)),
        ("test.explicit", {"ok": True}, Success("yes")),
        ("test.explicit", {"ok": False}, Failure("no", {"why": "asked"})),
        ("test.raises", {"kind": "action"}, Failure("it failed", [1])),
        (
            "test.raises",
            {"kind": "bug"},
            Failure("The action raised an exception [action=test.raises, error=KeyError: 'boom']"),
        ),
        ("test.later", {}, Pending()),
        ("test.later", {"fail": True}, Failure("could not start")),
        ("std.echo", {"output": "x"}, Success("x")),
        ("std.fail", {"error_data": {"e": 1}}, Failure("{'e': 1}", {"e": 1})),
        ("std.test_dict", {"size": 2, "key_prefix": "k", "val": 0}, Success({"k0": 0, "k1": 0})),
        ("std.async_noop", {}, Pending()),
        ("no.such", {}, Failure("Failed to find action [action_name=no.such]")),
        (
            "test.plain",
            {"values": 1},
            Failure(
                "Invalid input [name=test.plain, class=Plain, missing=['value'], "
                "unexpected=['values']]"
            ),
        ),
    ],
    ids=[
        "value",
        "null",
        "success",
        "failure",
        "action-error",
        "exception",
        "async-pending",
        "async-failure",
        "echo",
        "fail-data",
        "test-dict",
        "async-noop",
        "unknown",
        "invalid-input",
    ],
)
async def test_run_outcomes(
    catalogue: ActionCatalogue, name: str, given: dict[str, Any], expected: Any
) -> None:
    assert await catalogue.run(name, given, CONTEXT) == expected


async def test_blocking_actions_run_in_a_bounded_thread_pool(catalogue: ActionCatalogue) -> None:
    Blocking.peak = 0
    started = time.monotonic()
    outcomes = await asyncio.gather(
        *(catalogue.run("test.blocking", {"seconds": 0.15}, CONTEXT) for _ in range(4))
    )
    assert all(o.value.startswith("levante-action") for o in outcomes)  # type: ignore[union-attr]
    assert Blocking.peak == 2, "threads=2 bounds the blocking actions running at once"
    assert time.monotonic() - started >= 0.3


async def test_actions_call_actions_through_the_catalogue(catalogue: ActionCatalogue) -> None:
    echoed = await catalogue.run(
        "test.caller", {"name": "std.echo", "input": {"output": 5}}, CONTEXT
    )
    assert echoed == Success({"type": "Success", "depth": 0, "value": 5})
    invalid = await catalogue.run("test.caller", {"name": "std.echo", "input": {}}, CONTEXT)
    assert invalid.value["message"].startswith("Invalid input [name=std.echo")  # type: ignore[union-attr]
    masked = await catalogue.run(
        "test.caller", {"name": "test.login", "input": {"user": "me", "password": "pw9"}}, CONTEXT
    )
    assert masked.value == {  # type: ignore[union-attr]
        "type": "Failure",
        "depth": 0,
        "message": "bad password *** for me",
        "data": {"tried": "***"},
    }
    from_thread = await catalogue.run("test.blocking_caller", {"output": "t"}, CONTEXT)
    assert from_thread == Success({"value": "t"})


async def test_nested_calls_are_bounded(catalogue: ActionCatalogue) -> None:
    outcome = await catalogue.run("test.recursive", {}, CONTEXT)
    assert outcome == Failure(
        f"Too deep action calls [action_name=test.recursive, max_depth={MAX_CALL_DEPTH}]"
    )


async def test_unbound_contexts_cannot_call_actions() -> None:
    with pytest.raises(RuntimeError):
        await CONTEXT.call_action("std.noop", {})


async def test_secrets_are_scrubbed_from_failures_and_dry_run_calls_test(
    catalogue: ActionCatalogue,
) -> None:
    failed = await catalogue.run("test.login", {"user": "me", "password": "pw9"}, CONTEXT)
    assert failed == Failure("bad password *** for me", {"tried": "***"})
    dry = await catalogue.run(
        "test.login", {"user": "me", "password": "pw9"}, CONTEXT, dry_run=True
    )
    assert dry == Success("dry")
    assert await catalogue.run("std.echo", {"output": 1}, CONTEXT, dry_run=True) == Success("Echo")


def test_context_is_frozen_and_keeps_the_token_out_of_repr() -> None:
    assert "tok" not in repr(CONTEXT)
    with pytest.raises(AttributeError):
        CONTEXT.security = SecurityContext()  # type: ignore[misc]
    with pytest.raises(TypeError):
        CONTEXT.custom_context["k"] = "changed"  # type: ignore[index]


def test_entries_describe_actions(catalogue: ActionCatalogue) -> None:
    echo = catalogue.get("std.echo")
    assert echo is not None
    assert (echo.name, echo.input, echo.is_sync, echo.blocking, echo.distribution) == (
        "std.echo",
        "output, delay=0",
        True,
        False,
        None,
    )
    assert echo.description.startswith("Returns `output`")
    assert catalogue.get("std.javascript").blocking  # type: ignore[union-attr]
    assert "std.js" in catalogue and "std.nope" not in catalogue
    assert catalogue.names() == sorted(catalogue.names())
    assert [e.name for e in catalogue] == catalogue.names()


def test_duplicates_keep_the_first_and_are_reported() -> None:
    catalogue = ActionCatalogue(
        [CatalogueEntry.of("x.a", Plain), CatalogueEntry.of("x.a", Explicit)], load_errors=["e"]
    )
    assert catalogue.get("x.a").action_class is Plain  # type: ignore[union-attr]
    assert catalogue.load_errors == ("e", "action x.a is defined twice; keeping the first")
    with pytest.raises(TypeError):
        CatalogueEntry.of("x.b", object)  # type: ignore[arg-type]
