"""The public gRPC API over a real socket: health, reflection, and a workflow run."""

from __future__ import annotations

import time
import uuid

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from levante.v2 import (
    common_pb2,
    execution_pb2,
    execution_pb2_grpc,
    member_pb2,
    member_pb2_grpc,
    namespace_pb2,
    namespace_pb2_grpc,
    service_pb2,
    service_pb2_grpc,
    task_pb2,
    task_pb2_grpc,
    workflow_pb2,
    workflow_pb2_grpc,
)
from tests.support.net import eventually
from tests.support.system import LevanteProcess

PUBLIC = {
    "levante.v2.WorkflowsService",
    "levante.v2.ExecutionsService",
    "levante.v2.TasksService",
    "levante.v2.ActionExecutionsService",
    "levante.v2.MembersService",
    "levante.v2.NamespacesService",
    "levante.v2.ServicesService",
    "levante.v2.DoctorService",
    "levante.v2.WorkbooksService",
    "levante.v2.ActionsService",
}


def test_health_and_reflection(levante: LevanteProcess) -> None:
    with grpc.insecure_channel(levante.grpc_address) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        # The process's health, each service's, and liveness (levante.health).
        follows = ["levante.process", "levante.api", "levante.engine", "levante.executor"]
        for service in ["", *PUBLIC, "levante.internal.v1.EngineService", *follows]:
            answer = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
            assert answer.status == health_pb2.HealthCheckResponse.SERVING, service
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        [response] = list(stub.ServerReflectionInfo(iter([request]), timeout=5))
        names = {s.name for s in response.list_services_response.service}
        assert PUBLIC <= names
        assert {"grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"} <= names


def test_run_a_workflow_over_grpc(levante: LevanteProcess) -> None:
    name = f"grpc_{uuid.uuid4().hex[:8]}"
    definition = f"""\
version: '2.0'
{name}:
  input: [count]
  output:
    next: <% $.count + 1 %>
  tasks:
    only:
      action: std.echo output=<% $.count %>
"""
    with grpc.insecure_channel(levante.grpc_address) as channel:
        workflows = workflow_pb2_grpc.WorkflowsServiceStub(channel)
        executions = execution_pb2_grpc.ExecutionsServiceStub(channel)
        tasks = task_pb2_grpc.TasksServiceStub(channel)
        created = workflows.CreateWorkflows(
            workflow_pb2.CreateWorkflowsRequest(definition=definition), timeout=10
        )
        [workflow] = created.workflows
        assert workflow.name == f"workflows/{workflow.id}" and workflow.workflow_name == name

        execution = execution_pb2.Execution(workflow_name=name)
        execution.input.update({"count": 41})
        started = executions.CreateExecution(
            execution_pb2.CreateExecutionRequest(execution=execution), timeout=10
        )
        # The answer reads the execution after the engine started it: a one-task
        # workflow may already have finished by then.
        assert started.state in (common_pb2.STATE_RUNNING, common_pb2.STATE_SUCCESS)

        def finished():
            current = executions.GetExecution(
                execution_pb2.GetExecutionRequest(name=started.name), timeout=5
            )
            return (
                current
                if current.state in (common_pb2.STATE_SUCCESS, common_pb2.STATE_ERROR)
                else None
            )

        done = eventually(finished, timeout=30, what="execution to finish")
        assert done.state == common_pb2.STATE_SUCCESS, done.state_info
        assert done.output["next"] == 42
        listed = tasks.ListTasks(task_pb2.ListTasksRequest(parent=started.name), timeout=5)
        assert [t.task_name for t in listed.tasks] == ["only"]


