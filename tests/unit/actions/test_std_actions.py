"""Standard actions that need no network peer: basic ones and the JavaScript engine."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from levante.actions import ActionCatalogue, ActionContext, CatalogueEntry, Failure, Success
from levante.actions.std.javascript import JavaScriptAction
from levante.actions.std.ssh import split_host

CONTEXT = ActionContext()


class QuickJavaScript(JavaScriptAction):
    time_limit_seconds = 0.3


@pytest.fixture
async def catalogue() -> AsyncIterator[ActionCatalogue]:
    built = ActionCatalogue(
        [*ActionCatalogue.standard(), CatalogueEntry.of("test.quick_js", QuickJavaScript)],
        threads=4,
    )
    yield built
    built.close()


@pytest.mark.parametrize(
    ("name", "given", "expected"),
    [
        ("std.noop", {}, Success(None)),
        ("std.echo", {"output": {"a": [1, "b"]}}, Success({"a": [1, "b"]})),
        ("std.echo", {"output": "x", "delay": "nonsense"}, Success("x")),
        ("std.echo", {"output": "x", "delay": -3}, Success("x")),
        (
            "std.fail",
            {},
            Failure(
                "The action raised an exception [action=Fail action, action_ex_id=, "
                "msg='Fail action expected exception.']"
            ),
        ),
        ("std.fail", {"error_data": "disk full"}, Failure("disk full", "disk full")),
        ("std.sleep", {"seconds": 0.01}, Success(None)),
        ("std.sleep", {"seconds": "bad"}, Success(None)),
        ("std.test_dict", {}, Success({})),
        ("std.test_dict", {"size": "3", "val": True}, Success({"0": True, "1": True, "2": True})),
        (
            "std.test_dict",
            {"size": "many"},
            Failure("std.test_dict: size must be an integer, got 'many'"),
        ),
    ],
    ids=[
        "noop",
        "echo",
        "echo-bad-delay",
        "echo-negative-delay",
        "fail",
        "fail-data",
        "sleep-fraction",
        "sleep-bad",
        "test-dict-empty",
        "test-dict",
        "test-dict-bad-size",
    ],
)
async def test_basic_actions(
    catalogue: ActionCatalogue, name: str, given: dict[str, Any], expected: Any
) -> None:
    assert await catalogue.run(name, given, CONTEXT) == expected


async def test_echo_waits_its_delay(catalogue: ActionCatalogue) -> None:
    started = time.monotonic()
    assert await catalogue.run("std.echo", {"output": 1, "delay": 0.2}, CONTEXT) == Success(1)
    assert time.monotonic() - started >= 0.2


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"script": "return $.a + $.b", "context": {"a": 40, "b": 2}}, 42),
        (
            {
                "script": "return $.items.map(function (x) { return x * 2; })",
                "context": {"items": [1, 2, 3]},
            },
            [2, 4, 6],
        ),
        (
            {"script": "return {name: $, n: 1.5, ok: true, none: null}", "context": "v8"},
            {"name": "v8", "n": 1.5, "ok": True, "none": None},
        ),
        ({"script": "var x = 1;"}, None),
        ({"script": "return 'no context: ' + $"}, "no context: null"),
        ({"script": "return Math.max.apply(null, $)", "context": [3, 9, 4]}, 9),
    ],
    ids=["sum", "map", "object", "undefined", "null-context", "builtin"],
)
async def test_javascript_evaluates_with_context(
    catalogue: ActionCatalogue, given: dict[str, Any], expected: Any
) -> None:
    assert await catalogue.run("std.javascript", given, CONTEXT) == Success(expected)
    assert await catalogue.run("std.js", given, CONTEXT) == Success(expected)


async def test_javascript_errors_fail_the_action(catalogue: ActionCatalogue) -> None:
    thrown = await catalogue.run("std.js", {"script": "throw new Error('nope')"}, CONTEXT)
    assert isinstance(thrown, Failure) and thrown.message.startswith("JavaScriptAction failed:")
    assert "Error: nope" in thrown.message
    syntax = await catalogue.run("std.js", {"script": "return (("}, CONTEXT)
    assert isinstance(syntax, Failure) and "SyntaxError" in syntax.message
    runaway = await catalogue.run("test.quick_js", {"script": "while (true) {}"}, CONTEXT)
    assert runaway == Failure("JavaScriptAction failed: the script ran longer than 0.3 s")
    bad_context = await catalogue.run("std.js", {"script": "", "context": {1, 2}}, CONTEXT)
    assert isinstance(bad_context, Failure) and "context is not JSON" in bad_context.message


async def test_javascript_runs_in_parallel_threads_without_sharing_state(
    catalogue: ActionCatalogue,
) -> None:
    script = "if (typeof leaked !== 'undefined') { return 'leak'; } leaked = $; return $ * $;"
    outcomes = await asyncio.gather(
        *(catalogue.run("std.js", {"script": script, "context": n}, CONTEXT) for n in range(12))
    )
    assert outcomes == [Success(n * n) for n in range(12)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("host.example", ("host.example", 22)),
        ("host.example:2222", ("host.example", 2222)),
        ("10.0.0.1", ("10.0.0.1", 22)),
        ("[::1]", ("::1", 22)),
        ("[::1]:2200", ("::1", 2200)),
        ("fe80::1", ("fe80::1", 22)),
    ],
    ids=lambda value: str(value),
)
def test_ssh_hosts_may_carry_a_port(text: str, expected: tuple[str, int]) -> None:
    assert split_host(text) == expected
