"""OpenAPI 3.1 descriptions of Levante's two REST faces.

The transcoded face (`/levante/v2/openapi.json`) is generated from the
descriptors alone: a path per http rule, a schema per message in the proto3
JSON mapping, and the proto comments (from `levante/v2/descriptors.binpb`,
written by scripts/gen_protos.py) as descriptions. The Mistral face's
document (`/v2/openapi.json`) comes from the declarative table in
`levante.api.mistral_openapi`.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Iterable, Sequence
from typing import Any

from google.api import field_behavior_pb2
from google.protobuf import descriptor_pb2
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor

from levante.api.http_rules import (
    STREAM_CONTENT_TYPE,
    HttpRule,
    PathTemplate,
    is_map,
    query_settable,
)

OPENAPI_VERSION = "3.1.0"
_REF = "#/components/schemas/"
_INT32 = {"type": "integer", "format": "int32", "minimum": -(2**31), "maximum": 2**31 - 1}
_UINT32 = {"type": "integer", "format": "int64", "minimum": 0, "maximum": 2**32 - 1}
_INT64 = {"type": "string", "format": "int64", "pattern": "^-?[0-9]+$"}
_SCALARS: dict[int, dict[str, Any]] = {
    FieldDescriptor.TYPE_DOUBLE: {"type": "number", "format": "double"},
    FieldDescriptor.TYPE_FLOAT: {"type": "number", "format": "float"},
    FieldDescriptor.TYPE_INT64: _INT64,
    FieldDescriptor.TYPE_SINT64: _INT64,
    FieldDescriptor.TYPE_SFIXED64: _INT64,
    FieldDescriptor.TYPE_UINT64: {**_INT64, "pattern": "^[0-9]+$"},
    FieldDescriptor.TYPE_FIXED64: {**_INT64, "pattern": "^[0-9]+$"},
    FieldDescriptor.TYPE_INT32: _INT32,
    FieldDescriptor.TYPE_SINT32: _INT32,
    FieldDescriptor.TYPE_SFIXED32: _INT32,
    FieldDescriptor.TYPE_UINT32: _UINT32,
    FieldDescriptor.TYPE_FIXED32: _UINT32,
    FieldDescriptor.TYPE_BOOL: {"type": "boolean"},
    FieldDescriptor.TYPE_STRING: {"type": "string"},
    FieldDescriptor.TYPE_BYTES: {"type": "string", "format": "byte"},
}
# Well-known types have JSON forms of their own (proto3 JSON mapping).
_WELL_KNOWN: dict[str, dict[str, Any]] = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.Duration": {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]{1,9})?s$"},
    "google.protobuf.FieldMask": {
        "type": "string",
        "description": "Comma-separated field paths (lowerCamelCase).",
    },
    "google.protobuf.Struct": {"type": "object", "additionalProperties": True},
    "google.protobuf.Value": {"description": "Any JSON value."},
    "google.protobuf.ListValue": {"type": "array"},
    "google.protobuf.Empty": {"type": "object"},
    "google.protobuf.Any": {
        "type": "object",
        "properties": {"@type": {"type": "string"}},
        "required": ["@type"],
        "additionalProperties": True,
    },
}
_WRAPPED = {
    "DoubleValue": FieldDescriptor.TYPE_DOUBLE,
    "FloatValue": FieldDescriptor.TYPE_FLOAT,
    "Int64Value": FieldDescriptor.TYPE_INT64,
    "UInt64Value": FieldDescriptor.TYPE_UINT64,
    "Int32Value": FieldDescriptor.TYPE_INT32,
    "UInt32Value": FieldDescriptor.TYPE_UINT32,
    "BoolValue": FieldDescriptor.TYPE_BOOL,
    "StringValue": FieldDescriptor.TYPE_STRING,
    "BytesValue": FieldDescriptor.TYPE_BYTES,
}
# FileDescriptorProto / DescriptorProto / ... field numbers, for source locations.
_FILE_MESSAGES, _FILE_ENUMS, _FILE_SERVICES = 4, 5, 6
_MESSAGE_FIELDS, _MESSAGE_NESTED, _MESSAGE_ENUMS = 2, 3, 4
_ENUM_VALUES, _SERVICE_METHODS = 2, 2


def load_comments(package: str = "levante.v2") -> dict[str, str]:
    """Leading comments by full name (messages, fields, enums, values, services, methods).

    Empty when the descriptor set is missing: the documents then have no
    descriptions, nothing else changes.
    """
    try:
        data = importlib.resources.files(package).joinpath("descriptors.binpb").read_bytes()
    except (FileNotFoundError, ModuleNotFoundError):
        return {}
    files = descriptor_pb2.FileDescriptorSet.FromString(data).file
    comments: dict[str, str] = {}
    for file in files:
        located = {
            tuple(location.path): _clean(location.leading_comments)
            for location in file.source_code_info.location
            if location.leading_comments.strip()
        }
        prefix = f"{file.package}." if file.package else ""
        for index, message in enumerate(file.message_type):
            _message_comments(message, prefix, (_FILE_MESSAGES, index), located, comments)
        for index, enum in enumerate(file.enum_type):
            _enum_comments(enum, prefix, (_FILE_ENUMS, index), located, comments)
        for index, service in enumerate(file.service):
            name = f"{prefix}{service.name}"
            _put(comments, name, located.get((_FILE_SERVICES, index)))
            for number, method in enumerate(service.method):
                path = (_FILE_SERVICES, index, _SERVICE_METHODS, number)
                _put(comments, f"{name}.{method.name}", located.get(path))
    return comments


def _message_comments(
    message: descriptor_pb2.DescriptorProto,
    prefix: str,
    path: tuple[int, ...],
    located: dict[tuple[int, ...], str],
    comments: dict[str, str],
) -> None:
    name = f"{prefix}{message.name}"
    _put(comments, name, located.get(path))
    for index, field in enumerate(message.field):
        _put(comments, f"{name}.{field.name}", located.get((*path, _MESSAGE_FIELDS, index)))
    for index, nested in enumerate(message.nested_type):
        _message_comments(nested, f"{name}.", (*path, _MESSAGE_NESTED, index), located, comments)
    for index, enum in enumerate(message.enum_type):
        _enum_comments(enum, f"{name}.", (*path, _MESSAGE_ENUMS, index), located, comments)


def _enum_comments(
    enum: descriptor_pb2.EnumDescriptorProto,
    prefix: str,
    path: tuple[int, ...],
    located: dict[tuple[int, ...], str],
    comments: dict[str, str],
) -> None:
    name = f"{prefix}{enum.name}"
    _put(comments, name, located.get(path))
    for index, value in enumerate(enum.value):
        _put(comments, f"{name}.{value.name}", located.get((*path, _ENUM_VALUES, index)))


def _put(comments: dict[str, str], name: str, text: str | None) -> None:
    if text:
        comments[name] = text


def _clean(text: str) -> str:
    return "\n".join(line.removeprefix(" ") for line in text.strip("\n").splitlines()).strip()


class _Schemas:
    """JSON schemas of messages (proto3 JSON mapping), collected as components."""

    def __init__(self, comments: dict[str, str]) -> None:
        self.comments = comments
        self.components: dict[str, dict[str, Any]] = {}

    def ref(self, name: str) -> dict[str, Any]:
        return {"$ref": f"{_REF}{name}"}

    def message(self, message: Descriptor) -> dict[str, Any]:
        """A reference to the message's schema (or the inline form of a well-known type)."""
        name = message.full_name
        if name in _WELL_KNOWN:
            return dict(_WELL_KNOWN[name])
        wrapped = name.removeprefix("google.protobuf.")
        if wrapped in _WRAPPED and name.startswith("google.protobuf."):
            return {"anyOf": [dict(_SCALARS[_WRAPPED[wrapped]]), {"type": "null"}]}
        if name not in self.components:
            self.components[name] = {}  # placeholder: recursive messages end here
            self.components[name] = self.object(message)
        return self.ref(name)

    def object(self, message: Descriptor, *, exclude: Iterable[str] = ()) -> dict[str, Any]:
        """The inline object schema of a message, without the `exclude`d fields."""
        skipped = set(exclude)
        properties: dict[str, Any] = {}
        required: list[str] = []
        for field in message.fields:
            if field.name in skipped:
                continue
            schema = self.field(field)
            behaviors = set(field.GetOptions().Extensions[field_behavior_pb2.field_behavior])
            if field_behavior_pb2.OUTPUT_ONLY in behaviors:
                schema["readOnly"] = True
            if field_behavior_pb2.INPUT_ONLY in behaviors:
                schema["writeOnly"] = True
            if field_behavior_pb2.REQUIRED in behaviors:
                required.append(field.json_name)
            properties[field.json_name] = schema
        schema: dict[str, Any] = {"type": "object", "properties": properties}
        if required:
            schema["required"] = required
        return self._described(schema, message.full_name)

    def field(self, field: FieldDescriptor) -> dict[str, Any]:
        """The schema of one field's JSON value."""
        if is_map(field):
            value = field.message_type.fields_by_name["value"]
            schema = {"type": "object", "additionalProperties": self.single(value)}
        elif field.is_repeated:
            schema = {"type": "array", "items": self.single(field)}
        else:
            schema = self.single(field)
        return self._described(schema, field.full_name)

    def single(self, field: FieldDescriptor) -> dict[str, Any]:
        if field.message_type is not None:
            return self.message(field.message_type)
        if field.enum_type is not None:
            return self.enum(field.enum_type)
        return dict(_SCALARS[field.type])

    def enum(self, enum: EnumDescriptor) -> dict[str, Any]:
        if enum.full_name == "google.protobuf.NullValue":
            return {"type": "null"}
        if enum.full_name not in self.components:
            lines = [
                f"- `{value.name}`: {self.comments[f'{enum.full_name}.{value.name}']}"
                for value in enum.values
                if f"{enum.full_name}.{value.name}" in self.comments
            ]
            schema = {"type": "string", "enum": [value.name for value in enum.values]}
            self.components[enum.full_name] = self._described(schema, enum.full_name, lines)
        return self.ref(enum.full_name)

    def _described(
        self, schema: dict[str, Any], name: str, extra: Sequence[str] = ()
    ) -> dict[str, Any]:
        text = "\n".join([self.comments.get(name, ""), *extra]).strip()
        if text:
            schema["description"] = text
        return schema


