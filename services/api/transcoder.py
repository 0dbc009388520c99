"""The transcoded REST face: every `google.api.http` rule served in-process.

What grpc-gateway or Envoy's gRPC-JSON transcoder would do in a mesh, driven
only by the descriptors of the generated `levante.v2` modules: an HTTP
request is matched against the rules (`levante.api.http_rules`), turned into
the RPC's request message and sent over a loopback gRPC channel to this
process's own gRPC server, so interceptors, deadlines and error mapping are
exactly those a gateway would see. Answers are proto3 JSON; failures are a
`google.rpc.Status` in JSON with grpc-gateway's HTTP status for its code.
A server-streaming RPC answers as grpc-gateway streams: one JSON object per
line, `{"result": ...}` per message and `{"error": <Status>}` if the stream
fails after it started (a failure before the first message is a plain error).

Every rule lives under `/levante/v2`, which Mistral's `/v2` face never uses.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any

import grpc
import structlog
from aiohttp import web
from google.protobuf import any_pb2, json_format
from google.rpc import error_details_pb2, status_pb2

from levante.api import http_rules
from levante.api.http_rules import STREAM_CONTENT_TYPE, HttpRule, MappingError
from levante.rpc import DOMAIN

log = structlog.get_logger(__name__)

PREFIX = "/levante/v2"
OPENAPI_PATH = f"{PREFIX}/openapi.json"
#: Response header naming the rule that answered (`HttpRule.key`).
RULE_HEADER = "Levante-Http-Rule"


# grpc-gateway's runtime.HTTPStatusFromCode.
HTTP_STATUS = {
    grpc.StatusCode.OK: 200,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DATA_LOSS: 500,
}
# `Grpc-Timeout` units, as on the gRPC wire.
_TIMEOUT_UNITS = {"H": 3600.0, "M": 60.0, "S": 1.0, "m": 1e-3, "u": 1e-6, "n": 1e-9}
_METADATA_PREFIX = "grpc-metadata-"


def loopback_target(bind_host: str, port: int) -> str:
    """The address this process's gRPC server answers on, seen from inside."""
    if bind_host in ("", "0.0.0.0", "localhost"):
        return f"127.0.0.1:{port}"
    if bind_host == "::":
        return f"[::1]:{port}"
    if ":" in bind_host and not bind_host.startswith("["):
        return f"[{bind_host}]:{port}"
    return f"{bind_host}:{port}"


