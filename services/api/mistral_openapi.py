"""The Mistral-compatible face (`/v2/...`) as a declarative table, and its OpenAPI document.

One `Route` per method and path that `MistralRestFace.app()` registers (a
unit test checks the table and the router name the same routes, so the two
cannot drift), with the shapes the handbook's API-MISTRAL-V2.md records and
`levante.api.mistral` renders. List filters are the column tables the
router itself uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from levante.api.definitions import WORKBOOK_COLUMNS
from levante.api.openapi import OPENAPI_VERSION
from levante.api.rest import (
    ACTION_COLUMNS,
    ACTION_EXECUTION_COLUMNS,
    CRON_TRIGGER_COLUMNS,
    ENVIRONMENT_COLUMNS,
    EXECUTION_COLUMNS,
    TASK_COLUMNS,
    WORKFLOW_COLUMNS,
)

_REF = "#/components/schemas/"
TEXT = "text/plain"
JSON = "application/json"


def ref(name: str) -> dict[str, Any]:
    """A reference to a component schema."""
    return {"$ref": f"{_REF}{name}"}


def _type(spec: str) -> dict[str, Any]:
    """`s` string, `b` boolean, `i` integer, `o` object, `[s]` array of strings; `?` nullable."""
    nullable = spec.endswith("?")
    spec = spec.rstrip("?")
    base: dict[str, Any]
    if spec.startswith("["):
        base = {"type": "array", "items": _type(spec[1:-1])}
    else:
        base = {"type": {"s": "string", "b": "boolean", "i": "integer", "o": "object"}[spec]}
    if nullable:
        base["type"] = [base["type"], "null"]
    return base


def _object(
    summary: str, /, *, required: tuple[str, ...] = (), **properties: str | dict[str, Any]
) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "description": summary,
        "properties": {
            name: _type(spec) if isinstance(spec, str) else spec
            for name, spec in properties.items()
        },
    }
    if required:
        schema["required"] = list(required)
    return schema


# JSON-in-a-string fields of requests: an object, or JSON text of one (WSME JsonType).
JSON_OBJECT = {
    "anyOf": [{"type": "object"}, {"type": "string"}, {"type": "null"}],
    "description": "A JSON object, or JSON text of one.",
}
SCOPE = {"type": "string", "enum": ["private", "public"]}
STATES = ["RUNNING", "PAUSED", "SUCCESS", "ERROR", "CANCELLED"]
_TIME = "s?"  # `YYYY-MM-DD HH:MM:SS`, UTC; null until set

SCHEMAS: dict[str, dict[str, Any]] = {
    "Fault": _object(
        "An error. Definition (text body) endpoints answer with `faultstring` only.",
        required=("faultstring",),
        faultcode={"type": "string", "enum": ["Client", "Server"]},
        faultstring="s",
        debuginfo={"type": "null"},
    ),
    "Versions": _object("The API versions.", versions={"type": "array", "items": _type("o")}),
    "V2Root": _object("The v2 root.", uri="s"),
    "Validation": _object("A validation verdict.", valid="b", error="s"),
    "Workflow": _object(
        "A workflow (`interface` is JSON text).",
        id="s",
        name="s",
        namespace="s",
        input="s",
        interface="s",
        definition="s",
        checksum="s",
        tags="[s]",
        scope="s",
        project_id="s",
        created_at=_TIME,
        updated_at=_TIME,
    ),
    "SavedWorkflow": _object(
        "A created or updated workflow (`interface` is an object).",
        id="s",
        name="s",
        namespace="s",
        input="s",
        interface="o",
        definition="s",
        checksum="s",
        tags="[s]",
        scope="s",
        project_id="s",
        created_at=_TIME,
        updated_at=_TIME,
    ),
    "Workbook": _object(
        "A workbook.",
        id="s",
        name="s",
        namespace="s",
        definition="s",
        tags="[s]?",
        scope="s",
        project_id="s",
        created_at=_TIME,
        updated_at=_TIME,
    ),
    "Action": _object(
        "An action: built-in and plugin actions have empty timestamps and no scope.",
        id="s",
        name="s",
        is_system="b",
        input="s",
        description="s?",
        tags="[s]?",
        definition="s?",
        scope="s?",
        project_id="s?",
        created_at=_TIME,
        updated_at=_TIME,
        namespace="s",
    ),
    "Execution": _object(
        "A workflow execution (`input`, `output`, `params`, `published_global` are JSON text).",
        id="s",
        workflow_id="s",
        workflow_name="s",
        workflow_namespace="s",
        description="s",
        tags="[s]",
        params="s",
        task_execution_id="s?",
        root_execution_id="s?",
        state="s",
        state_info="s?",
        input="s",
        output="s?",
        published_global="s",
        created_at=_TIME,
        updated_at=_TIME,
        project_id="s",
    ),
    "Task": _object(
        "A task execution (`runtime_context`, `result`, `published` are JSON text).",
        id="s",
        name="s",
        type="s",
        workflow_name="s",
        workflow_namespace="s",
        workflow_id="s",
        workflow_execution_id="s",
        tags="[s]",
        state="s",
        state_info="s?",
        project_id="s",
        runtime_context="s",
        result="s?",
        published="s",
        processed="b",
        created_at=_TIME,
        updated_at=_TIME,
        started_at=_TIME,
        finished_at=_TIME,
    ),
    "ActionExecution": _object(
        "An action execution (`input`, `output` are JSON text); unsaved runs have a null id.",
        id="s?",
        workflow_name="s?",
        workflow_namespace="s",
        task_execution_id="s?",
        task_name="s?",
        state="s",
        state_info="s?",
        tags="[s]?",
        name="s",
        description="s?",
        project_id="s?",
        accepted="b?",
        input="s",
        output="s?",
        created_at=_TIME,
        updated_at=_TIME,
    ),
    "CronTrigger": _object(
        "A cron trigger (`workflow_input`, `workflow_params` are JSON text).",
        id="s",
        name="s",
        workflow_name="s",
        workflow_id="s",
        workflow_input="s",
        workflow_params="s",
        project_id="s",
        scope="s",
        pattern="s",
        remaining_executions="i?",
        first_execution_time=_TIME,
        next_execution_time=_TIME,
        created_at=_TIME,
        updated_at=_TIME,
    ),
    "Environment": _object(
        "An environment (`variables` is JSON text).",
        id="s",
        name="s",
        description="s",
        variables="s",
        scope="s",
        project_id="s",
        created_at=_TIME,
        updated_at=_TIME,
    ),
    "NewExecution": _object(
        "Starts a workflow: `workflow_name` or `workflow_id` is required.",
        id="s",
        workflow_id="s",
        workflow_name="s",
        workflow_namespace="s",
        description="s",
        input=JSON_OBJECT,
        params=JSON_OBJECT,
        custom_context=JSON_OBJECT,
    ),
    "ExecutionUpdate": _object(
        "One kind of change: `state` (with `state_info`), `description`, or `params.env`.",
        state={"type": "string", "enum": STATES},
        state_info="s",
        description="s",
        params=JSON_OBJECT,
    ),
    "TaskRerun": _object(
        "Reruns a task in ERROR.",
        required=("state", "reset"),
        id="s",
        state={"type": "string", "enum": ["RUNNING"]},
        reset="b",
        env=JSON_OBJECT,
    ),
    "EnvironmentBody": _object(
        "An environment to create or update (by name).",
        name="s",
        description="s",
        variables=JSON_OBJECT,
        scope=SCOPE,
    ),
    "NewCronTrigger": _object(
        "A cron trigger: `workflow_name` or `workflow_id`, and a pattern or first time.",
        name="s",
        pattern="s?",
        workflow_name="s",
        workflow_id="s",
        workflow_namespace="s",
        timezone="s",
        scope=SCOPE,
        workflow_input=JSON_OBJECT,
        workflow_params=JSON_OBJECT,
        first_execution_time=_TIME,
        remaining_executions="i?",
    ),
    "NewActionExecution": _object(
        "Runs an action; `params` may hold `save_result`, `run_sync`, `target`, `timeout`.",
        required=("name",),
        name="s",
        input=JSON_OBJECT,
        params=JSON_OBJECT,
        description="s",
        workflow_namespace="s",
        custom_context=JSON_OBJECT,
    ),
    "ActionExecutionUpdate": _object(
        "Completes an asynchronous action execution.",
        required=("state",),
        state={"type": "string", "enum": STATES},
        output=JSON_OBJECT,
    ),
}
SCHEMAS.update(
    {
        "Member": _object(
            "A project a workflow or workbook is shared with.",
            id="s",
            resource_id="s",
            resource_type="s",
            project_id="s",
            member_id="s",
            status="s",
            created_at=_TIME,
            updated_at=_TIME,
        ),
        "NewMember": _object("Shares with a project.", required=("member_id",), member_id="s"),
        "MemberUpdate": _object(
            "The member's answer.",
            required=("status",),
            status={"type": "string", "enum": ["pending", "accepted", "rejected"]},
        ),
        "Namespace": _object(
            "A namespace in use.",
            name="s",
            workflows_count="i",
            workbooks_count="i",
            actions_count="i",
        ),
        "Service": _object("A running service.", name="s", type="s"),
        "Report": _object(
            "An execution's error analysis: Mistral's statistics and tree, and Levante's "
            "root cause (the failure deepest in nested workflows, inputs with secrets as "
            "`******`), the path from the execution to it, its class and the states' counts.",
            statistics="o",
            root_workflow_execution="o",
            root_cause="o?",
            path={"type": "array", "items": {"type": "object"}},
            error_class={
                "type": ["string", "null"],
                "enum": [
                    "syntax_or_expression_error",
                    "missing_input",
                    "action_failed",
                    "timeout",
                    "cancelled",
                    None,
                ],
            },
            summary="o",
            trace={"type": "array", "items": {"type": "object"}},
        ),
    }
)
_ENVELOPES = {
    "WorkflowList": ("workflows", "Workflow"),
    "WorkbookList": ("workbooks", "Workbook"),
    "ActionList": ("actions", "Action"),
    "ExecutionList": ("executions", "Execution"),
    "TaskList": ("tasks", "Task"),
    "ActionExecutionList": ("action_executions", "ActionExecution"),
    "CronTriggerList": ("cron_triggers", "CronTrigger"),
    "EnvironmentList": ("environments", "Environment"),
    "MemberList": ("members", "Member"),
    "NamespaceList": ("namespaces", "Namespace"),
    "ServiceList": ("services", "Service"),
}
for _name, (_key, _item) in _ENVELOPES.items():
    SCHEMAS[_name] = _object(
        f"A page of {_key}; `next` (present when the page is full) links the next page.",
        required=(_key,),
        **{_key: {"type": "array", "items": ref(_item)}, "next": "s"},
    )
SCHEMAS["SavedWorkflows"] = _object(
    "The workflows a definition created or updated.",
    workflows={"type": "array", "items": ref("SavedWorkflow")},
)
SCHEMAS["SavedActions"] = _object(
    "The ad-hoc actions a definition created or updated.",
    actions={"type": "array", "items": ref("Action")},
)


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "description": description,
        "schema": schema or {"type": "string"},
    }


_OPERATORS = "eq, neq, gt, gte, lt, lte, in, nin, has"
NAMESPACE = _query("namespace", "Namespace; empty is the default one.")
SCOPE_PARAM = _query("scope", "Visibility of what the definition creates.", SCOPE)
FIELDS = _query("fields", "Comma list of fields to return (`id` is always added).")


def listing(columns: tuple[str, ...], *extra: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    """Mistral's paging, sorting, field selection, and one filter per column."""
    return (
        _query("limit", "Page size (at most 1000).", {"type": "integer", "minimum": 1}),
        _query("marker", "Id of the last item of the previous page."),
        _query("sort_keys", f"Comma list of columns ({', '.join(columns)})."),
        _query("sort_dirs", "Comma list of `asc` or `desc`, one per sort key."),
        FIELDS,
        _query(
            "all_projects",
            "`true`: every project's items, not only the caller's (administrators only; 403 "
            "for others).",
        ),
        *extra,
        *(
            _query(column, f"Filter on {column}: `value` or `op:value` ({_OPERATORS}).")
            for column in columns
            if column not in {p["name"] for p in extra}
        ),
    )


