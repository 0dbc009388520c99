"""Workbooks and ad-hoc actions: the one layer both faces call.

The gRPC servicers (levante.v2.WorkbooksService, ActionsService's create,
update and delete) use the record-returning methods and convert to protos;
the Mistral REST face uses the `*_json`-shaped ones, thin wrappers over the
same. Caller identity and limits are applied here, once, for both.
"""

from __future__ import annotations

import asyncio
from typing import Any

from levante import errors
from levante.actions import ActionCatalogue
from levante.api import identity
from levante.api.actions import action_to_proto
from levante.api.mistral import ListParams, action
from levante.messaging.outbox import utcnow
from levante.persistence.definitions import (
    ActionDefinitionRecord,
    DefinitionRepository,
    WorkbookRecord,
)
from levante.persistence.repository import ListQuery, Page
from levante.security.limits import Limits

WORKBOOK_COLUMNS = (
    "id",
    "name",
    "namespace",
    "definition",
    "tags",
    "scope",
    "project_id",
    "created_at",
    "updated_at",
)


def _time(value: Any) -> str | None:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else None


def workbook_json(record: WorkbookRecord, *, created: bool = False) -> dict[str, Any]:
    """A workbook as Mistral shows it."""
    body = {
        "id": record.id,
        "name": record.name,
        "namespace": record.namespace,
        "definition": record.definition,
        "tags": record.tags,
        "scope": record.scope,
        "project_id": record.project_id,
        "created_at": _time(record.created_at),
        "updated_at": _time(record.updated_at),
    }
    if created and body["updated_at"] is None:
        del body["updated_at"]
    return body


def adhoc_json(record: ActionDefinitionRecord, *, created: bool = False) -> dict[str, Any]:
    """An ad-hoc action as Mistral shows it."""
    body = {
        "id": record.id,
        "name": record.name,
        "is_system": False,
        "input": record.input,
        "description": record.description,
        "tags": record.tags,
        "definition": record.definition,
        "scope": record.scope,
        "project_id": record.project_id,
        "created_at": _time(record.created_at),
        "updated_at": _time(record.updated_at),
        "namespace": record.namespace,
    }
    if created and body["updated_at"] is None:
        del body["updated_at"]
    return body