def openapi_path(template: PathTemplate) -> tuple[str, list[tuple[str, int, int]]]:
    """The OpenAPI path of a template and its parameters (name, variable index, wildcard).

    A variable's literal segments are written out and each wildcard becomes
    a parameter named after the field's last part: `{name=workflows/*}` and
    `{workflow.name=workflows/*}` are both `workflows/{name}` (OpenAPI holds
    paths that differ only in parameter names to be the same path).
    """
    pieces: list[str] = []
    parameters: list[tuple[str, int, int]] = []
    owner = {
        index: number
        for number, variable in enumerate(template.variables)
        for index in range(variable.start, variable.end)
    }
    last_parts = [variable.field_path[-1] for variable in template.variables]
    seen: dict[int, int] = {}
    for index, segment in enumerate(template.segments):
        if not segment.wildcard:
            pieces.append(segment.literal)
            continue
        number = owner.get(index)
        if number is None:
            name = f"wildcard{index}"
        else:
            variable = template.variables[number]
            wildcards = sum(
                1 for s in template.segments[variable.start : variable.end] if s.wildcard
            )
            seen[number] = seen.get(number, 0) + 1
            name = variable.field_path[-1]
            if last_parts.count(name) > 1:
                # Not dotted: some clients read `{a.b}` as attribute access.
                name = "_".join(variable.field_path)
            if wildcards > 1:
                name = f"{name}_{seen[number]}"
        parameters.append((name, -1 if number is None else number, index))
        pieces.append(f"{{{name}}}")
    path = "/" + "/".join(pieces)
    return (f"{path}:{template.verb}" if template.verb else path), parameters


