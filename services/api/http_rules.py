"""The `google.api.http` rules of the public protos, as data: templates, matching, mapping.

Everything here follows the documented semantics of `google/api/http.proto`
(what grpc-gateway and Envoy's gRPC-JSON transcoder implement) and is pure:
descriptors and text in, messages out. `levante.api.transcoder` serves the
rules over HTTP; `levante.api.openapi` describes them.

Path templates:

    Template = "/" Segments [ Verb ] ;
    Segments = Segment { "/" Segment } ;
    Segment  = "*" | "**" | LITERAL | Variable ;
    Variable = "{" FieldPath [ "=" Segments ] "}" ;
    FieldPath = IDENT { "." IDENT } ;
    Verb     = ":" LITERAL ;

A variable of exactly one `*` segment is fully percent-decoded; a variable
of several segments keeps `%2F` encoded, so it cannot grow a segment.
Request fields bound by neither the path nor the body are query
parameters, named by their (dotted) field path, proto or JSON names alike.
As grpc-gateway does for PATCH, an `update_mask` that the query leaves unset
lists the fields present in the body.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any
from urllib.parse import unquote

from google.api import annotations_pb2, http_pb2
from google.protobuf import json_format, message_factory
from google.protobuf.descriptor import (
    Descriptor,
    FieldDescriptor,
    FileDescriptor,
    MethodDescriptor,
)
from google.protobuf.message import Message

METHODS = ("get", "put", "post", "delete", "patch")
#: Content type of a server stream's answer: one JSON object per line.
STREAM_CONTENT_TYPE = "application/x-ndjson"
# Well-known messages whose JSON form is a single string or scalar: they can
# be set from one query parameter.
SCALAR_MESSAGES = frozenset(
    {
        "google.protobuf.Timestamp",
        "google.protobuf.Duration",
        "google.protobuf.FieldMask",
        "google.protobuf.DoubleValue",
        "google.protobuf.FloatValue",
        "google.protobuf.Int64Value",
        "google.protobuf.UInt64Value",
        "google.protobuf.Int32Value",
        "google.protobuf.UInt32Value",
        "google.protobuf.BoolValue",
        "google.protobuf.StringValue",
        "google.protobuf.BytesValue",
    }
)
_INTEGERS = frozenset(
    {
        FieldDescriptor.TYPE_INT32,
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_UINT32,
        FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_SINT32,
        FieldDescriptor.TYPE_SINT64,
        FieldDescriptor.TYPE_FIXED32,
        FieldDescriptor.TYPE_FIXED64,
        FieldDescriptor.TYPE_SFIXED32,
        FieldDescriptor.TYPE_SFIXED64,
    }
)
_TRUE = frozenset({"true", "True", "TRUE", "t", "T", "1"})
_FALSE = frozenset({"false", "False", "FALSE", "f", "F", "0"})
_ENCODED_SLASH = re.compile("(%2[fF])")


class RuleError(ValueError):
    """An http rule (or its path template) is not valid for its method."""


class MappingError(ValueError):
    """An HTTP request does not map onto its rule's request message (a 400)."""


# -- path templates ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Segment:
    """One template segment: a literal, `*` (one segment) or `**` (the rest)."""

    literal: str = ""
    wildcard: str = ""  # "", "*" or "**"


@dataclass(frozen=True, slots=True)
class Variable:
    """A variable: the field it sets and the template segments it spans."""

    field_path: tuple[str, ...]
    start: int
    end: int  # exclusive


