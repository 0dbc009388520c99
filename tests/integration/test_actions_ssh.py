"""std.ssh and std.ssh_proxied against a real SSH server (asyncssh's server API) on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncssh
import pytest

from levante.actions import ActionCatalogue, ActionContext, Failure, Success

PASSWORD = "open sesame 9"


@dataclass
class SSHPeer:
    """The test server's address and what it saw."""

    host: str
    client_key: asyncssh.SSHKey
    commands: list[tuple[str, str]] = field(default_factory=list)
    forwarded: list[tuple[str, int]] = field(default_factory=list)


class _Server(asyncssh.SSHServer):
    def __init__(self, peer: SSHPeer) -> None:
        self._peer = peer

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return username == "robot" and password == PASSWORD

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        return username == "robot" and key == self._peer.client_key.convert_to_public()

    def connection_requested(
        self, dest_host: str, dest_port: int, orig_host: str, orig_port: int
    ) -> bool:
        # Lets the server act as a gateway (direct-tcpip), for std.ssh_proxied.
        self._peer.forwarded.append((dest_host, dest_port))
        return True


@pytest.fixture
async def ssh_peer() -> AsyncIterator[SSHPeer]:
    client_key = asyncssh.generate_private_key("ssh-ed25519")
    peer = SSHPeer(host="", client_key=client_key)

    async def handle(process: asyncssh.SSHServerProcess) -> None:
        command = process.command or ""
        peer.commands.append((process.get_extra_info("username"), command))
        if command.startswith("fail"):
            process.stderr.write("it failed\n")
            process.exit(3)
            return
        process.stdout.write(f"ran: {command}\n")
        process.exit(0)

    server = await asyncssh.create_server(
        lambda: _Server(peer),
        "127.0.0.1",
        0,
        server_host_keys=[asyncssh.generate_private_key("ssh-ed25519")],
        process_factory=handle,
    )
    peer.host = f"127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        yield peer
    finally:
        server.close()
        await server.wait_closed()


@pytest.fixture
def catalogue() -> Iterator[ActionCatalogue]:
    built = ActionCatalogue.standard()
    yield built
    built.close()


async def test_runs_a_command_with_a_password(
    ssh_peer: SSHPeer, catalogue: ActionCatalogue
) -> None:
    outcome = await catalogue.run(
        "std.ssh",
        {"cmd": "uptime", "host": ssh_peer.host, "username": "robot", "password": PASSWORD},
        ActionContext(),
    )
    assert outcome == Success("ran: uptime\n")
    assert ssh_peer.commands == [("robot", "uptime")]


async def test_runs_on_each_host_of_a_list_with_a_key(
    ssh_peer: SSHPeer, catalogue: ActionCatalogue, tmp_path: Path
) -> None:
    key_text = ssh_peer.client_key.export_private_key().decode()
    outcome = await catalogue.run(
        "std.ssh",
        {
            "cmd": "hostname",
            "host": [ssh_peer.host, ssh_peer.host],
            "username": "robot",
            "private_key": key_text,
        },
        ActionContext(),
    )
    assert outcome == Success(["ran: hostname\n", "ran: hostname\n"])
    key_file = tmp_path / "id_test"
    # PKCS#8 encryption needs no bcrypt (OpenSSH-format encryption would).
    ssh_peer.client_key.write_private_key(key_file, "pkcs8-pem", passphrase="unlock-me")
    from_file = await catalogue.run(
        "std.ssh",
        {
            "cmd": "id",
            "host": ssh_peer.host,
            "username": "robot",
            "private_key_filename": str(key_file),
            "password": "unlock-me",
        },
        ActionContext(),
    )
    assert from_file == Success("ran: id\n")


async def test_failures_say_which_command_and_host_but_no_secret(
    ssh_peer: SSHPeer, catalogue: ActionCatalogue
) -> None:
    failed = await catalogue.run(
        "std.ssh",
        {"cmd": "fail now", "host": ssh_peer.host, "username": "robot", "password": PASSWORD},
        ActionContext(),
    )
    assert failed == Failure(
        f"Failed to execute ssh cmd 'fail now' on {ssh_peer.host}",
        {"exit_status": 3, "stderr": "it failed\n"},
    )
    denied = await catalogue.run(
        "std.ssh",
        {"cmd": "ls", "host": ssh_peer.host, "username": "robot", "password": "guess-123"},
        ActionContext(),
    )
    assert denied == Failure(f"Failed to execute ssh cmd 'ls' on {ssh_peer.host}")
    bad_key = await catalogue.run(
        "std.ssh",
        {"cmd": "ls", "host": ssh_peer.host, "username": "robot", "private_key": "not a key"},
        ActionContext(),
    )
    assert bad_key == Failure("Failed to load the SSH private key: KeyImportError")
    escape = await catalogue.run(
        "std.ssh",
        {
            "cmd": "ls",
            "host": ssh_peer.host,
            "username": "robot",
            "private_key_filename": "../../etc/shadow",
        },
        ActionContext(),
    )
    assert escape == Failure("private_key_filename must not contain '..'")


async def test_proxied_through_a_gateway(ssh_peer: SSHPeer, catalogue: ActionCatalogue) -> None:
    outcome = await catalogue.run(
        "std.ssh_proxied",
        {
            "cmd": "whoami",
            "host": ssh_peer.host,
            "username": "robot",
            "password": PASSWORD,
            "private_key_filename": None,
            "gateway_host": ssh_peer.host,
        },
        ActionContext(),
    )
    assert outcome == Success("ran: whoami\n")
    address, port = ssh_peer.host.split(":")
    assert ssh_peer.forwarded == [(address, int(port))], "the target was reached via the gateway"
    refused = await catalogue.run(
        "std.ssh_proxied",
        {
            "cmd": "whoami",
            "host": ssh_peer.host,
            "username": "robot",
            "private_key_filename": None,
            "gateway_host": ssh_peer.host,
            "proxy_command": "nc %h %p",
        },
        ActionContext(),
    )
    assert isinstance(refused, Failure) and "proxy_command is not supported" in refused.message