@dataclass(frozen=True, slots=True)
class Route:
    """One route of the Mistral face: what it takes and answers."""

    method: str
    path: str  # as registered in aiohttp, without the trailing-slash twin
    summary: str
    status: int  # the success status
    answer: str | None  # component schema of the success body; None for an empty body
    query: tuple[dict[str, Any], ...] = ()
    body: tuple[str, dict[str, Any]] | None = None  # (content type, schema)
    stream: str = ""  # content type of a streamed answer (no JSON schema)

    @property
    def operation_id(self) -> str:
        words = [w.strip("{}") for w in self.path.split("/") if w]
        words = words[1:] if words[:1] == ["v2"] and len(words) > 1 else words
        return "_".join([self.method.lower(), *(words or ["root"])])


DEFINITION = (TEXT, {"type": "string", "description": "The YAML definition text."})
ID = "{id}"
WALK = (
    _query("errors_only", "`true`: only what failed."),
    _query("max_depth", "How deep to go into sub-workflows; -1 for all.", {"type": "integer"}),
)
INCLUDE_OUTPUT = _query("include_output", "`true` adds `output` to the items.")
EVENT_TRIGGERS = "Event triggers are not supported: answers 501."


def _members(kind: str) -> tuple[Route, ...]:
    base = f"/v2/{kind}/{{resource_id}}/members"
    return (
        Route("POST", base, f"Share one of the {kind} with a project.", 201, "Member", (),
              (JSON, ref("NewMember"))),
        Route("GET", base, f"List the projects one of the {kind} is shared with.", 200,
              "MemberList"),
        Route("GET", f"{base}/{{member_id}}", "Get a member.", 200, "Member"),
        Route("PUT", f"{base}/{{member_id}}", "Accept or reject a share.", 200, "Member", (),
              (JSON, ref("MemberUpdate"))),
        Route("DELETE", f"{base}/{{member_id}}", "Stop sharing.", 204, None),
        Route("PUT", base, "Refused: the member id is missing (400).", 400, None),
        Route("DELETE", base, "Refused: the member id is missing (400).", 400, None),
    )  # fmt: skip