def transcoded_document(
    rules: Sequence[HttpRule], *, comments: dict[str, str] | None = None
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the transcoded face, from the rules' descriptors."""
    comments = load_comments() if comments is None else comments
    schemas = _Schemas(comments)
    paths: dict[str, dict[str, Any]] = {}
    services: dict[str, str] = {}
    for rule in rules:
        service = rule.method.containing_service
        services.setdefault(service.name, comments.get(service.full_name, ""))
        path, operation = _operation(rule, schemas)
        paths.setdefault(path, {}).setdefault(rule.http_method.lower(), operation)
    schemas.message(_status_descriptor())
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Levante API (levante.v2 over HTTP/JSON)",
            "version": "v2",
            "description": (
                "The public gRPC API's `google.api.http` rules, transcoded in-process: "
                "proto3 JSON bodies (lowerCamelCase names out; proto names accepted in), "
                "fields not bound by the path or body as query parameters, errors as "
                "`google.rpc.Status` with the HTTP status grpc-gateway gives their code."
            ),
        },
        "tags": [
            {"name": name, **({"description": text} if text else {})}
            for name, text in services.items()
        ],
        "paths": paths,
        "components": {"schemas": dict(sorted(schemas.components.items()))},
    }


def _status_descriptor() -> Descriptor:
    from google.rpc import status_pb2

    return status_pb2.Status.DESCRIPTOR


