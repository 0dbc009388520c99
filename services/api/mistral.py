"""Mistral v2 JSON shapes of Levante's resources, and Mistral's list parameters.

Mistral sends structured fields as JSON text inside JSON, formats datetimes
as `YYYY-MM-DD HH:MM:SS` (python-mistralclient parses them strictly), and
omits some fields from list items. Everything here is pure conversion.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from google.protobuf.timestamp_pb2 import Timestamp

from levante.api import convert
from levante.errors import InputError
from levante.listing import OPERATORS, Filter, Order
from levante.v2 import (
    action_execution_pb2,
    action_pb2,
    cron_trigger_pb2,
    environment_pb2,
    execution_pb2,
    task_pb2,
    workflow_pb2,
)

MAX_LIMIT = 1000


def mistral_time(message: Any, field: str) -> str | None:
    """A Timestamp field as Mistral's datetime text, or None when unset."""
    if not message.HasField(field):
        return None
    stamp: Timestamp = getattr(message, field)
    return stamp.ToDatetime().strftime("%Y-%m-%d %H:%M:%S")


def _json_text(data: Any) -> str:
    return json.dumps(data)


def workflow(message: workflow_pb2.Workflow, *, created: bool = False) -> dict[str, Any]:
    """A workflow as Mistral shows it; `created` for POST/PUT responses."""
    interface = convert.plain(message.interface)
    body = {
        "id": message.id,
        "name": message.workflow_name,
        "namespace": message.namespace,
        "input": message.input,
        "interface": interface if created else _json_text(interface),
        "definition": message.definition,
        "checksum": message.checksum,
        "tags": list(message.tags),
        "scope": convert.scope_from_proto(message.scope),
        "project_id": message.project_id,
        "created_at": mistral_time(message, "create_time"),
        "updated_at": mistral_time(message, "update_time"),
    }
    if created and body["updated_at"] is None:
        del body["updated_at"]
    return body


def execution(
    message: execution_pb2.Execution, *, listed: bool = False, include_output: bool = False
) -> dict[str, Any]:
    """An execution as Mistral shows it (list items omit output unless asked)."""
    body = {
        "id": message.id,
        "workflow_id": message.workflow_id,
        "workflow_name": message.workflow_name,
        "workflow_namespace": message.workflow_namespace,
        "description": message.description,
        "tags": list(message.tags),
        "params": _json_text(convert.plain(message.params)),
        "task_execution_id": message.task_execution_id or None,
        "root_execution_id": message.root_execution_id or None,
        "state": convert.state_from_proto(message.state),
        "state_info": message.state_info or None,
        "input": _json_text(convert.plain(message.input)),
        "output": _json_text(convert.plain(message.output)),
        "created_at": mistral_time(message, "create_time"),
        "updated_at": mistral_time(message, "update_time"),
        "project_id": message.project_id,
    }
    if listed:
        if not include_output:
            del body["output"]
    else:
        body["published_global"] = _json_text(convert.plain(message.published_global))
    return body


def task(message: task_pb2.Task, *, listed: bool = False) -> dict[str, Any]:
    """A task execution as Mistral shows it (list items omit result)."""
    body = {
        "id": message.id,
        "name": message.task_name,
        "type": task_pb2.TaskType.Name(message.type).removeprefix("TASK_TYPE_"),
        "workflow_name": message.workflow_name,
        "workflow_namespace": message.workflow_namespace,
        "workflow_id": message.workflow_id,
        "workflow_execution_id": message.workflow_execution_id,
        "tags": list(message.tags),
        "state": convert.state_from_proto(message.state),
        "state_info": message.state_info or None,
        "project_id": message.project_id,
        "runtime_context": _json_text(convert.plain(message.runtime_context)),
        "result": _json_text(convert.plain(message.result)),
        "published": _json_text(convert.plain(message.published)),
        "processed": message.processed,
        "created_at": mistral_time(message, "create_time"),
        "updated_at": mistral_time(message, "update_time"),
        "started_at": mistral_time(message, "start_time"),
        "finished_at": mistral_time(message, "finish_time"),
    }
    if listed:
        del body["result"]
    return body


