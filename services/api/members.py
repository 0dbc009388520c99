"""levante.v2.MembersService: sharing workflows and workbooks with other projects."""

from __future__ import annotations

import asyncio
from typing import Any

from google.protobuf import empty_pb2

from levante.api import convert, identity
from levante.errors import InputError
from levante.messaging.outbox import utcnow
from levante.persistence.members import MemberRecord, MemberRepository
from levante.v2 import member_pb2, member_pb2_grpc

#: Collection in a resource name -> Mistral's resource type, and back.
COLLECTIONS = {"workflows": "workflow", "workbooks": "workbook"}
_TYPES = {
    "workflow": member_pb2.SHARED_RESOURCE_TYPE_WORKFLOW,
    "workbook": member_pb2.SHARED_RESOURCE_TYPE_WORKBOOK,
}
_STATUSES = {
    "pending": member_pb2.MEMBER_STATUS_PENDING,
    "accepted": member_pb2.MEMBER_STATUS_ACCEPTED,
    "rejected": member_pb2.MEMBER_STATUS_REJECTED,
}


def status_to_proto(status: str) -> member_pb2.MemberStatus.ValueType:
    """`accepted` -> MEMBER_STATUS_ACCEPTED; raises InputError for anything else."""
    if status not in _STATUSES:
        raise InputError(f"Invalid member status {status!r}: must be one of {', '.join(_STATUSES)}")
    return _STATUSES[status]


def status_from_proto(status: member_pb2.MemberStatus.ValueType) -> str:
    """MEMBER_STATUS_ACCEPTED -> `accepted`; raises InputError when unset."""
    for name, value in _STATUSES.items():
        if value == status:
            return name
    raise InputError("A member status must be given: pending, accepted or rejected")


def resource_type_name(value: member_pb2.SharedResourceType.ValueType) -> str:
    """SHARED_RESOURCE_TYPE_WORKFLOW -> `workflow`."""
    return next((name for name, v in _TYPES.items() if v == value), "")


def parse_parent(parent: str) -> tuple[str, str]:
    """`workflows/{id}` -> (`workflow`, id); raises InputError naming what is wrong."""
    collection, _, resource_id = parent.partition("/")
    if collection not in COLLECTIONS or not resource_id or "/" in resource_id:
        raise InputError(
            f"Invalid parent {parent!r}: expected workflows/{{id}} or workbooks/{{id}}"
        )
    return COLLECTIONS[collection], resource_id


def parse_name(name: str) -> tuple[str, str, str]:
    """`workflows/{id}/members/{member_id}` -> (`workflow`, id, member_id)."""
    parts = name.split("/")
    if len(parts) != 4 or parts[0] not in COLLECTIONS or parts[2] != "members" or not all(parts):
        raise InputError(
            f"Invalid member name {name!r}: expected "
            "workflows/{id}/members/{member_id} or workbooks/{id}/members/{member_id}"
        )
    return COLLECTIONS[parts[0]], parts[1], parts[3]


def member_to_proto(record: MemberRecord) -> member_pb2.Member:
    """The public Member of a record."""
    return member_pb2.Member(
        name=f"{record.resource_type}s/{record.resource_id}/members/{record.member_id}",
        id=record.id,
        resource_id=record.resource_id,
        resource_type=_TYPES[record.resource_type],
        project_id=record.project_id,
        member_id=record.member_id,
        status=_STATUSES[record.status],
        create_time=convert.timestamp(record.created_at),
        update_time=convert.timestamp(record.updated_at),
    )


class MembersServicer(member_pb2_grpc.MembersServiceServicer):
    """Shares, lists, answers and unshares, as the caller's project (`identity`)."""

    def __init__(self, members: MemberRepository) -> None:
        self._members = members

    async def CreateMember(self, request: Any, context: Any) -> member_pb2.Member:
        resource_type, resource_id = parse_parent(request.parent)
        record = await asyncio.to_thread(
            self._members.create,
            resource_type,
            resource_id,
            request.member.member_id,
            project_id=identity.project_id(),
            now=utcnow(),
        )
        return member_to_proto(record)

    async def GetMember(self, request: Any, context: Any) -> member_pb2.Member:
        resource_type, resource_id, member_id = parse_name(request.name)
        record = await asyncio.to_thread(
            self._members.get,
            resource_type,
            resource_id,
            member_id,
            project_id=identity.project_id(),
        )
        return member_to_proto(record)

    async def ListMembers(self, request: Any, context: Any) -> member_pb2.ListMembersResponse:
        resource_type, resource_id = parse_parent(request.parent)
        if request.page_size < 0:
            raise InputError("page_size must not be negative")
        records = await asyncio.to_thread(
            self._members.list, resource_type, resource_id, project_id=identity.project_id()
        )
        # Few members per resource: the page is a slice, the token its offset.
        start = _offset(request.page_token)
        end = start + request.page_size if request.page_size else len(records)
        return member_pb2.ListMembersResponse(
            members=[member_to_proto(r) for r in records[start:end]],
            next_page_token=str(end) if end < len(records) else "",
        )

    async def UpdateMember(self, request: Any, context: Any) -> member_pb2.Member:
        paths = set(request.update_mask.paths) or {"status"}
        if paths != {"status"}:
            raise InputError(f"Only the status of a member can be updated, not {sorted(paths)}")
        resource_type, resource_id, member_id = parse_name(request.member.name)
        record = await asyncio.to_thread(
            self._members.update,
            resource_type,
            resource_id,
            member_id,
            status=status_from_proto(request.member.status),
            project_id=identity.project_id(),
            now=utcnow(),
        )
        return member_to_proto(record)

    async def DeleteMember(self, request: Any, context: Any) -> empty_pb2.Empty:
        resource_type, resource_id, member_id = parse_name(request.name)
        await asyncio.to_thread(
            self._members.delete,
            resource_type,
            resource_id,
            member_id,
            project_id=identity.project_id(),
        )
        return empty_pb2.Empty()


def _offset(token: str) -> int:
    if not token:
        return 0
    if not token.isdigit():
        raise InputError(f"Invalid page_token {token!r}")
    return int(token)