class Transcoder:
    """Serves the http rules of the public protos over a gRPC channel to `target`.

    Args:
        target: gRPC address of the server implementing the services.
        rules: The rules to serve; default every rule of `levante.v2`.
        openapi: The OpenAPI document served at `/levante/v2/openapi.json`
            (built from the rules when not given).
        channel: Opens the channel to `target` (insecure by default; TLS
            when the server speaks it).
    """

    def __init__(
        self,
        *,
        target: str,
        rules: Sequence[HttpRule] | None = None,
        openapi: dict[str, Any] | None = None,
        channel: Callable[[str], grpc.aio.Channel] = grpc.aio.insecure_channel,
    ) -> None:
        self._target = target
        self._new_channel = channel
        found = http_rules.discover() if rules is None else list(rules)
        self.rules: list[HttpRule] = []
        for rule in found:
            if not rule.template.text.startswith(f"{PREFIX}/"):
                # It would collide with the Mistral face; the unit tests fail on it.
                log.error("http rule outside the transcoded prefix, not served", rule=str(rule))
                continue
            self.rules.append(rule)
        self._openapi = openapi
        self._channel: grpc.aio.Channel | None = None
        self._calls: dict[str, Any] = {}

    def app(self) -> web.Application:
        """The aiohttp sub-application to mount at PREFIX."""
        app = web.Application(client_max_size=16 * 1024**2)
        app.router.add_route("GET", "/openapi.json", self.openapi)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        app.on_cleanup.append(self._close)
        return app

    async def _close(self, app: web.Application) -> None:
        if self._channel is not None:
            await self._channel.close()
            self._channel = None

    async def openapi(self, request: web.Request) -> web.Response:
        """The OpenAPI document of this face."""
        if self._openapi is None:
            from levante.api.openapi import transcoded_document

            self._openapi = transcoded_document(self.rules)
        return web.json_response(self._openapi)

    async def handle(self, request: web.Request) -> web.Response:
        """Transcodes one HTTP request; never raises."""
        try:
            rule, values = self.route(request.method, request.rel_url.raw_path)
        except _HttpError as error:
            return error.response()
        answer = await self._transcode(request, rule, values)
        if not answer.prepared:  # a stream set it before its first line
            # Which binding answered: for clients' logs, and the tests' proof of coverage.
            answer.headers[RULE_HEADER] = rule.key
        return answer

    async def _transcode(
        self, request: web.Request, rule: HttpRule, values: dict[tuple[str, ...], str]
    ) -> web.StreamResponse:
        try:
            body = await _json_body(request) if rule.body else None
            message = http_rules.build_request(
                rule, path_values=values, query=list(request.query.items()), body=body
            )
            metadata, timeout = _call_options(request)
            call = self._call(rule)
        except _HttpError as error:
            return error.response()
        except MappingError as error:
            return _status_response(grpc.StatusCode.INVALID_ARGUMENT, str(error))
        except web.HTTPRequestEntityTooLarge as error:
            return _status_response(
                grpc.StatusCode.INVALID_ARGUMENT, error.text or "body too large", http_status=413
            )
        if rule.server_streaming:
            return await _stream(request, rule, call(message, metadata=metadata, timeout=timeout))
        try:
            response = await call(message, metadata=metadata, timeout=timeout)
        except grpc.aio.AioRpcError as error:
            return _rpc_error_response(error)
        except Exception:
            log.exception("transcoding failed", rule=str(rule))
            return _status_response(grpc.StatusCode.INTERNAL, "internal error; see the server log")
        return web.json_response(http_rules.render_response(rule, response))

    def route(self, method: str, raw_path: str) -> tuple[HttpRule, dict[tuple[str, ...], str]]:
        """The best rule for a request and its path variables; raises _HttpError (404/405)."""
        matches: list[tuple[HttpRule, dict[tuple[str, ...], str]]] = []
        for rule in self.rules:
            values = rule.template.match(raw_path)
            if values is not None:
                matches.append((rule, values))
        allowed = sorted({rule.http_method for rule, _ in matches})
        for_method = [m for m in matches if m[0].http_method == method.upper()]
        if not for_method:
            if matches:
                raise _HttpError(
                    405,
                    grpc.StatusCode.UNIMPLEMENTED,
                    f"{method} is not allowed on {raw_path}; allowed: {', '.join(allowed)}",
                    headers={"Allow": ", ".join(allowed)},
                )
            raise _HttpError(
                404, grpc.StatusCode.NOT_FOUND, f"no method is bound to {method} {raw_path}"
            )
        # The most literal template wins (`/x/tasks` over `/{name=x/*}`).
        return max(for_method, key=lambda m: m[0].template.specificity)

    def _call(self, rule: HttpRule) -> Any:
        name = f"/{rule.method.containing_service.full_name}/{rule.method.name}"
        if rule.client_streaming:
            raise _HttpError(
                501, grpc.StatusCode.UNIMPLEMENTED, f"{name} takes a stream; it is not transcoded"
            )
        if self._channel is None:
            self._channel = self._new_channel(self._target)
            self._calls = {}
        call = self._calls.get(name)
        if call is None:
            output = http_rules.message_class(rule.method.output_type)
            kind = (
                self._channel.unary_stream if rule.server_streaming else self._channel.unary_unary
            )
            call = kind(
                name,
                request_serializer=lambda message: message.SerializeToString(),
                response_deserializer=output.FromString,
            )
            self._calls[name] = call
        return call


