"""Operators' commands of `levante`: `doctor` and `dev cluster`."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import click

from levante.client import DEFAULT_GRPC

#: Exit status of `levante doctor` when a finding needs an operator.
NEEDS_OPERATOR = 1


@click.command(
    help="list executions and actions that look stuck, why, and the recovery that will "
    "apply, applied, or is left to an operator (exit status 1 when one needs an operator)"
)
@click.option(
    "--grpc",
    "grpc_address",
    envvar="LEVANTE_GRPC",
    default=DEFAULT_GRPC,
    show_default=True,
    help="gRPC address of an api (LEVANTE_GRPC)",
)
@click.option("--token", envvar="LEVANTE_TOKEN", default=None, help="an administrator's token")
@click.option(
    "--stuck-after",
    type=click.IntRange(min=1),
    default=300,
    show_default=True,
    help="seconds without a change after which a RUNNING execution or action is listed",
)
@click.option(
    "--recovered-within",
    type=click.IntRange(min=1),
    default=3600,
    show_default=True,
    help="list recoveries applied this many seconds back",
)
@click.option("--json", "as_json", is_flag=True, help="print the response as JSON")
def doctor(
    grpc_address: str, token: str | None, stuck_after: int, recovered_within: int, as_json: bool
) -> None:
    import grpc
    from google.protobuf import json_format

    from levante.errors import UnavailableError
    from levante.rpc import error_from_rpc
    from levante.v2 import doctor_pb2, doctor_pb2_grpc

    request = doctor_pb2.DiagnoseRequest(
        stuck_after_seconds=stuck_after, recovered_within_seconds=recovered_within
    )
    metadata = (("x-auth-token", token),) if token else None
    with grpc.insecure_channel(grpc_address) as channel:
        try:
            answer = doctor_pb2_grpc.DoctorServiceStub(channel).Diagnose(
                request, timeout=120, metadata=metadata
            )
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.UNAVAILABLE:  # type: ignore[attr-defined]
                raise UnavailableError(
                    f"no api answers at {grpc_address}: {error.details()}"  # type: ignore[attr-defined]
                ) from None
            raise error_from_rpc(error) from None  # type: ignore[arg-type]
    if as_json:
        document = json_format.MessageToDict(answer, always_print_fields_with_no_presence=True)
        click.echo(json.dumps(document, indent=2))
    else:
        click.echo(render(answer))
    manual = doctor_pb2.RECOVERY_STATE_MANUAL
    if any(f.recovery_state == manual for f in answer.findings):
        raise click.exceptions.Exit(NEEDS_OPERATOR)


def render(answer: Any) -> str:
    """The findings as text, one block per finding."""
    from levante.v2 import doctor_pb2

    at = answer.diagnose_time.ToDatetime().isoformat(timespec="seconds")
    lines = [
        f"{len(answer.findings)} findings at {at}Z; {answer.running_executions} executions "
        "RUNNING" + (" (more findings than shown)" if answer.truncated else "")
    ]
    for finding in answer.findings:
        state = doctor_pb2.RecoveryState.Name(finding.recovery_state).removeprefix(
            "RECOVERY_STATE_"
        )
        kind = doctor_pb2.FindingKind.Name(finding.kind).removeprefix("FINDING_KIND_")
        about = ", ".join(
            part
            for part in (finding.name, finding.execution_id and f"execution {finding.execution_id}")
            if part
        )
        lines.append(f"\n[{state}] {kind} {finding.resource}" + (f" ({about})" if about else ""))
        if finding.HasField("since"):
            lines.append(
                f"    since:    {finding.since.ToDatetime().isoformat(timespec='seconds')}Z"
            )
        lines.append(f"    why:      {finding.reason}")
        lines.append(f"    recovery: {finding.recovery}")
    return "\n".join(lines)


@click.group(help="development helpers")
def dev() -> None:
    """`levante dev ...`."""


@dev.command(
    help="start api, engine, executor and scheduler processes of their own on this machine, "
    "with a PostgreSQL and a nats-server (or a JetStream cluster) on loopback; then stop, "
    "kill, start and add processes, the broker and the database from the console (type "
    "`help`); everything stops on `quit` or Ctrl-C"
)
@click.option("--api", "api_count", type=click.IntRange(min=0), default=1, show_default=True)
@click.option("--engines", type=click.IntRange(min=0), default=2, show_default=True)
@click.option("--executors", type=click.IntRange(min=0), default=2, show_default=True)
@click.option("--schedulers", type=click.IntRange(min=0), default=1, show_default=True)
@click.option(
    "--nats-nodes",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="3 or more: a JetStream cluster (streams kept on 3 nodes)",
)
@click.option(
    "--database-url", default=None, help="use this PostgreSQL database instead of starting one"
)
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="where logs and data go (default: a new temporary directory)",
)
def cluster(
    api_count: int,
    engines: int,
    executors: int,
    schedulers: int,
    nats_nodes: int,
    database_url: str | None,
    directory: Path | None,
) -> int:
    from levante.devcluster import Cluster, run_console

    root = directory or Path(tempfile.mkdtemp(prefix="levante-cluster-"))
    counts = {"api": api_count, "engine": engines, "executor": executors, "scheduler": schedulers}
    return run_console(
        Cluster(root, nats_nodes=nats_nodes, database_url=database_url), counts=counts
    )


COMMANDS = (doctor, dev)
