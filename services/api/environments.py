"""levante.v2.EnvironmentsService."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from google.protobuf import empty_pb2

from levante.api import convert, identity
from levante.api.servicers import list_query
from levante.errors import InputError
from levante.messaging.outbox import utcnow
from levante.persistence.environments import EnvironmentRecord, EnvironmentRepository
from levante.security.limits import Limits
from levante.v2 import environment_pb2, environment_pb2_grpc


def environment_to_proto(record: EnvironmentRecord) -> environment_pb2.Environment:
    """The public Environment of a record."""
    return environment_pb2.Environment(
        name=f"environments/{record.name}",
        id=record.id,
        environment_name=record.name,
        description=record.description,
        variables=convert.struct(record.variables),
        scope=convert.scope_to_proto(record.scope),
        project_id=record.project_id,
        create_time=convert.timestamp(record.created_at),
        update_time=convert.timestamp(record.updated_at),
    )


class EnvironmentsServicer(environment_pb2_grpc.EnvironmentsServiceServicer):
    """Named variable sets for executions' env."""

    def __init__(
        self, environments: EnvironmentRepository, *, limits: Limits | None = None
    ) -> None:
        self._environments = environments
        self._limits = limits or Limits()

    async def CreateEnvironment(self, request: Any, context: Any) -> environment_pb2.Environment:
        env = request.environment
        self._limits.check_size("variables", json.dumps(convert.plain(env.variables)))
        record = await asyncio.to_thread(
            self._environments.create,
            name=env.environment_name,
            description=env.description,
            variables=convert.plain(env.variables),
            scope=identity.authorize_scope(convert.scope_from_proto(env.scope)),
            project_id=identity.project_id(),
            now=utcnow(),
        )
        return environment_to_proto(record)

    async def GetEnvironment(self, request: Any, context: Any) -> environment_pb2.Environment:
        record = await asyncio.to_thread(
            self._environments.get,
            request.name.removeprefix("environments/"),
            project_id=identity.project_id(),
        )
        return environment_to_proto(record)

    async def ListEnvironments(
        self, request: Any, context: Any
    ) -> environment_pb2.ListEnvironmentsResponse:
        query = list_query(
            filter_text=request.filter,
            order_by=request.order_by,
            page_size=request.page_size,
            page_token=request.page_token,
        )
        page = await asyncio.to_thread(
            self._environments.list, query, project_id=identity.list_scope(request.all_projects)
        )
        return environment_pb2.ListEnvironmentsResponse(
            environments=[environment_to_proto(r) for r in page.items],
            next_page_token=page.next_marker or "",
        )

    async def UpdateEnvironment(self, request: Any, context: Any) -> environment_pb2.Environment:
        env = request.environment
        paths = set(request.update_mask.paths) or {"variables", "description"}
        unknown = paths - {"variables", "description", "scope"}
        if unknown:
            raise InputError(f"Environment fields that cannot be updated: {sorted(unknown)}")
        name = (env.name or env.environment_name).removeprefix("environments/")
        if "variables" in paths:
            self._limits.check_size("variables", json.dumps(convert.plain(env.variables)))
        record = await asyncio.to_thread(
            self._environments.update,
            name,
            project_id=identity.project_id(),
            now=utcnow(),
            variables=convert.plain(env.variables) if "variables" in paths else None,
            description=env.description if "description" in paths else None,
            scope=(
                identity.authorize_scope(convert.scope_from_proto(env.scope))
                if "scope" in paths
                else None
            ),
        )
        return environment_to_proto(record)

    async def DeleteEnvironment(self, request: Any, context: Any) -> empty_pb2.Empty:
        await asyncio.to_thread(
            self._environments.delete,
            request.name.removeprefix("environments/"),
            project_id=identity.project_id(),
        )
        return empty_pb2.Empty()
