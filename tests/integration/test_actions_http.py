"""std.http and std.mistral_http against a real aiohttp server on 127.0.0.1, and the SSRF guard."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from levante.actions import (
    ActionCatalogue,
    ActionContext,
    ExecutionContext,
    Failure,
    Pending,
    Success,
)


@dataclass
class Peer:
    """The test server: its base URL and the requests it saw."""

    url: str
    port: int
    seen: list[dict[str, Any]] = field(default_factory=list)


async def _record(request: web.Request, seen: list[dict[str, Any]]) -> dict[str, Any]:
    body = await request.text()
    entry = {
        "method": request.method,
        "path": request.path,
        "query": dict(request.query),
        "headers": dict(request.headers),
        "cookies": dict(request.cookies),
        "body": body,
    }
    seen.append(entry)
    return entry


@pytest.fixture
async def peer() -> AsyncIterator[Peer]:
    seen: list[dict[str, Any]] = []

    async def echo(request: web.Request) -> web.Response:
        entry = await _record(request, seen)
        return web.json_response({k: entry[k] for k in ("method", "query", "body", "cookies")})

    async def text(request: web.Request) -> web.Response:
        await _record(request, seen)
        return web.Response(text="plain words", headers={"X-Kind": "text"})

    async def missing(request: web.Request) -> web.Response:
        await _record(request, seen)
        return web.json_response({"error": "no such thing"}, status=404)

    async def redirect(request: web.Request) -> web.Response:
        await _record(request, seen)
        raise web.HTTPFound(request.query.get("to", "/echo"))

    app = web.Application()
    app.router.add_route("*", "/echo", echo)
    app.router.add_get("/text", text)
    app.router.add_get("/missing", missing)
    app.router.add_get("/redirect", redirect)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield Peer(f"http://127.0.0.1:{port}", port, seen)
    finally:
        await runner.cleanup()


@pytest.fixture
async def allowed(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[ActionCatalogue]:
    """A catalogue configured from the environment, with 127.0.0.1 allowed."""
    monkeypatch.setenv("LEVANTE_HTTP_ALLOWED_HOSTS", "127.0.0.1")
    catalogue = ActionCatalogue.from_env(os.environ)
    yield catalogue
    catalogue.close()


CONTEXT = ActionContext(
    execution=ExecutionContext(
        workflow_name="wf",
        workflow_execution_id="ex-1",
        task_execution_id="task-1",
        action_execution_id="act-1",
        callback_url="http://127.0.0.1:8989/v2/action_executions/act-1",
    )
)


async def test_json_response_is_parsed(peer: Peer, allowed: ActionCatalogue) -> None:
    outcome = await allowed.run(
        "std.http",
        {
            "url": f"{peer.url}/echo",
            "method": "post",
            "params": {"q": "1"},
            "json": {"n": 7},
            "headers": {"X-Count": 3},
            "cookies": {"session": "abc"},
            "auth": "me:pw",
            "timeout": 10,
        },
        CONTEXT,
    )
    assert isinstance(outcome, Success), outcome
    result = outcome.value
    assert result["status"] == 200 and result["reason"] == "OK"
    assert result["content"] == {
        "method": "POST",
        "query": {"q": "1"},
        "body": '{"n": 7}',
        "cookies": {"session": "abc"},
    }
    assert result["encoding"] == "utf-8"
    assert result["headers"]["Content-Type"].startswith("application/json")
    assert result["url"] == f"{peer.url}/echo?q=1" and result["history"] == []
    assert result["elapsed"] >= 0
    sent = peer.seen[-1]["headers"]
    assert sent["X-Count"] == "3" and sent["Authorization"] == "Basic bWU6cHc="


async def test_text_body_and_dict_body(peer: Peer, allowed: ActionCatalogue) -> None:
    text = await allowed.run("std.http", {"url": f"{peer.url}/text"}, CONTEXT)
    assert isinstance(text, Success)
    assert text.value["content"] == "plain words" and text.value["headers"]["X-Kind"] == "text"
    posted = await allowed.run(
        "std.http", {"url": f"{peer.url}/echo", "method": "PUT", "body": {"a": 1}}, CONTEXT
    )
    assert posted.value["content"]["body"] == '{"a": 1}'  # type: ignore[union-attr]
    both = await allowed.run(
        "std.http", {"url": f"{peer.url}/echo", "body": "x", "json": {}}, CONTEXT
    )
    assert both == Failure("Only one of the parameters 'json' and 'body' can be passed")


async def test_error_status_fails_with_the_response_as_data(
    peer: Peer, allowed: ActionCatalogue
) -> None:
    outcome = await allowed.run("std.http", {"url": f"{peer.url}/missing"}, CONTEXT)
    assert isinstance(outcome, Failure)
    assert outcome.message == (
        f"HTTP request failed [method=GET, url={peer.url}/missing, status=404, reason=Not Found]"
    )
    assert outcome.data["status"] == 404
    assert outcome.data["content"] == {"error": "no such thing"}


async def test_redirects_are_followed_only_when_asked(peer: Peer, allowed: ActionCatalogue) -> None:
    kept = await allowed.run("std.http", {"url": f"{peer.url}/redirect"}, CONTEXT)
    assert kept.value["status"] == 302  # type: ignore[union-attr]
    followed = await allowed.run(
        "std.http", {"url": f"{peer.url}/redirect", "allow_redirects": True}, CONTEXT
    )
    assert followed.value["status"] == 200  # type: ignore[union-attr]
    assert followed.value["history"] == [f"{peer.url}/redirect"]  # type: ignore[union-attr]


async def test_mistral_http_sends_execution_headers_and_is_async(
    peer: Peer, allowed: ActionCatalogue
) -> None:
    outcome = await allowed.run("std.mistral_http", {"url": f"{peer.url}/echo"}, CONTEXT)
    assert outcome == Pending()
    sent = peer.seen[-1]["headers"]
    assert {k: v for k, v in sent.items() if k.startswith("Mistral-")} == {
        "Mistral-Workflow-Name": "wf",
        "Mistral-Workflow-Execution-Id": "ex-1",
        "Mistral-Task-Id": "task-1",
        "Mistral-Action-Execution-Id": "act-1",
        "Mistral-Callback-URL": "http://127.0.0.1:8989/v2/action_executions/act-1",
    }
    failed = await allowed.run("std.mistral_http", {"url": f"{peer.url}/missing"}, CONTEXT)
    assert isinstance(failed, Failure) and "status=404" in failed.message


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/echo",
        "http://localhost:{port}/echo",
        "http://[::1]:{port}/echo",
        "http://10.0.0.1:{port}/echo",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:127.0.0.1]:{port}/echo",
        "http://0.0.0.0:{port}/echo",
    ],
    ids=["loopback", "localhost", "ipv6-loopback", "private", "link-local", "mapped", "any"],
)
async def test_the_guard_refuses_internal_targets_by_default(
    peer: Peer, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.delenv("LEVANTE_HTTP_ALLOWED_HOSTS", raising=False)
    catalogue = ActionCatalogue.from_env(os.environ)
    outcome = await catalogue.run("std.http", {"url": url.format(port=peer.port)}, CONTEXT)
    catalogue.close()
    assert isinstance(outcome, Failure)
    assert outcome.message.startswith("Failed to send HTTP request: refusing to connect to ")
    assert "LEVANTE_HTTP_ALLOWED_HOSTS" in outcome.message
    assert peer.seen == [], "refused before any connection"


async def test_the_guard_checks_redirect_targets(peer: Peer, allowed: ActionCatalogue) -> None:
    outcome = await allowed.run(
        "std.http",
        {
            "url": f"{peer.url}/redirect?to=http://169.254.169.254/latest/meta-data/",
            "allow_redirects": True,
        },
        CONTEXT,
    )
    assert isinstance(outcome, Failure)
    assert "refusing to connect to 169.254.169.254" in outcome.message
    assert len(peer.seen) == 1


async def test_the_allow_list_accepts_names(peer: Peer) -> None:
    catalogue = ActionCatalogue.from_env({"LEVANTE_HTTP_ALLOWED_HOSTS": "localhost"})
    url = f"http://localhost:{peer.port}/text"
    outcome = await catalogue.run("std.http", {"url": url}, CONTEXT)
    catalogue.close()
    assert isinstance(outcome, Success), outcome
