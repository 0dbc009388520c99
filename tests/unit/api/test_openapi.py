"""OpenAPI documents: the transcoded face's from descriptors, the Mistral face's from its table."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from google.protobuf.descriptor import FileDescriptor

from levante.api import http_rules, mistral_openapi
from levante.api.http_rules import PathTemplate
from levante.api.openapi import load_comments, openapi_path, transcoded_document

PATHS = [
    ("/levante/v2/{name=workflows/*}", "/levante/v2/workflows/{name}", ["name"]),
    ("/levante/v2/{execution.name=executions/*}", "/levante/v2/executions/{name}", ["name"]),
    ("/levante/v2/{name=tasks/*}:rerun", "/levante/v2/tasks/{name}:rerun", ["name"]),
    ("/v1/{name=shelves/*/things/*}", "/v1/shelves/{name_1}/things/{name_2}", ["name_1", "name_2"]),
    ("/v1/{a.name}/{b.name}", "/v1/{a_name}/{b_name}", ["a_name", "b_name"]),
    ("/v1/*/things", "/v1/{wildcard1}/things", ["wildcard1"]),
    ("/v1/{path=files/**}", "/v1/files/{path}", ["path"]),
]


@pytest.mark.parametrize(("template", "path", "names"), PATHS, ids=[p[0] for p in PATHS])
def test_templates_become_openapi_paths(template: str, path: str, names: list[str]) -> None:
    rendered, parameters = openapi_path(PathTemplate.parse(template))
    assert rendered == path
    assert [name for name, _, _ in parameters] == names


def _refs(value: Any) -> set[str]:
    if isinstance(value, dict):
        found = {value["$ref"]} if isinstance(value.get("$ref"), str) else set()
        return found.union(*(_refs(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_refs(v) for v in value))
    return set()


def _resolves(document: dict[str, Any]) -> None:
    names = {f"#/components/schemas/{name}" for name in document["components"]["schemas"]}
    assert _refs(document) <= names


@pytest.fixture(scope="module")
def things_document(things: FileDescriptor) -> dict[str, Any]:
    return transcoded_document(http_rules.discover([things]), comments={})


def _operation(document: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    return document["paths"][path][method]


def test_query_parameters_are_the_fields_path_and_body_leave(things_document: dict) -> None:
    search = _operation(things_document, "/levante/v2/things:search", "get")
    parameters = {p["name"]: p["schema"] for p in search["parameters"]}
    assert list(parameters) == [
        "tags",
        "pageSize",
        "filter.owner",
        "filter.range.low",
        "filter.range.high",
        "exact",
        "since",
        "minimum",
        "color",
        "sizes",
        "weight",
    ]
    assert parameters["tags"] == {"type": "array", "items": {"type": "string"}}
    assert parameters["since"] == {"type": "string", "format": "date-time"}
    assert parameters["minimum"]["anyOf"][1] == {"type": "null"}
    assert parameters["color"] == {"$ref": "#/components/schemas/levante.testing.transcoding.Color"}
    # response_body: the answer is the list alone.
    answer = search["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer["items"] == {"$ref": "#/components/schemas/levante.testing.transcoding.Thing"}


def test_bodies_and_bindings(things_document: dict) -> None:
    update = _operation(things_document, "/levante/v2/shelves/{name_1}/things/{name_2}", "patch")
    assert [p["name"] for p in update["parameters"]] == ["name_1", "name_2", "updateMask"]
    assert update["parameters"][0]["description"] == (
        "Sets `thing.name` to `shelves/{name_1}/things/{name_2}`."
    )
    body = update["requestBody"]["content"]["application/json"]["schema"]
    assert body["$ref"] == "#/components/schemas/levante.testing.transcoding.Thing"
    move = _operation(things_document, "/levante/v2/shelves/{name_1}/things/{name_2}:move", "post")
    star = move["requestBody"]["content"]["application/json"]["schema"]
    assert list(star["properties"]) == ["shelf"]  # `name` is in the path
    assert "parameters" in move and all(p["in"] == "path" for p in move["parameters"])
    additional = _operation(things_document, "/levante/v2/things/{name}", "get")
    assert additional["operationId"] == "ThingsService_GetThing_2"
    assert [p["name"] for p in additional["parameters"]] == ["name", "version"]
    assert additional["parameters"][1]["schema"]["format"] == "int64"
    assert "head" in things_document["paths"]["/levante/v2/files/{path}"]
    _resolves(things_document)


def test_the_public_document_has_every_rule_and_the_proto_comments() -> None:
    rules = http_rules.discover()
    document = transcoded_document(rules)
    operations = [op for item in document["paths"].values() for op in item.values()]
    assert len(operations) == len(rules)
    assert len({op["operationId"] for op in operations}) == len(rules)
    _resolves(document)
    comments = load_comments()
    assert comments["levante.v2.ExecutionsService.UpdateExecution"].startswith("Changes an")
    assert comments["levante.v2.State.STATE_ERROR"] == "Finished with an error."
    state = document["components"]["schemas"]["levante.v2.State"]
    assert "- `STATE_ERROR`: Finished with an error." in state["description"]


def test_the_mistral_table_is_a_valid_document() -> None:
    document = mistral_openapi.document()
    operations = [op for item in document["paths"].values() for op in item.values()]
    assert len(operations) == len(mistral_openapi.ROUTES)
    assert len({op["operationId"] for op in operations}) == len(operations)
    assert not any(path.startswith("/levante/") for path in document["paths"])
    _resolves(document)


async def _nothing(request: web.Request) -> web.Response:
    return web.Response()


def test_served_routes_and_drift() -> None:
    app = web.Application()
    for suffix in ("", "/"):
        app.router.add_route("GET", f"/v2/workflows{suffix}", _nothing)
    app.router.add_route("*", "/v2/event_triggers", _nothing)
    app.router.add_route("GET", "/v2/nowhere", _nothing)
    app.router.add_route("GET", "/metrics", _nothing)
    app.add_subapp("/levante/v2", web.Application())
    served = mistral_openapi.served_routes(app)
    assert served == {
        ("GET", "/v2/workflows"),
        ("*", "/v2/event_triggers"),
        ("GET", "/v2/nowhere"),
    }
    table = tuple(
        r
        for r in mistral_openapi.ROUTES
        if r.path in ("/v2/workflows", "/v2/event_triggers", "/v2/environments")
    )
    assert mistral_openapi.drift(served, table) == {
        "undocumented": ["GET /v2/nowhere"],
        "unserved": [
            "GET /v2/environments",
            "POST /v2/environments",
            "POST /v2/workflows",
            "PUT /v2/environments",
            "PUT /v2/workflows",
        ],
    }
