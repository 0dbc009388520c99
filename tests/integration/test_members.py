"""Workflow and workbook sharing (the mitaka spec) through the servicers, as several projects.

Authentication is not there yet, so the projects are set with
`identity.acting_as`, the hook authentication will use; both databases.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from levante.actions import ActionCatalogue
from levante.api.cron_triggers import CronTriggersServicer
from levante.api.definitions import Definitions
from levante.api.identity import Caller, acting_as
from levante.api.members import MembersServicer
from levante.api.namespaces import NamespacesServicer
from levante.api.servicers import WorkflowsServicer
from levante.errors import (
    AlreadyExistsError,
    FailedPreconditionError,
    ForbiddenError,
    InputError,
    NotFoundError,
)
from levante.persistence.db import Database
from levante.persistence.definitions import DefinitionRepository
from levante.persistence.members import MemberRepository
from levante.persistence.repository import ListQuery, Repository
from levante.persistence.triggers import TriggerRepository
from levante.v2 import (
    common_pb2,
    cron_trigger_pb2,
    member_pb2,
    namespace_pb2,
    workflow_pb2,
)

OWNER, MEMBER, STRANGER = Caller("project-a"), Caller("project-b"), Caller("project-c")
ACCEPTED, REJECTED = member_pb2.MEMBER_STATUS_ACCEPTED, member_pb2.MEMBER_STATUS_REJECTED


@dataclass
class Api:
    workflows: WorkflowsServicer
    members: MembersServicer
    triggers: CronTriggersServicer
    namespaces: NamespacesServicer
    definitions: Definitions


@pytest.fixture
def api(database: Database) -> Iterator[Api]:
    repository = Repository(database)
    catalogue = ActionCatalogue.from_env({})
    yield Api(
        workflows=WorkflowsServicer(repository),
        members=MembersServicer(MemberRepository(database)),
        triggers=CronTriggersServicer(TriggerRepository(database, repository)),
        namespaces=NamespacesServicer(database),
        definitions=Definitions(DefinitionRepository(database, repository), catalogue),
    )
    catalogue.close()


async def _workflow(api: Api, *, namespace: str = "", public: bool = False) -> str:
    name = f"wf_{uuid.uuid4().hex[:8]}"
    created = await api.workflows.CreateWorkflows(
        workflow_pb2.CreateWorkflowsRequest(
            definition=f"version: '2.0'\n{name}:\n  tasks:\n    t:\n      action: std.noop\n",
            namespace=namespace,
            scope=common_pb2.SCOPE_PUBLIC if public else common_pb2.SCOPE_PRIVATE,
        ),
        None,
    )
    return created.workflows[0].id


async def _share(api: Api, parent: str, member: str) -> member_pb2.Member:
    return await api.members.CreateMember(
        member_pb2.CreateMemberRequest(parent=parent, member=member_pb2.Member(member_id=member)),
        None,
    )


async def _answer(api: Api, name: str, status: int) -> member_pb2.Member:
    request = member_pb2.UpdateMemberRequest(member=member_pb2.Member(name=name, status=status))
    return await api.members.UpdateMember(request, None)


async def _visible_ids(api: Api) -> set[str]:
    listed = await api.workflows.ListWorkflows(workflow_pb2.ListWorkflowsRequest(), None)
    return {w.id for w in listed.workflows}


async def test_share_accept_reject_and_unshare(api: Api) -> None:
    with acting_as(OWNER):
        workflow_id = await _workflow(api)
        shared = await _share(api, f"workflows/{workflow_id}", MEMBER.project_id)
    name = f"workflows/{workflow_id}/members/project-b"
    assert shared.name == name and shared.status == member_pb2.MEMBER_STATUS_PENDING
    assert (shared.project_id, shared.member_id) == ("project-a", "project-b")
    assert shared.resource_type == member_pb2.SHARED_RESOURCE_TYPE_WORKFLOW
    assert not shared.HasField("update_time")

    with acting_as(MEMBER):
        # Pending: the member sees its membership, not the workflow.
        assert workflow_id not in await _visible_ids(api)
        with pytest.raises(NotFoundError):
            await api.workflows.GetWorkflow(workflow_pb2.GetWorkflowRequest(name=workflow_id), None)
        got = await api.members.GetMember(member_pb2.GetMemberRequest(name=name), None)
        assert got.id == shared.id
        accepted = await _answer(api, name, ACCEPTED)
        assert accepted.status == ACCEPTED and accepted.HasField("update_time")
        assert workflow_id in await _visible_ids(api)
        got = await api.workflows.GetWorkflow(
            workflow_pb2.GetWorkflowRequest(name=f"workflows/{workflow_id}"), None
        )
        assert got.project_id == "project-a"
        # Visible is not owned: the member can neither delete nor share it further.
        with pytest.raises(ForbiddenError, match="Can not delete workflow of other users"):
            await api.workflows.DeleteWorkflow(
                workflow_pb2.DeleteWorkflowRequest(name=workflow_id), None
            )
        with pytest.raises(ForbiddenError, match="Only the owner"):
            await _share(api, f"workflows/{workflow_id}", STRANGER.project_id)
        with pytest.raises(ForbiddenError, match="Only the owner"):
            await api.members.DeleteMember(member_pb2.DeleteMemberRequest(name=name), None)
        await _answer(api, name, REJECTED)
        assert workflow_id not in await _visible_ids(api)

    with acting_as(OWNER):
        # Only the member answers: to the owner that membership "does not exist".
        with pytest.raises(NotFoundError, match="Resource member not found"):
            await _answer(api, name, ACCEPTED)
        await _share(api, f"workflows/{workflow_id}", STRANGER.project_id)
        listed = await api.members.ListMembers(
            member_pb2.ListMembersRequest(parent=f"workflows/{workflow_id}"), None
        )
        assert [(m.member_id, m.status) for m in listed.members] == [
            ("project-b", REJECTED),
            ("project-c", member_pb2.MEMBER_STATUS_PENDING),
        ]
        paged = await api.members.ListMembers(
            member_pb2.ListMembersRequest(parent=f"workflows/{workflow_id}", page_size=1), None
        )
        assert [m.member_id for m in paged.members] == ["project-b"]
        assert paged.next_page_token == "1"

    with acting_as(MEMBER):
        # A member sees only itself, and not the other members.
        listed = await api.members.ListMembers(
            member_pb2.ListMembersRequest(parent=f"workflows/{workflow_id}"), None
        )
        assert [m.member_id for m in listed.members] == ["project-b"]
        with pytest.raises(NotFoundError, match="Resource member not found"):
            await api.members.GetMember(
                member_pb2.GetMemberRequest(name=f"workflows/{workflow_id}/members/project-c"),
                None,
            )

    with acting_as(Caller("project-d")):
        # Neither owner nor member: the workflow does not exist.
        with pytest.raises(NotFoundError, match="Workflow not found"):
            await api.members.ListMembers(
                member_pb2.ListMembersRequest(parent=f"workflows/{workflow_id}"), None
            )
        with pytest.raises(NotFoundError, match="Workflow not found"):
            await api.members.GetMember(member_pb2.GetMemberRequest(name=name), None)

    with acting_as(OWNER):
        await api.members.DeleteMember(member_pb2.DeleteMemberRequest(name=name), None)
        with pytest.raises(NotFoundError, match="Resource member not found"):
            await api.members.GetMember(member_pb2.GetMemberRequest(name=name), None)


async def test_what_cannot_be_shared(api: Api) -> None:
    with acting_as(Caller(OWNER.project_id, is_admin=True)):
        public_id = await _workflow(api, public=True)
    with acting_as(OWNER):
        private_id = await _workflow(api)
        parent = f"workflows/{private_id}"
        cases = [
            (f"workflows/{public_id}", "project-b", InputError, "Only private resource"),
            (parent, "project-a", InputError, "cannot be shared with the project that owns"),
            (parent, "", InputError, "Member id must be provided"),
            ("workflows/wf_by_name", "project-b", InputError, "Only support UUID"),
            (f"actions/{private_id}", "project-b", InputError, "Invalid parent"),
            (f"workflows/{uuid.uuid4()}", "project-b", NotFoundError, "Workflow not found"),
        ]
        for case_parent, member, error, message in cases:
            with pytest.raises(error, match=message):
                await _share(api, case_parent, member)
        await _share(api, parent, "project-b")
        with pytest.raises(AlreadyExistsError, match="Duplicate entry for ResourceMember"):
            await _share(api, parent, "project-b")
    with acting_as(MEMBER):
        with pytest.raises(InputError, match="A member status must be given"):
            await _answer(api, f"{parent}/members/project-b", member_pb2.MEMBER_STATUS_UNSPECIFIED)
        with pytest.raises(InputError, match="Only the status"):
            request = member_pb2.UpdateMemberRequest(
                member=member_pb2.Member(name=f"{parent}/members/project-b", status=ACCEPTED)
            )
            request.update_mask.paths.append("member_id")
            await api.members.UpdateMember(request, None)
        with pytest.raises(InputError, match="Invalid member name"):
            await api.members.GetMember(member_pb2.GetMemberRequest(name=parent), None)


async def test_deleting_a_shared_workflow_follows_the_spec(api: Api) -> None:
    with acting_as(OWNER):
        workflow_id = await _workflow(api)
        await _share(api, f"workflows/{workflow_id}", MEMBER.project_id)
    with acting_as(MEMBER):
        await _answer(api, f"workflows/{workflow_id}/members/project-b", ACCEPTED)
        trigger = cron_trigger_pb2.CronTrigger(
            trigger_name="nightly", workflow_id=workflow_id, pattern="0 0 * * *"
        )
        await api.triggers.CreateCronTrigger(
            cron_trigger_pb2.CreateCronTriggerRequest(cron_trigger=trigger), None
        )
    with acting_as(OWNER):
        # The member's trigger still uses it: neither unsharing nor deleting may break it.
        with pytest.raises(FailedPreconditionError, match="cron triggers use it"):
            await api.members.DeleteMember(
                member_pb2.DeleteMemberRequest(name=f"workflows/{workflow_id}/members/project-b"),
                None,
            )
        with pytest.raises(FailedPreconditionError, match="cron triggers use it"):
            await api.workflows.DeleteWorkflow(
                workflow_pb2.DeleteWorkflowRequest(name=workflow_id), None
            )
    with acting_as(MEMBER):
        await api.triggers.DeleteCronTrigger(
            cron_trigger_pb2.DeleteCronTriggerRequest(name="cronTriggers/nightly"), None
        )
    with acting_as(OWNER):
        await api.workflows.DeleteWorkflow(
            workflow_pb2.DeleteWorkflowRequest(name=workflow_id), None
        )
    with acting_as(MEMBER), pytest.raises(NotFoundError, match="Workflow not found"):
        # The memberships went with the workflow.
        await api.members.ListMembers(
            member_pb2.ListMembersRequest(parent=f"workflows/{workflow_id}"), None
        )


async def test_workbooks_are_shared_the_same_way(api: Api, database: Database) -> None:
    books = DefinitionRepository(database, Repository(database))
    text = (
        "version: '2.0'\nname: book\n"
        "workflows:\n  wf:\n    tasks:\n      t:\n        action: std.noop\n"
    )
    with acting_as(OWNER):
        saved = await api.definitions.save_workbook(
            text, namespace="", scope="private", update=False
        )
        member = await _share(api, f"workbooks/{saved['id']}", MEMBER.project_id)
    assert member.resource_type == member_pb2.SHARED_RESOURCE_TYPE_WORKBOOK
    assert member.name == f"workbooks/{saved['id']}/members/project-b"

    def visible_to_member() -> list[str]:
        page = books.list_workbooks(ListQuery(), project_id=MEMBER.project_id)
        return [w.id for w in page.items]

    assert visible_to_member() == []
    with acting_as(MEMBER):
        await _answer(api, member.name, ACCEPTED)
        assert (await api.definitions.get_workbook(saved["id"], namespace=""))["name"] == "book"
    assert visible_to_member() == [saved["id"]]
    with acting_as(OWNER):
        await api.definitions.delete_workbook("book", namespace="")
    assert visible_to_member() == []


async def test_namespaces_are_those_holding_what_the_caller_sees(api: Api) -> None:
    with acting_as(OWNER):
        await _workflow(api, namespace="team_a")
        shared_id = await _workflow(api, namespace="team_shared")
        await _share(api, f"workflows/{shared_id}", MEMBER.project_id)
    with acting_as(MEMBER):
        await _workflow(api)
        await _workflow(api, namespace="team_b")

        async def names() -> list[tuple[str, int]]:
            listed = await api.namespaces.ListNamespaces(
                namespace_pb2.ListNamespacesRequest(), None
            )
            return [(n.namespace_id, n.workflow_count) for n in listed.namespaces]

        assert await names() == [("", 1), ("team_b", 1)]
        await _answer(api, f"workflows/{shared_id}/members/project-b", ACCEPTED)
        assert await names() == [("", 1), ("team_b", 1), ("team_shared", 1)]
        first = await api.namespaces.ListNamespaces(
            namespace_pb2.ListNamespacesRequest(page_size=1), None
        )
        assert [n.name for n in first.namespaces] == ["namespaces/"]
        rest = await api.namespaces.ListNamespaces(
            namespace_pb2.ListNamespacesRequest(page_token=first.next_page_token), None
        )
        assert [n.namespace_id for n in rest.namespaces] == ["team_b", "team_shared"]


async def test_public_scope_needs_an_admin(api: Api) -> None:
    with acting_as(Caller("project-a", is_admin=False)):
        with pytest.raises(ForbiddenError, match="Operation forbidden"):
            await _workflow(api, public=True)
        with pytest.raises(ForbiddenError, match="Operation forbidden"):
            await api.definitions.save_actions(
                "version: '2.0'\nmine:\n  base: std.noop\n",
                namespace="",
                scope="public",
                update=False,
            )
        await _workflow(api)
    with acting_as(Caller("project-a", is_admin=True)):
        await _workflow(api, public=True)
