"""The Mistral v2 compatible REST face: a thin router over the gRPC servicers.

No business logic lives here: each handler turns Mistral's request shape
into a levante.v2 request, calls the same servicer the gRPC server uses, and
renders the answer in Mistral's JSON shape (`levante.api.mistral`). Domain
errors become Mistral's error bodies here, in one middleware.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import structlog
from aiohttp import web

from levante import cron, errors, language, metrics
from levante.api import convert, mistral
from levante.api.actions import ActionsServicer
from levante.api.cron_triggers import CronTriggersServicer
from levante.api.definitions import WORKBOOK_COLUMNS, Definitions
from levante.api.environments import EnvironmentsServicer
from levante.api.servicers import (
    ActionExecutionsServicer,
    ExecutionsServicer,
    TasksServicer,
    WorkflowsServicer,
)
from levante.api.transcoder import PREFIX as TRANSCODED_PREFIX
from levante.api.transcoder import Transcoder
from levante.listing import format_filter, format_order
from levante.v2 import (
    action_execution_pb2,
    common_pb2,
    cron_trigger_pb2,
    environment_pb2,
    execution_pb2,
    task_pb2,
    workflow_pb2,
)

log = structlog.get_logger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

WORKFLOW_COLUMNS = (
    "id",
    "name",
    "namespace",
    "input",
    "interface",
    "definition",
    "checksum",
    "tags",
    "scope",
    "project_id",
    "created_at",
    "updated_at",
)
EXECUTION_COLUMNS = (
    "id",
    "workflow_id",
    "workflow_name",
    "workflow_namespace",
    "description",
    "tags",
    "params",
    "task_execution_id",
    "root_execution_id",
    "state",
    "state_info",
    "input",
    "output",
    "created_at",
    "updated_at",
    "project_id",
)
TASK_COLUMNS = (
    "id",
    "name",
    "type",
    "workflow_name",
    "workflow_namespace",
    "workflow_id",
    "workflow_execution_id",
    "tags",
    "state",
    "state_info",
    "project_id",
    "runtime_context",
    "result",
    "published",
    "processed",
    "created_at",
    "updated_at",
    "started_at",
    "finished_at",
)
ENVIRONMENT_COLUMNS = (
    "id",
    "name",
    "description",
    "variables",
    "scope",
    "project_id",
    "created_at",
    "updated_at",
)
CRON_TRIGGER_COLUMNS = (
    "id",
    "name",
    "workflow_name",
    "workflow_id",
    "workflow_input",
    "workflow_params",
    "project_id",
    "scope",
    "pattern",
    "remaining_executions",
    "first_execution_time",
    "next_execution_time",
    "created_at",
    "updated_at",
)
ACTION_COLUMNS = (
    "id",
    "name",
    "is_system",
    "input",
    "description",
    "tags",
    "definition",
    "scope",
    "project_id",
    "created_at",
    "updated_at",
    "namespace",
)
ACTION_EXECUTION_COLUMNS = (
    "id",
    "workflow_name",
    "workflow_namespace",
    "task_execution_id",
    "task_name",
    "state",
    "state_info",
    "tags",
    "name",
    "description",
    "project_id",
    "accepted",
    "input",
    "output",
    "created_at",
    "updated_at",
)

# Mistral answers its text-body endpoints (definitions) with {"faultstring"}
# only, and everything else with WSME's {"faultcode", "faultstring", "debuginfo"}.
TEXT_BODY = "levante.text_body"

_STATUS: tuple[tuple[type[errors.LevanteError], int], ...] = (
    (errors.NotFoundError, 404),
    (errors.AlreadyExistsError, 409),
    (errors.FailedPreconditionError, 400),
    (errors.ForbiddenError, 403),
    (errors.UnauthenticatedError, 401),
    (errors.RateLimitedError, 429),
    (errors.PayloadTooLargeError, 413),
    (errors.InputError, 400),
    (errors.UnavailableError, 503),
    (errors.LevanteError, 500),
)


def _fault(
    status: int, message: str, *, text_body: bool, headers: dict[str, str] | None = None
) -> web.Response:
    body: dict[str, Any] = {"faultstring": message}
    if not text_body:
        body = {
            "faultcode": "Client" if status < 500 else "Server",
            "faultstring": message,
            "debuginfo": None,
        }
    return web.json_response(body, status=status, headers=headers)


def _fault_headers(error: errors.LevanteError) -> dict[str, str] | None:
    if isinstance(error, errors.UnauthenticatedError):
        return {"WWW-Authenticate": 'Bearer realm="levante"'}
    if isinstance(error, errors.RateLimitedError):
        return {"Retry-After": str(max(1, round(error.retry_after)))}
    return None


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Maps domain errors (and unknown routes) to Mistral's error bodies; never a traceback."""
    text_body = bool(request.get(TEXT_BODY))
    try:
        return await handler(request)
    except errors.LevanteError as error:
        status = next(code for cls, code in _STATUS if isinstance(error, cls))
        return _fault(
            status,
            error.message,
            text_body=bool(request.get(TEXT_BODY)),
            headers=_fault_headers(error),
        )
    except web.HTTPException as error:
        if error.status < 400:
            raise
        return _fault(error.status, error.reason or "Error", text_body=text_body)
    except UnicodeDecodeError as error:  # request.text() of a body that is not UTF-8
        text_body = bool(request.get(TEXT_BODY))
        return _fault(400, f"Request body is not valid UTF-8 text: {error}", text_body=text_body)
    except Exception:
        log.exception("unhandled error in REST handler", path=request.path)
        return _fault(500, "Internal server error; see the server log", text_body=text_body)