@dataclass(frozen=True, slots=True)
class PathTemplate:
    """A parsed `google.api.http` path template."""

    text: str
    segments: tuple[Segment, ...]
    variables: tuple[Variable, ...]
    verb: str = ""

    @classmethod
    def parse(cls, text: str) -> PathTemplate:
        """Parses `text`; raises RuleError naming what is wrong."""
        return _TemplateParser(text).template()

    @property
    def specificity(self) -> tuple[int, int, int]:
        """Ranks templates matching the same path: more literals first, then fewer `**`."""
        literals = sum(1 for s in self.segments if not s.wildcard)
        doubles = sum(1 for s in self.segments if s.wildcard == "**")
        return (literals, -doubles, 1 if self.verb else 0)

    def match(self, raw_path: str) -> dict[tuple[str, ...], str] | None:
        """The variables' values if the percent-encoded `raw_path` matches, else None.

        Raises MappingError for a matching path whose escapes are not UTF-8.
        """
        if self.verb:
            suffix = f":{self.verb}"
            if not raw_path.endswith(suffix):
                return None
            raw_path = raw_path[: -len(suffix)]
        if not raw_path.startswith("/"):
            return None
        parts = raw_path[1:].split("/")
        bounds = self._match_segments(parts)
        if bounds is None:
            return None
        values: dict[tuple[str, ...], str] = {}
        for variable in self.variables:
            first, last = bounds[variable.start], bounds[variable.end]
            covered = parts[first:last]
            spanned = self.segments[variable.start : variable.end]
            if len(spanned) == 1 and spanned[0].wildcard == "*":
                values[variable.field_path] = _decode(covered[0])
            else:
                values[variable.field_path] = "/".join(_decode_keep_slash(p) for p in covered)
        return values

    def _match_segments(self, parts: list[str]) -> list[int] | None:
        """Where each template segment starts in `parts` (plus the end), or None."""
        bounds: list[int] = []
        index = 0
        for segment in self.segments:
            bounds.append(index)
            if segment.wildcard == "**":
                # Only ever the last segment (the parser checks): takes the rest.
                if any(p == "" for p in parts[index:]):
                    return None
                index = len(parts)
                continue
            if index >= len(parts) or parts[index] == "":
                return None
            if not segment.wildcard and _decode_or_none(parts[index]) != segment.literal:
                return None
            index += 1
        if index != len(parts):
            return None
        bounds.append(index)
        return bounds


def _decode(text: str) -> str:
    try:
        return unquote(text, errors="strict")
    except UnicodeDecodeError as error:
        raise MappingError(f"path segment {text!r} is not percent-encoded UTF-8") from error


def _decode_keep_slash(text: str) -> str:
    return "".join(
        part if _ENCODED_SLASH.fullmatch(part) else _decode(part)
        for part in _ENCODED_SLASH.split(text)
    )


def _decode_or_none(text: str) -> str | None:
    try:
        return unquote(text, errors="strict")
    except UnicodeDecodeError:
        return None


class _TemplateParser:
    """Recursive descent over the template grammar (module docstring)."""

    STOP = "/:{}=*"

    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0
        self.segments: list[Segment] = []
        self.variables: list[Variable] = []

    def fail(self, why: str) -> RuleError:
        return RuleError(f"path template {self.text!r}: {why} at offset {self.at}")

    def peek(self) -> str:
        return self.text[self.at] if self.at < len(self.text) else ""

    def take(self, expected: str) -> None:
        if not self.text.startswith(expected, self.at):
            raise self.fail(f"expected {expected!r}")
        self.at += len(expected)

    def template(self) -> PathTemplate:
        self.take("/")
        self.segment_list(inside=False)
        verb = ""
        if self.peek() == ":":
            self.at += 1
            verb = self.literal()
        if self.at != len(self.text):
            raise self.fail("unexpected text")
        for segment in self.segments[:-1]:
            if segment.wildcard == "**":
                raise self.fail("`**` must be the last segment")
        return PathTemplate(self.text, tuple(self.segments), tuple(self.variables), verb)

    def segment_list(self, *, inside: bool) -> None:
        while True:
            self.segment(inside=inside)
            if self.peek() != "/":
                return
            self.at += 1

    def segment(self, *, inside: bool) -> None:
        if self.text.startswith("**", self.at):
            self.at += 2
            self.segments.append(Segment(wildcard="**"))
        elif self.peek() == "*":
            self.at += 1
            self.segments.append(Segment(wildcard="*"))
        elif self.peek() == "{":
            if inside:
                raise self.fail("variables cannot nest")
            self.variable()
        else:
            self.segments.append(Segment(literal=self.literal()))

    def variable(self) -> None:
        self.take("{")
        path = self.literal().split(".")
        if not all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", p) for p in path):
            raise self.fail(f"bad field path {'.'.join(path)!r}")
        start = len(self.segments)
        if self.peek() == "=":
            self.at += 1
            self.segment_list(inside=True)
        else:
            self.segments.append(Segment(wildcard="*"))
        self.take("}")
        self.variables.append(Variable(tuple(path), start, len(self.segments)))

    def literal(self) -> str:
        begin = self.at
        while self.at < len(self.text) and self.text[self.at] not in self.STOP:
            self.at += 1
        if self.at == begin:
            raise self.fail("expected a literal")
        return self.text[begin : self.at]