def _operation(rule: HttpRule, schemas: _Schemas) -> tuple[str, dict[str, Any]]:
    method = rule.method
    path, path_parameters = openapi_path(rule.template)
    parameters: list[dict[str, Any]] = []
    named = {index: name for name, _, index in path_parameters}
    for name, number, _ in path_parameters:
        parameters.append(_path_parameter(rule, name, number, named, schemas))
    bound = {fields[0].name for fields in rule.path_fields if len(fields) == 1}
    if rule.body != "*":
        skip = {rule.body} if rule.body else set()
        nested_bound = {tuple(f.name for f in fields) for fields in rule.path_fields}
        parameters += _query_parameters(rule.input_type, schemas, skip | bound, nested_bound)
    text = schemas.comments.get(method.full_name, "")
    operation: dict[str, Any] = {
        "operationId": method.containing_service.name
        + f"_{method.name}"
        + (f"_{rule.binding + 1}" if rule.binding else ""),
        "tags": [method.containing_service.name],
        "summary": text.split("\n\n")[0].replace("\n", " ") if text else method.name,
    }
    if text:
        operation["description"] = text
    if parameters:
        operation["parameters"] = parameters
    if rule.body:
        body_field = rule.body_field()
        if body_field is None:
            body_schema = schemas.object(rule.input_type, exclude=bound)
        else:
            body_schema = schemas.field(body_field)
        behaviors = (
            body_field.GetOptions().Extensions[field_behavior_pb2.field_behavior]
            if (body_field is not None)
            else ()
        )
        operation["requestBody"] = {
            "required": field_behavior_pb2.REQUIRED in behaviors,
            "content": {"application/json": {"schema": body_schema}},
        }
    response_field = rule.response_field()
    answer = (
        schemas.message(method.output_type)
        if response_field is None
        else schemas.field(response_field)
    )
    success = {"description": "OK", "content": {"application/json": {"schema": answer}}}
    if rule.server_streaming:
        line = {
            "type": "object",
            "description": "One per line: each message as `result`; a late failure as `error`.",
            "properties": {"result": answer, "error": schemas.ref("google.rpc.Status")},
        }
        success = {"description": "A stream", "content": {STREAM_CONTENT_TYPE: {"schema": line}}}
    operation["responses"] = {
        "200": success,
        "default": {
            "description": "An error, as a google.rpc.Status.",
            "content": {"application/json": {"schema": schemas.ref("google.rpc.Status")}},
        },
    }
    return path, operation


def _path_parameter(
    rule: HttpRule, name: str, number: int, named: dict[int, str], schemas: _Schemas
) -> dict[str, Any]:
    """A path parameter; `named` gives each wildcard segment's parameter name."""
    schema: dict[str, Any] = {"type": "string", "minLength": 1}
    description = "Not bound to a field."
    if number >= 0:
        variable = rule.template.variables[number]
        spanned = rule.template.segments[variable.start : variable.end]
        leaf = rule.path_fields[number][-1]
        field_name = ".".join(variable.field_path)
        if len(spanned) == 1 and spanned[0].wildcard == "*" and leaf.type != leaf.TYPE_STRING:
            schema = schemas.single(leaf)
        shape = "/".join(
            f"{{{named[index]}}}" if segment.wildcard else segment.literal
            for index, segment in enumerate(spanned, start=variable.start)
        )
        description = f"Sets `{field_name}` to `{shape}`."
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema,
    }


def _query_parameters(
    message: Descriptor,
    schemas: _Schemas,
    skip: set[str],
    bound: set[tuple[str, ...]],
    *,
    prefix: tuple[str, ...] = (),
    json_prefix: str = "",
    seen: tuple[str, ...] = (),
) -> list[dict[str, Any]]:
    """Query parameters for every settable field not bound by the path or the body."""
    found: list[dict[str, Any]] = []
    for field in message.fields:
        names = (*prefix, field.name)
        if (not prefix and field.name in skip) or names in bound:
            continue
        name = f"{json_prefix}{field.json_name}"
        nested = field.message_type
        if nested is not None and not query_settable(field):
            plain = not field.is_repeated and not nested.full_name.startswith("google.")
            if plain and nested.full_name not in seen and len(seen) < 4:
                found += _query_parameters(
                    nested,
                    schemas,
                    skip,
                    bound,
                    prefix=names,
                    json_prefix=f"{name}.",
                    seen=(*seen, message.full_name),
                )
            continue
        if not query_settable(field):
            continue
        parameter: dict[str, Any] = {"name": name, "in": "query", "schema": schemas.field(field)}
        description = parameter["schema"].pop("description", "")
        if description:
            parameter["description"] = description
        behaviors = field.GetOptions().Extensions[field_behavior_pb2.field_behavior]
        if field_behavior_pb2.REQUIRED in behaviors:
            parameter["required"] = True
        found.append(parameter)
    return found
