"""TLS for the gRPC server, the REST faces and the channels between Levante processes.

With LEVANTE_TLS_CERT_FILE and LEVANTE_TLS_KEY_FILE set, the gRPC port and
the REST port speak TLS only. Channels this process opens to a Levante
server (the api to the engine, the transcoded face to its own gRPC server)
trust LEVANTE_TLS_CA_FILE, or the certificate itself when no CA is given (a
self-signed certificate shared by every process of an installation).
"""

from __future__ import annotations

import ipaddress
import ssl
from pathlib import Path

import grpc
from cryptography import x509

from levante.errors import InputError
from levante.rpc import CHANNEL_OPTIONS
from levante.security.settings import SecuritySettings


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise InputError(f"{what} {path}: cannot read it ({error.strerror})") from None


def server_credentials(settings: SecuritySettings) -> grpc.ServerCredentials | None:
    """The gRPC server's credentials, or None without TLS; raises InputError."""
    if settings.tls_cert_file is None or settings.tls_key_file is None:
        return None
    key = _read(settings.tls_key_file, "LEVANTE_TLS_KEY_FILE")
    cert = _read(settings.tls_cert_file, "LEVANTE_TLS_CERT_FILE")
    return grpc.ssl_server_credentials([(key, cert)])


def server_ssl_context(settings: SecuritySettings) -> ssl.SSLContext | None:
    """The REST server's TLS context, or None without TLS; raises InputError."""
    if settings.tls_cert_file is None or settings.tls_key_file is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(settings.tls_cert_file, settings.tls_key_file)
    except (OSError, ssl.SSLError) as error:
        raise InputError(
            f"LEVANTE_TLS_CERT_FILE/LEVANTE_TLS_KEY_FILE: cannot use them ({error})"
        ) from None
    return context


def channel(
    target: str,
    settings: SecuritySettings,
    *,
    options: list[tuple[str, str]] | None = None,
    interceptors: list[grpc.aio.ClientInterceptor] | None = None,
) -> grpc.aio.Channel:
    """A channel to a Levante gRPC server at `target`, over TLS when this process uses TLS.

    It keeps the connection alive with pings (`levante.rpc.CHANNEL_OPTIONS`).
    """
    options = [*CHANNEL_OPTIONS, *(options or [])]
    if not settings.tls:
        return grpc.aio.insecure_channel(target, options=options, interceptors=interceptors)
    trusted_file = settings.tls_ca_file or settings.tls_cert_file
    assert trusted_file is not None
    trusted = _read(trusted_file, "LEVANTE_TLS_CA_FILE")
    credentials = grpc.ssl_channel_credentials(root_certificates=trusted)
    name = _name_override(target, settings)
    extra = [("grpc.ssl_target_name_override", name)] if name else []
    return grpc.aio.secure_channel(
        target, credentials, options=[*options, *extra], interceptors=interceptors
    )


def _name_override(target: str, settings: SecuritySettings) -> str | None:
    """For a loopback target: a name the server's certificate carries, if not the address.

    The api reaches its own gRPC server at 127.0.0.1 while the certificate
    names the host as clients know it; the connection still only goes to
    this machine.
    """
    host = target.rsplit(":", 1)[0].strip("[]")
    try:
        if not ipaddress.ip_address(host).is_loopback:
            return None
    except ValueError:
        return None
    assert settings.tls_cert_file is not None
    try:
        cert = x509.load_pem_x509_certificate(
            _read(settings.tls_cert_file, "LEVANTE_TLS_CERT_FILE")
        )
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, x509.ExtensionNotFound):
        return None
    addresses = {str(a) for a in names.get_values_for_type(x509.IPAddress)}
    if host in addresses:
        return None
    dns = names.get_values_for_type(x509.DNSName)
    return dns[0] if dns else None


__all__ = ["channel", "server_credentials", "server_ssl_context"]
