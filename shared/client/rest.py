"""A small client of Levante's Mistral-compatible REST face (`/v2`).

Synchronous and dependency-free (urllib): the `levante` command line uses
it, and so can scripts. Every method returns the JSON the server answered,
as Mistral shapes it; failures raise `ClientError` (or `NotFoundError`,
`ConnectionFailedError`) with the server's message.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_URL = "http://127.0.0.1:8989/v2"


class ClientError(Exception):
    """The server refused a request, or could not be reached.

    Attributes:
        status: The HTTP status, None when no answer came.
        message: The server's explanation (Mistral's `faultstring`), or ours.
    """

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class NotFoundError(ClientError):
    """The resource does not exist (HTTP 404)."""


class ConnectionFailedError(ClientError):
    """No server answered at the URL."""


@dataclass(frozen=True, slots=True)
class Resource:
    """A kind of resource the REST face lists and gets.

    Attributes:
        name: The command line's name (`action-executions`).
        path: Its collection under /v2 (`action_executions`).
        key: The list answer's key holding the items.
        columns: The fields a table shows, in order.
        key_field: What `get` takes: `id`, or `name` for named resources.
    """

    name: str
    path: str
    key: str
    columns: tuple[str, ...]
    key_field: str = "id"


RESOURCES: dict[str, Resource] = {
    r.name: r
    for r in (
        Resource(
            "workflows",
            "workflows",
            "workflows",
            ("id", "name", "namespace", "input", "scope", "created_at"),
        ),
        Resource(
            "executions",
            "executions",
            "executions",
            ("id", "workflow_name", "state", "created_at", "updated_at"),
        ),
        Resource(
            "tasks",
            "tasks",
            "tasks",
            ("id", "name", "workflow_name", "state", "created_at"),
        ),
        Resource(
            "action-executions",
            "action_executions",
            "action_executions",
            ("id", "name", "task_name", "state", "created_at"),
        ),
        Resource(
            "actions", "actions", "actions", ("name", "is_system", "input", "description"), "name"
        ),
        Resource(
            "workbooks",
            "workbooks",
            "workbooks",
            ("name", "namespace", "scope", "created_at"),
            "name",
        ),
        Resource(
            "cron-triggers",
            "cron_triggers",
            "cron_triggers",
            ("name", "workflow_name", "pattern", "next_execution_time", "remaining_executions"),
            "name",
        ),
        Resource(
            "environments",
            "environments",
            "environments",
            ("name", "description", "scope", "created_at"),
            "name",
        ),
    )
}


def resource(name: str) -> Resource:
    """The resource called `name` (plural or singular, `-` or `_`); raises KeyError."""
    key = name.strip().lower().replace("_", "-")
    if key in RESOURCES:
        return RESOURCES[key]
    if f"{key}s" in RESOURCES:
        return RESOURCES[f"{key}s"]
    raise KeyError(name)


class RestClient:
    """Talks to the REST face at `url` (e.g. `http://127.0.0.1:8989/v2`).

    Args:
        url: The `/v2` base URL.
        token: Sent as `X-Auth-Token` when the server has authentication on.
        timeout: Seconds to wait for any one answer.
    """

    def __init__(
        self, url: str = DEFAULT_URL, *, token: str | None = None, timeout: float = 30.0
    ) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout

    # -- plumbing -----------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        text: str | None = None,
        query: Mapping[str, Any] | None = None,
    ) -> Any:
        """Sends a request to `url + path`; returns the decoded JSON answer (None if empty).

        `body` goes as JSON, `text` as text/plain (Mistral's YAML uploads).
        Raises NotFoundError, ConnectionFailedError or ClientError.
        """
        with self._open(method, path, body=body, text=text, query=query) as response:
            data = response.read()
        if not data:
            return None
        try:
            return json.loads(data)
        except ValueError as error:
            raise ClientError(f"{method} {path}: the answer is not JSON: {data[:200]!r}") from error

    def _open(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        text: str | None = None,
        query: Mapping[str, Any] | None = None,
        accept: str = "application/json",
        timeout: float | None = None,
    ) -> Any:
        url = self.url + path
        if query:
            url += "?" + urllib.parse.urlencode(
                {k: _query_value(v) for k, v in query.items() if v is not None}
            )
        headers = {"Accept": accept}
        data = None
        if text is not None:
            data = text.encode()
            headers["Content-Type"] = "text/plain"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["X-Auth-Token"] = self.token
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            return urllib.request.urlopen(request, timeout=timeout or self.timeout)
        except urllib.error.HTTPError as error:
            raise _error_of(method, path, error) from None
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            reason = getattr(error, "reason", error)
            raise ConnectionFailedError(
                f"cannot reach Levante at {self.url}: {reason} "
                "(is the server running? set --url or LEVANTE_URL)"
            ) from None

    # -- resources ----------------------------------------------------------

    def list(
        self,
        kind: str | Resource,
        *,
        limit: int | None = None,
        filters: Mapping[str, str] | None = None,
        path: str | None = None,
    ) -> list[dict[str, Any]]:
        """Items of a collection (`path` overrides its URL, e.g. an execution's tasks)."""
        res = kind if isinstance(kind, Resource) else resource(kind)
        query: dict[str, Any] = dict(filters or {})
        if limit is not None:
            query["limit"] = limit
        answer = self.request("GET", path or f"/{res.path}", query=query)
        return list(answer.get(res.key, [])) if isinstance(answer, dict) else []

    def get(self, kind: str | Resource, identifier: str) -> dict[str, Any]:
        """One resource by id (or name, for named resources); raises NotFoundError."""
        res = kind if isinstance(kind, Resource) else resource(kind)
        return self.request("GET", f"/{res.path}/{urllib.parse.quote(identifier, safe='')}")

    def execution(self, execution_id: str) -> dict[str, Any]:
        """A workflow execution."""
        return self.get("executions", execution_id)

    def tasks(self, execution_id: str) -> list[dict[str, Any]]:
        """The task executions of one workflow execution (not of its sub-workflows)."""
        return self.list("tasks", path=f"/executions/{execution_id}/tasks")

    def task(self, task_id: str) -> dict[str, Any]:
        """A task execution."""
        return self.get("tasks", task_id)

    def task_action_executions(self, task_id: str) -> list[dict[str, Any]]:
        """The action executions of a task (one per with-items item or retry)."""
        return self.list("action-executions", path=f"/tasks/{task_id}/action_executions")

    def descendants(self, execution_id: str) -> list[dict[str, Any]]:
        """Every sub-workflow execution in the tree of the root `execution_id`."""
        return self.list("executions", filters={"root_execution_id": execution_id}, limit=1000)

    def create_workflows(
        self, definition: str, *, namespace: str = "", scope: str | None = None
    ) -> list[dict[str, Any]]:
        """Uploads new workflows (YAML text); raises ClientError 409 if one exists."""
        query = {"namespace": namespace or None, "scope": scope}
        answer = self.request("POST", "/workflows", text=definition, query=query)
        return list(answer.get("workflows", []))

    def update_workflows(self, definition: str, *, namespace: str = "") -> list[dict[str, Any]]:
        """Replaces existing workflows' definitions; raises NotFoundError if one is missing."""
        answer = self.request(
            "PUT", "/workflows", text=definition, query={"namespace": namespace or None}
        )
        return list(answer.get("workflows", []))

    def upload_workflows(self, definition: str, *, namespace: str = "") -> list[dict[str, Any]]:
        """Creates the workflows of `definition`, or updates them when they exist."""
        try:
            return self.create_workflows(definition, namespace=namespace)
        except ClientError as error:
            if error.status != 409:
                raise
        return self.update_workflows(definition, namespace=namespace)

    def upload_workbook(self, definition: str, *, namespace: str = "") -> dict[str, Any]:
        """Creates a workbook, or updates it when it exists."""
        query = {"namespace": namespace or None}
        try:
            return self.request("POST", "/workbooks", text=definition, query=query)
        except ClientError as error:
            if error.status != 409:
                raise
        return self.request("PUT", "/workbooks", text=definition, query=query)

    def create_execution(
        self,
        workflow: str,
        workflow_input: Mapping[str, Any] | None = None,
        *,
        namespace: str = "",
        params: Mapping[str, Any] | None = None,
        description: str = "",
    ) -> dict[str, Any]:
        """Starts an execution of the workflow named `workflow`."""
        body: dict[str, Any] = {
            "workflow_name": workflow,
            "input": json.dumps(dict(workflow_input or {})),
            "params": json.dumps(dict(params or {})),
        }
        if namespace:
            body["workflow_namespace"] = namespace
        if description:
            body["description"] = description
        return self.request("POST", "/executions", body=body)

    def report(
        self, execution_id: str, *, errors_only: bool = False, include_trace: bool = False
    ) -> dict[str, Any]:
        """The error analysis of an execution (`GET /v2/executions/{id}/report`)."""
        query = {
            "errors_only": "true" if errors_only else None,
            "include_trace": "true" if include_trace else None,
        }
        return self.request("GET", f"/executions/{execution_id}/report", query=query)

    def events(
        self, execution_id: str, *, replay: bool = True, timeout: float = 3600.0
    ) -> Iterator[dict[str, Any]]:
        """The execution's state changes as Server-Sent Events, until it ends.

        Raises NotFoundError if the server does not offer the stream (or
        the execution does not exist) before the first event.
        """
        response = self._open(
            "GET",
            f"/executions/{execution_id}/events",
            query={"replay": "true" if replay else "false"},
            accept="text/event-stream",
            timeout=timeout,
        )
        with response:
            data: list[str] = []
            for raw in response:
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                if line.startswith("data:"):
                    data.append(line[5:].lstrip())
                elif not line and data:
                    yield json.loads("\n".join(data))
                    data = []
            if data:
                yield json.loads("\n".join(data))


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _error_of(method: str, path: str, error: urllib.error.HTTPError) -> ClientError:
    raw = error.read()
    message = raw.decode("utf-8", "replace").strip()
    try:
        decoded = json.loads(raw)
    except ValueError:
        decoded = None
    if isinstance(decoded, dict):
        message = str(
            decoded.get("faultstring") or decoded.get("message") or decoded.get("error") or message
        )
    message = message or f"{method} {path}: HTTP {error.code}"
    kind = NotFoundError if error.code == 404 else ClientError
    return kind(message, status=error.code)
