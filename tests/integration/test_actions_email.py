"""std.email against a real SMTP server (aiosmtpd) on 127.0.0.1, plain and with STARTTLS + AUTH."""

from __future__ import annotations

import datetime
import email
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from levante.actions import ActionCatalogue, ActionContext, Failure, Success
from levante.embedded import free_port

PASSWORD = "correct horse 42"


class Sink:
    """Keeps every message the server accepted."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


def _authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == b"robot@example.com"
        and auth_data.password == PASSWORD.encode()
    )
    # handled=False: the server answers 535 itself.
    return AuthResult(success=ok, handled=False)


def _tls_context(directory: Path) -> ssl.SSLContext:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[tuple[str, Sink]]:
    sink = Sink()
    port = free_port()
    controller = Controller(
        sink,
        hostname="127.0.0.1",
        port=port,
        tls_context=_tls_context(tmp_path),
        authenticator=_authenticate,
        auth_require_tls=True,
    )
    controller.start()
    try:
        yield f"127.0.0.1:{port}", sink
    finally:
        controller.stop()


@pytest.fixture
def catalogue() -> Iterator[ActionCatalogue]:
    built = ActionCatalogue.standard()
    yield built
    built.close()


async def test_sends_a_plain_message_to_every_recipient(
    smtp: tuple[str, Sink], catalogue: ActionCatalogue
) -> None:
    server, sink = smtp
    outcome = await catalogue.run(
        "std.email",
        {
            "from_addr": "robot@example.com",
            "to_addrs": ["a@example.com", "b@example.com"],
            "cc_addrs": ["c@example.com"],
            "bcc_addrs": ["d@example.com"],
            "reply_to": "ops@example.com",
            "subject": "Build 42 ✓",
            "body": "All green.",
            "smtp_server": server,
        },
        ActionContext(),
    )
    assert outcome == Success(None)
    [envelope] = sink.envelopes
    assert envelope.mail_from == "robot@example.com"
    assert sorted(envelope.rcpt_tos) == [
        "a@example.com",
        "b@example.com",
        "c@example.com",
        "d@example.com",
    ]
    message = email.message_from_bytes(envelope.original_content or b"")
    assert str(email.header.make_header(email.header.decode_header(message["Subject"]))) == (
        "Build 42 ✓"
    )
    assert message["To"] == "a@example.com, b@example.com" and message["Cc"] == "c@example.com"
    assert message["Reply-To"] == "ops@example.com" and "Bcc" not in message
    assert message.get_payload(decode=True).decode().strip() == "All green."


async def test_logs_in_over_starttls_and_sends_html(
    smtp: tuple[str, Sink], catalogue: ActionCatalogue
) -> None:
    server, sink = smtp
    outcome = await catalogue.run(
        "std.email",
        {
            "from_addr": "robot@example.com",
            "to_addrs": "a@example.com",
            "subject": "Report",
            "body": "text version",
            "html_body": "<p>html version</p>",
            "smtp_server": server,
            "smtp_password": PASSWORD,
        },
        ActionContext(),
    )
    assert outcome == Success(None)
    message = email.message_from_bytes(sink.envelopes[0].original_content or b"")
    assert message.get_content_type() == "multipart/alternative"
    parts = [p.get_payload(decode=True).decode().strip() for p in message.get_payload()]
    assert parts == ["text version", "<p>html version</p>"]


async def test_a_failed_login_does_not_reveal_the_password(
    smtp: tuple[str, Sink], catalogue: ActionCatalogue
) -> None:
    server, sink = smtp
    outcome = await catalogue.run(
        "std.email",
        {
            "from_addr": "robot@example.com",
            "to_addrs": ["a@example.com"],
            "smtp_server": server,
            "smtp_password": "wrong-password-77",
        },
        ActionContext(),
    )
    assert isinstance(outcome, Failure)
    assert outcome.message.startswith("Failed to send an email message: (535")
    assert "wrong-password-77" not in repr(outcome)
    assert sink.envelopes == []


async def test_an_unreachable_server_fails_the_action(catalogue: ActionCatalogue) -> None:
    outcome = await catalogue.run(
        "std.email",
        {
            "from_addr": "robot@example.com",
            "to_addrs": ["a@example.com"],
            "smtp_server": f"127.0.0.1:{free_port()}",
        },
        ActionContext(),
    )
    assert isinstance(outcome, Failure)
    assert outcome.message.startswith("Failed to send an email message: ")