ROUTES: tuple[Route, ...] = (
    Route("GET", "/", "API versions.", 200, "Versions"),
    Route("GET", "/v2", "The v2 root.", 200, "V2Root"),
    Route("GET", "/v2/openapi.json", "This document.", 200, None),
    # workflows
    Route("POST", "/v2/workflows", "Create the workflows of a definition.", 201,
          "SavedWorkflows", (NAMESPACE, SCOPE_PARAM), DEFINITION),
    Route("PUT", "/v2/workflows", "Update existing workflows from a definition.", 200,
          "SavedWorkflows", (NAMESPACE, SCOPE_PARAM), DEFINITION),
    Route("GET", "/v2/workflows", "List workflows.", 200, "WorkflowList",
          listing(WORKFLOW_COLUMNS)),
    Route("POST", "/v2/workflows/validate", "Validate a workflow definition.", 200,
          "Validation", (), DEFINITION),
    Route("GET", "/v2/workflows/{identifier}", "Get a workflow by name or id.", 200,
          "Workflow", (NAMESPACE, FIELDS)),
    Route("PUT", "/v2/workflows/{identifier}", "Update one workflow from a definition.", 200,
          "SavedWorkflow", (NAMESPACE, SCOPE_PARAM), DEFINITION),
    Route("DELETE", "/v2/workflows/{identifier}", "Delete a workflow.", 204, None,
          (NAMESPACE,)),
    # workbooks
    Route("POST", "/v2/workbooks", "Create a workbook.", 201, "Workbook",
          (NAMESPACE, SCOPE_PARAM), DEFINITION),
    Route("PUT", "/v2/workbooks", "Update a workbook.", 200, "Workbook",
          (NAMESPACE, SCOPE_PARAM), DEFINITION),
    Route("GET", "/v2/workbooks", "List workbooks.", 200, "WorkbookList",
          listing(WORKBOOK_COLUMNS)),
    Route("POST", "/v2/workbooks/validate", "Validate a workbook definition.", 200,
          "Validation", (), DEFINITION),
    Route("GET", "/v2/workbooks/{name}", "Get a workbook.", 200, "Workbook",
          (NAMESPACE, FIELDS)),
    Route("DELETE", "/v2/workbooks/{name}", "Delete a workbook with its workflows and actions.",
          204, None, (NAMESPACE,)),
    # actions
    Route("GET", "/v2/actions", "List actions (built-in, plugin and ad-hoc), by name.", 200,
          "ActionList", listing(ACTION_COLUMNS, NAMESPACE)),
    Route("POST", "/v2/actions", "Create ad-hoc actions.", 201, "SavedActions",
          (NAMESPACE, SCOPE_PARAM), DEFINITION),
    Route("PUT", "/v2/actions", "Update ad-hoc actions.", 200, "SavedActions",
          (NAMESPACE, SCOPE_PARAM), DEFINITION),
    Route("POST", "/v2/actions/validate", "Validate ad-hoc action definitions.", 200,
          "Validation", (), DEFINITION),
    Route("GET", "/v2/actions/{name}", "Get an action.", 200, "Action", (FIELDS,)),
    Route("GET", "/v2/actions/{name}/{namespace}", "Get an action of a namespace.", 200,
          "Action", (FIELDS,)),
    Route("DELETE", "/v2/actions/{name}", "Delete an ad-hoc action.", 204, None),
    Route("DELETE", "/v2/actions/{name}/{namespace}", "Delete an ad-hoc action of a namespace.",
          204, None),
    # executions
    Route("POST", "/v2/executions", "Start a workflow.", 201, "Execution", (),
          (JSON, ref("NewExecution"))),
    Route("GET", "/v2/executions", "List executions.", 200, "ExecutionList",
          listing(EXECUTION_COLUMNS, INCLUDE_OUTPUT,
                  _query("nulls", "Comma list of columns that must be null."))),
    Route("GET", f"/v2/executions/{ID}", "Get an execution.", 200, "Execution", (FIELDS,)),
    Route("PUT", f"/v2/executions/{ID}", "Pause, resume, stop, rename, or change the env.",
          200, "Execution", (), (JSON, ref("ExecutionUpdate"))),
    Route("DELETE", f"/v2/executions/{ID}", "Delete a finished execution.", 204, None,
          (_query("force", "`true` deletes an execution that is not finished."),)),
    Route("GET", f"/v2/executions/{ID}/tasks", "List an execution's tasks.", 200, "TaskList",
          listing(TASK_COLUMNS)),
    # tasks
    Route("GET", "/v2/tasks", "List tasks.", 200, "TaskList", listing(TASK_COLUMNS)),
    Route("GET", f"/v2/tasks/{ID}", "Get a task.", 200, "Task", (FIELDS,)),
    Route("PUT", f"/v2/tasks/{ID}", "Rerun a task in ERROR.", 200, "Task", (),
          (JSON, ref("TaskRerun"))),
    Route("GET", f"/v2/tasks/{ID}/action_executions", "List a task's action executions.", 200,
          "ActionExecutionList",
          listing(ACTION_EXECUTION_COLUMNS, INCLUDE_OUTPUT)),
    # action executions
    Route("GET", "/v2/action_executions", "List action executions.", 200,
          "ActionExecutionList",
          listing(ACTION_EXECUTION_COLUMNS, INCLUDE_OUTPUT)),
    Route("POST", "/v2/action_executions", "Run an action.", 201, "ActionExecution", (),
          (JSON, ref("NewActionExecution"))),
    Route("GET", f"/v2/action_executions/{ID}", "Get an action execution.", 200,
          "ActionExecution", (FIELDS,)),
    Route("PUT", f"/v2/action_executions/{ID}", "Complete an asynchronous action execution.",
          200, "ActionExecution", (), (JSON, ref("ActionExecutionUpdate"))),
    # cron triggers
    Route("POST", "/v2/cron_triggers", "Create a cron trigger.", 201, "CronTrigger", (),
          (JSON, ref("NewCronTrigger"))),
    Route("GET", "/v2/cron_triggers", "List cron triggers.", 200, "CronTriggerList",
          listing(CRON_TRIGGER_COLUMNS)),
    Route("GET", "/v2/cron_triggers/{name}", "Get a cron trigger.", 200, "CronTrigger",
          (FIELDS,)),
    Route("DELETE", "/v2/cron_triggers/{name}", "Delete a cron trigger.", 204, None),
    # environments
    Route("POST", "/v2/environments", "Create an environment.", 201, "Environment", (),
          (JSON, ref("EnvironmentBody"))),
    Route("PUT", "/v2/environments", "Update an environment (named in the body).", 200,
          "Environment", (), (JSON, ref("EnvironmentBody"))),
    Route("GET", "/v2/environments", "List environments.", 200, "EnvironmentList",
          listing(ENVIRONMENT_COLUMNS)),
    Route("GET", "/v2/environments/{name}", "Get an environment.", 200, "Environment",
          (FIELDS,)),
    Route("DELETE", "/v2/environments/{name}", "Delete an environment.", 204, None),
    # members, namespaces, services
    *_members("workflows"),
    *_members("workbooks"),
    Route("GET", "/v2/namespaces", "List the namespaces in use.", 200, "NamespaceList"),
    Route("GET", "/v2/services", "List this deployment's services.", 200, "ServiceList"),
    # reports and sub-executions
    Route("GET", f"/v2/executions/{ID}/report", "An execution's error analysis.", 200, "Report",
          (*WALK, _query("statistics_only", "`true`: the statistics alone."),
           _query("include_trace", "`true` adds `trace`: each level's state_info."))),
    Route("GET", f"/v2/executions/{ID}/events",
          "Server-Sent Events: one per state change of the execution tree, until it ends.", 200,
          None, (_query("replay", "`true`: the events so far first."),),
          stream="text/event-stream"),
    Route("GET", f"/v2/executions/{ID}/executions",
          "The execution and its sub-workflow executions.", 200, "ExecutionList",
          (*WALK, INCLUDE_OUTPUT)),
    Route("GET", f"/v2/tasks/{ID}/executions", "The sub-workflow executions a task started.",
          200, "ExecutionList", (*WALK, INCLUDE_OUTPUT)),
    Route("DELETE", f"/v2/action_executions/{ID}", "Refused (403), as Mistral's default.", 204,
          None),
    # not supported, answered anyway
    Route("GET", "/v2/event_triggers", EVENT_TRIGGERS, 501, None),
    Route("POST", "/v2/event_triggers", EVENT_TRIGGERS, 501, None),
    Route("GET", f"/v2/event_triggers/{ID}", EVENT_TRIGGERS, 501, None),
    Route("PUT", f"/v2/event_triggers/{ID}", EVENT_TRIGGERS, 501, None),
    Route("DELETE", f"/v2/event_triggers/{ID}", EVENT_TRIGGERS, 501, None),
)  # fmt: skip


