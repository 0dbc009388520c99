"""Two engine processes on one durable consumer: completions are applied exactly once.

Topology (real NATS, PostgreSQL): a nats-server with JetStream (started
here, with its monitoring port), two `levante server --services engine`
processes and one `--services api,scheduler,executor` process, all on one
fresh PostgreSQL database. Both engines pull from the same durable consumer
of engine events, so the completions of one execution's actions are applied
by both engines at once. The classic Mistral bug (two with-items completions
both see "all done" and both fire on-success) must not happen: the with-items
task completes once and its on-success task runs once, in each of 20
repetitions; the same for `join: all` over 50 branches.

The repetitions run as 20 concurrent executions. That both engines really
applied events is read from the nats-server's per-connection counters
(messages delivered to, and sent by, each engine's connection).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.http import post_json, post_text, request
from tests.support.monitored_nats import MonitoredNats, cpu_seconds, inbox_messages
from tests.support.postgres import fresh_database
from tests.support.system import LevanteProcess

ITEMS = 200
BRANCHES = 50
REPETITIONS = 20
TERMINAL = {"SUCCESS", "ERROR", "CANCELLED"}
SUFFIX = uuid.uuid4().hex[:6]
ITEMS_WORKFLOW = f"multi_engine_items_{SUFFIX}"
JOIN_WORKFLOW = f"multi_engine_join_{SUFFIX}"


def items_definition() -> str:
    return f"""\
version: '2.0'
{ITEMS_WORKFLOW}:
  input:
    - items
  tasks:
    loop:
      with-items: i in <% $.items %>
      action: std.echo output=<% $.i %>
      on-success: after
    after:
      action: std.noop
