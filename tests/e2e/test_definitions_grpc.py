"""Workbooks and ad-hoc actions over the public gRPC API, through a real socket.

The same definitions are served by the Mistral face (`Definitions` under both);
what another project may see or change is in tests/integration/test_definitions_projects.py.
"""

from __future__ import annotations

import uuid

import grpc
import pytest

from levante.v2 import (
    action_pb2,
    action_pb2_grpc,
    common_pb2,
    workbook_pb2,
    workbook_pb2_grpc,
    workflow_pb2,
    workflow_pb2_grpc,
)
from tests.support.http import request
from tests.support.system import LevanteProcess


def _refused(call, code: grpc.StatusCode) -> str:
    """The details of the error `call` must fail with."""
    with pytest.raises(grpc.RpcError) as failed:
        call()
    assert failed.value.code() == code, failed.value.details()
    return failed.value.details()


def _workbook(name: str, *, tags: str = "[one]", action: str = "std.noop") -> str:
    return f"""\
version: '2.0'
name: {name}
tags: {tags}
actions:
  act:
    base: std.echo output=1
workflows:
  wf:
    tasks:
      t:
        action: {action}
"""


def test_workbooks_over_grpc(levante: LevanteProcess) -> None:
    book = f"grpc_book_{uuid.uuid4().hex[:8]}"
    space = f"grpc_wbns_{uuid.uuid4().hex[:8]}"
    with grpc.insecure_channel(levante.grpc_address) as channel:
        workbooks = workbook_pb2_grpc.WorkbooksServiceStub(channel)
        workflows = workflow_pb2_grpc.WorkflowsServiceStub(channel)
        created = workbooks.CreateWorkbook(
            workbook_pb2.CreateWorkbookRequest(definition=_workbook(book), namespace=space),
            timeout=10,
        )
        assert created.name == f"workbooks/{created.id}" and created.workbook_name == book
        assert (created.namespace, list(created.tags)) == (space, ["one"])
        assert created.scope == common_pb2.SCOPE_PRIVATE and created.create_time.seconds
        assert not created.HasField("update_time")
        # Its workflows are workflows like any other.
        [workflow] = workflows.ListWorkflows(
            workflow_pb2.ListWorkflowsRequest(filter=f'namespace = "{space}"'), timeout=5
        ).workflows
        assert workflow.workflow_name == f"{book}.wf"
        # By resource name (id), and by workbook name in its namespace.
        get = workbooks.GetWorkbook
        assert get(workbook_pb2.GetWorkbookRequest(name=created.name), timeout=5) == created
        by_name = workbook_pb2.GetWorkbookRequest(name=f"workbooks/{book}", namespace=space)
        assert get(by_name, timeout=5) == created
        # The Mistral face serves the same workbook.
        status, body = request("GET", f"{levante.url}/workbooks/{book}?namespace={space}")
        assert (status, body["id"]) == (200, created.id)

        other = workbooks.CreateWorkbook(
            workbook_pb2.CreateWorkbookRequest(definition=_workbook(f"{book}_2"), namespace=space),
            timeout=10,
        )
        list_request = workbook_pb2.ListWorkbooksRequest(
            filter=f'namespace = "{space}"', order_by="name", page_size=1
        )
        first = workbooks.ListWorkbooks(list_request, timeout=5)
        assert [w.id for w in first.workbooks] == [created.id] and first.next_page_token
        list_request.page_token = first.next_page_token
        second = workbooks.ListWorkbooks(list_request, timeout=5)
        assert [w.id for w in second.workbooks] == [other.id]

        updated = workbooks.UpdateWorkbook(
            workbook_pb2.UpdateWorkbookRequest(
                definition=_workbook(book, tags="[two]", action="std.echo output=2"),
                namespace=space,
            ),
            timeout=10,
        )
        assert (updated.id, list(updated.tags)) == (created.id, ["two"])
        assert updated.HasField("update_time") and "std.echo output=2" in updated.definition
        [kept] = workflows.ListWorkflows(
            workflow_pb2.ListWorkflowsRequest(filter=f'name = "{book}.wf"'), timeout=5
        ).workflows
        assert kept.id == workflow.id  # the workbook's workflows keep their ids

        workbooks.DeleteWorkbook(workbook_pb2.DeleteWorkbookRequest(name=created.name), timeout=5)
        workbooks.DeleteWorkbook(
            workbook_pb2.DeleteWorkbookRequest(name=f"workbooks/{book}_2", namespace=space),
            timeout=5,
        )
        for gone in (created.name, other.name):
            request_gone = workbook_pb2.GetWorkbookRequest(name=gone)
            _refused(lambda r=request_gone: get(r, timeout=5), grpc.StatusCode.NOT_FOUND)
        leftover = workflows.ListWorkflows(
            workflow_pb2.ListWorkflowsRequest(filter=f'namespace = "{space}"'), timeout=5
        )
        assert not leftover.workflows