def test_domain_errors_are_grpc_statuses(levante: LevanteProcess) -> None:
    with grpc.insecure_channel(levante.grpc_address) as channel:
        workflows = workflow_pb2_grpc.WorkflowsServiceStub(channel)
        executions = execution_pb2_grpc.ExecutionsServiceStub(channel)
        cases = [
            (
                lambda: workflows.GetWorkflow(
                    workflow_pb2.GetWorkflowRequest(name="workflows/nope"), timeout=5
                ),
                grpc.StatusCode.NOT_FOUND,
            ),
            (
                lambda: workflows.CreateWorkflows(
                    workflow_pb2.CreateWorkflowsRequest(definition="version: '2.0'\nwf: [1"),
                    timeout=5,
                ),
                grpc.StatusCode.INVALID_ARGUMENT,
            ),
            (
                lambda: executions.CreateExecution(
                    execution_pb2.CreateExecutionRequest(
                        execution=execution_pb2.Execution(workflow_name="nope")
                    ),
                    timeout=5,
                ),
                grpc.StatusCode.NOT_FOUND,
            ),
            (
                lambda: executions.ListExecutions(
                    execution_pb2.ListExecutionsRequest(filter="state ~ x"), timeout=5
                ),
                grpc.StatusCode.INVALID_ARGUMENT,
            ),
        ]
        for call, code in cases:
            try:
                call()
            except grpc.RpcError as error:
                assert error.code() == code, error.details()
                assert error.details()
            else:
                raise AssertionError(f"expected {code}")
        time.sleep(0)


def test_sharing_namespaces_and_services_over_grpc(levante: LevanteProcess) -> None:
    name = f"grpc_shared_{uuid.uuid4().hex[:8]}"
    space = f"grpc_ns_{uuid.uuid4().hex[:8]}"
    definition = f"version: '2.0'\n{name}:\n  tasks:\n    t:\n      action: std.noop\n"
    with grpc.insecure_channel(levante.grpc_address) as channel:
        workflows = workflow_pb2_grpc.WorkflowsServiceStub(channel)
        members = member_pb2_grpc.MembersServiceStub(channel)
        created = workflows.CreateWorkflows(
            workflow_pb2.CreateWorkflowsRequest(definition=definition, namespace=space), timeout=10
        )
        parent = created.workflows[0].name
        shared = members.CreateMember(
            member_pb2.CreateMemberRequest(
                parent=parent, member=member_pb2.Member(member_id="project-b")
            ),
            timeout=5,
        )
        assert shared.name == f"{parent}/members/project-b"
        assert shared.status == member_pb2.MEMBER_STATUS_PENDING
        listed = members.ListMembers(member_pb2.ListMembersRequest(parent=parent), timeout=5)
        assert [m.member_id for m in listed.members] == ["project-b"]
        assert members.GetMember(member_pb2.GetMemberRequest(name=shared.name), timeout=5) == shared
        # Only project-b may answer; this caller is the owner.
        update = member_pb2.UpdateMemberRequest(
            member=member_pb2.Member(name=shared.name, status=member_pb2.MEMBER_STATUS_ACCEPTED)
        )
        for call, code in [
            (lambda: members.UpdateMember(update, timeout=5), grpc.StatusCode.NOT_FOUND),
            (
                lambda: members.ListMembers(
                    member_pb2.ListMembersRequest(parent="workflows/by_name"), timeout=5
                ),
                grpc.StatusCode.INVALID_ARGUMENT,
            ),
        ]:
            try:
                call()
            except grpc.RpcError as error:
                assert error.code() == code, error.details()
            else:
                raise AssertionError(f"expected {code}")
        members.DeleteMember(member_pb2.DeleteMemberRequest(name=shared.name), timeout=5)
        assert not members.ListMembers(member_pb2.ListMembersRequest(parent=parent)).members

        namespaces = namespace_pb2_grpc.NamespacesServiceStub(channel).ListNamespaces(
            namespace_pb2.ListNamespacesRequest(), timeout=5
        )
        [mine] = [n for n in namespaces.namespaces if n.namespace_id == space]
        assert (mine.name, mine.workflow_count) == (f"namespaces/{space}", 1)

        services = service_pb2_grpc.ServicesServiceStub(channel).ListServices(
            service_pb2.ListServicesRequest(), timeout=5
        )
        assert [s.kind for s in services.services] == [
            service_pb2.SERVICE_KIND_API,
            service_pb2.SERVICE_KIND_ENGINE,
            service_pb2.SERVICE_KIND_EXECUTOR,
            service_pb2.SERVICE_KIND_SCHEDULER,
        ]
        assert all(s.pid > 0 and s.host for s in services.services)
