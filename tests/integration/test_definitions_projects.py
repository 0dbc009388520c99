"""Workbooks and ad-hoc actions through their gRPC servicers, as several projects.

The servicers read the caller as the Mistral face does (`identity`, set by
authentication): a project sees its own definitions and public ones, changes
only its own, and only administrators publish or list every project's.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from levante.actions import ActionCatalogue
from levante.api.actions import ActionsServicer
from levante.api.definitions import Definitions
from levante.api.identity import Caller, acting_as
from levante.api.workbooks import WorkbooksServicer
from levante.errors import ForbiddenError, NotFoundError
from levante.persistence.db import Database
from levante.persistence.definitions import DefinitionRepository
from levante.persistence.repository import Repository
from levante.v2 import action_pb2, common_pb2, workbook_pb2

ADMIN = Caller("project-a", is_admin=True)
OWNER, STRANGER = Caller("project-a"), Caller("project-c")


@dataclass
class Api:
    workbooks: WorkbooksServicer
    actions: ActionsServicer


@pytest.fixture
def api(database: Database) -> Iterator[Api]:
    catalogue = ActionCatalogue.from_env({})
    definitions = Definitions(DefinitionRepository(database, Repository(database)), catalogue)
    yield Api(
        workbooks=WorkbooksServicer(definitions),
        actions=ActionsServicer(catalogue, definitions=definitions),
    )
    catalogue.close()


def _book(name: str) -> str:
    tasks = "    tasks:\n      t:\n        action: std.noop\n"
    return f"version: '2.0'\nname: {name}\nworkflows:\n  wf:\n{tasks}"


async def _create(api: Api, name: str, *, public: bool = False) -> workbook_pb2.Workbook:
    scope = common_pb2.SCOPE_PUBLIC if public else common_pb2.SCOPE_PRIVATE
    return await api.workbooks.CreateWorkbook(
        workbook_pb2.CreateWorkbookRequest(definition=_book(name), scope=scope), None
    )


async def test_only_administrators_publish_or_list_every_project(api: Api) -> None:
    name = f"book_{uuid.uuid4().hex[:8]}"
    with acting_as(OWNER):
        with pytest.raises(ForbiddenError):
            await _create(api, name, public=True)
        with pytest.raises(ForbiddenError):
            await api.actions.CreateActions(
                action_pb2.CreateActionsRequest(
                    definition=f"version: '2.0'\n{name}:\n  base: std.noop\n",
                    scope=common_pb2.SCOPE_PUBLIC,
                ),
                None,
            )
        with pytest.raises(ForbiddenError):
            await api.workbooks.ListWorkbooks(
                workbook_pb2.ListWorkbooksRequest(all_projects=True), None
            )
    with acting_as(ADMIN):
        await _create(api, name, public=True)
        listed = await api.workbooks.ListWorkbooks(
            workbook_pb2.ListWorkbooksRequest(all_projects=True), None
        )
        assert [w.workbook_name for w in listed.workbooks] == [name]


async def test_another_projects_private_workbook_does_not_exist(api: Api) -> None:
    name = f"book_{uuid.uuid4().hex[:8]}"
    with acting_as(OWNER):
        created = await _create(api, name)
    with acting_as(STRANGER):
        for identifier in (created.name, f"workbooks/{name}"):
            with pytest.raises(NotFoundError):
                await api.workbooks.GetWorkbook(
                    workbook_pb2.GetWorkbookRequest(name=identifier), None
                )
            with pytest.raises(NotFoundError):
                await api.workbooks.DeleteWorkbook(
                    workbook_pb2.DeleteWorkbookRequest(name=identifier), None
                )
        listed = await api.workbooks.ListWorkbooks(workbook_pb2.ListWorkbooksRequest(), None)
        assert not listed.workbooks
    with acting_as(OWNER):
        found = await api.workbooks.GetWorkbook(
            workbook_pb2.GetWorkbookRequest(name=created.name), None
        )
        assert found == created


async def test_a_public_workbook_is_read_by_all_and_changed_by_its_owner(api: Api) -> None:
    name = f"book_{uuid.uuid4().hex[:8]}"
    with acting_as(ADMIN):
        public = await _create(api, name, public=True)
    with acting_as(STRANGER):
        found = await api.workbooks.GetWorkbook(
            workbook_pb2.GetWorkbookRequest(name=public.name), None
        )
        assert found.id == public.id
        # The stranger's own workbook of the same name is another one.
        own = await _create(api, name)
        with pytest.raises(ForbiddenError, match="Can not delete workbook of other users"):
            await api.workbooks.DeleteWorkbook(
                workbook_pb2.DeleteWorkbookRequest(name=public.name), None
            )
        still = await api.workbooks.GetWorkbook(
            workbook_pb2.GetWorkbookRequest(name=own.name), None
        )
        assert still == own
        await api.workbooks.DeleteWorkbook(workbook_pb2.DeleteWorkbookRequest(name=own.name), None)
        with pytest.raises(ForbiddenError, match="Can not update workbook of other users"):
            await api.workbooks.UpdateWorkbook(
                workbook_pb2.UpdateWorkbookRequest(definition=_book(name)), None
            )
        with pytest.raises(ForbiddenError, match="Can not delete workbook of other users"):
            await api.workbooks.DeleteWorkbook(
                workbook_pb2.DeleteWorkbookRequest(name=f"workbooks/{name}"), None
            )


async def test_a_public_action_is_changed_by_its_owner_only(api: Api) -> None:
    name = f"act_{uuid.uuid4().hex[:8]}"
    document = f"version: '2.0'\n{name}:\n  base: std.noop\n"
    with acting_as(ADMIN):
        [created] = (
            await api.actions.CreateActions(
                action_pb2.CreateActionsRequest(definition=document, scope=common_pb2.SCOPE_PUBLIC),
                None,
            )
        ).actions
        assert created.project_id == ADMIN.project_id
    with acting_as(STRANGER):
        with pytest.raises(ForbiddenError):
            await api.actions.UpdateActions(
                action_pb2.UpdateActionsRequest(definition=document), None
            )
        with pytest.raises(ForbiddenError):
            await api.actions.DeleteAction(action_pb2.DeleteActionRequest(name=created.name), None)
    with acting_as(ADMIN):
        await api.actions.DeleteAction(action_pb2.DeleteActionRequest(name=created.name), None)
