"""More of Mistral's v2 REST face: members, namespaces, services, event triggers, reports,
and Levante's Server-Sent Events stream of an execution's state changes.

Routes added to `MistralRestFace`'s application by `add_routes`; like the
rest of the face, each handler only translates between Mistral's shapes and
the servicers (or the thin `Reports` reader), and domain errors become
Mistral's error bodies in the face's middleware.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from google.protobuf import json_format

from levante import errors
from levante.api import convert, mistral
from levante.api.members import MembersServicer, resource_type_name, status_to_proto
from levante.api.namespaces import NamespacesServicer
from levante.api.reports import Reports, Walk
from levante.api.rest import TEXT_BODY, _json_body
from levante.api.system import ServicesServicer, kind_name
from levante.api.watch import ExecutionWatcher
from levante.persistence.repository import ExecutionRecord
from levante.v2 import event_pb2, member_pb2, namespace_pb2, service_pb2

#: Seconds without an event after which an SSE stream gets a comment line:
#: keeps proxies from timing it out, and finds clients that went away.
SSE_KEEPALIVE_SECONDS = 15.0

#: The answer to every event-trigger call (the engine has no event listener).
EVENT_TRIGGERS_UNSUPPORTED = (
    "Event triggers are not supported: Levante's engine does not listen to "
    "notification events, so /v2/event_triggers is not implemented. Start workflows "
    "with cron triggers or POST /v2/executions instead."
)

_MEMBER_STATUS = {
    member_pb2.MEMBER_STATUS_PENDING: "pending",
    member_pb2.MEMBER_STATUS_ACCEPTED: "accepted",
    member_pb2.MEMBER_STATUS_REJECTED: "rejected",
}
_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off", "")


def member_json(message: member_pb2.Member) -> dict[str, Any]:
    """A member as Mistral shows it."""
    return {
        "id": message.id,
        "resource_id": message.resource_id,
        "resource_type": resource_type_name(message.resource_type),
        "project_id": message.project_id,
        "member_id": message.member_id,
        "status": _MEMBER_STATUS.get(message.status, ""),
        "created_at": mistral.mistral_time(message, "create_time"),
        "updated_at": mistral.mistral_time(message, "update_time"),
    }


def namespace_json(message: namespace_pb2.Namespace) -> dict[str, Any]:
    """A namespace in use, with how many visible definitions it holds."""
    return {
        "name": message.namespace_id,
        "workflows_count": message.workflow_count,
        "workbooks_count": message.workbook_count,
        "actions_count": message.action_count,
    }


def service_json(message: service_pb2.Service) -> dict[str, Any]:
    """A service as Mistral listed them: its process as the name, its group as the type."""
    return {"name": message.instance, "type": f"{kind_name(message.kind)}_group"}


class MistralRestExtras:
    """Handlers for the routes `add_routes` registers."""

    def __init__(
        self,
        *,
        members: MembersServicer,
        namespaces: NamespacesServicer,
        services: ServicesServicer,
        reports: Reports,
        watcher: ExecutionWatcher | None = None,
    ) -> None:
        self.members = members
        self.namespaces = namespaces
        self.services = services
        self.reports = reports
        self.watcher = watcher

    def add_routes(self, app: web.Application) -> None:
        """Registers the routes on the face's application."""
        route = app.router.add_route
        for suffix in ("", "/"):
            for kind in ("workflows", "workbooks"):
                members = f"/v2/{kind}/{{resource_id}}/members"
                route("POST", f"{members}{suffix}", self.create_member)
                route("GET", f"{members}{suffix}", self.list_members)
                route("GET", f"{members}/{{member_id}}{suffix}", self.get_member)
                route("PUT", f"{members}/{{member_id}}{suffix}", self.update_member)
                route("DELETE", f"{members}/{{member_id}}{suffix}", self.delete_member)
                route("PUT", f"{members}{suffix}", self.member_id_missing)
                route("DELETE", f"{members}{suffix}", self.member_id_missing)
            route("GET", f"/v2/namespaces{suffix}", self.list_namespaces)
            route("GET", f"/v2/services{suffix}", self.list_services)
            route("*", f"/v2/event_triggers{suffix}", self.event_triggers)
            route("*", f"/v2/event_triggers/{{id}}{suffix}", self.event_triggers)
            route("GET", f"/v2/executions/{{id}}/report{suffix}", self.execution_report)
            if self.watcher is not None:
                route("GET", f"/v2/executions/{{id}}/events{suffix}", self.execution_events)
            route("GET", f"/v2/executions/{{id}}/executions{suffix}", self.execution_executions)
            route("GET", f"/v2/tasks/{{id}}/executions{suffix}", self.task_executions)
            route("DELETE", f"/v2/action_executions/{{id}}{suffix}", self.delete_action_execution)

    # -- members ------------------------------------------------------------

    async def create_member(self, request: web.Request) -> web.Response:
        request[TEXT_BODY] = True
        body = await _json_body(request)
        member_id = body.get("member_id")
        if not member_id:
            raise errors.InputError("Member id must be provided.")
        if not isinstance(member_id, str):
            raise errors.InputError(f"member_id must be a string, got {member_id!r}")
        created = await self.members.CreateMember(
            member_pb2.CreateMemberRequest(
                parent=_parent(request), member=member_pb2.Member(member_id=member_id)
            ),
            None,
        )
        return web.json_response(member_json(created), status=201)

    async def list_members(self, request: web.Request) -> web.Response:
        request[TEXT_BODY] = True
        response = await self.members.ListMembers(
            member_pb2.ListMembersRequest(parent=_parent(request)), None
        )
        return web.json_response({"members": [member_json(m) for m in response.members]})

    async def get_member(self, request: web.Request) -> web.Response:
        request[TEXT_BODY] = True
        found = await self.members.GetMember(
            member_pb2.GetMemberRequest(name=_member_name(request)), None
        )
        return web.json_response(member_json(found))

    async def update_member(self, request: web.Request) -> web.Response:
        request[TEXT_BODY] = True
        body = await _json_body(request)
        status = body.get("status")
        if not isinstance(status, str):
            raise errors.InputError(
                f"A member status must be given: pending, accepted or rejected [status={status!r}]"
            )
        member = member_pb2.Member(name=_member_name(request), status=status_to_proto(status))
        update = member_pb2.UpdateMemberRequest(member=member)
        update.update_mask.paths.append("status")
        updated = await self.members.UpdateMember(update, None)
        return web.json_response(member_json(updated))

    async def delete_member(self, request: web.Request) -> web.Response:
        request[TEXT_BODY] = True
        await self.members.DeleteMember(
            member_pb2.DeleteMemberRequest(name=_member_name(request)), None
        )
        return web.Response(status=204)

    async def member_id_missing(self, request: web.Request) -> web.Response:
        # The CLI fills a missing member id from its authenticated project; without
        # authentication it has none and calls .../members/ instead.
        request[TEXT_BODY] = True
        raise errors.InputError(
            "A member id must be given in the path: .../members/{member_id} "
            "(the CLI's -m/--member-id)"
        )

    # -- namespaces, services, event triggers -------------------------------

    async def list_namespaces(self, request: web.Request) -> web.Response:
        response = await self.namespaces.ListNamespaces(namespace_pb2.ListNamespacesRequest(), None)
        return web.json_response({"namespaces": [namespace_json(n) for n in response.namespaces]})

    async def list_services(self, request: web.Request) -> web.Response:
        response = await self.services.ListServices(service_pb2.ListServicesRequest(), None)
        return web.json_response({"services": [service_json(s) for s in response.services]})

    async def event_triggers(self, request: web.Request) -> web.Response:
        return web.json_response({"faultstring": EVENT_TRIGGERS_UNSUPPORTED}, status=501)

    # -- reports and sub-executions -----------------------------------------

    async def execution_report(self, request: web.Request) -> web.Response:
        report = await self.reports.report(
            request.match_info["id"],
            _walk(request),
            statistics_only=_flag(request, "statistics_only"),
            include_trace=_flag(request, "include_trace"),
        )
        return web.json_response(report)

    async def execution_events(self, request: web.Request) -> web.StreamResponse:
        """Server-Sent Events: `id: <sequence>` and `data: <ExecutionEvent JSON>` per event.

        Unknown ids answer 404 before the stream starts; the stream ends
        after the execution's final event (see `ExecutionWatcher`).
        """
        assert self.watcher is not None
        replay = _flag(request, "replay")
        watch = await self.watcher.open(request.match_info["id"], replay=replay)
        async with watch:
            response = web.StreamResponse(
                headers={
                    "Content-Type": "text/event-stream",
                    "Cache-Control": "no-cache",
                    "X-Accel-Buffering": "no",  # nginx: do not buffer the stream
                }
            )
            await response.prepare(request)
            quiet = 0.0
            try:
                async for event in watch.events(tick_seconds=1.0):
                    if event is not None:
                        quiet = 0.0
                        await response.write(sse(event))
                        continue
                    # A second without events: end the watch if the client went away.
                    if request.transport is None or request.transport.is_closing():
                        return response
                    quiet += 1.0
                    if quiet >= SSE_KEEPALIVE_SECONDS:
                        quiet = 0.0
                        await response.write(b": keep-alive\n\n")
            except ConnectionError:  # the client went away
                return response
            await response.write_eof()
        return response

    async def execution_executions(self, request: web.Request) -> web.Response:
        found = await self.reports.execution_executions(request.match_info["id"], _walk(request))
        return _executions(request, found)

    async def task_executions(self, request: web.Request) -> web.Response:
        found = await self.reports.task_executions(request.match_info["id"], _walk(request))
        return _executions(request, found)

    async def delete_action_execution(self, request: web.Request) -> web.Response:
        # Mistral's default ([api] allow_action_execution_deletion = False).
        raise errors.ForbiddenError("Action execution deletion is not allowed.")