def test_workbook_errors_over_grpc(levante: LevanteProcess) -> None:
    book = f"grpc_book_err_{uuid.uuid4().hex[:8]}"
    with grpc.insecure_channel(levante.grpc_address) as channel:
        workbooks = workbook_pb2_grpc.WorkbooksServiceStub(channel)
        create = workbook_pb2.CreateWorkbookRequest(definition=_workbook(book))
        workbooks.CreateWorkbook(create, timeout=10)
        details = _refused(
            lambda: workbooks.CreateWorkbook(create, timeout=10), grpc.StatusCode.ALREADY_EXISTS
        )
        assert book in details
        # In another namespace the same name is another workbook.
        _refused(
            lambda: workbooks.GetWorkbook(
                workbook_pb2.GetWorkbookRequest(name=f"workbooks/{book}", namespace="elsewhere"),
                timeout=5,
            ),
            grpc.StatusCode.NOT_FOUND,
        )
        missing = workbook_pb2.UpdateWorkbookRequest(definition=_workbook(f"{book}_missing"))
        details = _refused(
            lambda: workbooks.UpdateWorkbook(missing, timeout=10), grpc.StatusCode.NOT_FOUND
        )
        assert f"{book}_missing" in details
        _refused(
            lambda: workbooks.DeleteWorkbook(
                workbook_pb2.DeleteWorkbookRequest(name="workbooks/no_such_book"), timeout=5
            ),
            grpc.StatusCode.NOT_FOUND,
        )
        broken = _workbook(book).replace(
            "action: std.noop", "action: std.noop\n        on-success: nowhere"
        )
        details = _refused(
            lambda: workbooks.UpdateWorkbook(
                workbook_pb2.UpdateWorkbookRequest(definition=broken), timeout=10
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
        )
        assert "'nowhere'" in details and "(line 12, column 21)" in details, details
        for bad, message in [
            (workbook_pb2.CreateWorkbookRequest(definition=""), "workbook 'name'"),
            (
                workbook_pb2.CreateWorkbookRequest(definition=_workbook(f"{book}_s"), scope=7),
                "Unknown scope 7",
            ),
        ]:
            details = _refused(
                lambda r=bad: workbooks.CreateWorkbook(r, timeout=10),
                grpc.StatusCode.INVALID_ARGUMENT,
            )
            assert message in details, details
        _refused(
            lambda: workbooks.GetWorkbook(workbook_pb2.GetWorkbookRequest(name=""), timeout=5),
            grpc.StatusCode.INVALID_ARGUMENT,
        )
        _refused(
            lambda: workbooks.ListWorkbooks(
                workbook_pb2.ListWorkbooksRequest(filter="colour = red"), timeout=5
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
        )
        workbooks.DeleteWorkbook(
            workbook_pb2.DeleteWorkbookRequest(name=f"workbooks/{book}"), timeout=5
        )


def test_adhoc_actions_over_grpc(levante: LevanteProcess) -> None:
    prefix = f"grpc_act_{uuid.uuid4().hex[:8]}"
    document = f"""\
version: '2.0'
{prefix}_a:
  description: first
  input: [text]
  base: std.echo
  base-input:
    output: <% $.text %>
{prefix}_b:
  tags: [b]
  base: std.noop
"""
    with grpc.insecure_channel(levante.grpc_address) as channel:
        actions = action_pb2_grpc.ActionsServiceStub(channel)
        create = action_pb2.CreateActionsRequest(definition=document, scope=common_pb2.SCOPE_PUBLIC)
        created = actions.CreateActions(create, timeout=10).actions
        assert [a.name for a in created] == [f"actions/{prefix}_a", f"actions/{prefix}_b"]
        first = created[0]
        assert (first.action_name, first.input, first.description) == (
            f"{prefix}_a",
            "text",
            "first",
        )
        assert first.scope == common_pb2.SCOPE_PUBLIC and not first.is_system
        assert f"{prefix}_a:" in first.definition and f"{prefix}_b" not in first.definition
        assert list(created[1].tags) == ["b"]
        # The Mistral face serves the same actions.
        status, body = request("GET", f"{levante.url}/actions/{prefix}_a")
        assert (status, body["id"]) == (200, first.id)
        # gRPC reads them back, beside the catalogue.
        got = actions.GetAction(action_pb2.GetActionRequest(name=f"actions/{prefix}_a"), timeout=10)
        assert (got.id, got.definition) == (first.id, first.definition)
        listed = actions.ListActions(
            action_pb2.ListActionsRequest(filter=f'name : "{prefix}"'), timeout=10
        ).actions
        assert [a.action_name for a in listed] == [f"{prefix}_a", f"{prefix}_b"]
        echo = actions.GetAction(action_pb2.GetActionRequest(name="actions/std.echo"), timeout=10)
        assert echo.input == "output, delay=0"

        details = _refused(
            lambda: actions.CreateActions(create, timeout=10), grpc.StatusCode.ALREADY_EXISTS
        )
        assert f"{prefix}_a" in details
        changed = document.replace("description: first", "description: changed")
        updated = actions.UpdateActions(
            action_pb2.UpdateActionsRequest(definition=changed), timeout=10
        ).actions
        assert [a.id for a in updated] == [a.id for a in created]
        assert updated[0].description == "changed" and updated[0].scope == common_pb2.SCOPE_PRIVATE
        assert updated[0].HasField("update_time")

        missing = action_pb2.UpdateActionsRequest(
            definition=f"version: '2.0'\n{prefix}_c:\n  base: std.noop\n"
        )
        _refused(lambda: actions.UpdateActions(missing, timeout=10), grpc.StatusCode.NOT_FOUND)
        broken = document.replace("  tags: [b]\n", "  tags: [b]\n  colour: red\n")
        details = _refused(
            lambda: actions.CreateActions(
                action_pb2.CreateActionsRequest(definition=broken), timeout=10
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
        )
        assert "'colour'" in details and "(line 10, column 3)" in details, details

        actions.DeleteAction(action_pb2.DeleteActionRequest(name=first.name), timeout=5)
        actions.DeleteAction(
            action_pb2.DeleteActionRequest(name=f"actions/{created[1].id}"), timeout=5
        )
        for name in (first.name, "actions/std.echo"):
            gone = action_pb2.DeleteActionRequest(name=name)
            _refused(lambda r=gone: actions.DeleteAction(r, timeout=5), grpc.StatusCode.NOT_FOUND)
        _refused(
            lambda: actions.DeleteAction(
                action_pb2.DeleteActionRequest(name="actions/"), timeout=5
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
        )
        status, _ = request("GET", f"{levante.url}/actions/{prefix}_b")
        assert status == 404
