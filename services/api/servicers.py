"""The public gRPC servicers (levante.v2); the REST face calls the same ones."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import grpc
import yaml
from google.protobuf import empty_pb2

from levante import language, notifications, tracing
from levante.api import convert, identity
from levante.api.redaction import Redactor
from levante.errors import InputError, NotFoundError
from levante.internal.v1 import engine_pb2, engine_pb2_grpc
from levante.listing import Filter, Order, parse_filter, parse_order
from levante.messaging.outbox import utcnow
from levante.persistence.repository import ListQuery, NewWorkflow, Repository
from levante.rpc import error_from_rpc
from levante.security.limits import Limits
from levante.v2 import (
    action_execution_pb2,
    action_execution_pb2_grpc,
    execution_pb2,
    execution_pb2_grpc,
    task_pb2,
    task_pb2_grpc,
    workflow_pb2,
    workflow_pb2_grpc,
)

DEFAULT_ORDER = (Order("created_at"),)


def list_query(
    *,
    filter_text: str,
    order_by: str,
    page_size: int,
    page_token: str,
    extra: tuple[Filter, ...] = (),
) -> ListQuery:
    """The repository query of a List request's standard fields."""
    if page_size < 0:
        raise InputError("page_size must not be negative")
    return ListQuery(
        filters=(*parse_filter(filter_text), *extra),
        order=parse_order(order_by) or DEFAULT_ORDER,
        limit=page_size or 1000,
        marker=page_token or None,
    )


def _id_of(name: str, collection: str) -> str:
    """`executions/abc` -> `abc` (a bare id is accepted too)."""
    prefix = f"{collection}/"
    return name.removeprefix(prefix) if name.startswith(prefix) else name


class WorkflowsServicer(workflow_pb2_grpc.WorkflowsServiceServicer):
    """levante.v2.WorkflowsService."""

    def __init__(
        self,
        repository: Repository,
        *,
        clock: Callable[[], datetime] = utcnow,
        limits: Limits | None = None,
    ) -> None:
        self._repo = repository
        self._clock = clock
        self._limits = limits or Limits()

    async def CreateWorkflows(
        self, request: Any, context: Any
    ) -> workflow_pb2.CreateWorkflowsResponse:
        self._limits.check_definition(request.definition)
        new = _new_workflows(request.definition)
        records = await asyncio.to_thread(
            self._repo.create_workflows,
            new,
            namespace=request.namespace,
            scope=identity.authorize_scope(convert.scope_from_proto(request.scope)),
            project_id=identity.project_id(),
            now=self._clock(),
        )
        return workflow_pb2.CreateWorkflowsResponse(
            workflows=[convert.workflow_to_proto(r) for r in records]
        )

    async def UpdateWorkflows(
        self, request: Any, context: Any
    ) -> workflow_pb2.UpdateWorkflowsResponse:
        self._limits.check_definition(request.definition)
        new = _new_workflows(request.definition)
        if request.name:
            return await self._update_one(request, new)
        records = await asyncio.to_thread(
            self._repo.update_workflows,
            new,
            namespace=request.namespace,
            scope=identity.authorize_scope(convert.scope_from_proto(request.scope)),
            project_id=identity.project_id(),
            now=self._clock(),
        )
        return workflow_pb2.UpdateWorkflowsResponse(
            workflows=[convert.workflow_to_proto(r) for r in records]
        )

    async def _update_one(
        self, request: Any, new: list[NewWorkflow]
    ) -> workflow_pb2.UpdateWorkflowsResponse:
        identifier = _id_of(request.name, "workflows")
        if len(new) != 1:
            raise InputError(
                "More than one workflows are not supported for update with identifier. "
                f"[identifier: {identifier}]"
            )
        record = await asyncio.to_thread(
            self._repo.update_workflow,
            identifier,
            new[0],
            namespace=request.namespace,
            scope=identity.authorize_scope(convert.scope_from_proto(request.scope)),
            project_id=identity.project_id(),
            now=self._clock(),
        )
        return workflow_pb2.UpdateWorkflowsResponse(workflows=[convert.workflow_to_proto(record)])

    async def GetWorkflow(self, request: Any, context: Any) -> workflow_pb2.Workflow:
        record = await asyncio.to_thread(
            self._repo.get_workflow,
            _id_of(request.name, "workflows"),
            namespace=request.namespace,
            project_id=identity.project_id(),
        )
        return convert.workflow_to_proto(record)

    async def ListWorkflows(self, request: Any, context: Any) -> workflow_pb2.ListWorkflowsResponse:
        query = list_query(
            filter_text=request.filter,
            order_by=request.order_by,
            page_size=request.page_size,
            page_token=request.page_token,
        )
        page = await asyncio.to_thread(
            self._repo.list_workflows, query, project_id=identity.list_scope(request.all_projects)
        )
        return workflow_pb2.ListWorkflowsResponse(
            workflows=[convert.workflow_to_proto(r) for r in page.items],
            next_page_token=page.next_marker or "",
        )

    async def DeleteWorkflow(self, request: Any, context: Any) -> empty_pb2.Empty:
        await asyncio.to_thread(
            self._repo.delete_workflow,
            _id_of(request.name, "workflows"),
            namespace=request.namespace,
            project_id=identity.project_id(),
        )
        return empty_pb2.Empty()


