"""Authentication at the API's doors: a gRPC interceptor and a REST middleware.

Both find the request's token (`X-Auth-Token`, or `Authorization: Bearer`;
as gRPC metadata or HTTP headers), have `levante.security.auth` verify it,
and serve the request as that caller (`identity.acting_as`). Nothing else
in the API reads credentials. With authentication off neither is installed
and every request is the default project, as administrator.

What needs no token: gRPC health and reflection, the internal services
(`levante.internal.*`, reachable only inside the deployment), and on REST
the version documents, the OpenAPI documents and `/metrics`. The transcoded
face (`/levante/v2`) forwards the token to the gRPC server, which checks it:
its 401 is a `google.rpc.Status` like every other answer of that face.

`keystone_app` is what lets python-mistralclient use a token: with
`--os-auth-token` the `mistral` CLI first has Keystone confirm the token
(`POST {auth_url}/auth/tokens`, the `token` method). Levante answers that
itself under `/identity/v3`: the token is verified like any other and
handed back as the subject token, with its user, project and roles; the
CLI then calls `/v2` with it (`--os-auth-url http://HOST:8989/identity/v3`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import jwt
from aiohttp import web
from grpc_status import rpc_status

from levante import rpc
from levante.api import identity
from levante.api.identity import Caller
from levante.api.transcoder import PREFIX as TRANSCODED_PREFIX
from levante.errors import UnauthenticatedError
from levante.security.auth import Authentication, Principal, token_from

#: gRPC services whose methods need a token: the public API.
PUBLIC_PACKAGE = "/levante.v2."
#: REST paths anyone may read: discovery, documents and metrics.
OPEN_PATHS = frozenset(
    {"/", "/v2", "/v2/", "/v2/openapi.json", f"{TRANSCODED_PREFIX}/openapi.json", "/metrics"}
)
#: Where the Keystone-compatible token check is mounted (it reads the token from its body).
IDENTITY_PREFIX = "/identity"
#: How long a Keystone answer says a token without an expiry of its own is good for.
_STATIC_TOKEN_HOURS = 24


def caller_of(principal: Principal) -> Caller:
    """The API's caller for a verified principal."""
    return Caller(
        project_id=principal.project_id, user_id=principal.user_id, is_admin=principal.is_admin
    )


class AuthInterceptor(grpc.aio.ServerInterceptor):
    """Serves each call of the public services as the caller its metadata's token names.

    A call without a valid token is aborted with UNAUTHENTICATED before the
    servicer runs (unary and streaming methods alike).
    """

    def __init__(self, authentication: Authentication) -> None:
        self._authentication = authentication

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        if handler is None or not details.method.startswith(PUBLIC_PACKAGE):
            return handler
        authenticate = self._authenticate
        if handler.unary_unary is not None:
            inner = handler.unary_unary

            async def unary_unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
                caller = await authenticate(context)
                with identity.acting_as(caller):
                    return await inner(request, context)

            return grpc.unary_unary_rpc_method_handler(
                unary_unary,
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            inner_stream = handler.unary_stream

            async def unary_stream(request: Any, context: grpc.aio.ServicerContext) -> Any:
                caller = await authenticate(context)
                with identity.acting_as(caller):
                    async for item in inner_stream(request, context):
                        yield item

            return grpc.unary_stream_rpc_method_handler(
                unary_stream,
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler

    async def _authenticate(self, context: grpc.aio.ServicerContext) -> Caller:
        try:
            principal = await self._authentication.authenticate(
                token_from(context.invocation_metadata() or ())
            )
        except UnauthenticatedError as error:
            await context.abort_with_status(rpc_status.to_status(rpc.to_status(error)))
            raise  # abort_with_status raises; this keeps type checkers informed
        return caller_of(principal)


def rest_middleware(authentication: Authentication) -> Any:
    """An aiohttp middleware serving Mistral's face as the token's caller (401 without one)."""

    @web.middleware
    async def authenticate(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        path = request.path
        if path in OPEN_PATHS or path.startswith((f"{TRANSCODED_PREFIX}/", IDENTITY_PREFIX)):
            return await handler(request)
        principal = await authentication.authenticate(token_from(request.headers))
        with identity.acting_as(caller_of(principal)):
            return await handler(request)

    return authenticate


def keystone_app(authentication: Authentication) -> web.Application:
    """The sub-application to mount at IDENTITY_PREFIX: Keystone v3's token check, enough
    for keystoneauth (python-mistralclient) to accept a Levante token."""

    async def version(request: web.Request) -> web.Response:
        base = f"{request.scheme}://{request.host}{IDENTITY_PREFIX}/v3/"
        return web.json_response(
            {
                "version": {
                    "id": "v3.14",
                    "status": "stable",
                    "updated": "2020-04-07T00:00:00Z",
                    "links": [{"rel": "self", "href": base}],
                    "media-types": [
                        {
                            "base": "application/json",
                            "type": "application/vnd.openstack.identity-v3+json",
                        }
                    ],
                }
            }
        )

    async def tokens(request: web.Request) -> web.Response:
        try:
            body = await request.json()
            token = body["auth"]["identity"]["token"]["id"]
        except (ValueError, KeyError, TypeError):
            return _keystone_error(
                400, "Bad Request", "Expected auth.identity.token.id: only token authentication"
            )
        try:
            principal = await authentication.authenticate(token if isinstance(token, str) else None)
        except UnauthenticatedError as error:
            return _keystone_error(401, "Unauthorized", error.message)
        return web.json_response(
            {"token": _keystone_token(principal, token)},
            status=201,
            headers={"X-Subject-Token": token},
        )

    app = web.Application(client_max_size=64 * 1024)
    app.router.add_get("/v3", version)
    app.router.add_get("/v3/", version)
    app.router.add_post("/v3/auth/tokens", tokens)
    return app


def _keystone_token(principal: Principal, token: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    expires = now + timedelta(hours=_STATIC_TOKEN_HOURS)
    if token.count(".") == 2:
        try:  # a verified JWT: its own expiry
            claims = jwt.decode(token, options={"verify_signature": False})
            expires = datetime.fromtimestamp(int(claims["exp"]), UTC)
        except (jwt.PyJWTError, KeyError, TypeError, ValueError):
            pass
    domain = {"id": "default", "name": "Default"}
    return {
        "methods": ["token"],
        "issued_at": now.strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
        "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
        "user": {"id": principal.user_id, "name": principal.user_id, "domain": domain},
        "project": {"id": principal.project_id, "name": principal.project_id, "domain": domain},
        "roles": [{"id": role, "name": role} for role in sorted(principal.roles)],
        "catalog": [],
    }


def _keystone_error(status: int, title: str, message: str) -> web.Response:
    return web.json_response(
        {"error": {"code": status, "title": title, "message": message}}, status=status
    )


__all__ = [
    "IDENTITY_PREFIX",
    "OPEN_PATHS",
    "AuthInterceptor",
    "caller_of",
    "keystone_app",
    "rest_middleware",
]