class Definitions:
    """Workbooks and ad-hoc actions: create, update, read, list, delete."""

    def __init__(
        self,
        repository: DefinitionRepository,
        catalogue: ActionCatalogue,
        *,
        limits: Limits | None = None,
    ) -> None:
        self._repository = repository
        self._catalogue = catalogue
        self._limits = limits or Limits()

    async def put_workbook(
        self, text: str, *, namespace: str, scope: str, update: bool
    ) -> WorkbookRecord:
        """Creates (or with `update` replaces) a workbook as the caller.

        Raises DefinitionError for an invalid document, AlreadyExistsError,
        NotFoundError (update of a missing one), ForbiddenError.
        """
        self._limits.check_definition(text)
        return await asyncio.to_thread(
            self._repository.save_workbook,
            text,
            namespace=namespace,
            scope=identity.authorize_scope(scope),
            project_id=identity.project_id(),
            now=utcnow(),
            update=update,
        )

    async def save_workbook(
        self, text: str, *, namespace: str, scope: str, update: bool
    ) -> dict[str, Any]:
        """`put_workbook`, as Mistral shows the result."""
        record = await self.put_workbook(text, namespace=namespace, scope=scope, update=update)
        return workbook_json(record, created=True)

    async def find_workbook(self, name: str, *, namespace: str) -> WorkbookRecord:
        """A workbook the caller sees, by name or id; raises NotFoundError."""
        return await asyncio.to_thread(
            self._repository.get_workbook,
            name,
            namespace=namespace,
            project_id=identity.project_id(),
        )

    async def get_workbook(self, name: str, *, namespace: str) -> dict[str, Any]:
        """`find_workbook`, as Mistral shows it."""
        return workbook_json(await self.find_workbook(name, namespace=namespace))

    async def workbook_page(self, query: ListQuery, *, all_projects: bool) -> Page[WorkbookRecord]:
        """A page of the workbooks the caller sees (every project's with `all_projects`)."""
        return await asyncio.to_thread(
            self._repository.list_workbooks,
            query,
            project_id=identity.list_scope(all_projects),
        )

    async def list_workbooks(self, params: ListParams) -> list[dict[str, Any]]:
        """`workbook_page` of Mistral's list parameters, as Mistral shows them."""
        query = ListQuery(
            filters=params.filters, order=params.order, limit=params.limit, marker=params.marker
        )
        page = await self.workbook_page(query, all_projects=params.all_projects)
        return [workbook_json(r) for r in page.items]

    async def delete_workbook(self, name: str, *, namespace: str) -> None:
        """Deletes a workbook of the caller's project by name or id, with its members."""
        await asyncio.to_thread(
            self._repository.delete_workbook,
            name,
            namespace=namespace,
            project_id=identity.project_id(),
        )

    async def put_actions(
        self, text: str, *, namespace: str, scope: str, update: bool
    ) -> list[ActionDefinitionRecord]:
        """Creates (or with `update` replaces) the ad-hoc actions of a document.

        Raises DefinitionError for an invalid document, AlreadyExistsError,
        NotFoundError (update of a missing one), ForbiddenError.
        """
        self._limits.check_definition(text)
        return await asyncio.to_thread(
            self._repository.save_actions,
            text,
            namespace=namespace,
            scope=identity.authorize_scope(scope),
            project_id=identity.project_id(),
            now=utcnow(),
            update=update,
        )

    async def save_actions(
        self, text: str, *, namespace: str, scope: str, update: bool
    ) -> list[dict[str, Any]]:
        """`put_actions`, as Mistral shows the result."""
        records = await self.put_actions(text, namespace=namespace, scope=scope, update=update)
        return [adhoc_json(r, created=True) for r in records]

    async def find_action(self, name: str, *, namespace: str) -> ActionDefinitionRecord | None:
        """The caller's (or a public) ad-hoc action `name`, if there is one."""
        return await asyncio.to_thread(
            self._repository.get_action, name, namespace=namespace, project_id=identity.project_id()
        )

    async def action_records(self, *, all_projects: bool = False) -> list[ActionDefinitionRecord]:
        """The ad-hoc actions the caller may see (every project's for an administrator
        asking for `all_projects`)."""
        return await asyncio.to_thread(
            self._repository.all_actions, project_id=identity.list_scope(all_projects)
        )

    async def get_action(self, name: str, *, namespace: str) -> dict[str, Any]:
        record = await self.find_action(name, namespace=namespace)
        if record is not None:
            return adhoc_json(record)
        entry = self._catalogue.get(name)
        if entry is None:
            raise errors.NotFoundError(f"Action not found [name={name}, namespace={namespace}]")
        return action(action_to_proto(entry))

    async def list_actions(self, params: ListParams, *, namespace: str | None) -> list[dict]:
        """Built-in, plugin and ad-hoc actions together, sorted by name, one page."""
        stored = await self.action_records(all_projects=params.all_projects)
        items = [adhoc_json(r) for r in stored if namespace is None or r.namespace == namespace]
        items += [action(action_to_proto(e)) for e in self._catalogue]
        for item in params.filters:
            items = [i for i in items if _matches(i, item)]
        descending = bool(params.order) and params.order[0].descending
        items.sort(key=lambda i: str(i.get("name")), reverse=descending)
        if params.marker:
            names = [i["name"] for i in items]
            cut = names.index(params.marker) + 1 if params.marker in names else 0
            items = items[cut:]
        return items[: params.limit]

    async def delete_action(self, name: str, *, namespace: str) -> None:
        """Deletes an ad-hoc action of the caller's project by name or id.

        Raises NotFoundError (also for built-in and plugin actions),
        ForbiddenError for another project's public action.
        """
        await asyncio.to_thread(
            self._repository.delete_action,
            name,
            namespace=namespace,
            project_id=identity.project_id(),
        )


def _matches(item: dict[str, Any], condition: Any) -> bool:
    value = item.get(condition.field)
    wanted = condition.value
    if condition.op == "eq":
        return str(value) == str(wanted) if not isinstance(value, list) else wanted in value
    if condition.op == "neq":
        return str(value) != str(wanted)
    if condition.op == "has":
        return str(wanted) in str(value)
    if condition.op == "in":
        return str(value) in wanted
    if condition.op == "nin":
        return str(value) not in wanted
    return True


__all__ = ["WORKBOOK_COLUMNS", "Definitions", "adhoc_json", "workbook_json"]