# -- rules --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HttpRule:
    """One HTTP binding of an RPC (the rule itself or one of its additional bindings)."""

    method: MethodDescriptor
    http_method: str  # GET, POST, ... or a custom verb, upper case
    template: PathTemplate
    body: str = ""  # "", "*" or a top-level request field
    response_body: str = ""
    binding: int = 0  # 0: the rule itself; n: its n-th additional binding
    path_fields: tuple[tuple[FieldDescriptor, ...], ...] = field(default=(), compare=False)

    @property
    def key(self) -> str:
        """Stable identity: `levante.v2.TasksService.ListTasks` (`#n` for additional bindings)."""
        suffix = f"#{self.binding}" if self.binding else ""
        return f"{self.method.full_name}{suffix}"

    @property
    def input_type(self) -> Descriptor:
        return self.method.input_type

    @property
    def client_streaming(self) -> bool:
        """Whether the RPC takes a stream of requests: not transcoded (one HTTP body)."""
        return bool(getattr(self.method, "client_streaming", False))

    @property
    def server_streaming(self) -> bool:
        """Whether the RPC answers with a stream: newline-delimited JSON over HTTP."""
        return bool(getattr(self.method, "server_streaming", False))

    def body_field(self) -> FieldDescriptor | None:
        """The request field the body maps to; None for no body or `*`."""
        if self.body in ("", "*"):
            return None
        return self.input_type.fields_by_name[self.body]

    def response_field(self) -> FieldDescriptor | None:
        """The response field sent as the body; None for the whole response."""
        if not self.response_body:
            return None
        return self.method.output_type.fields_by_name[self.response_body]

    def __str__(self) -> str:
        return f"{self.http_method} {self.template.text} ({self.key})"


def public_modules(package: str = "levante.v2") -> list[ModuleType]:
    """Every generated `*_pb2` module of `package`, imported."""
    root = importlib.import_module(package)
    return [
        importlib.import_module(f"{package}.{info.name}")
        for info in pkgutil.iter_modules(root.__path__)
        if info.name.endswith("_pb2")
    ]


def discover(files: Iterable[FileDescriptor] | None = None) -> list[HttpRule]:
    """Every http rule of every service in `files` (default: all of levante.v2)."""
    if files is None:
        files = [module.DESCRIPTOR for module in public_modules()]
    rules: list[HttpRule] = []
    for file in sorted(files, key=lambda f: f.name):
        for service in file.services_by_name.values():
            for method in service.methods:
                options = method.GetOptions()
                if not options.HasExtension(annotations_pb2.http):
                    continue
                top = options.Extensions[annotations_pb2.http]
                for binding, rule in enumerate([top, *top.additional_bindings]):
                    rules.append(_rule(method, rule, binding))
    return rules


def _rule(method: MethodDescriptor, rule: http_pb2.HttpRule, binding: int) -> HttpRule:
    kind = rule.WhichOneof("pattern")
    if kind is None:
        raise RuleError(f"{method.full_name}: http rule without a pattern")
    if kind == "custom":
        verb, path = rule.custom.kind.upper(), rule.custom.path
    else:
        verb, path = kind.upper(), getattr(rule, kind)
    template = PathTemplate.parse(path)
    where = f"{method.full_name} ({verb} {path})"
    request = method.input_type
    try:
        path_fields = tuple(resolve_field_path(request, v.field_path) for v in template.variables)
    except MappingError as error:
        raise RuleError(f"{where}: path variable {error}") from None
    for fields in path_fields:
        leaf = fields[-1]
        if leaf.is_repeated or leaf.message_type is not None:
            raise RuleError(f"{where}: path variable {leaf.name} must be a singular scalar")
    if rule.body not in ("", "*") and rule.body not in request.fields_by_name:
        raise RuleError(f"{where}: body {rule.body!r} is not a field of {request.full_name}")
    if rule.response_body and rule.response_body not in method.output_type.fields_by_name:
        raise RuleError(f"{where}: response_body {rule.response_body!r} is not a response field")
    return HttpRule(
        method=method,
        http_method=verb,
        template=template,
        body=rule.body,
        response_body=rule.response_body,
        binding=binding,
        path_fields=path_fields,
    )


