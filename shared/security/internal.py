"""Credentials between Levante's own processes, for the internal gRPC services.

With authentication on, the public API checks users' tokens; the engine's
internal service (`levante.internal.*`: start, pause, rerun, complete) must
not be callable by anyone who reaches the gRPC port either. The api sends a
service credential as metadata (`x-levante-internal`) and the engine checks
it:

- one process running both (the embedded server): a random credential,
  made at start and known to that process only;
- separate processes: an HMAC of the shared LEVANTE_ENCRYPTION_KEY, so every
  process of the installation derives the same one (during a key rotation
  any configured key's HMAC is accepted);
- separate processes without an encryption key: no credential; the engine's
  port must then stay private to the deployment (a warning says so).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets as random
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import grpc
from grpc_status import rpc_status

from levante import rpc
from levante.errors import UnauthenticatedError
from levante.security.settings import SecuritySettings

METADATA_KEY = "x-levante-internal"
INTERNAL_PACKAGE = "/levante.internal."
_CONTEXT = b"levante internal service credential v1"


@dataclass(frozen=True, slots=True)
class InternalCredentials:
    """What this process sends to internal services, and what its own accept."""

    token: str
    accepted: frozenset[str]

    @classmethod
    def for_process(
        cls, settings: SecuritySettings, services: Iterable[str]
    ) -> InternalCredentials | None:
        """The credentials of a process running `services`, or None (see the module)."""
        names = set(services)
        if not settings.auth_enabled:
            return None
        if {"api", "engine"} <= names:
            token = random.token_urlsafe(32)
            return cls(token=token, accepted=frozenset({token}))
        if not settings.encryption_keys:
            return None
        derived = [
            hmac.new(key.encode(), _CONTEXT, hashlib.sha256).hexdigest()
            for key in settings.encryption_keys
        ]
        return cls(token=derived[0], accepted=frozenset(derived))

    def metadata(self) -> tuple[tuple[str, str], ...]:
        """The metadata a call to an internal service carries."""
        return ((METADATA_KEY, self.token),)


class InternalAuthInterceptor(grpc.aio.ServerInterceptor):
    """Refuses calls to internal services without an accepted credential (UNAUTHENTICATED)."""

    def __init__(self, credentials: InternalCredentials) -> None:
        self._accepted = credentials.accepted

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        if handler is None or handler.unary_unary is None:
            return handler
        if not details.method.startswith(INTERNAL_PACKAGE):
            return handler
        inner = handler.unary_unary
        accepted = self._accepted

        async def unary_unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
            sent = dict(context.invocation_metadata() or ()).get(METADATA_KEY, "")
            if not any(hmac.compare_digest(str(sent), token) for token in accepted):
                error = UnauthenticatedError("Internal services need Levante's service credential")
                await context.abort_with_status(rpc_status.to_status(rpc.to_status(error)))
            return await inner(request, context)

        return grpc.unary_unary_rpc_method_handler(
            unary_unary,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


class InternalMetadataInterceptor(grpc.aio.UnaryUnaryClientInterceptor):
    """Adds the service credential to every call of a channel to internal services."""

    def __init__(self, credentials: InternalCredentials) -> None:
        self._metadata = credentials.metadata()

    async def intercept_unary_unary(
        self, continuation: Callable[..., Any], client_call_details: Any, request: Any
    ) -> Any:
        metadata = grpc.aio.Metadata(*(client_call_details.metadata or ()), *self._metadata)
        details = client_call_details._replace(metadata=metadata)
        return await continuation(details, request)


__all__ = [
    "METADATA_KEY",
    "InternalAuthInterceptor",
    "InternalCredentials",
    "InternalMetadataInterceptor",
]
