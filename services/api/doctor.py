"""levante.v2.DoctorService: what looks stuck, for administrators (`levante doctor`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from levante.api import identity
from levante.doctor import Doctor, Finding
from levante.errors import ForbiddenError, InputError
from levante.v2 import doctor_pb2, doctor_pb2_grpc

DEFAULT_STUCK_AFTER = 300
DEFAULT_RECOVERED_WITHIN = 3600
DEFAULT_PAGE_SIZE = 500
MAX_PAGE_SIZE = 5000


class DoctorServicer(doctor_pb2_grpc.DoctorServiceServicer):
    """Examines the whole system, every project's executions included: administrators only."""

    def __init__(self, doctor: Doctor) -> None:
        self._doctor = doctor

    async def Diagnose(
        self, request: doctor_pb2.DiagnoseRequest, context: Any
    ) -> doctor_pb2.DiagnoseResponse:
        if not identity.current().is_admin:
            raise ForbiddenError(identity.FORBIDDEN)
        for name in ("stuck_after_seconds", "recovered_within_seconds", "page_size"):
            if getattr(request, name) < 0:
                raise InputError(f"{name} must not be negative, got {getattr(request, name)}")
        diagnosis = await self._doctor.diagnose(
            stuck_after=request.stuck_after_seconds or DEFAULT_STUCK_AFTER,
            recovered_within=request.recovered_within_seconds or DEFAULT_RECOVERED_WITHIN,
            limit=min(request.page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE),
        )
        return doctor_pb2.DiagnoseResponse(
            findings=[finding_to_proto(f) for f in diagnosis.findings],
            diagnose_time=_timestamp(diagnosis.diagnose_time),
            running_executions=diagnosis.running_executions,
            truncated=diagnosis.truncated,
        )


def finding_to_proto(finding: Finding) -> doctor_pb2.Finding:
    """levante.v2.Finding of a finding."""
    message = doctor_pb2.Finding(
        kind=doctor_pb2.FindingKind.Value(f"FINDING_KIND_{finding.kind}"),
        resource=finding.resource,
        execution_id=finding.execution_id,
        name=finding.name,
        reason=finding.reason,
        recovery=finding.recovery,
        recovery_state=doctor_pb2.RecoveryState.Value(f"RECOVERY_STATE_{finding.recovery_state}"),
    )
    if finding.since is not None:
        message.since.CopyFrom(_timestamp(finding.since))
    return message


def _timestamp(value: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value.replace(tzinfo=UTC) if value.tzinfo is None else value)
    return stamp