def _new_workflows(text: str) -> list[NewWorkflow]:
    """Parses a definition into the workflows to store; raises DefinitionError."""
    document = language.parse(text, language.Kind.WORKFLOWS)
    raw = yaml.safe_load(text)
    single = len(document.workflows) == 1
    workflows = []
    for spec in document.workflows:
        # One workflow: stored verbatim. Several: each gets a document of its own.
        definition = (
            text
            if single
            else yaml.safe_dump({"version": "2.0", spec.name: raw[spec.name]}, sort_keys=False)
        )
        workflows.append(
            NewWorkflow(
                name=spec.name,
                definition=definition,
                checksum=hashlib.md5(definition.encode()).hexdigest(),  # noqa: S324 - Mistral's checksum
                input=language.render_input(spec),
                interface=language.interface(spec),
                tags=list(spec.tags),
            )
        )
    return workflows


_PARENT_PARAMS = frozenset({"task_execution_id", "root_execution_id", "index"})


class ExecutionsServicer(execution_pb2_grpc.ExecutionsServiceServicer):
    """levante.v2.ExecutionsService."""

    def __init__(
        self,
        repository: Repository,
        engine: engine_pb2_grpc.EngineServiceStub,
        *,
        limits: Limits | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        self._repo = repository
        self._engine = engine
        self._limits = limits or Limits()
        self._redact = redactor or Redactor(repository.db)

    async def CreateExecution(self, request: Any, context: Any) -> execution_pb2.Execution:
        execution = request.execution
        project_id = identity.project_id()
        if request.source_execution_id:
            execution = await self._based_on(
                execution, _id_of(request.source_execution_id, "executions")
            )
        input_json = json.dumps(convert.plain(execution.input))
        params = convert.plain(execution.params)
        notifications.validate_params(params)
        params_json = json.dumps(params)
        custom_json = json.dumps(convert.plain(execution.custom_context))
        for what, text in (("input", input_json), ("params", params_json)):
            self._limits.check_size(what, text)
        # The workflow must be one the caller may see: its own, public, or shared and accepted.
        workflow = await asyncio.to_thread(
            self._visible_workflow,
            execution.workflow_id or execution.workflow_name,
            execution.workflow_namespace,
            project_id,
        )
        self._limits.admit_execution(project_id)
        start = engine_pb2.StartExecutionRequest(
            execution_id=execution.id,
            workflow_id=workflow.id,
            workflow_name=workflow.name,
            workflow_namespace=execution.workflow_namespace,
            input_json=input_json,
            params_json=params_json,
            description=execution.description,
            project_id=project_id,
            custom_context_json=custom_json,
        )
        try:
            # The root of the execution's trace (LEVANTE_TRACING): the engine's
            # spans follow through the call's metadata, the executors' after.
            with tracing.span(
                "api create execution", attributes={"levante.workflow": workflow.name}
            ):
                started = await self._engine.StartExecution(start, timeout=60)
        except grpc.aio.AioRpcError as error:
            raise error_from_rpc(error) from None
        record = await asyncio.to_thread(
            self._repo.get_execution, started.execution_id, project_id=project_id
        )
        return convert.execution_to_proto(self._redact.execution(record))

    def _visible_workflow(self, identifier: str, namespace: str, project_id: str) -> Any:
        """The workflow to start, as the engine would find it, if the project may see it."""
        if not identifier:
            raise InputError(
                "Workflow ID or workflow name must be provided. Workflow ID is recommended."
            )
        try:
            return self._repo.get_workflow(identifier, namespace=namespace, project_id=project_id)
        except NotFoundError:
            if not namespace:
                raise
        # A name not found in the namespace is looked up in the default one (as Mistral does).
        try:
            return self._repo.get_workflow(identifier, namespace="", project_id=project_id)
        except NotFoundError:
            raise NotFoundError(
                f"Workflow not found [workflow_identifier={identifier}, namespace={namespace}]"
            ) from None

    async def _based_on(
        self, execution: execution_pb2.Execution, source_id: str
    ) -> execution_pb2.Execution:
        """The execution to start, completed from an earlier one (the request's values win)."""
        source = await asyncio.to_thread(
            self._repo.get_execution, source_id, project_id=identity.project_id()
        )
        started = execution_pb2.Execution()
        started.CopyFrom(execution)
        if not started.workflow_id and not started.workflow_name:
            started.workflow_id = source.workflow_id
            started.workflow_namespace = source.workflow_namespace
        if not started.input:
            started.input.update(source.input)
        # A sub-workflow's params tie it to its parent; a new run is a root.
        params = {k: v for k, v in source.params.items() if k not in _PARENT_PARAMS}
        params.update(convert.plain(started.params))
        started.params.Clear()
        started.params.update(params)
        started.description = f"{started.description} Based on the execution '{source_id}'"
        started.description = started.description.strip()
        return started

    async def UpdateExecution(self, request: Any, context: Any) -> execution_pb2.Execution:
        execution = request.execution
        execution_id = _id_of(execution.name or execution.id, "executions")
        paths = set(request.update_mask.paths)
        env = (
            convert.plain(execution.params).get("env") if paths & {"params", "params.env"} else None
        )
        unknown = paths - {"state", "state_info", "description", "params", "params.env"}
        if unknown:
            raise InputError(f"Execution fields that cannot be updated: {sorted(unknown)}")
        if not paths & {"state", "description", "params", "params.env"}:
            raise InputError("The property state, description, or env is not provided for update.")
        if "description" in paths and "state" in paths:
            raise InputError("The property description must be updated separately from state.")
        project_id = identity.project_id()
        if "description" in paths:
            record = await asyncio.to_thread(
                self._repo.update_execution_description,
                execution_id,
                execution.description,
                now=utcnow(),
                project_id=project_id,
            )
            return convert.execution_to_proto(self._redact.execution(record))
        # Another project's execution does not exist for the caller.
        await asyncio.to_thread(self._repo.get_execution, execution_id, project_id=project_id)
        if env is not None:
            self._limits.check_size("params.env", json.dumps(env))
        control = engine_pb2.UpdateExecutionStateRequest(
            execution_id=execution_id,
            state=convert.state_from_proto(execution.state) if "state" in paths else "",
            state_info=execution.state_info,
            env_json=json.dumps(env or {}),
        )
        try:
            await self._engine.UpdateExecutionState(control, timeout=60)
        except grpc.aio.AioRpcError as error:
            raise error_from_rpc(error) from None
        record = await asyncio.to_thread(
            self._repo.get_execution, execution_id, project_id=project_id
        )
        return convert.execution_to_proto(self._redact.execution(record))

    async def DeleteExecution(self, request: Any, context: Any) -> empty_pb2.Empty:
        await asyncio.to_thread(
            self._repo.delete_execution,
            _id_of(request.name, "executions"),
            force=request.force,
            project_id=identity.project_id(),
        )
        return empty_pb2.Empty()

    async def GetExecution(self, request: Any, context: Any) -> execution_pb2.Execution:
        record = await asyncio.to_thread(
            self._repo.get_execution,
            _id_of(request.name, "executions"),
            project_id=identity.project_id(),
        )
        return convert.execution_to_proto(self._redact.execution(record))

    async def ListExecutions(
        self, request: Any, context: Any
    ) -> execution_pb2.ListExecutionsResponse:
        query = list_query(
            filter_text=request.filter,
            order_by=request.order_by,
            page_size=request.page_size,
            page_token=request.page_token,
        )
        page = await asyncio.to_thread(
            self._repo.list_executions, query, project_id=identity.list_scope(request.all_projects)
        )
        return execution_pb2.ListExecutionsResponse(
            executions=[
                convert.execution_to_proto(r, with_output=request.include_output)
                for r in self._redact.executions(page.items)
            ],
            next_page_token=page.next_marker or "",
        )


class TasksServicer(task_pb2_grpc.TasksServiceServicer):
    """levante.v2.TasksService."""

    def __init__(
        self,
        repository: Repository,
        engine: engine_pb2_grpc.EngineServiceStub | None = None,
        *,
        redactor: Redactor | None = None,
    ) -> None:
        self._repo = repository
        self._engine = engine
        self._redact = redactor or Redactor(repository.db)

    async def RerunTask(self, request: Any, context: Any) -> task_pb2.Task:
        task_id = _id_of(request.name, "tasks")
        project_id = identity.project_id()
        # Another project's task does not exist for the caller.
        await asyncio.to_thread(self._repo.get_task, task_id, project_id=project_id)
        rerun = engine_pb2.RerunTaskRequest(
            task_execution_id=task_id,
            reset=request.reset,
            env_json=json.dumps(convert.plain(request.env)),
        )
        assert self._engine is not None
        try:
            await self._engine.RerunTask(rerun, timeout=60)
        except grpc.aio.AioRpcError as error:
            raise error_from_rpc(error) from None
        record = await asyncio.to_thread(self._repo.get_task, task_id, project_id=project_id)
        return convert.task_to_proto(self._redact.task(record))

    async def GetTask(self, request: Any, context: Any) -> task_pb2.Task:
        record = await asyncio.to_thread(
            self._repo.get_task, _id_of(request.name, "tasks"), project_id=identity.project_id()
        )
        return convert.task_to_proto(self._redact.task(record))

    async def ListTasks(self, request: Any, context: Any) -> task_pb2.ListTasksResponse:
        extra: tuple[Filter, ...] = ()
        project_id = identity.list_scope(request.all_projects)
        if request.parent:
            execution_id = _id_of(request.parent, "executions")
            await asyncio.to_thread(self._repo.get_execution, execution_id, project_id=project_id)
            extra = (Filter("workflow_execution_id", "eq", execution_id),)
        query = list_query(
            filter_text=request.filter,
            order_by=request.order_by,
            page_size=request.page_size,
            page_token=request.page_token,
            extra=extra,
        )
        page = await asyncio.to_thread(self._repo.list_tasks, query, project_id=project_id)
        return task_pb2.ListTasksResponse(
            tasks=[convert.task_to_proto(r) for r in self._redact.tasks(page.items)],
            next_page_token=page.next_marker or "",
        )


class ActionExecutionsServicer(action_execution_pb2_grpc.ActionExecutionsServiceServicer):
    """levante.v2.ActionExecutionsService."""

    def __init__(
        self,
        repository: Repository,
        engine: engine_pb2_grpc.EngineServiceStub,
        *,
        poll_seconds: float = 0.01,
        limits: Limits | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        self._repo = repository
        self._engine = engine
        self._poll = poll_seconds
        self._limits = limits or Limits()
        self._redact = redactor or Redactor(repository.db)

    async def CreateActionExecution(
        self, request: Any, context: Any
    ) -> action_execution_pb2.ActionExecution:
        action = request.action_execution
        params = {"save_result": request.save_result, "run_sync": request.run_sync}
        if request.target:
            params["target"] = request.target
        input_json = json.dumps(convert.plain(action.input))
        self._limits.check_size("input", input_json)
        start = engine_pb2.StartActionRequest(
            action_name=action.action_name,
            input_json=input_json,
            target=request.target,
            description=action.description,
            project_id=identity.project_id(),
            namespace=action.workflow_namespace,
            params_json=json.dumps(params),
            custom_context_json=json.dumps(convert.plain(action.custom_context)),
        )
        try:
            started = await self._engine.StartAction(start, timeout=60)
        except grpc.aio.AioRpcError as error:
            raise error_from_rpc(error) from None
        action_id = started.action_execution_id
        if request.save_result and not request.run_sync:
            record = await asyncio.to_thread(
                self._repo.get_action_execution, action_id, project_id=identity.project_id()
            )
            return convert.action_execution_to_proto(self._redact.action_execution(record))
        record = await self._wait_until_done(action_id, request.timeout_seconds or 60.0)
        if request.save_result:
            return convert.action_execution_to_proto(self._redact.action_execution(record))
        # Not saved: answer with the result, keep nothing (Mistral's `id: null`).
        await asyncio.to_thread(self._repo.delete_action_execution, action_id)
        answer = convert.action_execution_to_proto(self._redact.action_execution(record))
        for name in ("name", "id", "project_id", "create_time", "update_time"):
            answer.ClearField(name)
        return answer

    async def _wait_until_done(self, action_id: str, timeout: float) -> Any:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            record = await asyncio.to_thread(self._repo.get_action_execution, action_id)
            if record.state != "RUNNING" or asyncio.get_running_loop().time() > deadline:
                return record
            await asyncio.sleep(self._poll)

    async def UpdateActionExecution(
        self, request: Any, context: Any
    ) -> action_execution_pb2.ActionExecution:
        action = request.action_execution
        paths = set(request.update_mask.paths) or {"state", "output"}
        if not paths <= {"state", "output"} or "state" not in paths:
            raise InputError("Only `state` (with `output`) of an action execution can be updated")
        action_id = _id_of(action.name or action.id, "actionExecutions")
        project_id = identity.project_id()
        # Another project's action execution does not exist for the caller.
        await asyncio.to_thread(self._repo.get_action_execution, action_id, project_id=project_id)
        output = convert.plain(action.output).get("result") if "output" in paths else None
        complete = engine_pb2.CompleteActionRequest(
            action_execution_id=action_id,
            state=convert.state_from_proto(action.state),
            output_json=json.dumps(output),
        )
        try:
            await self._engine.CompleteAction(complete, timeout=60)
        except grpc.aio.AioRpcError as error:
            raise error_from_rpc(error) from None
        record = await asyncio.to_thread(
            self._repo.get_action_execution, action_id, project_id=project_id
        )
        return convert.action_execution_to_proto(self._redact.action_execution(record))

    async def GetActionExecution(
        self, request: Any, context: Any
    ) -> action_execution_pb2.ActionExecution:
        record = await asyncio.to_thread(
            self._repo.get_action_execution,
            _id_of(request.name, "actionExecutions"),
            project_id=identity.project_id(),
        )
        return convert.action_execution_to_proto(self._redact.action_execution(record))

    async def ListActionExecutions(
        self, request: Any, context: Any
    ) -> action_execution_pb2.ListActionExecutionsResponse:
        extra: tuple[Filter, ...] = ()
        project_id = identity.list_scope(request.all_projects)
        if request.parent:
            task_id = _id_of(request.parent, "tasks")
            await asyncio.to_thread(self._repo.get_task, task_id, project_id=project_id)
            extra = (Filter("task_execution_id", "eq", task_id),)
        query = list_query(
            filter_text=request.filter,
            order_by=request.order_by,
            page_size=request.page_size,
            page_token=request.page_token,
            extra=extra,
        )
        page = await asyncio.to_thread(
            self._repo.list_action_executions, query, project_id=project_id
        )
        return action_execution_pb2.ListActionExecutionsResponse(
            action_executions=[
                convert.action_execution_to_proto(r, with_output=request.include_output)
                for r in self._redact.action_executions(page.items)
            ],
            next_page_token=page.next_marker or "",
        )
