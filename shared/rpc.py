"""gRPC plumbing shared by every service: errors, health, reflection.

Domain errors cross gRPC as `google.rpc.Status` with an `ErrorInfo` whose
reason names the error class, so a calling Levante service turns them back
into the same domain error (`error_from_rpc`). This is the one place that
maps errors to gRPC codes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import grpc
import structlog
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_health.v1 import health, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from grpc_status import rpc_status

from levante import errors

log = structlog.get_logger(__name__)

DOMAIN = "levante.dev"

# Most specific first: the first match wins.
_CODES: tuple[tuple[type[errors.LevanteError], grpc.StatusCode], ...] = (
    (errors.NotFoundError, grpc.StatusCode.NOT_FOUND),
    (errors.AlreadyExistsError, grpc.StatusCode.ALREADY_EXISTS),
    (errors.FailedPreconditionError, grpc.StatusCode.FAILED_PRECONDITION),
    (errors.ForbiddenError, grpc.StatusCode.PERMISSION_DENIED),
    (errors.UnauthenticatedError, grpc.StatusCode.UNAUTHENTICATED),
    (errors.RateLimitedError, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (errors.InputError, grpc.StatusCode.INVALID_ARGUMENT),
    (errors.UnavailableError, grpc.StatusCode.UNAVAILABLE),
    (errors.LevanteError, grpc.StatusCode.INTERNAL),
)
_BY_REASON: dict[str, type[errors.LevanteError]] = {
    cls.__name__: cls
    for cls in vars(errors).values()
    if isinstance(cls, type) and issubclass(cls, errors.LevanteError)
}


def code_for(error: errors.LevanteError) -> grpc.StatusCode:
    """The gRPC status code of a domain error."""
    return next(code for cls, code in _CODES if isinstance(error, cls))


def to_status(error: errors.LevanteError) -> status_pb2.Status:
    """A google.rpc.Status carrying the error and an ErrorInfo naming its class."""
    info = error_details_pb2.ErrorInfo(reason=type(error).__name__, domain=DOMAIN)
    detail = any_pb2.Any()
    detail.Pack(info)
    return status_pb2.Status(
        code=getattr(code_pb2, code_for(error).name), message=error.message, details=[detail]
    )


def error_from_rpc(error: grpc.aio.AioRpcError) -> errors.LevanteError:
    """Turns a failed call to another Levante service back into its domain error."""
    status = rpc_status.from_call(error)
    if status is not None:
        for detail in status.details:
            info = error_details_pb2.ErrorInfo()
            if detail.Unpack(info) and info.domain == DOMAIN and info.reason in _BY_REASON:
                return _BY_REASON[info.reason](status.message)
    if error.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return errors.UnavailableError(f"engine unavailable: {error.details()}")
    return errors.InternalError(f"{error.code().name}: {error.details()}")


class ErrorInterceptor(grpc.aio.ServerInterceptor):
    """Aborts calls that raised a domain error with its status; logs anything else."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        if handler is None or handler.unary_unary is None:
            return handler
        inner = handler.unary_unary

        async def unary_unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
            try:
                return await inner(request, context)
            except errors.LevanteError as error:
                await context.abort_with_status(rpc_status.to_status(to_status(error)))
            except grpc.aio.AbortError:
                raise
            except Exception:
                # A bug, not the caller's doing: the details (exception, SQL,
                # paths) go to the log, never to the client.
                log.exception("unexpected error serving a call", method=details.method)
                unexpected = errors.InternalError("Internal error; the server log has the details")
                await context.abort_with_status(rpc_status.to_status(to_status(unexpected)))

        return grpc.unary_unary_rpc_method_handler(
            unary_unary,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


#: Keepalive: a server pings idle clients every 30 s and drops those that do
#: not answer within 10 s (a peer that vanished behind a load balancer or a
#: mesh sidecar); clients may ping every 10 s, even without calls in flight.
SERVER_OPTIONS = [
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
    ("grpc.http2.max_pings_without_data", 0),
    ("grpc.max_receive_message_length", 32 * 1024 * 1024),
    ("grpc.max_send_message_length", 32 * 1024 * 1024),
]

#: Keepalive for channels between Levante's own services: ping every 20 s
#: (no more often than the servers permit), fail calls on a dead peer fast.
CHANNEL_OPTIONS = [
    ("grpc.keepalive_time_ms", 20_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
    ("grpc.max_receive_message_length", 32 * 1024 * 1024),
    ("grpc.max_send_message_length", 32 * 1024 * 1024),
]


def create_server(
    *,
    bind: str,
    interceptors: Iterable[grpc.aio.ServerInterceptor] = (),
    credentials: grpc.ServerCredentials | None = None,
) -> tuple[grpc.aio.Server, int]:
    """A gRPC server with the error interceptor, listening on `bind` ("host:port").

    `interceptors` run inside the error interceptor (authentication);
    with `credentials` the port speaks TLS only.
    """
    server = grpc.aio.server(
        interceptors=[ErrorInterceptor(), *interceptors], options=SERVER_OPTIONS
    )
    try:
        if credentials is not None:
            port = server.add_secure_port(bind, credentials)
        else:
            port = server.add_insecure_port(bind)
    except RuntimeError:
        port = 0
    if port == 0:
        raise errors.UnavailableError(
            f"cannot listen for gRPC on {bind} (is the port in use? set LEVANTE_GRPC_PORT)"
        )
    return server, port


def add_health_and_reflection(
    server: grpc.aio.Server, service_names: Iterable[str]
) -> health.aio.HealthServicer:
    """Adds grpc.health.v1 (statuses set by `levante.health`) and server reflection."""
    names = list(service_names)
    checker = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(checker, server)
    reflection.enable_server_reflection(
        [*names, health.SERVICE_NAME, reflection.SERVICE_NAME], server
    )
    return checker


async def set_not_serving(checker: health.aio.HealthServicer) -> None:
    """Marks the server NOT_SERVING (draining)."""
    await checker.enter_graceful_shutdown()
