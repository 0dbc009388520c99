"""levante.v2.ActionsService: the action catalogue (standard actions and plugins),
and the ad-hoc actions users define (created, updated and deleted through
`Definitions`, as the Mistral REST face does)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from google.protobuf import empty_pb2

from levante.actions import ActionCatalogue, CatalogueEntry
from levante.api import convert
from levante.errors import InputError, NotFoundError
from levante.listing import Filter, parse_filter, parse_order
from levante.persistence.definitions import ActionDefinitionRecord
from levante.v2 import action_pb2, action_pb2_grpc

if TYPE_CHECKING:  # definitions imports this module (action_to_proto)
    from levante.api.definitions import Definitions

FILTERABLE = ("name", "description", "input", "is_system", "tags", "namespace", "scope")


def action_to_proto(entry: CatalogueEntry) -> action_pb2.Action:
    """The public Action of a catalogue entry (built in or from a plugin)."""
    return action_pb2.Action(
        name=f"actions/{entry.name}",
        id=entry.name,
        action_name=entry.name,
        input=entry.input,
        description=entry.description,
        is_system=False,
        is_sync=entry.is_sync,
    )


def adhoc_to_proto(record: ActionDefinitionRecord) -> action_pb2.Action:
    """The public Action of a stored ad-hoc action."""
    return action_pb2.Action(
        name=f"actions/{record.name}",
        id=record.id,
        action_name=record.name,
        input=record.input,
        description=record.description,
        is_system=False,
        tags=record.tags,
        definition=record.definition,
        scope=convert.scope_to_proto(record.scope),
        project_id=record.project_id,
        namespace=record.namespace,
        create_time=convert.timestamp(record.created_at),
        update_time=convert.timestamp(record.updated_at),
    )


def _matches(action: action_pb2.Action, item: Filter) -> bool:
    value: Any = {
        "name": action.action_name,
        "description": action.description,
        "input": action.input,
        "is_system": str(action.is_system).lower(),
        "tags": list(action.tags),
        "namespace": action.namespace,
        "scope": convert.scope_from_proto(action.scope) if action.scope else "",
    }[item.field]
    wanted = item.value
    if item.op == "has":
        return str(wanted) in (value if isinstance(value, str) else " ".join(value))
    if isinstance(value, list):
        return (wanted in value) == (item.op != "neq")
    comparisons = {
        "eq": lambda: value == wanted,
        "neq": lambda: value != wanted,
        "in": lambda: value in wanted,
        "nin": lambda: value not in wanted,
        "lt": lambda: value < wanted,
        "lte": lambda: value <= wanted,
        "gt": lambda: value > wanted,
        "gte": lambda: value >= wanted,
    }
    return comparisons[item.op]()


class ActionsServicer(action_pb2_grpc.ActionsServiceServicer):
    """Serves the catalogue the executors run from, and users' ad-hoc actions."""

    def __init__(self, catalogue: ActionCatalogue, *, definitions: Definitions) -> None:
        self._catalogue = catalogue
        self._definitions = definitions

    def known(self, name: str) -> bool:
        """Whether an action of this name exists."""
        return name in self._catalogue

    async def GetAction(self, request: Any, context: Any) -> action_pb2.Action:
        name = request.name.removeprefix("actions/")
        record = await self._definitions.find_action(name, namespace=request.namespace)
        if record is not None:
            return adhoc_to_proto(record)
        entry = self._catalogue.get(name)
        if entry is None:
            raise NotFoundError(f"Action not found [name={name}, namespace={request.namespace}]")
        return action_to_proto(entry)

    async def ListActions(self, request: Any, context: Any) -> action_pb2.ListActionsResponse:
        filters = parse_filter(request.filter)
        for item in filters:
            if item.field not in FILTERABLE:
                raise InputError(f"Unknown field for filtering actions: {item.field}")
        order = parse_order(request.order_by)
        if any(o.field != "name" for o in order):
            raise InputError("Actions can be ordered by name only")
        descending = bool(order) and order[0].descending
        stored = await self._definitions.action_records(all_projects=request.all_projects)
        actions = sorted(
            [*(action_to_proto(e) for e in self._catalogue), *map(adhoc_to_proto, stored)],
            key=lambda a: a.action_name,
            reverse=descending,
        )
        actions = [a for a in actions if all(_matches(a, f) for f in filters)]
        if request.page_token:
            marker = request.page_token
            actions = [
                a
                for a in actions
                if (a.action_name < marker if descending else a.action_name > marker)
            ]
        limit = request.page_size or 1000
        page = actions[:limit]
        token = page[-1].action_name if len(page) == limit and len(actions) > limit else ""
        return action_pb2.ListActionsResponse(actions=page, next_page_token=token)

    async def CreateActions(self, request: Any, context: Any) -> action_pb2.CreateActionsResponse:
        records = await self._definitions.put_actions(
            request.definition,
            namespace=request.namespace,
            scope=convert.scope_from_proto(request.scope),
            update=False,
        )
        return action_pb2.CreateActionsResponse(actions=[adhoc_to_proto(r) for r in records])

    async def UpdateActions(self, request: Any, context: Any) -> action_pb2.UpdateActionsResponse:
        records = await self._definitions.put_actions(
            request.definition,
            namespace=request.namespace,
            scope=convert.scope_from_proto(request.scope),
            update=True,
        )
        return action_pb2.UpdateActionsResponse(actions=[adhoc_to_proto(r) for r in records])

    async def DeleteAction(self, request: Any, context: Any) -> empty_pb2.Empty:
        name = request.name.removeprefix("actions/")
        if not name:
            raise InputError("Action name must be provided [name is missing]")
        await self._definitions.delete_action(name, namespace=request.namespace)
        return empty_pb2.Empty()
