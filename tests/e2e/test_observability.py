"""Traces and metrics of a real system: one trace across api, engine and a separate executor.

Process A runs every service; process B runs only an executor for the
target `traced`, on A's NATS and database, with /metrics on
LEVANTE_METRICS_PORT (it has no REST face). Both export spans to stdout
(LEVANTE_TRACING=console): the execution's spans must share one trace id,
from A's api and engine to B's executor and back.
"""

from __future__ import annotations

import json
import re
import socket
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from levante.client import Client
from tests.support.net import eventually, free_port
from tests.support.system import LevanteProcess

WORKFLOW = """
version: '2.0'
traced_wf:
  tasks:
    here:
      action: std.echo output=here
      on-success: [there]
    there:
      action: std.noop
      target: traced
"""


@pytest.fixture(scope="module")
def systems(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LevanteProcess, Any]]:
    data = tmp_path_factory.mktemp("observed")
    main = LevanteProcess(
        data / "a",
        extra_env={"LEVANTE_TRACING": "console", "LEVANTE_METRICS_PORT": str(free_port())},
    )
    main.start()
    nats = re.search(r"nats=(nats://\S+)", main.log())
    assert nats, main.log()
    executor = LevanteProcess(
        data / "b",
        services="executor",
        server_args=["--executor-target", "traced"],
        database_url=f"sqlite:///{data / 'a' / 'levante.db'}",
        extra_env={
            "LEVANTE_TRACING": "console",
            "LEVANTE_NATS_URL": nats.group(1),
            "LEVANTE_METRICS_PORT": str(free_port()),
            "LEVANTE_LOG_LEVEL": "debug",
        },
        ready="log",
    )
    executor.start()
    try:
        yield main, executor
    finally:
        executor.stop()
        main.stop()


def spans(process: LevanteProcess) -> list[dict[str, Any]]:
    """The spans a process printed, one JSON object per line."""
    found = []
    for line in process.log().splitlines():
        if line.startswith('{"name"'):
            try:
                found.append(json.loads(line))
            except ValueError:
                continue  # a line cut by the other stream writing at the same time
    return found


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def test_one_execution_is_one_trace_across_processes(systems: tuple[LevanteProcess, Any]) -> None:
    main, executor = systems
    client = Client(main.url, grpc=None)
    client.upload(WORKFLOW)
    execution = client.rest.create_execution("traced_wf")
    assert client.wait(execution["id"])["state"] == "SUCCESS"

    def trace_complete() -> tuple[str, list[dict[str, Any]]] | None:
        everything = spans(main) + spans(executor)
        roots = [s for s in everything if s["name"] == "api create execution"]
        if not roots:
            return None
        trace_id = roots[-1]["context"]["trace_id"]
        mine = [s for s in everything if s["context"]["trace_id"] == trace_id]
        names = {s["name"] for s in mine}
        if {"executor run std.echo", "executor run std.noop"} <= names:
            return trace_id, mine
        return None

    trace_id, trace = eventually(trace_complete, timeout=15, what="the execution's spans")
    by_name: dict[str, list[dict[str, Any]]] = {}
    for span in trace:
        by_name.setdefault(span["name"], []).append(span)
    services = {s["name"]: s["resource"]["attributes"]["service.name"] for s in trace}
    # api -> engine over gRPC metadata: a client and a server span of the same call.
    kinds = {s["kind"] for s in by_name["/levante.internal.v1.EngineService/StartExecution"]}
    assert kinds == {"SpanKind.CLIENT", "SpanKind.SERVER"}
    # engine -> executor in the other process (RunAction.traceparent / NATS header) ...
    assert services["executor run std.noop"] == "levante-executor"
    assert services["executor run std.echo"] == "levante-api+engine+executor+scheduler"
    # ... and back: the engine applies the results in spans of the same trace.
    assert len(by_name["engine apply events"]) >= 2
    ids = {s["context"]["span_id"] for s in trace}
    assert all(s["parent_id"] in ids for s in trace if s["name"] != "api create execution")
    # The executor's log lines of the action carry its execution and the trace.
    finished = [line for line in executor.log().splitlines() if "action finished" in line]
    assert any(
        f"execution_id={execution['id']}" in line
        and f"trace_id={trace_id.removeprefix('0x')}" in line
        for line in finished
    ), finished


def test_metrics_on_the_rest_port_and_on_the_metrics_port(
    systems: tuple[LevanteProcess, Any],
) -> None:
    main, executor = systems
    client = Client(main.url, grpc=None)
    client.upload(WORKFLOW)
    assert client.wait(client.rest.create_execution("traced_wf")["id"])["state"] == "SUCCESS"
    served = get(f"http://127.0.0.1:{main.rest_port}/metrics")
    for name in (
        'levante_workflow_executions_finished_total{state="SUCCESS"}',
        'levante_task_executions_finished_total{state="SUCCESS"}',
        'levante_task_duration_seconds_count{state="SUCCESS"}',
        'levante_action_duration_seconds_count{action="std.echo",outcome="result_json"}',
        "levante_action_queue_seconds_count",
        'levante_redeliveries_total{consumer="engine"}',
        "levante_timer_lag_seconds_count",
        'levante_queue_pending_messages{consumer="engine",stream="LEVANTE_ENGINE_EVENTS"}',
    ):
        assert name in served, name
    port = executor.extra_env["LEVANTE_METRICS_PORT"]
    remote = get(f"http://127.0.0.1:{port}/metrics")
    assert re.search(
        r'^levante_action_duration_seconds_count\{action="std.noop",outcome="result_json"\} '
        r"[1-9]",
        remote,
        re.M,
    ), remote
    assert 'consumer="executor-traced",stream="LEVANTE_WORK"' in remote
    # Executions by state are counted where the api runs, not by every executor.
    assert "levante_workflow_executions{" not in remote
    sampled = get(f"http://127.0.0.1:{main.extra_env['LEVANTE_METRICS_PORT']}/metrics")
    assert re.search(r'^levante_workflow_executions\{state="SUCCESS"\} [1-9]', sampled, re.M)


def test_the_metrics_port_is_refused_when_taken(tmp_path: Path) -> None:
    busy = free_port()
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", busy))
        holder.listen()
        process = LevanteProcess(
            tmp_path, services="scheduler", extra_env={"LEVANTE_METRICS_PORT": str(busy)}
        )
        with pytest.raises(AssertionError, match=r"cannot serve metrics on 127.0.0.1:\d+"):
            process.start(timeout=30)
        process.stop()