async def _stream(request: web.Request, rule: HttpRule, stream: Any) -> web.StreamResponse:
    """Relays a server stream as newline-delimited JSON, as grpc-gateway does."""
    try:
        try:
            item = await stream.read()
        except grpc.aio.AioRpcError as error:
            return _rpc_error_response(error)
        answer = web.StreamResponse(
            headers={"Content-Type": STREAM_CONTENT_TYPE, RULE_HEADER: rule.key}
        )
        await answer.prepare(request)
        try:
            while item is not grpc.aio.EOF:
                line = {"result": http_rules.render_response(rule, item)}
                await answer.write(json.dumps(line).encode() + b"\n")
                item = await stream.read()
        except grpc.aio.AioRpcError as error:
            status = json.loads(_rpc_error_response(error).text or "{}")
            await answer.write(json.dumps({"error": status}).encode() + b"\n")
        await answer.write_eof()
        return answer
    finally:
        stream.cancel()  # the client went away, or the stream is done: a no-op then


class _HttpError(Exception):
    """An answer decided before any RPC: no route, wrong method, bad header."""

    def __init__(
        self,
        http_status: int,
        code: grpc.StatusCode,
        message: str,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def response(self) -> web.Response:
        return _status_response(
            self.code, self.message, http_status=self.http_status, headers=self.headers
        )


async def _json_body(request: web.Request) -> Any | None:
    """The decoded JSON body; None when there is none."""
    raw = await request.read()
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, ValueError) as error:
        raise MappingError(f"request body is not valid JSON: {error}") from error
    except RecursionError as error:
        raise MappingError("request body is nested too deeply") from error


def _call_options(request: web.Request) -> tuple[list[tuple[str, str]], float | None]:
    """gRPC metadata and deadline from the headers, as grpc-gateway forwards them."""
    metadata: list[tuple[str, str]] = []
    for name, value in request.headers.items():
        lower = name.lower()
        if lower in ("authorization", "x-auth-token"):
            # Credentials travel on: the gRPC server authenticates the call.
            metadata.append((lower, value))
        elif lower.startswith(_METADATA_PREFIX) and len(lower) > len(_METADATA_PREFIX):
            key = lower[len(_METADATA_PREFIX) :]
            if not re.fullmatch(r"[0-9a-z_.-]+", key) or key.startswith("grpc-"):
                raise MappingError(f"header {name}: not a valid gRPC metadata key")
            if key.endswith("-bin") or not value.isascii():
                raise MappingError(f"header {name}: only ASCII text metadata is forwarded")
            metadata.append((key, value))
    timeout = None
    header = request.headers.get("Grpc-Timeout")
    if header is not None:
        found = re.fullmatch(r"([0-9]{1,8})([HMSmun])", header.strip())
        if found is None:
            raise MappingError(f"header Grpc-Timeout: {header!r} is not like 10S or 500m")
        timeout = int(found.group(1)) * _TIMEOUT_UNITS[found.group(2)]
    return metadata, timeout


def _status_response(
    code: grpc.StatusCode,
    message: str,
    *,
    http_status: int | None = None,
    headers: dict[str, str] | None = None,
    status: status_pb2.Status | None = None,
) -> web.Response:
    if status is None:
        # Said by the transcoder itself, not by a service: its ErrorInfo tells them apart.
        status = status_pb2.Status(code=code.value[0], message=message)
        info = any_pb2.Any()
        info.Pack(error_details_pb2.ErrorInfo(reason=f"TRANSCODER_{code.name}", domain=DOMAIN))
        status.details.append(info)
    body = json_format.MessageToDict(status, always_print_fields_with_no_presence=True)
    return web.json_response(
        body, status=http_status or HTTP_STATUS.get(code, 500), headers=headers
    )


def _rpc_error_response(error: grpc.aio.AioRpcError) -> web.Response:
    """A failed call as its google.rpc.Status (with the details the server attached)."""
    code = error.code()
    status = None
    for key, value in error.trailing_metadata() or ():
        if key == "grpc-status-details-bin" and isinstance(value, bytes):
            try:
                status = status_pb2.Status.FromString(value)
            except Exception:  # a malformed trailer: fall back to code and message
                status = None
    if status is None:
        status = status_pb2.Status(code=code.value[0], message=error.details() or code.name)
    if code == grpc.StatusCode.UNKNOWN:
        # A servicer raised something that is not a domain error: a bug, whose
        # details (exception class, SQL, ...) are for the log, not the client.
        log.error("a transcoded call failed unexpectedly", details=error.details())
        status = status_pb2.Status(code=code.value[0], message="internal error; see the server log")
    return _status_response(code, status.message, status=status)
