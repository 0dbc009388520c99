"""google.api.http rules: path templates, matching, and request/response mapping."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format
from google.protobuf.descriptor import FileDescriptor

from levante.api import http_rules
from levante.api.http_rules import (
    HttpRule,
    MappingError,
    PathTemplate,
    RuleError,
    build_request,
    message_class,
    render_response,
)
from levante.api.transcoder import PREFIX, Transcoder, _HttpError

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def rules(things: FileDescriptor) -> dict[str, HttpRule]:
    return {
        rule.key.removeprefix("levante.testing.transcoding."): rule
        for rule in http_rules.discover([things])
    }


def request_of(
    rule: HttpRule, path: str, query: list[tuple[str, str]] = (), body: Any = None
) -> Any:
    values = rule.template.match(path)
    assert values is not None, f"{path} does not match {rule}"
    return build_request(rule, path_values=values, query=list(query), body=body)


def as_json(message: Any) -> dict[str, Any]:
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


# -- templates ----------------------------------------------------------------

PARSED = [
    ("/v1/messages/{message_id}", ["v1", "messages", "*"], [("message_id",)], ""),
    ("/levante/v2/{name=workflows/*}", ["levante", "v2", "workflows", "*"], [("name",)], ""),
    ("/v1/{name=tasks/*}:rerun", ["v1", "tasks", "*"], [("name",)], "rerun"),
    ("/v1/{a.b=x/*}/y/{c}", ["v1", "x", "*", "y", "*"], [("a", "b"), ("c",)], ""),
    ("/v1/{path=**}", ["v1", "**"], [("path",)], ""),
    ("/v1/*/things", ["v1", "*", "things"], [], ""),
]


@pytest.mark.parametrize(
    ("text", "segments", "variables", "verb"), PARSED, ids=[p[0] for p in PARSED]
)
def test_templates_parse(
    text: str, segments: list[str], variables: list[tuple[str, ...]], verb: str
) -> None:
    template = PathTemplate.parse(text)
    assert [s.wildcard or s.literal for s in template.segments] == segments
    assert [v.field_path for v in template.variables] == variables
    assert template.verb == verb


BAD_TEMPLATES = [
    ("v1/things", "expected '/'"),
    ("/v1/{a={b}}", "variables cannot nest"),
    ("/v1/**/things", "`**` must be the last segment"),
    ("/v1/{}", "expected a literal"),
    ("/v1/{a.}", "bad field path"),
    ("/v1/things:", "expected a literal"),
    ("/v1//things", "expected a literal"),
    ("/v1/{a=things/*", "expected '}'"),
    ("/v1/things}", "unexpected text"),
]


@pytest.mark.parametrize(("text", "why"), BAD_TEMPLATES, ids=[b[0] for b in BAD_TEMPLATES])
def test_bad_templates_are_refused_with_the_reason(text: str, why: str) -> None:
    with pytest.raises(RuleError, match=f"{re.escape(repr(text))}.*{re.escape(why)}"):
        PathTemplate.parse(text)


MATCHES = [
    ("/levante/v2/{name=workflows/*}", "/levante/v2/workflows/wf1", {("name",): "workflows/wf1"}),
    ("/levante/v2/{name=workflows/*}", "/levante/v2/workflows", None),
    ("/levante/v2/{name=workflows/*}", "/levante/v2/workflows/a/b", None),
    ("/levante/v2/{name=workflows/*}", "/levante/v2/workflows/wf1/", None),
    ("/levante/v2/{name=workflows/*}", "/levante/v2/actions/wf1", None),
    # A literal matches its percent-encoded spelling.
    ("/levante/v2/{name=workflows/*}", "/levante/v2/work%66lows/wf1", {("name",): "workflows/wf1"}),
    # One-segment variables decode everything; longer ones keep %2F.
    ("/v1/things/{id}", "/v1/things/a%2Fb%20c", {("id",): "a/b c"}),
    ("/v1/{name=things/*}", "/v1/things/a%2Fb%20c", {("name",): "things/a%2Fb c"}),
    ("/v1/{name=tasks/*}:rerun", "/v1/tasks/t1:rerun", {("name",): "tasks/t1"}),
    ("/v1/{name=tasks/*}:rerun", "/v1/tasks/t1", None),
    ("/v1/{name=tasks/*}:rerun", "/v1/tasks/t1:other", None),
    ("/v1/{name=tasks/*}", "/v1/tasks/t1:rerun", {("name",): "tasks/t1:rerun"}),
    ("/v1/{path=files/**}", "/v1/files/a/b/c", {("path",): "files/a/b/c"}),
    ("/v1/{path=files/**}", "/v1/files", {("path",): "files"}),
    ("/v1/{path=files/**}", "/v1/files/a//c", None),
    ("/v1/*/things/{id}", "/v1/shelf/things/7", {("id",): "7"}),
    ("/v1/things", "v1/things", None),
]


@pytest.mark.parametrize(
    ("text", "path", "expected"), MATCHES, ids=[f"{m[0]} {m[1]}" for m in MATCHES]
)
def test_paths_match_templates(text: str, path: str, expected: dict | None) -> None:
    assert PathTemplate.parse(text).match(path) == expected


def test_a_path_that_is_not_utf8_is_a_mapping_error() -> None:
    with pytest.raises(MappingError, match="not percent-encoded UTF-8"):
        PathTemplate.parse("/v1/things/{id}").match("/v1/things/%ff")
    # ...but only where it would bind: a literal that cannot decode just does not match.
    assert PathTemplate.parse("/v1/things/{id}").match("/v1/%ff/x") is None


# -- rules --------------------------------------------------------------------


def test_every_binding_is_discovered(rules: dict[str, HttpRule]) -> None:
    assert {
        key: (rule.http_method, rule.template.text, rule.body, rule.response_body)
        for key, rule in rules.items()
    } == {
        "ThingsService.GetThing": ("GET", "/levante/v2/{name=shelves/*/things/*}", "", ""),
        "ThingsService.GetThing#1": ("GET", "/levante/v2/things/{name}", "", ""),
        "ThingsService.SearchThings": ("GET", "/levante/v2/things:search", "", "things"),
        "ThingsService.UpdateThing": (
            "PATCH",
            "/levante/v2/{thing.name=shelves/*/things/*}",
            "thing",
            "",
        ),
        "ThingsService.MoveThing": ("POST", "/levante/v2/{name=shelves/*/things/*}:move", "*", ""),
        "ThingsService.ReadFile": ("HEAD", "/levante/v2/files/{path=**}", "", ""),
        "ThingsService.WatchThings": ("GET", "/levante/v2/{name=shelves/*}/things:watch", "", ""),
    }


def test_the_public_rules_are_valid_and_live_under_the_transcoded_prefix() -> None:
    found = http_rules.discover()
    assert found, "levante.v2 has http rules"
    for rule in found:
        assert rule.template.text.startswith(f"{PREFIX}/"), rule
        assert not rule.client_streaming, rule
    pairs = [(rule.http_method, rule.template.text) for rule in found]
    assert len(pairs) == len(set(pairs)), "two rules share a method and path"


# -- requests -----------------------------------------------------------------


def test_query_parameters_fill_scalars_repeated_nested_and_well_known_fields(
    rules: dict[str, HttpRule],
) -> None:
    query = [
        ("tags", "a"),
        ("tags", "b"),
        ("pageSize", "5"),
        ("filter.owner", "me"),
        ("filter.range.low", "-1"),
        ("filter.range.high", "9"),
        ("exact", "true"),
        ("since", "2020-01-02T03:04:05Z"),
        ("minimum", "3"),
        ("color", "COLOR_RED"),
        ("sizes", "1"),
        ("sizes", "2"),
        ("weight", "0.5"),
    ]
    request = request_of(rules["ThingsService.SearchThings"], "/levante/v2/things:search", query)
    assert as_json(request) == {
        "tags": ["a", "b"],
        "page_size": 5,
        "filter": {"owner": "me", "range": {"low": -1, "high": 9}},
        "exact": True,
        "since": "2020-01-02T03:04:05Z",
        "minimum": 3,
        "color": "COLOR_RED",
        "sizes": [1, 2],
        "weight": 0.5,
    }


def test_query_parameters_take_proto_names_json_names_and_enum_numbers(
    rules: dict[str, HttpRule],
) -> None:
    rule = rules["ThingsService.SearchThings"]
    proto = request_of(
        rule, "/levante/v2/things:search", [("page_size", "7"), ("color", "1"), ("exact", "0")]
    )
    assert as_json(proto) == {"page_size": 7, "color": "COLOR_RED"}


BAD_QUERIES = [
    (
        [("nope", "1")],
        "query parameter 'nope': 'nope' is not a field of .*SearchThingsRequest",
    ),
    ([("filter.nope", "1")], "'filter.nope' is not a field"),
    ([("filter", "x")], "query parameter 'filter': the field cannot be set from a query"),
    ([("labels", "x")], "query parameter 'labels': the field cannot be set from a query"),
    ([("extra", "x")], "query parameter 'extra': the field cannot be set from a query"),
    ([("pageSize", "1"), ("pageSize", "2")], "query parameter 'pageSize' given 2 times"),
    ([("pageSize", "ten")], "query parameter 'pageSize': 'ten' is not an integer"),
    ([("pageSize", "1_000")], "'1_000' is not an integer"),
    ([("pageSize", "99999999999")], "query parameter 'pageSize'"),
    ([("exact", "yes")], "query parameter 'exact': 'yes' is not a boolean"),
    ([("color", "COLOR_BLUE")], "query parameter 'color'.*COLOR_BLUE"),
    ([("since", "yesterday")], "query parameter 'since'"),
    ([("minimum", "x")], "query parameter 'minimum': 'x' is not an integer"),
    ([("weight", "heavy")], "query parameter 'weight'"),
]


@pytest.mark.parametrize(("query", "why"), BAD_QUERIES, ids=[str(q[0]) for q in BAD_QUERIES])
def test_bad_query_parameters_are_named(
    rules: dict[str, HttpRule], query: list[tuple[str, str]], why: str
) -> None:
    with pytest.raises(MappingError, match=why):
        request_of(rules["ThingsService.SearchThings"], "/levante/v2/things:search", query)


def test_path_variables_set_nested_fields_and_override_the_body(rules: dict[str, HttpRule]) -> None:
    rule = rules["ThingsService.UpdateThing"]
    body = {"name": "ignored", "title": "new", "size": {"width": 2}}
    request = request_of(rule, "/levante/v2/shelves/s1/things/t1", body=body)
    assert request.thing.name == "shelves/s1/things/t1"
    assert request.thing.title == "new"
    # grpc-gateway's PATCH feature: the mask lists the fields the body has.
    assert list(request.update_mask.paths) == ["name", "title", "size.width"]


def test_an_update_mask_in_the_query_wins_over_the_inferred_one(rules: dict[str, HttpRule]) -> None:
    rule = rules["ThingsService.UpdateThing"]
    request = request_of(
        rule, "/levante/v2/shelves/s1/things/t1", [("updateMask", "title,color")], {"title": "x"}
    )
    assert list(request.update_mask.paths) == ["title", "color"]


def test_fields_bound_by_path_or_body_are_not_query_parameters(rules: dict[str, HttpRule]) -> None:
    rule = rules["ThingsService.UpdateThing"]
    for name in ("thing", "thing.title", "thing.name"):
        with pytest.raises(
            MappingError, match=f"query parameter '{name}': the field is bound by the path or body"
        ):
            request_of(rule, "/levante/v2/shelves/s1/things/t1", [(name, "x")], {})
    with pytest.raises(MappingError, match="query parameter 'name': the field is bound"):
        request_of(
            rules["ThingsService.GetThing"], "/levante/v2/shelves/s/things/t", [("name", "x")]
        )
    get = request_of(
        rules["ThingsService.GetThing"], "/levante/v2/shelves/s/things/t", [("version", "3")]
    )
    assert as_json(get) == {"name": "shelves/s/things/t", "version": "3"}


def test_a_star_body_takes_every_field_but_the_path_and_no_query(
    rules: dict[str, HttpRule],
) -> None:
    rule = rules["ThingsService.MoveThing"]
    request = request_of(
        rule, "/levante/v2/shelves/s1/things/t1:move", body={"shelf": "s2", "name": "x"}
    )
    assert as_json(request) == {"name": "shelves/s1/things/t1", "shelf": "s2"}
    with pytest.raises(
        MappingError, match="query parameter 'shelf': this method takes every field in the body"
    ):
        request_of(rule, "/levante/v2/shelves/s1/things/t1:move", [("shelf", "s3")], {})
    with pytest.raises(MappingError, match="request body: expected a JSON object"):
        request_of(rule, "/levante/v2/shelves/s1/things/t1:move", body=[1])


BAD_BODIES = [
    ({"nope": 1}, 'no field named "nope"'),
    ({"title": 5}, "Failed to parse title field"),
    ({"color": "COLOR_BLUE"}, "Invalid enum value COLOR_BLUE"),
    ({"size": {"width": "wide"}}, "Failed to parse width field"),
    ("text", "expected a JSON object"),
    ([{"title": "x"}], "expected a JSON object"),
]


@pytest.mark.parametrize(("body", "why"), BAD_BODIES, ids=[str(b[0]) for b in BAD_BODIES])
def test_bad_bodies_are_named(rules: dict[str, HttpRule], body: Any, why: str) -> None:
    with pytest.raises(MappingError, match=f"request body: .*{why}"):
        request_of(
            rules["ThingsService.UpdateThing"], "/levante/v2/shelves/s1/things/t1", body=body
        )


def test_no_body_leaves_the_body_field_unset(rules: dict[str, HttpRule]) -> None:
    request = request_of(rules["ThingsService.UpdateThing"], "/levante/v2/shelves/s1/things/t1")
    assert as_json(request) == {"thing": {"name": "shelves/s1/things/t1"}}


def test_a_double_star_variable_keeps_its_slashes(rules: dict[str, HttpRule]) -> None:
    request = request_of(rules["ThingsService.ReadFile"], "/levante/v2/files/a/b%2Fc/d.txt")
    assert request.path == "a/b%2Fc/d.txt"


# -- responses ----------------------------------------------------------------


def test_responses_are_proto3_json_with_defaults_or_their_response_body(
    rules: dict[str, HttpRule],
) -> None:
    thing_class = message_class(rules["ThingsService.GetThing"].method.output_type)
    thing = thing_class(name="shelves/s/things/t")
    assert render_response(rules["ThingsService.GetThing"], thing) == {
        "name": "shelves/s/things/t",
        "title": "",
        "color": "COLOR_UNSPECIFIED",
    }
    search = rules["ThingsService.SearchThings"]
    answer = message_class(search.method.output_type)(things=[thing], next_page_token="n")
    assert render_response(search, answer) == [
        {"name": "shelves/s/things/t", "title": "", "color": "COLOR_UNSPECIFIED"}
    ]


# -- routing ------------------------------------------------------------------


def test_routing_prefers_literals_and_tells_404_from_405(rules: dict[str, HttpRule]) -> None:
    transcoder = Transcoder(target="127.0.0.1:1", rules=list(rules.values()))
    rule, values = transcoder.route("GET", "/levante/v2/things/t1")
    assert rule.key.endswith("GetThing#1") and values == {("name",): "t1"}
    rule, _ = transcoder.route("GET", "/levante/v2/things:search")
    assert rule.key.endswith("SearchThings")
    with pytest.raises(_HttpError) as wrong_method:
        transcoder.route("DELETE", "/levante/v2/shelves/s/things/t")
    assert wrong_method.value.http_status == 405
    assert wrong_method.value.headers == {"Allow": "GET, PATCH"}
    with pytest.raises(_HttpError) as unknown:
        transcoder.route("GET", "/levante/v2/shelves/s")
    assert unknown.value.http_status == 404
    assert "no method is bound to GET /levante/v2/shelves/s" in unknown.value.message


def test_rules_outside_the_prefix_are_not_served(
    things: FileDescriptor, rules: dict[str, HttpRule]
) -> None:
    outside = HttpRule(
        method=rules["ThingsService.GetThing"].method,
        http_method="GET",
        template=PathTemplate.parse("/v2/workflows/{name}"),
        path_fields=rules["ThingsService.GetThing#1"].path_fields,
    )
    transcoder = Transcoder(target="127.0.0.1:1", rules=[outside])
    assert transcoder.rules == []
