"""The execution event stream over gRPC (`levante.v2.ExecutionEventsService.WatchExecution`).

Events come out as dicts in the proto3 JSON form with the original field
names, the same shape the REST face's Server-Sent Events carry, so one model
(`levante.client.progress`) reads both.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc
from google.protobuf.json_format import MessageToDict

from levante.client.rest import ClientError, NotFoundError
from levante.v2 import event_pb2, event_pb2_grpc

DEFAULT_GRPC = "127.0.0.1:50051"


class WatchNotOfferedError(ClientError):
    """The server has no event stream to offer (UNIMPLEMENTED, 404, or no gRPC port)."""


def event_dict(event: event_pb2.ExecutionEvent) -> dict[str, Any]:
    """An event as proto3 JSON with original field names (defaults included)."""
    return MessageToDict(
        event, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )


def watch_execution(
    address: str,
    execution_id: str,
    *,
    replay: bool = True,
    token: str | None = None,
    connect_timeout: float = 3.0,
) -> Iterator[dict[str, Any]]:
    """Streams an execution's events from the gRPC server at `address` until it ends.

    Raises WatchNotOfferedError when the server does not implement the
    watch or cannot be reached, NotFoundError for an unknown execution,
    and ClientError for anything else.
    """
    channel = grpc.insecure_channel(address)
    try:
        try:
            grpc.channel_ready_future(channel).result(timeout=connect_timeout)
        except grpc.FutureTimeoutError:
            raise WatchNotOfferedError(f"no gRPC server answers at {address}") from None
        stub = event_pb2_grpc.ExecutionEventsServiceStub(channel)
        metadata = (("x-auth-token", token),) if token else None
        call = stub.WatchExecution(
            event_pb2.WatchExecutionRequest(name=f"executions/{execution_id}", replay=replay),
            metadata=metadata,
        )
        try:
            for event in call:
                yield event_dict(event)
        except grpc.RpcError as error:
            raise _error_of(error, address) from None
        finally:
            call.cancel()
    finally:
        channel.close()


def _error_of(error: grpc.RpcError, address: str) -> ClientError:
    code = error.code() if hasattr(error, "code") else None
    details = (error.details() if hasattr(error, "details") else None) or str(code)
    if code in (grpc.StatusCode.UNIMPLEMENTED, grpc.StatusCode.UNAVAILABLE):
        return WatchNotOfferedError(f"{address}: {details}")
    if code is grpc.StatusCode.NOT_FOUND:
        return NotFoundError(details, status=404)
    return ClientError(f"watching over gRPC failed: {details}")