def action_execution(
    message: action_execution_pb2.ActionExecution,
    *,
    listed: bool = False,
    include_output: bool = False,
) -> dict[str, Any]:
    """An action execution as Mistral shows it (list items omit output unless asked)."""
    body = {
        "id": message.id,
        "workflow_name": message.workflow_name or None,
        "workflow_namespace": message.workflow_namespace,
        "task_execution_id": message.task_execution_id or None,
        # Mistral omits task_name; the CLI shows it when present.
        "task_name": message.task_name or None,
        "state": convert.state_from_proto(message.state),
        "state_info": message.state_info or None,
        "tags": list(message.tags) or None,
        "name": message.action_name,
        "description": message.description,
        "project_id": message.project_id,
        "accepted": message.accepted,
        "input": _json_text(convert.plain(message.input)),
        "output": _json_text(convert.plain(message.output)) if message.HasField("output") else None,
        "created_at": mistral_time(message, "create_time"),
        "updated_at": mistral_time(message, "update_time"),
    }
    if listed and not include_output:
        del body["output"]
    return body


def action(message: action_pb2.Action) -> dict[str, Any]:
    """An action definition as Mistral shows it (built-ins have empty timestamps)."""
    system = not message.definition
    return {
        "id": message.id,
        "name": message.action_name,
        "is_system": message.is_system,
        "input": message.input,
        "description": message.description,
        "tags": list(message.tags) if not system else None,
        "definition": message.definition,
        "scope": convert.scope_from_proto(message.scope) if not system else None,
        "project_id": message.project_id or None,
        "created_at": mistral_time(message, "create_time") or "" if system else None,
        "updated_at": mistral_time(message, "update_time") or "" if system else None,
        "namespace": message.namespace,
    }


def cron_trigger(message: cron_trigger_pb2.CronTrigger, *, created: bool = False) -> dict[str, Any]:
    """A cron trigger as Mistral shows it (POST omits updated_at)."""
    body = {
        "id": message.id,
        "name": message.trigger_name,
        "workflow_name": message.workflow_name,
        "workflow_id": message.workflow_id,
        "workflow_input": _json_text(convert.plain(message.workflow_input)),
        "workflow_params": _json_text(convert.plain(message.workflow_params)),
        "project_id": message.project_id,
        "scope": convert.scope_from_proto(message.scope),
        "pattern": message.pattern,
        "remaining_executions": (
            message.remaining_executions if message.HasField("remaining_executions") else None
        ),
        "first_execution_time": mistral_time(message, "first_execution_time"),
        "next_execution_time": mistral_time(message, "next_execution_time"),
        "created_at": mistral_time(message, "create_time"),
        "updated_at": mistral_time(message, "update_time"),
    }
    if created:
        del body["updated_at"]
    return body


def environment(message: environment_pb2.Environment, *, created: bool = False) -> dict[str, Any]:
    """An environment as Mistral shows it (POST omits updated_at, and an empty description)."""
    body = {
        "id": message.id,
        "name": message.environment_name,
        "description": message.description,
        "variables": _json_text(convert.plain(message.variables)),
        "scope": convert.scope_from_proto(message.scope),
        "project_id": message.project_id,
        "created_at": mistral_time(message, "create_time"),
        "updated_at": mistral_time(message, "update_time"),
    }
    if created:
        del body["updated_at"]
        if not body["description"]:
            del body["description"]
    return body


def json_object(value: Any, field: str) -> dict[str, Any]:
    """A request field that may be a JSON object or JSON text of one (WSME JsonType)."""
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as error:
            raise InputError(
                f"Invalid input for field/attribute {field}. Value: {value!r}. {error}"
            ) from error
    if not isinstance(value, dict):
        raise InputError(f"JsonType field value must be a dictionary [actual={value!r}]")
    return value


