"""Several projects against one server with authentication on: tokens and calls as each."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support.net import eventually
from tests.support.system import LevanteProcess

#: token -> (project, user, roles), written as LEVANTE_AUTH_TOKENS_FILE.
TOKENS = {
    "token-a": ("project-a", "alice", "member"),
    "token-b": ("project-b", "bob", "member"),
    "token-c": ("project-c", "carol", ""),
    "token-admin": ("project-admin", "root", "admin,member"),
}
A, B, C, ADMIN = "token-a", "token-b", "token-c", "token-admin"


def tokens_file(directory: Path) -> Path:
    """Writes the tokens file; returns its path."""
    path = directory / "tokens"
    lines = [
        f"{token} {project} {user} {roles}".rstrip()
        for token, (project, user, roles) in TOKENS.items()
    ]
    path.write_text("# token project user roles\n" + "\n".join(lines) + "\n")
    return path


def secured_process(data_dir: Path, **env: str) -> LevanteProcess:
    """A server whose every request needs one of TOKENS."""
    data_dir.mkdir(parents=True, exist_ok=True)
    return LevanteProcess(
        data_dir, extra_env={"LEVANTE_AUTH_TOKENS_FILE": str(tokens_file(data_dir)), **env}
    )


def call(
    server: LevanteProcess,
    token: str | None,
    method: str,
    path: str,
    body: Any = None,
    *,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    """One REST call as `token` (none when None); a str body is sent as text/plain.

    Returns the status and the decoded JSON body (None when empty).
    """
    sent = dict(headers or {})
    if token is not None:
        sent.setdefault("X-Auth-Token", token)
    data = None
    if isinstance(body, str):
        data, sent["Content-Type"] = body.encode(), "text/plain"
    elif body is not None:
        data, sent["Content-Type"] = json.dumps(body).encode(), "application/json"
    url = f"http://127.0.0.1:{server.rest_port}{path}"
    message = urllib.request.Request(url, data=data, method=method, headers=sent)
    try:
        with urllib.request.urlopen(message, timeout=30) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    return status, json.loads(raw) if raw else None


def ok(server: LevanteProcess, token: str, method: str, path: str, body: Any = None) -> Any:
    """A call that must succeed (2xx); returns its body."""
    status, answer = call(server, token, method, path, body)
    assert 200 <= status < 300, f"{method} {path} as {token}: {status} {answer}"
    return answer


def finished_execution(server: LevanteProcess, token: str, workflow_id: str) -> dict[str, Any]:
    """Starts the workflow as `token` and waits until the execution succeeded."""
    started = ok(server, token, "POST", "/v2/executions", {"workflow_id": workflow_id})

    def done() -> dict[str, Any] | None:
        found = ok(server, token, "GET", f"/v2/executions/{started['id']}")
        assert found["state"] != "ERROR", found
        return found if found["state"] == "SUCCESS" else None

    return eventually(done, timeout=30, interval=0.1, what="the execution to succeed")


def ids_of(answer: dict[str, Any], key: str, field: str = "id") -> set[str]:
    """The ids (or another field) of a list answer's items."""
    return {item[field] for item in answer[key]}


Check = Callable[[int, Any], None]