class MistralRestFace:
    """Routes Mistral's /v2 paths to the servicers."""

    def __init__(
        self,
        *,
        workflows: WorkflowsServicer,
        executions: ExecutionsServicer,
        tasks: TasksServicer,
        action_executions: ActionExecutionsServicer,
        actions: ActionsServicer,
        cron_triggers: CronTriggersServicer,
        environments: EnvironmentsServicer,
        definitions: Definitions,
        transcoder: Transcoder | None = None,
        extra_routes: Sequence[Callable[[web.Application], None]] = (),
        middlewares: Sequence[Any] = (),
    ) -> None:
        # The google.api.http rules, served under /levante/v2 beside this face.
        self.transcoder = transcoder
        self.environments = environments
        self.definitions = definitions
        self.actions = actions
        self.cron_triggers = cron_triggers
        self.workflows = workflows
        self.executions = executions
        self.tasks = tasks
        self.action_executions = action_executions
        # More of Mistral's paths, registered by their own modules (rest_extras).
        self.extra_routes = extra_routes
        # Run inside the error middleware, around every handler (authentication).
        self.middlewares = tuple(middlewares)

    def app(self) -> web.Application:
        """The aiohttp application serving the face."""
        app = web.Application(
            middlewares=[error_middleware, *self.middlewares], client_max_size=16 * 1024**2
        )
        route = app.router.add_route
        route("GET", "/", self.root)
        route("GET", "/v2", self.v2_root)
        route("GET", "/metrics", self.metrics)
        route("GET", "/v2/", self.v2_root)
        route("GET", "/v2/openapi.json", self.openapi)
        if self.transcoder is not None:
            app.add_subapp(TRANSCODED_PREFIX, self.transcoder.app())
        for suffix in ("", "/"):
            route("POST", f"/v2/workflows{suffix}", self.create_workflows)
            route("PUT", f"/v2/workflows{suffix}", self.update_workflows)
            route("GET", f"/v2/workflows{suffix}", self.list_workflows)
            route("POST", f"/v2/workflows/validate{suffix}", self.validate_workflows)
            route("POST", f"/v2/workbooks/validate{suffix}", self.validate_workbook)
            route("POST", f"/v2/actions/validate{suffix}", self.validate_actions)
            route("GET", f"/v2/workflows/{{identifier}}{suffix}", self.get_workflow)
            route("PUT", f"/v2/workflows/{{identifier}}{suffix}", self.update_workflow)
            route("DELETE", f"/v2/workflows/{{identifier}}{suffix}", self.delete_workflow)
            route("POST", f"/v2/executions{suffix}", self.create_execution)
            route("GET", f"/v2/executions{suffix}", self.list_executions)
            route("GET", f"/v2/executions/{{id}}{suffix}", self.get_execution)
            route("PUT", f"/v2/executions/{{id}}{suffix}", self.update_execution)
            route("DELETE", f"/v2/executions/{{id}}{suffix}", self.delete_execution)
            route("GET", f"/v2/executions/{{id}}/tasks{suffix}", self.list_execution_tasks)
            route("GET", f"/v2/tasks{suffix}", self.list_tasks)
            route("GET", f"/v2/tasks/{{id}}{suffix}", self.get_task)
            route("PUT", f"/v2/tasks/{{id}}{suffix}", self.rerun_task)
            route("GET", f"/v2/tasks/{{id}}/action_executions{suffix}", self.list_task_actions)
            route("POST", f"/v2/environments{suffix}", self.create_environment)
            route("PUT", f"/v2/environments{suffix}", self.update_environment)
            route("GET", f"/v2/environments{suffix}", self.list_environments)
            route("GET", f"/v2/environments/{{name}}{suffix}", self.get_environment)
            route("DELETE", f"/v2/environments/{{name}}{suffix}", self.delete_environment)
            route("POST", f"/v2/cron_triggers{suffix}", self.create_cron_trigger)
            route("GET", f"/v2/cron_triggers{suffix}", self.list_cron_triggers)
            route("GET", f"/v2/cron_triggers/{{name}}{suffix}", self.get_cron_trigger)
            route("DELETE", f"/v2/cron_triggers/{{name}}{suffix}", self.delete_cron_trigger)
            route("GET", f"/v2/actions{suffix}", self.list_actions)
            route("POST", f"/v2/actions{suffix}", self.create_actions)
            route("PUT", f"/v2/actions{suffix}", self.update_actions)
            route("GET", f"/v2/actions/{{name}}{suffix}", self.get_action)
            route("GET", f"/v2/actions/{{name}}/{{namespace}}{suffix}", self.get_action)
            route("DELETE", f"/v2/actions/{{name}}{suffix}", self.delete_action)
            route("DELETE", f"/v2/actions/{{name}}/{{namespace}}{suffix}", self.delete_action)
            route("POST", f"/v2/workbooks{suffix}", self.create_workbook)
            route("PUT", f"/v2/workbooks{suffix}", self.update_workbook)
            route("GET", f"/v2/workbooks{suffix}", self.list_workbooks)
            route("GET", f"/v2/workbooks/{{name}}{suffix}", self.get_workbook)
            route("DELETE", f"/v2/workbooks/{{name}}{suffix}", self.delete_workbook)
            route("GET", f"/v2/action_executions{suffix}", self.list_action_executions)
            route("POST", f"/v2/action_executions{suffix}", self.create_action_execution)
            route("GET", f"/v2/action_executions/{{id}}{suffix}", self.get_action_execution)
            route("PUT", f"/v2/action_executions/{{id}}{suffix}", self.update_action_execution)
        for add_routes in self.extra_routes:
            add_routes(app)
        return app

    # -- root ---------------------------------------------------------------

    async def root(self, request: web.Request) -> web.Response:
        base = _base(request)
        return web.json_response(
            {
                "versions": [
                    {
                        "id": "v2.0",
                        "status": "CURRENT",
                        "links": [{"href": f"{base}/v2", "target": "v2", "rel": "self"}],
                    }
                ]
            }
        )

    async def metrics(self, request: web.Request) -> web.Response:
        body, content_type = metrics.render()
        return web.Response(body=body, headers={"Content-Type": content_type})

    async def v2_root(self, request: web.Request) -> web.Response:
        return web.json_response({"uri": f"{_base(request)}/v2"})

    async def openapi(self, request: web.Request) -> web.Response:
        """The OpenAPI document of this face."""
        # Imported here: the document's table reads this module's column tables.
        from levante.api.mistral_openapi import document, served_routes

        return web.json_response(document(served=served_routes(request.app)))

    # -- workflows ----------------------------------------------------------

    async def create_workflows(self, request: web.Request) -> web.Response:
        request[TEXT_BODY] = True
        response = await self.workflows.CreateWorkflows(
            workflow_pb2.CreateWorkflowsRequest(
                definition=await request.text(),
                namespace=request.query.get("namespace", ""),
                scope=_scope(request),
            ),
            None,
        )
        return _json(
            {"workflows": [mistral.workflow(w, created=True) for w in response.workflows]},
            status=201,
        )

    async def update_workflows(self, request: web.Request) -> web.Response:
        request[TEXT_BODY] = True
        response = await self.workflows.UpdateWorkflows(
            workflow_pb2.UpdateWorkflowsRequest(
                definition=await request.text(),
                namespace=request.query.get("namespace", ""),
                scope=_scope(request),
            ),
            None,
        )
        return _json({"workflows": [mistral.workflow(w, created=True) for w in response.workflows]})

    async def update_workflow(self, request: web.Request) -> web.Response:
        request[TEXT_BODY] = True
        response = await self.workflows.UpdateWorkflows(
            workflow_pb2.UpdateWorkflowsRequest(
                definition=await request.text(),
                namespace=request.query.get("namespace", ""),
                scope=_scope(request),
                name=f"workflows/{request.match_info['identifier']}",
            ),
            None,
        )
        [updated] = response.workflows
        return _json(mistral.workflow(updated, created=True))

    async def validate_workflows(self, request: web.Request) -> web.Response:
        return await _validate(request, language.Kind.WORKFLOWS)

    async def validate_workbook(self, request: web.Request) -> web.Response:
        return await _validate(request, language.Kind.WORKBOOK)

    async def validate_actions(self, request: web.Request) -> web.Response:
        return await _validate(request, language.Kind.ACTIONS)

    async def list_workflows(self, request: web.Request) -> web.Response:
        params = mistral.ListParams(dict(request.query), columns=WORKFLOW_COLUMNS)
        response = await self.workflows.ListWorkflows(
            workflow_pb2.ListWorkflowsRequest(**_list_fields(params)), None
        )
        items = [mistral.workflow(w) for w in response.workflows]
        return _list_response(request, "workflows", items, params)

    async def get_workflow(self, request: web.Request) -> web.Response:
        workflow = await self.workflows.GetWorkflow(
            workflow_pb2.GetWorkflowRequest(
                name=request.match_info["identifier"],
                namespace=request.query.get("namespace", ""),
            ),
            None,
        )
        return _single(request, mistral.workflow(workflow), WORKFLOW_COLUMNS)

    async def delete_workflow(self, request: web.Request) -> web.Response:
        await self.workflows.DeleteWorkflow(
            workflow_pb2.DeleteWorkflowRequest(
                name=request.match_info["identifier"],
                namespace=request.query.get("namespace", ""),
            ),
            None,
        )
        return web.Response(status=204)

    # -- executions ---------------------------------------------------------

    async def create_execution(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        execution = execution_pb2.Execution(
            id=str(body.get("id") or ""),
            workflow_id=str(body.get("workflow_id") or ""),
            workflow_name=str(body.get("workflow_name") or ""),
            workflow_namespace=str(body.get("workflow_namespace") or ""),
            description=str(body.get("description") or ""),
        )
        source_id = str(body.get("source_execution_id") or "")
        if not execution.workflow_id and not execution.workflow_name and not source_id:
            raise errors.InputError(
                "Workflow ID or workflow name must be provided. Workflow ID is recommended."
            )
        execution.input.update(mistral.json_object(body.get("input"), "input"))
        execution.params.update(mistral.json_object(body.get("params"), "params"))
        execution.custom_context.update(
            mistral.json_object(body.get("custom_context"), "custom_context")
        )
        created = await self.executions.CreateExecution(
            execution_pb2.CreateExecutionRequest(
                execution=execution, source_execution_id=source_id
            ),
            None,
        )
        body = mistral.execution(created)
        body.pop("published_global", None)
        return _json(body, status=201)

    async def list_executions(self, request: web.Request) -> web.Response:
        params = mistral.ListParams(dict(request.query), columns=EXECUTION_COLUMNS)
        response = await self.executions.ListExecutions(
            execution_pb2.ListExecutionsRequest(
                **_list_fields(params), include_output=params.include_output
            ),
            None,
        )
        items = [
            mistral.execution(e, listed=True, include_output=params.include_output)
            for e in response.executions
        ]
        return _list_response(request, "executions", items, params)

    async def get_execution(self, request: web.Request) -> web.Response:
        execution = await self.executions.GetExecution(
            execution_pb2.GetExecutionRequest(name=f"executions/{request.match_info['id']}"), None
        )
        return _single(request, mistral.execution(execution), EXECUTION_COLUMNS)

    async def update_execution(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        execution = execution_pb2.Execution(name=f"executions/{request.match_info['id']}")
        paths = []
        state = body.get("state")
        if state:
            if not isinstance(state, str) or f"STATE_{state}" not in common_pb2.State.keys():
                raise errors.InputError(
                    f"Cannot change state to {state}. Allowed states are: "
                    "'RUNNING, PAUSED, SUCCESS, ERROR, CANCELLED"
                )
            execution.state = convert.state_to_proto(state)
            execution.state_info = str(body.get("state_info") or "")
            paths += ["state", "state_info"]
        if body.get("description") is not None:
            execution.description = str(body["description"])
            paths.append("description")
        params = mistral.json_object(body.get("params"), "params")
        if "env" in params:
            execution.params.update({"env": params["env"] or {}})
            paths.append("params.env")
        update = execution_pb2.UpdateExecutionRequest(execution=execution)
        update.update_mask.paths.extend(paths)
        updated = await self.executions.UpdateExecution(update, None)
        answer = mistral.execution(updated)
        if "description" in paths:  # Mistral answers a rename without these
            for key in ("params", "input", "output", "published_global"):
                answer.pop(key, None)
        return _json(answer)

    async def delete_execution(self, request: web.Request) -> web.Response:
        force = request.query.get("force", "").lower() in ("true", "1", "yes")
        await self.executions.DeleteExecution(
            execution_pb2.DeleteExecutionRequest(
                name=f"executions/{request.match_info['id']}", force=force
            ),
            None,
        )
        return web.Response(status=204)

    # -- tasks --------------------------------------------------------------

    async def list_tasks(self, request: web.Request, *, parent: str = "") -> web.Response:
        params = mistral.ListParams(dict(request.query), columns=TASK_COLUMNS)
        response = await self.tasks.ListTasks(
            task_pb2.ListTasksRequest(parent=parent, **_list_fields(params)), None
        )
        items = [mistral.task(t, listed=True) for t in response.tasks]
        return _list_response(request, "tasks", items, params)

    async def list_execution_tasks(self, request: web.Request) -> web.Response:
        return await self.list_tasks(request, parent=f"executions/{request.match_info['id']}")

    async def rerun_task(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        state = body.get("state")
        if state == "SKIPPED":
            raise errors.InputError("Skipping a task is not supported; rerun it instead")
        if state != "RUNNING":
            raise errors.InputError(
                "The current task execution must be in ERROR for rerun. Only updating task "
                "to rerun is supported."
            )
        if "reset" not in body:
            raise errors.InputError("Mandatory field missing: reset")
        rerun = task_pb2.RerunTaskRequest(
            name=f"tasks/{request.match_info['id']}", reset=bool(body["reset"])
        )
        rerun.env.update(mistral.json_object(body.get("env"), "env"))
        task = await self.tasks.RerunTask(rerun, None)
        return _json(mistral.task(task))

    async def get_task(self, request: web.Request) -> web.Response:
        task = await self.tasks.GetTask(
            task_pb2.GetTaskRequest(name=f"tasks/{request.match_info['id']}"), None
        )
        return _single(request, mistral.task(task), TASK_COLUMNS)

    # -- action executions --------------------------------------------------

    async def list_action_executions(
        self, request: web.Request, *, parent: str = ""
    ) -> web.Response:
        params = mistral.ListParams(dict(request.query), columns=ACTION_EXECUTION_COLUMNS)
        response = await self.action_executions.ListActionExecutions(
            action_execution_pb2.ListActionExecutionsRequest(
                parent=parent, include_output=params.include_output, **_list_fields(params)
            ),
            None,
        )
        items = [
            mistral.action_execution(a, listed=True, include_output=params.include_output)
            for a in response.action_executions
        ]
        return _list_response(request, "action_executions", items, params)

    async def list_task_actions(self, request: web.Request) -> web.Response:
        return await self.list_action_executions(
            request, parent=f"tasks/{request.match_info['id']}"
        )

    # -- environments -------------------------------------------------------

    def _environment_of(self, body: dict[str, Any]) -> Any:
        env = environment_pb2.Environment(
            environment_name=str(body.get("name") or ""),
            description=str(body.get("description") or ""),
            scope=_scope_value(str(body.get("scope") or "private")),
        )
        env.variables.update(mistral.json_object(body.get("variables"), "variables"))
        return env

    async def create_environment(self, request: web.Request) -> web.Response:
        env = self._environment_of(await _json_body(request))
        created = await self.environments.CreateEnvironment(
            environment_pb2.CreateEnvironmentRequest(environment=env), None
        )
        return _json(mistral.environment(created, created=True), status=201)

    async def update_environment(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        env = self._environment_of(body)
        env.name = f"environments/{env.environment_name}"
        update = environment_pb2.UpdateEnvironmentRequest(environment=env)
        update.update_mask.paths.extend(
            key for key in ("variables", "description", "scope") if key in body
        )
        updated = await self.environments.UpdateEnvironment(update, None)
        return _json(mistral.environment(updated))

    async def list_environments(self, request: web.Request) -> web.Response:
        params = mistral.ListParams(dict(request.query), columns=ENVIRONMENT_COLUMNS)
        response = await self.environments.ListEnvironments(
            environment_pb2.ListEnvironmentsRequest(**_list_fields(params)), None
        )
        items = [mistral.environment(e) for e in response.environments]
        return _list_response(request, "environments", items, params)

    async def get_environment(self, request: web.Request) -> web.Response:
        found = await self.environments.GetEnvironment(
            environment_pb2.GetEnvironmentRequest(
                name=f"environments/{request.match_info['name']}"
            ),
            None,
        )
        return _single(request, mistral.environment(found), ENVIRONMENT_COLUMNS)

    async def delete_environment(self, request: web.Request) -> web.Response:
        await self.environments.DeleteEnvironment(
            environment_pb2.DeleteEnvironmentRequest(
                name=f"environments/{request.match_info['name']}"
            ),
            None,
        )
        return web.Response(status=204)

    # -- cron triggers ------------------------------------------------------

    async def create_cron_trigger(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        trigger = cron_trigger_pb2.CronTrigger(
            trigger_name=str(body.get("name") or ""),
            pattern=str(body.get("pattern") or ""),
            workflow_name=str(body.get("workflow_name") or ""),
            workflow_id=str(body.get("workflow_id") or ""),
            workflow_namespace=str(body.get("workflow_namespace") or ""),
            timezone=str(body.get("timezone") or ""),
            scope=_scope_value(str(body.get("scope") or "private")),
        )
        if not trigger.workflow_name and not trigger.workflow_id:
            raise errors.InputError("workflow_name or workflow_id must be provided")
        trigger.workflow_input.update(mistral.json_object(body.get("workflow_input"), "input"))
        trigger.workflow_params.update(mistral.json_object(body.get("workflow_params"), "params"))
        if body.get("first_execution_time"):
            first = cron.parse_time(str(body["first_execution_time"]))
            trigger.first_execution_time.CopyFrom(convert.timestamp(first))
        count = body.get("remaining_executions")
        if count is not None:
            if not isinstance(count, int) or isinstance(count, bool):
                raise errors.InputError(f"remaining_executions must be an integer, got {count!r}")
            if not -(2**31) <= count < 2**31:  # the proto field is an int32
                raise errors.InputError(f"remaining_executions is out of range: {count}")
            trigger.remaining_executions = count
        created = await self.cron_triggers.CreateCronTrigger(
            cron_trigger_pb2.CreateCronTriggerRequest(cron_trigger=trigger), None
        )
        return _json(mistral.cron_trigger(created, created=True), status=201)

    async def list_cron_triggers(self, request: web.Request) -> web.Response:
        params = mistral.ListParams(dict(request.query), columns=CRON_TRIGGER_COLUMNS)
        response = await self.cron_triggers.ListCronTriggers(
            cron_trigger_pb2.ListCronTriggersRequest(**_list_fields(params)), None
        )
        items = [mistral.cron_trigger(t) for t in response.cron_triggers]
        return _list_response(request, "cron_triggers", items, params)

    async def get_cron_trigger(self, request: web.Request) -> web.Response:
        found = await self.cron_triggers.GetCronTrigger(
            cron_trigger_pb2.GetCronTriggerRequest(
                name=f"cronTriggers/{request.match_info['name']}"
            ),
            None,
        )
        return _single(request, mistral.cron_trigger(found), CRON_TRIGGER_COLUMNS)

    async def delete_cron_trigger(self, request: web.Request) -> web.Response:
        await self.cron_triggers.DeleteCronTrigger(
            cron_trigger_pb2.DeleteCronTriggerRequest(
                name=f"cronTriggers/{request.match_info['name']}"
            ),
            None,
        )
        return web.Response(status=204)

    # -- actions ------------------------------------------------------------

    async def list_actions(self, request: web.Request) -> web.Response:
        params = mistral.ListParams(
            dict(request.query), columns=ACTION_COLUMNS, default_sort="name"
        )
        # Built-in and plugin actions have no timestamps: the list sorts by name.
        params.order = tuple(o for o in params.order if o.field == "name")
        namespace = request.query.get("namespace")
        items = await self.definitions.list_actions(params, namespace=namespace)
        return _list_response(request, "actions", items, params)

    async def get_action(self, request: web.Request) -> web.Response:
        found = await self.definitions.get_action(
            request.match_info["name"], namespace=request.match_info.get("namespace", "")
        )
        return _single(request, found, ACTION_COLUMNS)

    async def create_actions(self, request: web.Request) -> web.Response:
        request[TEXT_BODY] = True
        saved = await self.definitions.save_actions(
            await request.text(),
            namespace=request.query.get("namespace", ""),
            scope=_scope_name(request),
            update=False,
        )
        return _json({"actions": saved}, status=201)

    async def update_actions(self, request: web.Request) -> web.Response:
        request[TEXT_BODY] = True
        saved = await self.definitions.save_actions(
            await request.text(),
            namespace=request.query.get("namespace", ""),
            scope=_scope_name(request),
            update=True,
        )
        return _json({"actions": saved})

    async def delete_action(self, request: web.Request) -> web.Response:
        await self.definitions.delete_action(
            request.match_info["name"], namespace=request.match_info.get("namespace", "")
        )
        return web.Response(status=204)

    # -- workbooks ----------------------------------------------------------

    async def create_workbook(self, request: web.Request) -> web.Response:
        request[TEXT_BODY] = True
        saved = await self.definitions.save_workbook(
            await request.text(),
            namespace=request.query.get("namespace", ""),
            scope=_scope_name(request),
            update=False,
        )
        return _json(saved, status=201)

    async def update_workbook(self, request: web.Request) -> web.Response:
        request[TEXT_BODY] = True
        saved = await self.definitions.save_workbook(
            await request.text(),
            namespace=request.query.get("namespace", ""),
            scope=_scope_name(request),
            update=True,
        )
        return _json(saved)

    async def list_workbooks(self, request: web.Request) -> web.Response:
        params = mistral.ListParams(dict(request.query), columns=WORKBOOK_COLUMNS)
        items = await self.definitions.list_workbooks(params)
        return _list_response(request, "workbooks", items, params)

    async def get_workbook(self, request: web.Request) -> web.Response:
        found = await self.definitions.get_workbook(
            request.match_info["name"], namespace=request.query.get("namespace", "")
        )
        return _single(request, found, WORKBOOK_COLUMNS)

    async def delete_workbook(self, request: web.Request) -> web.Response:
        await self.definitions.delete_workbook(
            request.match_info["name"], namespace=request.query.get("namespace", "")
        )
        return web.Response(status=204)

    async def create_action_execution(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        name = body.get("name")
        if not name or not isinstance(name, str):
            raise errors.InputError("Action name must be provided [name is missing]")
        if not self.actions.known(name):
            try:
                namespace = str(body.get("workflow_namespace") or "")
                await self.definitions.get_action(name, namespace=namespace)
            except errors.NotFoundError:
                raise errors.InputError(f"Failed to find action [action_name={name}]") from None
            # A stored ad-hoc action: the engine resolves it to its base action.
        params = mistral.json_object(body.get("params"), "params")
        action = action_execution_pb2.ActionExecution(
            action_name=name,
            description=str(body.get("description") or ""),
            workflow_namespace=str(body.get("workflow_namespace") or ""),
        )
        action.input.update(mistral.json_object(body.get("input"), "input"))
        action.custom_context.update(
            mistral.json_object(body.get("custom_context"), "custom_context")
        )
        save_result = bool(params.get("save_result"))
        created = await self.action_executions.CreateActionExecution(
            action_execution_pb2.CreateActionExecutionRequest(
                action_execution=action,
                save_result=save_result,
                run_sync=bool(params.get("run_sync")),
                target=str(params.get("target") or ""),
                timeout_seconds=float(params.get("timeout") or 0),
            ),
            None,
        )
        answer = mistral.action_execution(created)
        if not save_result:  # nothing stored: Mistral answers with nulls
            answer.update(
                id=None,
                description=None,
                project_id=None,
                accepted=None,
                created_at=None,
                updated_at=None,
                task_name=None,
            )
        return _json(answer, status=201)

    async def update_action_execution(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        state = body.get("state")
        allowed = ["SUCCESS", "ERROR", "CANCELLED", "PAUSED", "RUNNING"]
        if state not in allowed:
            raise errors.InputError(f"Error. Expected one of {allowed}, actual: {state or 'Unset'}")
        action = action_execution_pb2.ActionExecution(
            name=f"actionExecutions/{request.match_info['id']}",
            state=convert.state_to_proto(state),
        )
        paths = ["state"]
        if "output" in body:
            action.output.update({"result": mistral.json_object(body["output"], "output")})
            paths.append("output")
        update = action_execution_pb2.UpdateActionExecutionRequest(action_execution=action)
        update.update_mask.paths.extend(paths)
        updated = await self.action_executions.UpdateActionExecution(update, None)
        return _json(mistral.action_execution(updated))

    async def get_action_execution(self, request: web.Request) -> web.Response:
        action = await self.action_executions.GetActionExecution(
            action_execution_pb2.GetActionExecutionRequest(
                name=f"actionExecutions/{request.match_info['id']}"
            ),
            None,
        )
        return _single(request, mistral.action_execution(action), ACTION_EXECUTION_COLUMNS)


async def _validate(request: web.Request, kind: language.Kind) -> web.Response:
    """Mistral's validate answer: `{"valid": true}` or `{"valid": false, "error": ...}`."""
    request[TEXT_BODY] = True
    issues = language.validate(await request.text(), kind)
    if issues:
        return _json({"valid": False, "error": language.summarize(issues)})
    return _json({"valid": True})


def _base(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


def _json(body: Any, *, status: int = 200) -> web.Response:
    return web.json_response(body, status=status)


def _scope(request: web.Request) -> Any:
    return _scope_value(request.query.get("scope", "private") or "private")


def _scope_name(request: web.Request) -> str:
    scope = request.query.get("scope", "private") or "private"
    _scope_value(scope)  # validates
    return scope


def _scope_value(scope: str) -> Any:
    if scope not in ("private", "public"):
        raise errors.InputError(f"Invalid scope {scope!r}: must be 'private' or 'public'")
    return convert.scope_to_proto(scope)


async def _json_body(request: web.Request) -> dict[str, Any]:
    text = await request.text()
    try:
        body = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as error:
        raise errors.InputError("Request is not in valid JSON format") from error
    if not isinstance(body, dict):
        raise errors.InputError("Request is not in valid JSON format: expected a JSON object")
    return body


def _list_fields(params: mistral.ListParams) -> dict[str, Any]:
    return {
        "filter": format_filter(params.filters),
        "order_by": format_order(params.order),
        "page_size": params.limit,
        "page_token": params.marker or "",
        "all_projects": params.all_projects,
    }


def _list_response(
    request: web.Request, collection: str, items: list[dict[str, Any]], params: mistral.ListParams
) -> web.Response:
    body: dict[str, Any] = {collection: params.select(items)}
    link = params.next_link(f"{_base(request)}/v2", collection, items)
    if link:
        body["next"] = link
    return _json(body)


def _single(request: web.Request, item: dict[str, Any], columns: tuple[str, ...]) -> web.Response:
    fields = [f.strip() for f in request.query.get("fields", "").split(",") if f.strip()]
    if not fields:
        return _json(item)
    params = mistral.ListParams({"fields": ",".join(fields)}, columns=columns)
    return _json(params.select([item])[0])
