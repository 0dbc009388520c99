"""std.ssh and std.ssh_proxied: run a command over SSH (asyncssh) on one or more hosts.

As in Mistral the server's host key is not verified, and the result is the
command's standard output (a list, one per host, when `host` is a list).
A host may carry a port, `host:2222` or `[::1]:2222` (a Levante addition).
Authentication uses `password` and/or a private key (`private_key` text, or
`private_key_filename`, relative to ~/.ssh unless absolute); the password
also unlocks an encrypted key. The executor's own keys, agent and
~/.ssh/config are never used.
"""

from __future__ import annotations

import os
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import structlog

from levante.actions.base import Action, secret
from levante.actions.context import ActionContext
from levante.actions.results import ActionError

log = structlog.get_logger(__name__)

CONNECT_TIMEOUT_SECONDS = 30.0


def split_host(host: str) -> tuple[str, int]:
    """`host`, `host:port`, `[v6]` or `[v6]:port` -> (host, port); port 22 by default."""
    text = str(host).strip()
    if text.startswith("["):
        name, _, rest = text[1:].partition("]")
        return name, int(rest[1:]) if rest.startswith(":") else 22
    if text.count(":") == 1:
        name, port = text.split(":")
        return name, int(port)
    return text, 22


def _load_key(private_key: str | None, filename: str | None, password: str | None) -> Any:
    import asyncssh

    if not private_key and not filename:
        return None
    try:
        if private_key:
            return asyncssh.import_private_key(private_key, password or None)
        assert filename is not None
        if ".." in Path(filename).parts:
            raise ActionError("private_key_filename must not contain '..'")
        path = Path(filename) if os.path.isabs(filename) else Path("~/.ssh").expanduser() / filename
        return asyncssh.read_private_key(path, password or None)
    except (asyncssh.KeyImportError, asyncssh.KeyEncryptionError, OSError) as error:
        # The key text and password are secret: name the problem, not the values.
        raise ActionError(f"Failed to load the SSH private key: {type(error).__name__}") from error


def _connect_options(username: str, password: str | None, key: Any) -> dict[str, Any]:
    return {
        "username": username,
        "password": password or None,
        "client_keys": [key] if key is not None else None,
        "agent_path": None,
        "config": None,
        "known_hosts": None,
        "connect_timeout": CONNECT_TIMEOUT_SECONDS,
    }


@secret("password", "private_key")
class SSHAction(Action):
    """Runs `cmd` over SSH on `host` (or on each host of a list); the result is its stdout."""

    async def run(
        self,
        context: ActionContext,
        cmd: str,
        host: Any,
        username: str,
        password: str = "",
        private_key_filename: str | None = None,
        private_key: str | None = None,
    ) -> Any:
        key = _load_key(private_key, private_key_filename, password)
        return await _run_on_hosts(cmd, host, _connect_options(username, password, key), None)

    def test(self, context: ActionContext, **action_input: Any) -> Any:
        return None


@secret("password", "private_key")
class SSHProxiedAction(Action):
    """Runs `cmd` over SSH on `host`, reached through the SSH gateway `gateway_host`.

    The gateway login uses `gateway_username` (default: `username`) and the
    same key. `proxy_command` is not supported: it would run a command of
    the workflow's choosing on the executor's own host.
    """

    async def run(
        self,
        context: ActionContext,
        cmd: str,
        host: Any,
        username: str,
        private_key_filename: str | None,
        gateway_host: str,
        gateway_username: str | None = None,
        password: str | None = None,
        proxy_command: str | None = None,
        private_key: str | None = None,
    ) -> Any:
        if proxy_command:
            raise ActionError(
                "std.ssh_proxied: proxy_command is not supported (it would run a local "
                "command on the executor); use gateway_host"
            )
        key = _load_key(private_key, private_key_filename, password)
        gateway = _connect_options(gateway_username or username, password, key)
        return await _run_on_hosts(
            cmd, host, _connect_options(username, password, key), (gateway_host, gateway)
        )

    def test(self, context: ActionContext, **action_input: Any) -> Any:
        return None


async def _run_on_hosts(
    cmd: str, host: Any, options: dict[str, Any], gateway: tuple[str, dict[str, Any]] | None
) -> Any:
    import asyncssh

    hosts = host if isinstance(host, list) else [host]
    outputs: list[str] = []
    for name in hosts:
        try:
            async with AsyncExitStack() as stack:
                tunnel = None
                if gateway is not None:
                    gateway_name, gateway_port = split_host(gateway[0])
                    tunnel = await stack.enter_async_context(
                        asyncssh.connect(gateway_name, gateway_port, **gateway[1])
                    )
                address, port = split_host(name)
                connection = await stack.enter_async_context(
                    asyncssh.connect(address, port, tunnel=tunnel or (), **options)
                )
                completed = await connection.run(cmd, check=False)
        except (OSError, asyncssh.Error, ValueError) as error:
            # Mistral keeps the underlying error out of the result (it may
            # say too much about the remote side); the log has it.
            log.warning("ssh command failed", host=str(name), error=type(error).__name__)
            raise ActionError(f"Failed to execute ssh cmd '{cmd}' on {name}") from error
        if completed.exit_status:
            raise ActionError(
                f"Failed to execute ssh cmd '{cmd}' on {name}",
                {"exit_status": completed.exit_status, "stderr": _text(completed.stderr)},
            )
        outputs.append(_text(completed.stdout))
    return outputs if isinstance(host, list) else outputs[0]


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