def resolve_field_path(message: Descriptor, path: Sequence[str]) -> tuple[FieldDescriptor, ...]:
    """The fields along a dotted path, each part by proto or JSON name; else MappingError."""
    fields: list[FieldDescriptor] = []
    current: Descriptor | None = message
    for index, part in enumerate(path):
        found = _field_named(current, part) if current is not None else None
        if found is None or (index < len(path) - 1 and not _is_plain_message(found)):
            raise MappingError(f"{'.'.join(path)!r} is not a field of {message.full_name}")
        fields.append(found)
        current = found.message_type
    return tuple(fields)


def _field_named(message: Descriptor, name: str) -> FieldDescriptor | None:
    found = message.fields_by_name.get(name)
    if found is None:
        found = next((f for f in message.fields if f.json_name == name), None)
    return found


def _is_plain_message(field: FieldDescriptor) -> bool:
    """A singular, non-map message field whose own fields can be addressed."""
    return (
        field.message_type is not None
        and not field.is_repeated
        and field.message_type.full_name not in SCALAR_MESSAGES
        and not field.message_type.full_name.startswith("google.protobuf.")
    )


def is_map(field: FieldDescriptor) -> bool:
    """Whether the field is a protobuf map."""
    return field.message_type is not None and field.message_type.GetOptions().map_entry


def query_settable(field: FieldDescriptor) -> bool:
    """Whether a query parameter can set the field: scalars, repeated scalars, scalar WKTs."""
    if is_map(field):
        return False
    if field.message_type is None:
        return True
    return field.message_type.full_name in SCALAR_MESSAGES


# -- request and response mapping --------------------------------------------


def message_class(descriptor: Descriptor) -> type[Message]:
    """The generated class of a message descriptor."""
    return message_factory.GetMessageClass(descriptor)


def build_request(
    rule: HttpRule,
    *,
    path_values: dict[tuple[str, ...], str],
    query: Sequence[tuple[str, str]],
    body: Any | None,
) -> Message:
    """The RPC request of an HTTP request; raises MappingError naming what is wrong.

    `body` is the decoded JSON body (None when the request had none). As in
    grpc-gateway, the body is read first, path variables override it, and
    query parameters fill the fields that neither binds.
    """
    request = message_class(rule.input_type)()
    if body is not None and rule.body:
        expected = _json_kind(rule.body_field())
        if expected is not None and not isinstance(body, expected):
            kind = "a JSON object" if expected is dict else "a JSON array"
            raise MappingError(f"request body: expected {kind}")
        wrapped = body if rule.body == "*" else {rule.body: body}
        try:
            json_format.ParseDict(wrapped, request)
        except (json_format.ParseError, ValueError, TypeError) as error:
            raise MappingError(f"request body: {error}") from error
    for variable, fields in zip(rule.template.variables, rule.path_fields, strict=True):
        label = f"path variable {'.'.join(variable.field_path)!r}"
        _assign(request, fields, [path_values[variable.field_path]], label=label)
    grouped: dict[str, list[str]] = {}
    for name, value in query:
        grouped.setdefault(name, []).append(value)
    if _infers_mask(rule, grouped) and isinstance(body, dict):
        body_type = rule.input_type.fields_by_name[rule.body].message_type
        request.update_mask.paths.extend(_paths_of(body_type, body))  # type: ignore[attr-defined]
    bound = [tuple(f.name for f in fields) for fields in rule.path_fields]
    if rule.body and rule.body != "*":
        bound.append((rule.body,))
    for name, values in grouped.items():
        if rule.body == "*":
            raise MappingError(
                f"query parameter {name!r}: this method takes every field in the body"
            )
        try:
            fields = resolve_field_path(rule.input_type, name.split("."))
        except MappingError as error:
            raise MappingError(f"query parameter {name!r}: {error}") from None
        names = tuple(f.name for f in fields)
        if any(names[: len(b)] == b or b[: len(names)] == names for b in bound):
            raise MappingError(f"query parameter {name!r}: the field is bound by the path or body")
        leaf = fields[-1]
        if not query_settable(leaf):
            raise MappingError(f"query parameter {name!r}: the field cannot be set from a query")
        if len(values) > 1 and not leaf.is_repeated:
            raise MappingError(f"query parameter {name!r} given {len(values)} times")
        _assign(request, fields, values, label=f"query parameter {name!r}")
    return request


