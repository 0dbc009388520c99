"""levante.v2.NamespacesService: the namespaces in use."""

from __future__ import annotations

import asyncio
from typing import Any

from levante.api import identity
from levante.errors import InputError
from levante.persistence.db import Database
from levante.persistence.namespaces import NamespaceRecord, list_namespaces
from levante.v2 import namespace_pb2, namespace_pb2_grpc


def namespace_to_proto(record: NamespaceRecord) -> namespace_pb2.Namespace:
    """The public Namespace of a record."""
    return namespace_pb2.Namespace(
        name=f"namespaces/{record.namespace}",
        namespace_id=record.namespace,
        workflow_count=record.workflows,
        workbook_count=record.workbooks,
        action_count=record.actions,
    )


class NamespacesServicer(namespace_pb2_grpc.NamespacesServiceServicer):
    """Namespaces holding workflows, workbooks or ad-hoc actions the caller can see."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def ListNamespaces(
        self, request: Any, context: Any
    ) -> namespace_pb2.ListNamespacesResponse:
        if request.page_size < 0:
            raise InputError("page_size must not be negative")
        found = await asyncio.to_thread(
            list_namespaces, self._database, project_id=identity.project_id()
        )
        # The token is the last namespace of the previous page (they are sorted).
        if request.page_token:
            found = [r for r in found if r.namespace > request.page_token.removeprefix("=")]
        page = found[: request.page_size] if request.page_size else found
        more = len(page) < len(found)
        return namespace_pb2.ListNamespacesResponse(
            namespaces=[namespace_to_proto(r) for r in page],
            next_page_token=f"={page[-1].namespace}" if more and page else "",
        )