def served_routes(app: web.Application) -> set[tuple[str, str]]:
    """(method, path) of every Mistral-face route of `app`; `*` for any method.

    Trailing-slash twins count once; `/metrics` and sub-applications (the
    transcoded face) are not part of the Mistral face.
    """
    found: set[tuple[str, str]] = set()
    for resource in app.router.resources():
        path = resource.canonical
        if isinstance(resource, web.PrefixedSubAppResource) or path == "/metrics":
            continue
        for route in resource:
            found.add((route.method, path.rstrip("/") or "/"))
    return found


def drift(served: set[tuple[str, str]], routes: tuple[Route, ...] = ROUTES) -> dict[str, list]:
    """Routes the app serves that the table lacks, and table routes the app does not serve."""
    described = {(route.method, route.path) for route in routes}
    paths = {path for _, path in described}
    any_method = {path for method, path in served if method == "*"}
    return {
        "undocumented": sorted(
            f"{method} {path}"
            for method, path in served
            if (method, path) not in described and not (method == "*" and path in paths)
        ),
        "unserved": sorted(
            f"{method} {path}"
            for method, path in described
            if (method, path) not in served and path not in any_method
        ),
    }


def document(
    routes: tuple[Route, ...] = ROUTES, *, served: set[tuple[str, str]] | None = None
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the Mistral-compatible face.

    With `served` (see `served_routes`), `x-levante-drift` lists where the
    table and the application disagree; the tests require it empty.
    """
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route)
    extra = {} if served is None else {"x-levante-drift": drift(served, routes)}
    return {
        **extra,
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Levante, Mistral v2 compatible REST API",
            "version": "v2",
            "description": (
                "OpenStack Mistral's v2 API as python-mistralclient uses it: definitions "
                "as text bodies, structured fields as JSON text, `marker`/`limit` paging, "
                "datetimes as `YYYY-MM-DD HH:MM:SS` (UTC). Paths also answer with a "
                "trailing slash."
            ),
        },
        "paths": paths,
        "components": {"schemas": SCHEMAS},
    }


def _operation(route: Route) -> dict[str, Any]:
    operation: dict[str, Any] = {"operationId": route.operation_id, "summary": route.summary}
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _path_parameters(route.path)
    ]
    parameters += route.query
    if parameters:
        operation["parameters"] = parameters
    if route.body is not None:
        content_type, schema = route.body
        operation["requestBody"] = {
            "required": content_type == TEXT,
            "content": {content_type: {"schema": schema}},
        }
    if route.answer is None:
        success: dict[str, Any] = {"description": "Done, no body."}
        if route.stream:
            success = {"description": "A stream", "content": {route.stream: {"schema": {}}}}
        elif route.status == 200:  # this document itself
            success = {"description": "OK", "content": {JSON: {"schema": {"type": "object"}}}}
        elif route.status >= 400:
            success = {"description": route.summary, "content": {JSON: {"schema": ref("Fault")}}}
    else:
        success = {"description": "OK", "content": {JSON: {"schema": ref(route.answer)}}}
    operation["responses"] = {
        str(route.status): success,
        "default": {"description": "An error.", "content": {JSON: {"schema": ref("Fault")}}},
    }
    return operation


def _path_parameters(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]
