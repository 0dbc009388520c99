"""The engine's operations besides starting executions and applying events.

Direct action runs, completing actions from outside, and user control of an
execution (pause, resume, stop, env). A mixin of `EngineRuntime`: each
operation is one transaction through the runtime's locked `_apply_in_tree`.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from levante.engine import actions as direct_actions
from levante.engine.control import control_event
from levante.engine.state import RerunTask, RunAction
from levante.engine.wire import json_object, outgoing_for
from levante.errors import FailedPreconditionError, InputError, NotFoundError
from levante.internal.v1 import engine_pb2
from levante.messaging.jetstream import Outgoing
from levante.messaging.outbox import add_to_outbox
from levante.persistence import models
from levante.states import State

if TYPE_CHECKING:
    from levante.engine.runtime import EngineRuntime as _Base
else:
    _Base = object


class OperationsMixin(_Base):
    """Direct actions, outside completion and execution control."""

    # -- rerun ----------------------------------------------------------------

    async def rerun_task(self, request: engine_pb2.RerunTaskRequest) -> str:
        """Reruns a failed task; returns the task's state after the call."""
        state, outgoing = await asyncio.to_thread(self._rerun_task, request)
        await self._relay.publish(outgoing)
        return state

    def _rerun_task(self, request: engine_pb2.RerunTaskRequest) -> tuple[str, list[Outgoing]]:
        env = json_object(request.env_json, "env")
        with self._db.read() as session:
            row = session.get(models.TaskExecution, request.task_execution_id)
            if row is None:
                raise NotFoundError(f"TaskExecution not found [id={request.task_execution_id}]")
            if row.state != State.ERROR:
                raise FailedPreconditionError(
                    "The current task execution must be in ERROR for rerun. Only updating "
                    "task to rerun is supported."
                )
            if not request.reset and row.items is None:
                raise InputError("Only with-items tasks can be rerun with reset=false")
            root_id, execution_id = row.root_execution_id, row.workflow_execution_id
        event = RerunTask(task_id=request.task_execution_id, reset=request.reset, env=env or None)
        outgoing = self._apply_in_tree(root_id, [(execution_id, event)])
        with self._db.read() as session:
            return session.get(models.TaskExecution, request.task_execution_id).state, outgoing

    # -- user control -------------------------------------------------------

    async def update_execution_state(self, request: engine_pb2.UpdateExecutionStateRequest) -> str:
        """Pauses, resumes or stops an execution, or updates its env; returns its state."""
        state, outgoing = await asyncio.to_thread(self._update_execution_state, request)
        await self._relay.publish(outgoing)
        return state

    def _update_execution_state(
        self, request: engine_pb2.UpdateExecutionStateRequest
    ) -> tuple[str, list[Outgoing]]:
        env = json_object(request.env_json, "env")
        with self._db.read() as session:
            row = session.get(models.WorkflowExecution, request.execution_id)
            if row is None:
                raise NotFoundError(f"WorkflowExecution not found [id={request.execution_id}]")
            root_id = row.root_execution_id or row.id
        if not request.state:
            return self._update_env(request.execution_id, env), []
        event = control_event(request.state, request.state_info or None, env)
        outgoing = self._apply_in_tree(root_id, [(request.execution_id, event)])
        with self._db.read() as session:
            return session.get(models.WorkflowExecution, request.execution_id).state, outgoing

    def _update_env(self, execution_id: str, env: dict[str, Any]) -> str:
        with self._db.write() as session:
            row = session.get(models.WorkflowExecution, execution_id)
            if row.state in (State.RUNNING, State.IDLE):
                raise FailedPreconditionError(
                    f"The env of execution {execution_id} can only be updated while it is "
                    f"paused or finished; it is {row.state}"
                )
            row.params = {**row.params, "env": {**(row.params.get("env") or {}), **env}}
            row.version = (row.version or 0) + 1  # cached states of it are stale now
            row.updated_at = self._clock()
            return row.state

    # -- actions ------------------------------------------------------------

    async def start_action(self, request: engine_pb2.StartActionRequest) -> str:
        """Creates a direct action run and sends it to an executor; returns its id."""
        action_id, outgoing = await asyncio.to_thread(self._start_action, request)
        await self._relay.publish(outgoing)
        return action_id

    def _start_action(self, request: engine_pb2.StartActionRequest) -> tuple[str, list[Outgoing]]:
        if not request.action_name:
            raise InputError("An action name must be provided")
        action_input = json_object(request.input_json, "input")
        params = json_object(request.params_json, "params")
        custom_context = json_object(request.custom_context_json, "custom_context")
        now = self._clock()
        action_id = self._new_id()
        with self._db.read() as session:
            base_name, base_input = direct_actions.resolve_direct(
                session, request.action_name, action_input, request.namespace, request.project_id
            )
        if base_name != request.action_name:
            params = {**params, "base_action": base_name}
        command = RunAction(
            action_id=action_id,
            task_id="",
            execution_id="",
            root_execution_id=action_id,
            action_name=base_name,
            input=base_input,
            target=request.target or None,
            workflow_namespace=request.namespace,
            project_id=request.project_id,
            custom_context=custom_context,
        )
        outgoing = [outgoing_for(command, now)]
        with self._db.write() as session:
            session.add(
                direct_actions.new_direct_action(
                    action_id=action_id,
                    name=request.action_name,
                    action_input=action_input,
                    params=params,
                    description=request.description,
                    namespace=request.namespace,
                    project_id=request.project_id,
                    now=now,
                )
            )
            add_to_outbox(session, outgoing, now=now)
        return action_id, outgoing

    async def complete_action(self, request: engine_pb2.CompleteActionRequest) -> str:
        """Completes a RUNNING action execution from outside; returns its new state."""
        state, outgoing = await asyncio.to_thread(self._complete_action, request)
        await self._relay.publish(outgoing)
        return state

    def _complete_action(
        self, request: engine_pb2.CompleteActionRequest
    ) -> tuple[str, list[Outgoing]]:
        with self._db.read() as session:
            row = direct_actions.running_action(session, request.action_execution_id)
            root_id = row.root_execution_id or row.id
            execution_id = row.workflow_execution_id or ""
            task_id = row.task_execution_id or ""
        event = direct_actions.completion_event(
            request.action_execution_id, task_id, request.state, request.output_json
        )
        outgoing = self._apply_in_tree(root_id, [(execution_id, event)])
        with self._db.read() as session:
            final = session.get(models.ActionExecution, request.action_execution_id)
            return (final.state if final else request.state), outgoing
