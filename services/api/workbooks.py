"""levante.v2.WorkbooksService: workbooks through `Definitions`, as the Mistral face."""

from __future__ import annotations

from typing import Any

from google.protobuf import empty_pb2

from levante.api import convert
from levante.api.definitions import Definitions
from levante.api.servicers import list_query
from levante.errors import InputError
from levante.persistence.definitions import WorkbookRecord
from levante.v2 import workbook_pb2, workbook_pb2_grpc

COLLECTION = "workbooks/"


def workbook_to_proto(record: WorkbookRecord) -> workbook_pb2.Workbook:
    """The public Workbook of a record."""
    return workbook_pb2.Workbook(
        name=f"{COLLECTION}{record.id}",
        id=record.id,
        workbook_name=record.name,
        namespace=record.namespace,
        definition=record.definition,
        tags=record.tags,
        scope=convert.scope_to_proto(record.scope),
        project_id=record.project_id,
        create_time=convert.timestamp(record.created_at),
        update_time=convert.timestamp(record.updated_at),
    )


def _identifier(name: str) -> str:
    """`workbooks/{id or name}` (or a bare id or name) -> the id or name."""
    identifier = name.removeprefix(COLLECTION)
    if not identifier:
        raise InputError(f"Invalid workbook name {name!r}: expected workbooks/{{id or name}}")
    return identifier


class WorkbooksServicer(workbook_pb2_grpc.WorkbooksServiceServicer):
    """Creates, replaces, reads, lists and deletes workbooks."""

    def __init__(self, definitions: Definitions) -> None:
        self._definitions = definitions

    async def CreateWorkbook(self, request: Any, context: Any) -> workbook_pb2.Workbook:
        record = await self._definitions.put_workbook(
            request.definition,
            namespace=request.namespace,
            scope=convert.scope_from_proto(request.scope),
            update=False,
        )
        return workbook_to_proto(record)

    async def UpdateWorkbook(self, request: Any, context: Any) -> workbook_pb2.Workbook:
        record = await self._definitions.put_workbook(
            request.definition,
            namespace=request.namespace,
            scope=convert.scope_from_proto(request.scope),
            update=True,
        )
        return workbook_to_proto(record)

    async def GetWorkbook(self, request: Any, context: Any) -> workbook_pb2.Workbook:
        record = await self._definitions.find_workbook(
            _identifier(request.name), namespace=request.namespace
        )
        return workbook_to_proto(record)

    async def ListWorkbooks(self, request: Any, context: Any) -> workbook_pb2.ListWorkbooksResponse:
        query = list_query(
            filter_text=request.filter,
            order_by=request.order_by,
            page_size=request.page_size,
            page_token=request.page_token,
        )
        page = await self._definitions.workbook_page(query, all_projects=request.all_projects)
        return workbook_pb2.ListWorkbooksResponse(
            workbooks=[workbook_to_proto(r) for r in page.items],
            next_page_token=page.next_marker or "",
        )

    async def DeleteWorkbook(self, request: Any, context: Any) -> empty_pb2.Empty:
        await self._definitions.delete_workbook(
            _identifier(request.name), namespace=request.namespace
        )
        return empty_pb2.Empty()