def sse(event: event_pb2.ExecutionEvent) -> bytes:
    """One Server-Sent Event: the sequence as its id, the event in proto3 JSON (field names
    as in the proto, every field present) as its data."""
    data = json_format.MessageToDict(
        event, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )
    text = json.dumps(data, separators=(",", ":"))
    return f"id: {event.sequence}\ndata: {text}\n\n".encode()


def _parent(request: web.Request) -> str:
    kind = request.path.removeprefix("/v2/").split("/", 1)[0]
    return f"{kind}/{request.match_info['resource_id']}"


def _member_name(request: web.Request) -> str:
    return f"{_parent(request)}/members/{request.match_info['member_id']}"


def _flag(request: web.Request, name: str) -> bool:
    raw = request.query.get(name)
    if raw is None:
        return False
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise errors.InputError(f"Invalid value for {name}: {raw!r} (expected true or false)")


def _walk(request: web.Request) -> Walk:
    raw = request.query.get("max_depth", "-1") or "-1"
    try:
        max_depth = int(raw)
    except ValueError:
        raise errors.InputError(
            f"Invalid value for max_depth: {raw!r} (expected an integer)"
        ) from None
    return Walk(errors_only=_flag(request, "errors_only"), max_depth=max_depth)


def _executions(request: web.Request, found: list[ExecutionRecord]) -> web.Response:
    include_output = _flag(request, "include_output")
    items = [
        mistral.execution(
            convert.execution_to_proto(record, with_output=include_output),
            listed=True,
            include_output=include_output,
        )
        for record in found
    ]
    return web.json_response({"executions": items})