"""


def join_definition() -> str:
    lines = ["version: '2.0'", f"{JOIN_WORKFLOW}:", "  tasks:"]
    for index in range(1, BRANCHES + 1):
        lines += [f"    b{index}:", "      action: std.noop", "      on-success: join_all"]
    lines += [
        "    join_all:",
        "      join: all",
        "      action: std.noop",
        "      on-success: after",
        "    after:",
        "      action: std.noop",
    ]
    return "\n".join(lines) + "\n"


@dataclass
class Cluster:
    nats: MonitoredNats
    engines: list[LevanteProcess]
    front: LevanteProcess

    @property
    def url(self) -> str:
        return self.front.url

    def engine_counters(self) -> list[dict[str, float]]:
        """Per engine: messages the broker delivered to it and got from it, CPU seconds."""
        counters = []
        for engine in self.engines:
            assert engine.process is not None
            pid = engine.process.pid
            connection = self.nats.connection_of(pid)
            counters.append(
                {
                    "events": inbox_messages(connection),
                    "delivered": connection["out_msgs"],
                    "sent": connection["in_msgs"],
                    "cpu": cpu_seconds(pid),
                }
            )
        return counters


def db_upgrade(data_dir: Path, database_url: str) -> None:
    """Runs `levante db upgrade` against `database_url`."""
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "LEVANTE_DATA_DIR": str(data_dir), "LEVANTE_DATABASE_URL": database_url}
    subprocess.run(
        [sys.executable, "-m", "levante.cli", "db", "upgrade"],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def cluster(postgres_admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("multi-engine")
    with fresh_database(postgres_admin_url) as database_url:
        db_upgrade(root / "migrate", database_url)
        nats = MonitoredNats(root / "nats")
        nats.start()
        joined = {"LEVANTE_NATS_URL": nats.url}
        engines = [
            LevanteProcess(
                root / f"engine-{index}",
                services="engine",
                database_url=database_url,
                extra_env=dict(joined),
                ready="log",
            )
            for index in (1, 2)
        ]
        front = LevanteProcess(
            root / "front",
            services="api,scheduler,executor",
            database_url=database_url,
            extra_env={**joined, "LEVANTE_ENGINE_ADDRESS": engines[0].grpc_address},
        )
        started: list[LevanteProcess] = []
        try:
            for process in (*engines, front):
                process.start()
                started.append(process)
            for text in (items_definition(), join_definition()):
                status, body = post_text(f"{front.url}/workflows", text)
                assert status == 201, body
            yield Cluster(nats=nats, engines=engines, front=front)
        finally:
            for process in reversed(started):
                process.stop()
            nats.stop()
        for process in started:
            assert "Traceback" not in process.log(), process.log()[-5000:]


def start_all(cluster: Cluster, workflow: str, workflow_input: dict) -> list[str]:
    ids = []
    for _ in range(REPETITIONS):
        status, body = post_json(
            f"{cluster.url}/executions",
            {"workflow_name": workflow, "input": json.dumps(workflow_input)},
        )
        assert status == 201, body
        ids.append(body["id"])
    return ids


def wait_all(cluster: Cluster, ids: list[str], *, timeout: float = 90.0) -> dict[str, dict]:
    """Waits until every execution is terminal; returns them by id."""
    deadline = time.monotonic() + timeout
    done: dict[str, dict] = {}
    while len(done) < len(ids):
        for execution_id in ids:
            if execution_id in done:
                continue
            status, body = request("GET", f"{cluster.url}/executions/{execution_id}")
            assert status == 200, body
            if body["state"] in TERMINAL:
                done[execution_id] = body
        if len(done) < len(ids):
            if time.monotonic() > deadline:
                stuck = [i for i in ids if i not in done]
                tasks = Counter(
                    (t["name"], t["state"]) for t in tasks_of(cluster, stuck[0])
                ).most_common(10)
                raise AssertionError(
                    f"{len(stuck)} executions still running after {timeout}s; "
                    f"tasks of {stuck[0]}: {tasks}"
                )
            time.sleep(0.2)
    return done


def tasks_of(cluster: Cluster, execution_id: str) -> list[dict]:
    status, body = request(
        "GET", f"{cluster.url}/tasks?workflow_execution_id={execution_id}&limit=1000"
    )
    assert status == 200, body
    return body["tasks"]


def actions_of(cluster: Cluster, task_id: str) -> list[dict]:
    status, body = request("GET", f"{cluster.url}/tasks/{task_id}/action_executions?limit=1000")
    assert status == 200, body
    return body["action_executions"]


def assert_both_engines_worked(before: list[dict], after: list[dict], events: int) -> None:
    """Each engine got and settled a fair share of the events (not just idle pull renewals)."""
    deltas = [{k: a[k] - b[k] for k in a} for b, a in zip(before, after, strict=True)]
    print(f"engine activity over {events} events: {deltas}")
    assert sum(d["events"] for d in deltas) >= events, f"events missing: {deltas}"
    for index, delta in enumerate(deltas, start=1):
        assert delta["events"] >= events // 20, f"engine {index} got few events: {deltas}"
        assert delta["sent"] >= events // 20, f"engine {index} settled few events: {deltas}"


def test_with_items_completes_once_with_two_engines(cluster: Cluster) -> None:
    before = cluster.engine_counters()
    ids = start_all(cluster, ITEMS_WORKFLOW, {"items": list(range(ITEMS))})
    finished = wait_all(cluster, ids)
    after = cluster.engine_counters()
    for execution_id, execution in finished.items():
        assert execution["state"] == "SUCCESS", execution.get("state_info")
        tasks = tasks_of(cluster, execution_id)
        names = Counter(t["name"] for t in tasks)
        assert names == Counter({"loop": 1, "after": 1}), (execution_id, names)
        assert {t["state"] for t in tasks} == {"SUCCESS"}, (execution_id, tasks)
        [loop] = [t for t in tasks if t["name"] == "loop"]
        status, detail = request("GET", f"{cluster.url}/tasks/{loop['id']}")
        assert status == 200, detail
        assert json.loads(detail["result"]) == list(range(ITEMS)), execution_id
        actions = actions_of(cluster, loop["id"])
        assert len(actions) == ITEMS, (execution_id, len(actions))
        assert {a["state"] for a in actions} == {"SUCCESS"}, execution_id
        [follow] = [t for t in tasks if t["name"] == "after"]
        assert len(actions_of(cluster, follow["id"])) == 1, execution_id
    assert_both_engines_worked(before, after, REPETITIONS * ITEMS)


def test_join_all_fires_once_with_two_engines(cluster: Cluster) -> None:
    before = cluster.engine_counters()
    ids = start_all(cluster, JOIN_WORKFLOW, {})
    finished = wait_all(cluster, ids)
    after = cluster.engine_counters()
    for execution_id, execution in finished.items():
        assert execution["state"] == "SUCCESS", execution.get("state_info")
        tasks = tasks_of(cluster, execution_id)
        names = Counter(t["name"] for t in tasks)
        expected = Counter({f"b{i}": 1 for i in range(1, BRANCHES + 1)})
        expected.update({"join_all": 1, "after": 1})
        assert names == expected, (execution_id, names - expected)
        assert {t["state"] for t in tasks} == {"SUCCESS"}, (execution_id, tasks)
        for name in ("join_all", "after"):
            [task] = [t for t in tasks if t["name"] == name]
            assert len(actions_of(cluster, task["id"])) == 1, (execution_id, name)
    assert_both_engines_worked(before, after, REPETITIONS * (BRANCHES + 2))