def _json_kind(field: FieldDescriptor | None) -> type | None:
    """The JSON type a body must have for `field` (None: the whole request), if one is fixed."""
    if field is None or (field.message_type is not None and _is_plain_message(field)):
        return dict
    if field.is_repeated and not is_map(field):
        return list
    return None


def _infers_mask(rule: HttpRule, query: dict[str, list[str]]) -> bool:
    """grpc-gateway's PATCH feature: an unset `update_mask` lists the body's fields."""
    mask = rule.input_type.fields_by_name.get("update_mask")
    body = rule.body_field()
    return (
        rule.http_method == "PATCH"
        and body is not None
        and body.message_type is not None
        and mask is not None
        and mask.message_type is not None
        and mask.message_type.full_name == "google.protobuf.FieldMask"
        and not {"update_mask", "updateMask"} & query.keys()
    )


def _paths_of(message: Descriptor, body: dict[str, Any], prefix: str = "") -> list[str]:
    """Field-mask paths of the keys of a JSON object, nested into plain messages."""
    paths: list[str] = []
    for key, value in body.items():
        found = _field_named(message, key)
        if found is None:
            continue
        path = f"{prefix}{found.name}"
        if _is_plain_message(found) and isinstance(value, dict) and value:
            paths.extend(_paths_of(found.message_type, value, f"{path}."))
        else:
            paths.append(path)
    return paths


def _assign(
    request: Message, fields: Sequence[FieldDescriptor], texts: list[str], *, label: str
) -> None:
    """Sets the field at the end of `fields` from text values (replacing what was there)."""
    parent = request
    for step in fields[:-1]:
        parent = getattr(parent, step.name)
    leaf = fields[-1]
    values = [_json_of(leaf, text, label=label) for text in texts]
    fresh = type(parent)()
    try:
        json_format.ParseDict({leaf.name: values if leaf.is_repeated else values[0]}, fresh)
    except (json_format.ParseError, ValueError, TypeError) as error:
        raise MappingError(f"{label}: {error}") from error
    parent.ClearField(leaf.name)
    parent.MergeFrom(fresh)


def _json_of(field: FieldDescriptor, text: str, *, label: str) -> Any:
    """The proto3 JSON value of one text value for `field`."""
    if field.message_type is not None:  # a scalar well-known type
        inner = field.message_type.fields_by_name.get("value")
        if field.message_type.full_name.endswith("Value") and inner is not None:
            return _json_of(inner, text, label=label)
        return text
    if field.type == FieldDescriptor.TYPE_BOOL:
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise MappingError(f"{label}: {text!r} is not a boolean (true or false)")
    if field.type in _INTEGERS:
        if not re.fullmatch(r"-?[0-9]+", text):
            raise MappingError(f"{label}: {text!r} is not an integer")
        return int(text)
    return text


def render_response(rule: HttpRule, response: Message) -> Any:
    """The JSON body of a response: the whole message or its `response_body` field.

    Like grpc-gateway's default marshaler, fields with default values are
    written too, under their lowerCamelCase JSON names.
    """
    whole = json_format.MessageToDict(response, always_print_fields_with_no_presence=True)
    chosen = rule.response_field()
    if chosen is None:
        return whole
    if chosen.json_name in whole:
        return whole[chosen.json_name]
    if chosen.message_type is not None:
        return json_format.MessageToDict(
            message_class(chosen.message_type)(), always_print_fields_with_no_presence=True
        )
    return None