class ListParams:
    """Mistral's list query parameters: limit, marker, sort, fields and filters."""

    RESERVED = frozenset(
        {
            "limit",
            "marker",
            "sort_keys",
            "sort_dirs",
            "fields",
            "nulls",
            "include_output",
            "all_projects",
            "namespace_filter",
        }
    )

    def __init__(
        self, query: dict[str, str], *, columns: tuple[str, ...], default_sort: str = "created_at"
    ) -> None:
        self.columns = columns
        self.limit = _limit(query.get("limit"))
        self.marker = query.get("marker") or None
        keys = [
            k.strip().lower() for k in query.get("sort_keys", default_sort).split(",") if k.strip()
        ]
        dirs = [d.strip().lower() for d in query.get("sort_dirs", "").split(",") if d.strip()]
        if len(dirs) > len(keys):
            raise InputError("Length of sort_keys must be equal or greater than sort_dirs.")
        if any(d not in ("asc", "desc") for d in dirs):
            raise InputError("Unknown sort direction, must be 'desc' or 'asc'.")
        dirs += ["asc"] * (len(keys) - len(dirs))
        for key in keys:
            if key not in columns:
                raise InputError(f"Sort key supplied is invalid: {key}")
        self.order = tuple(Order(k, d == "desc") for k, d in zip(keys, dirs, strict=True))
        self.fields = [f.strip() for f in query.get("fields", "").split(",") if f.strip()]
        unknown = [f for f in self.fields if f not in columns]
        if unknown:
            raise InputError(
                f"Some fields do not exist  [{', '.join(unknown)}], please choose from "
                f"[{', '.join(columns)}]"
            )
        self.filters = tuple(self._filters(query))
        self.include_output = query.get("include_output", "").lower() in ("true", "1", "yes")
        self.all_projects = query.get("all_projects", "").lower() in ("true", "1", "yes")
        self._query = query

    def _filters(self, query: dict[str, str]) -> list[Filter]:
        found = []
        for key, raw in query.items():
            if key in self.RESERVED:
                continue
            if key not in self.columns:
                continue  # Mistral ignores parameters that are not columns
            op, _, rest = raw.partition(":")
            if rest and op in OPERATORS:
                value: Any = tuple(rest.split(",")) if op in ("in", "nin") else rest
                found.append(Filter(key, op, value))
            else:
                found.append(Filter(key, "eq", raw))
        for column in (c.strip() for c in query.get("nulls", "").split(",") if c.strip()):
            found.append(Filter(column, "eq", None))
        return found

    def select(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Keeps only `id` and the requested fields, when fields were given."""
        if not self.fields:
            return items
        keep = ["id", *[f for f in self.fields if f != "id"]]
        return [{k: item.get(k) for k in keep} for item in items]

    def next_link(self, base: str, collection: str, items: list[dict[str, Any]]) -> str | None:
        """Mistral's `next` URL, present only when the page is full."""
        if len(items) < self.limit or not items:
            return None
        keys = ",".join([*(o.field for o in self.order), "id"])
        dirs = ",".join([*("desc" if o.descending else "asc" for o in self.order), "asc"])
        parts = [f"sort_keys={keys}", f"sort_dirs={dirs}"]
        for item in self.filters:
            value = ",".join(item.value) if isinstance(item.value, tuple) else item.value
            parts.append(f"{item.field}={item.op}:{quote(str(value))}")
        parts += [f"limit={self.limit}", f"marker={items[-1]['id']}"]
        if self.fields:
            parts.append("fields=" + ",".join(["id", *[f for f in self.fields if f != "id"]]))
        return f"{base}/{collection}?" + "&".join(parts)


def _limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return MAX_LIMIT
    try:
        limit = int(raw)
    except ValueError as error:
        raise InputError(f"Invalid limit: {raw!r}") from error
    if limit <= 0:
        raise InputError("Limit must be positive.")
    return min(limit, MAX_LIMIT)
