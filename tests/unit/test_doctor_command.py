"""`levante doctor` against a gRPC DoctorService: what it prints and its exit status."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent import futures
from datetime import datetime

import grpc
import pytest
from click.testing import CliRunner

from levante.api.doctor import finding_to_proto
from levante.doctor import Diagnosis, Finding
from levante.ops_commands import NEEDS_OPERATOR, doctor
from levante.v2 import doctor_pb2, doctor_pb2_grpc

WHEN = datetime(2026, 1, 2, 3, 4, 5)
LOST = Finding(
    "ACTION_LOST",
    resource="action_executions/a1",
    reason="RUNNING for 900s with its work gone",
    recovery="the scheduler's recovery fails it (not safe-rerun)",
    recovery_state="AUTOMATIC",
    since=WHEN,
    execution_id="e1",
    name="std.echo",
)
NO_EXECUTOR = Finding(
    "ACTION_WAITING_FOR_EXECUTOR",
    resource="action_executions/a2",
    reason="its work has waited 900s for an executor of target gpu; none is taking work",
    recovery="start an executor: levante server --services executor --executor-target gpu",
    recovery_state="MANUAL",
)


class FixedDoctor(doctor_pb2_grpc.DoctorServiceServicer):
    """Answers with the findings it was given, and keeps the request."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings
        self.requests: list[doctor_pb2.DiagnoseRequest] = []

    def Diagnose(self, request, context):  # noqa: ANN001, ANN201, N802 - gRPC's names
        self.requests.append(request)
        diagnosis = Diagnosis(diagnose_time=WHEN, running_executions=7, findings=self.findings)
        answer = doctor_pb2.DiagnoseResponse(
            findings=[finding_to_proto(f) for f in diagnosis.findings],
            running_executions=diagnosis.running_executions,
        )
        answer.diagnose_time.FromDatetime(WHEN)
        return answer


@pytest.fixture
def served() -> Iterator[tuple[str, FixedDoctor]]:
    servicer = FixedDoctor([])
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    doctor_pb2_grpc.add_DoctorServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"127.0.0.1:{port}", servicer
    finally:
        server.stop(None)


def test_findings_are_printed_and_one_for_an_operator_fails_the_command(served) -> None:
    address, servicer = served
    servicer.findings = [LOST, NO_EXECUTOR]
    result = CliRunner().invoke(doctor, ["--grpc", address, "--stuck-after", "60"])
    assert result.exit_code == NEEDS_OPERATOR, result.output
    assert servicer.requests[0].stuck_after_seconds == 60
    assert result.output.startswith("2 findings at 2026-01-02T03:04:05Z; 7 executions RUNNING")
    assert "[AUTOMATIC] ACTION_LOST action_executions/a1 (std.echo, execution e1)" in result.output
    assert "    since:    2026-01-02T03:04:05Z" in result.output
    assert "    recovery: start an executor: levante server" in result.output


def test_nothing_for_an_operator_is_success_and_json_has_every_field(served) -> None:
    address, servicer = served
    servicer.findings = [LOST]
    result = CliRunner().invoke(doctor, ["--grpc", address, "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["truncated"] is False and document["runningExecutions"] == 7
    [finding] = document["findings"]
    assert finding["kind"] == "FINDING_KIND_ACTION_LOST"
    assert finding["recoveryState"] == "RECOVERY_STATE_AUTOMATIC"
