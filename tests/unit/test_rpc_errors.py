"""The gRPC error interceptor: domain errors keep their status, bugs reveal nothing."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import empty_pb2
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from levante import errors
from levante.rpc import create_server

SERVICE = "levante.test.Broken"


async def _serve(behaviour):
    async def handler(request, context):
        return behaviour()

    server, port = create_server(bind="127.0.0.1:0")
    server.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler(
                SERVICE,
                {
                    "Call": grpc.unary_unary_rpc_method_handler(
                        handler,
                        request_deserializer=empty_pb2.Empty.FromString,
                        response_serializer=empty_pb2.Empty.SerializeToString,
                    )
                },
            ),
        )
    )
    await server.start()
    return server, port


async def _call(port: int) -> grpc.aio.AioRpcError:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        call = channel.unary_unary(
            f"/{SERVICE}/Call",
            request_serializer=empty_pb2.Empty.SerializeToString,
            response_deserializer=empty_pb2.Empty.FromString,
        )
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await call(empty_pb2.Empty(), timeout=5)
        return raised.value


async def test_a_domain_error_keeps_its_code_message_and_reason() -> None:
    def fail():
        raise errors.NotFoundError("Workflow not found [name=w]")

    server, port = await _serve(fail)
    try:
        error = await _call(port)
    finally:
        await server.stop(None)
    assert error.code() is grpc.StatusCode.NOT_FOUND
    assert error.details() == "Workflow not found [name=w]"
    status = rpc_status.from_call(error)
    info = error_details_pb2.ErrorInfo()
    assert status is not None and status.details[0].Unpack(info)
    assert (info.reason, info.domain) == ("NotFoundError", "levante.dev")


async def test_an_unexpected_exception_is_internal_and_tells_nothing() -> None:
    def crash():
        raise RuntimeError("SELECT password FROM users -- /srv/levante/secret.py line 3")

    server, port = await _serve(crash)
    try:
        error = await _call(port)
    finally:
        await server.stop(None)
    assert error.code() is grpc.StatusCode.INTERNAL
    assert error.details() == "Internal error; the server log has the details"
    assert "password" not in str(error.debug_error_string())
