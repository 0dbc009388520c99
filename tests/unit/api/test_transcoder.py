"""The transcoder over a real gRPC channel to a made-up service: unary, streams, errors."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from google.protobuf.descriptor import FileDescriptor

from levante.api import http_rules
from levante.api.http_rules import message_class
from levante.api.transcoder import PREFIX, RULE_HEADER, Transcoder

SERVICE = "levante.testing.transcoding.ThingsService"


@pytest.fixture
async def client(things: FileDescriptor) -> AsyncIterator[TestClient]:
    service = things.services_by_name["ThingsService"]
    request_type = message_class(service.methods_by_name["GetThing"].input_type)
    thing = message_class(service.methods_by_name["GetThing"].output_type)

    async def get(request: Any, context: grpc.aio.ServicerContext) -> Any:
        if request.name.endswith("/missing"):
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no thing {request.name}")
        if request.name.endswith("/bug"):
            raise RuntimeError("secret internals")
        return thing(name=request.name, title=f"v{request.version}")

    async def watch(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        if request.name == "shelves/none":
            await context.abort(grpc.StatusCode.NOT_FOUND, "no shelf")
        yield thing(name=f"{request.name}/things/a")
        if request.name == "shelves/broken":
            await context.abort(grpc.StatusCode.UNAVAILABLE, "shelf fell over")
        yield thing(name=f"{request.name}/things/b")

    handlers = {
        "GetThing": grpc.unary_unary_rpc_method_handler(
            get,
            request_deserializer=request_type.FromString,
            response_serializer=thing.SerializeToString,
        ),
        "WatchThings": grpc.unary_stream_rpc_method_handler(
            watch,
            request_deserializer=request_type.FromString,
            response_serializer=thing.SerializeToString,
        ),
    }
    server = grpc.aio.server()
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    app = web.Application()
    transcoder = Transcoder(target=f"127.0.0.1:{port}", rules=http_rules.discover([things]))
    app.add_subapp(PREFIX, transcoder.app())
    async with TestClient(TestServer(app)) as test_client:
        yield test_client
    await server.stop(grace=None)


async def test_a_unary_call_answers_proto3_json(client: TestClient) -> None:
    answer = await client.get("/levante/v2/things/t1?version=3")
    assert answer.status == 200
    assert answer.headers[RULE_HEADER] == f"{SERVICE}.GetThing#1"
    assert await answer.json() == {"name": "t1", "title": "v3", "color": "COLOR_UNSPECIFIED"}


async def test_a_service_error_keeps_its_code_and_message(client: TestClient) -> None:
    answer = await client.get("/levante/v2/shelves/s/things/missing")
    assert answer.status == 404
    assert await answer.json() == {
        "code": 5,
        "message": "no thing shelves/s/things/missing",
        "details": [],
    }


async def test_an_unexpected_failure_does_not_leak_its_details(client: TestClient) -> None:
    answer = await client.get("/levante/v2/shelves/s/things/bug")
    assert answer.status == 500
    body = await answer.json()
    assert body["code"] == 2 and "secret" not in json.dumps(body)


async def test_a_server_stream_is_one_json_object_per_line(client: TestClient) -> None:
    answer = await client.get("/levante/v2/shelves/s1/things:watch")
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "application/x-ndjson"
    assert answer.headers[RULE_HEADER] == f"{SERVICE}.WatchThings"
    lines = [json.loads(line) for line in (await answer.text()).splitlines()]
    assert [line["result"]["name"] for line in lines] == [
        "shelves/s1/things/a",
        "shelves/s1/things/b",
    ]


async def test_a_stream_that_fails_midway_ends_with_its_error(client: TestClient) -> None:
    answer = await client.get("/levante/v2/shelves/broken/things:watch")
    assert answer.status == 200
    lines = [json.loads(line) for line in (await answer.text()).splitlines()]
    assert lines[0]["result"]["name"] == "shelves/broken/things/a"
    assert lines[1]["error"]["code"] == 14 and lines[1]["error"]["message"] == "shelf fell over"


async def test_a_stream_that_fails_at_once_is_a_plain_error(client: TestClient) -> None:
    answer = await client.get("/levante/v2/shelves/none/things:watch")
    assert answer.status == 404
    assert (await answer.json())["message"] == "no shelf"


async def test_an_unserved_method_is_501_and_a_bad_header_400(client: TestClient) -> None:
    answer = await client.post("/levante/v2/shelves/s/things/t:move", json={"shelf": "x"})
    assert answer.status == 501
    assert (await answer.json())["code"] == 12
    answer = await client.get("/levante/v2/things/t1", headers={"Grpc-Timeout": "soon"})
    assert answer.status == 400
    assert "Grpc-Timeout" in (await answer.json())["message"]
