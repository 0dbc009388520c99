"""A workflow that handles secrets, end to end: they are used, and they appear nowhere.

The workflow takes a password as hidden input, passes it to std.http's
secret `auth` parameter and into a header, has an action echo it, publishes
a token derived from it under a hidden name, puts it into its output under
a name that is not hidden, and fails a task with it as the error. A second
workflow fails outright with the password as its error. A real HTTP server
checks the action got the plain values. Then everything Levante shows or
keeps is searched for the secrets: every REST answer of both faces about
the executions (executions, tasks, action executions, report, sub-executions,
the SSE event stream), the server's debug log, the SQLite database and the
JetStream store. Nothing may contain them; the API shows `******`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web
from cryptography.fernet import Fernet

from tests.support.net import eventually, free_port
from tests.support.system import LevanteProcess

PASSWORD = "hunter2-Sup3rSecret"
TOKEN_PREFIX = "tok-"
TOKEN = f"{TOKEN_PREFIX}{PASSWORD}-xyz"
SECRETS = (PASSWORD, TOKEN)

WORKFLOWS = """\
version: '2.0'
handles_secret:
  input: [user, password, url]
  hidden: [password, secret_*]
  output:
    status: <% $.status %>
    leaked: <% $.secret_token %>
    greeting: <% $.greeting %>
  tasks:
    login:
      action: std.echo
      input:
        output: "tok-<% $.password %>-xyz"
      publish:
        secret_token: <% task().result %>
        greeting: hello <% $.user %>
      on-success: [call]
    call:
      action: std.http
      input:
        url: <% $.url %>
        auth: <% $.user %>:<% $.password %>
        headers:
          X-Token: <% $.secret_token %>
      publish:
        status: <% task().result.status %>
      on-success: [oops]
    oops:
      action: std.fail
      input:
        error_data: "rejected <% $.secret_token %>"
      on-error: [cleanup]
    cleanup:
      action: std.noop

fails_with_secret:
  input: [password]
  hidden: [password]
  tasks:
    boom:
      action: std.fail
      input:
        error_data: "bad password <% $.password %>"
"""


class Checker:
    """An HTTP server std.http calls: records the credentials it got."""

    def __init__(self) -> None:
        self.port = free_port()
        self.seen: list[dict[str, str]] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def start(self) -> None:
        self._thread.start()
        assert self._ready.wait(10)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def check(request: web.Request) -> web.Response:
            self.seen.append(
                {
                    "authorization": request.headers.get("Authorization", ""),
                    "token": request.headers.get("X-Token", ""),
                }
            )
            return web.json_response({"ok": True})

        app = web.Application()
        app.router.add_get("/check", check)
        runner = web.AppRunner(app)
        self._loop.run_until_complete(runner.setup())
        self._loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
        self._ready.set()
        self._loop.run_forever()

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


@pytest.fixture(scope="module")
def checker() -> Iterator[Checker]:
    found = Checker()
    found.start()
    yield found
    found.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LevanteProcess]:
    """Debug logs, an encryption key, and std.http allowed to reach this machine."""
    system = LevanteProcess(
        tmp_path_factory.mktemp("levante-secrets"),
        extra_env={
            "LEVANTE_LOG_LEVEL": "debug",
            "LEVANTE_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "LEVANTE_HTTP_ALLOWED_HOSTS": "127.0.0.1",
        },
    )
    system.start()
    yield system
    system.stop()


def get(server: LevanteProcess, path: str) -> tuple[str, Any]:
    """GET a path of the REST port; returns the raw text and the decoded JSON."""
    with urllib.request.urlopen(f"http://127.0.0.1:{server.rest_port}{path}", timeout=30) as r:
        text = r.read().decode()
    return text, json.loads(text)


def post(server: LevanteProcess, path: str, body: Any, content_type: str) -> Any:
    data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{server.rest_port}{path}",
        data=data,
        method="POST",
        headers={"Content-Type": content_type},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def run(server: LevanteProcess, name: str, workflow_input: dict[str, Any], state: str) -> str:
    started = post(
        server,
        "/v2/executions",
        {"workflow_name": name, "input": workflow_input},
        "application/json",
    )

    def finished() -> bool:
        found = get(server, f"/v2/executions/{started['id']}")[1]
        assert found["state"] in ("RUNNING", state), found
        return found["state"] == state

    eventually(finished, timeout=60, interval=0.2, what=f"{name} to reach {state}")
    return started["id"]


@pytest.fixture(scope="module")
def executions(server: LevanteProcess, checker: Checker) -> dict[str, str]:
    post(server, "/v2/workflows", WORKFLOWS, "text/plain")
    url = f"http://127.0.0.1:{checker.port}/check"
    return {
        "success": run(
            server,
            "handles_secret",
            {"user": "alice", "password": PASSWORD, "url": url},
            "SUCCESS",
        ),
        "error": run(server, "fails_with_secret", {"password": PASSWORD}, "ERROR"),
    }


def test_the_actions_got_the_plain_secrets(executions: dict[str, str], checker: Checker) -> None:
    expected = "Basic " + base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
    assert checker.seen == [{"authorization": expected, "token": TOKEN}]


def _everything_shown(server: LevanteProcess, executions: dict[str, str]) -> dict[str, str]:
    """Every REST answer about the executions: path -> raw text."""
    shown: dict[str, str] = {}

    def fetch(path: str) -> Any:
        shown[path], decoded = get(server, path)
        return decoded

    for execution_id in executions.values():
        fetch(f"/v2/executions/{execution_id}")
        fetch(f"/v2/executions/{execution_id}/report")
        fetch(f"/v2/executions/{execution_id}/executions?include_output=true")
        fetch(f"/levante/v2/executions/{execution_id}")
        for task in fetch(f"/v2/executions/{execution_id}/tasks")["tasks"]:
            fetch(f"/v2/tasks/{task['id']}")
            fetch(f"/levante/v2/tasks/{task['id']}")
            for action in fetch(f"/v2/tasks/{task['id']}/action_executions")["action_executions"]:
                fetch(f"/v2/action_executions/{action['id']}")
                fetch(f"/levante/v2/actionExecutions/{action['id']}")
        url = f"http://127.0.0.1:{server.rest_port}/v2/executions/{execution_id}/events?replay=true"
        with urllib.request.urlopen(url, timeout=30) as stream:
            shown[f"events of {execution_id}"] = stream.read().decode()
    fetch("/v2/executions?include_output=true")
    fetch("/v2/tasks")
    fetch("/v2/action_executions?include_output=true")
    fetch("/levante/v2/executions?includeOutput=true")
    fetch("/levante/v2/actionExecutions?includeOutput=true")
    return shown


def test_no_api_answer_shows_a_secret(server: LevanteProcess, executions: dict[str, str]) -> None:
    shown = _everything_shown(server, executions)
    assert len(shown) > 30
    for where, text in shown.items():
        for secret in SECRETS:
            assert secret not in text, f"{where} shows a secret:\n{text[:3000]}"
    # Masked, not dropped: the hidden input and the derived values read ******.
    execution = json.loads(shown[f"/v2/executions/{executions['success']}"])
    assert json.loads(execution["input"])["password"] == "******"
    assert json.loads(execution["input"])["user"] == "alice"
    output = json.loads(execution["output"])
    assert output == {"status": 200, "leaked": "******", "greeting": "hello alice"}
    failed = json.loads(shown[f"/v2/executions/{executions['error']}"])
    assert "******" in failed["state_info"]


def test_no_log_line_shows_a_secret(server: LevanteProcess, executions: dict[str, str]) -> None:
    log = server.log()
    assert "running action" in log  # debug logging was on: the action inputs were logged
    for secret in SECRETS:
        assert secret not in log


def test_nothing_stored_shows_a_secret(server: LevanteProcess, executions: dict[str, str]) -> None:
    stored = [
        path
        for path in server.data_dir.rglob("*")
        if path.is_file() and (path.name.startswith("levante.db") or "jetstream" in path.parts)
    ]
    assert any(p.name == "levante.db" for p in stored)
    for path in stored:
        content = path.read_bytes()
        for secret in SECRETS:
            assert secret.encode() not in content, f"{path} holds a secret in the clear"
