"""Mistral's notifier: `notify` params to webhooks (a local receiver) and NATS subjects.

The server may reach 127.0.0.1 (LEVANTE_HTTP_ALLOWED_HOSTS) so that the
receiver can run in the test; a webhook on a port nobody listens on plays
the unreachable one.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import nats
import pytest
from aiohttp import web

from tests.support.http import post_json, post_text, request
from tests.support.net import eventually, free_port
from tests.support.system import LevanteProcess


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LevanteProcess]:
    """A SQLite system whose webhooks may reach this machine."""
    system = LevanteProcess(
        tmp_path_factory.mktemp("levante-notify"),
        extra_env={"LEVANTE_HTTP_ALLOWED_HOSTS": "127.0.0.1"},
    )
    system.start()
    yield system
    system.stop()


class Receiver:
    """Webhook endpoints on 127.0.0.1: /ok answers 200, /flaky 500 the first time per event."""

    def __init__(self) -> None:
        self.received: dict[str, list[dict[str, Any]]] = {"ok": [], "flaky": []}
        self.attempts: dict[tuple[str, str], int] = {}
        self.headers: list[dict[str, str]] = []
        self._runner: web.AppRunner | None = None
        self.port = free_port()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path}"

    async def __aenter__(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/{kind}", self._receive)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    async def _receive(self, request: web.Request) -> web.Response:
        kind = request.match_info["kind"]
        body = await request.json()
        key = (body["event"], body["id"])
        self.attempts[key] = self.attempts.get(key, 0) + 1
        self.headers.append(dict(request.headers))
        if kind == "flaky" and self.attempts[key] == 1:
            return web.Response(status=500, text="try again")
        self.received[kind].append(body)
        return web.Response(status=200)


PARENT_AND_CHILD = """\
version: '2.0'
{name}:
  tasks:
    t1:
      workflow: {name}_child
      on-success: t2
    t2:
      action: std.noop
{name}_child:
  tasks:
    c1:
      action: std.noop
"""


def _run(server: LevanteProcess, name: str, notify: list[dict[str, Any]]) -> str:
    status, body = post_json(
        f"{server.url}/executions",
        {"workflow_name": name, "params": json.dumps({"notify": notify})},
    )
    assert status == 201, body
    return body["id"]


def _finished(server: LevanteProcess, execution_id: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        _, execution = request("GET", f"{server.url}/executions/{execution_id}")
        return execution if execution["state"] in ("SUCCESS", "ERROR", "CANCELLED") else None

    return eventually(done, timeout=60, what="the execution to finish")


def _ids(server: LevanteProcess, execution_id: str) -> dict[str, str]:
    """Task and sub-execution ids by name (t1, t2, child, c1)."""
    found: dict[str, str] = {}
    _, executions = request("GET", f"{server.url}/executions/{execution_id}/executions")
    for execution in executions["executions"]:
        if execution["id"] != execution_id:
            found["child"] = execution["id"]
        _, tasks = request("GET", f"{server.url}/executions/{execution['id']}/tasks")
        found.update({t["name"]: t["id"] for t in tasks["tasks"]})
    return found


async def test_webhook_and_nats_get_mistrals_events_in_order(server: LevanteProcess) -> None:
    name = f"notified_{uuid.uuid4().hex[:8]}"
    assert post_text(f"{server.url}/workflows", PARENT_AND_CHILD.format(name=name))[0] == 201
    subject = f"test.notify.{uuid.uuid4().hex[:8]}"
    port = (server.data_dir / "nats.port").read_text().strip()
    nc = await nats.connect(f"nats://127.0.0.1:{port}")
    published: list[dict[str, Any]] = []
    events_seen: list[str] = []

    async def on_message(message: Any) -> None:
        published.append(json.loads(message.data))
        events_seen.append(message.headers["Levante-Event"])

    await nc.subscribe(subject, cb=on_message)
    try:
        async with Receiver() as receiver:
            notify = [
                {"type": "webhook", "url": receiver.url("ok"), "headers": {"X-Hook": "secret-1"}},
                {
                    "type": "nats",
                    "subject": subject,
                    "event_types": ["WORKFLOW_LAUNCHED", "WORKFLOW_SUCCEEDED"],
                },
            ]
            execution_id = await asyncio.to_thread(_run, server, name, notify)
            execution = await asyncio.to_thread(_finished, server, execution_id)
            assert execution["state"] == "SUCCESS"
            ids = await asyncio.to_thread(_ids, server, execution_id)
            ids["root"] = execution_id
            expected = [
                ("root", "WORKFLOW_LAUNCHED"),
                ("t1", "TASK_LAUNCHED"),
                ("child", "WORKFLOW_LAUNCHED"),
                ("c1", "TASK_LAUNCHED"),
                ("c1", "TASK_SUCCEEDED"),
                ("child", "WORKFLOW_SUCCEEDED"),
                ("t1", "TASK_SUCCEEDED"),
                ("t2", "TASK_LAUNCHED"),
                ("t2", "TASK_SUCCEEDED"),
                ("root", "WORKFLOW_SUCCEEDED"),
            ]
            want = [(ids[who], event) for who, event in expected]
            await _until(lambda: len(receiver.received["ok"]) >= len(want))
            got = [(b["id"], b["event"]) for b in receiver.received["ok"]]
            assert got == want
            # The sub-workflow inherited the root's notify; only the chosen events went to NATS.
            await _until(lambda: len(published) >= 4)
            assert [(b["id"], b["event"]) for b in published] == [
                (ids["root"], "WORKFLOW_LAUNCHED"),
                (ids["child"], "WORKFLOW_LAUNCHED"),
                (ids["child"], "WORKFLOW_SUCCEEDED"),
                (ids["root"], "WORKFLOW_SUCCEEDED"),
            ]
            assert events_seen == [b["event"] for b in published]
    finally:
        await nc.close()

    first, last = receiver.received["ok"][0], receiver.received["ok"][-1]
    assert first["workflow_name"] == name and first["state"] == "RUNNING"
    assert first["root_execution_id"] == execution_id and first["parent_execution_id"] is None
    assert last["state"] == "SUCCESS" and last["old_state"] == "RUNNING"
    child_launched = receiver.received["ok"][2]
    assert child_launched["parent_execution_id"] == execution_id
    assert child_launched["task_execution_id"] == ids["t1"]
    c1 = receiver.received["ok"][3]
    assert c1["workflow_execution_id"] == ids["child"] and c1["name"] == "c1"
    assert all(h["X-Hook"] == "secret-1" for h in receiver.headers)
    assert all(h["Content-Type"] == "application/json" for h in receiver.headers)


async def test_failing_webhooks_are_retried_and_never_fail_the_workflow(
    server: LevanteProcess,
) -> None:
    name = f"notified_fail_{uuid.uuid4().hex[:8]}"
    definition = f"version: '2.0'\n{name}:\n  tasks:\n    only:\n      action: std.noop\n"
    assert post_text(f"{server.url}/workflows", definition)[0] == 201
    before = await asyncio.to_thread(_failed_count, server)
    async with Receiver() as receiver:
        notify = [
            {"type": "webhook", "url": f"http://127.0.0.1:{free_port()}/nobody-home"},
            {
                "type": "webhook",
                "url": receiver.url("flaky"),
                "event_types": ["TASK_SUCCEEDED", "WORKFLOW_SUCCEEDED"],
            },
            {"type": "webhook", "url": receiver.url("ok"), "events": ["WORKFLOW_SUCCEEDED"]},
        ]
        execution_id = await asyncio.to_thread(_run, server, name, notify)
        execution = await asyncio.to_thread(_finished, server, execution_id)
        assert execution["state"] == "SUCCESS", execution
        # The healthy targets are not held up by the dead one.
        await _until(lambda: len(receiver.received["ok"]) == 1, timeout=10)
        assert receiver.received["ok"][0]["event"] == "WORKFLOW_SUCCEEDED"
        # 500 first, then delivered: each event twice at the flaky endpoint, once received.
        await _until(lambda: len(receiver.received["flaky"]) == 2, timeout=30)
        assert [b["event"] for b in receiver.received["flaky"]] == [
            "TASK_SUCCEEDED",
            "WORKFLOW_SUCCEEDED",
        ]
        flaky = {k: v for k, v in receiver.attempts.items() if k[0] != "WORKFLOW_SUCCEEDED"}
        assert list(flaky.values()) == [2]
    # The unreachable target's four events all failed (logged and counted).
    await _until(
        lambda: _failed_count(server) >= before + 4, timeout=60, what="the failures to be counted"
    )
    _, after = request("GET", f"{server.url}/executions/{execution_id}")
    assert after["state"] == "SUCCESS"
    # Every event was settled, failed deliveries included: nothing waits for redelivery.
    port = (server.data_dir / "nats.port").read_text().strip()
    nc = await nats.connect(f"nats://127.0.0.1:{port}")
    try:
        js = nc.jetstream()
        for _ in range(100):
            info = await js.consumer_info("LEVANTE_EXECUTION_EVENTS", "notifier")
            if info.num_ack_pending == 0:
                break
            await asyncio.sleep(0.1)
        assert info.num_ack_pending == 0 and info.num_pending == 0, info
    finally:
        await nc.close()
    assert "notifier step failed" not in server.log()


def test_bad_notify_is_a_400_naming_the_problem(server: LevanteProcess) -> None:
    name = f"notified_bad_{uuid.uuid4().hex[:8]}"
    definition = f"version: '2.0'\n{name}:\n  tasks:\n    only:\n      action: std.noop\n"
    assert post_text(f"{server.url}/workflows", definition)[0] == 201
    cases = [
        ({"notify": {"type": "webhook"}}, "Invalid params.notify: expected a list"),
        ({"notify": [{"type": "webhook"}]}, "params.notify[0].url: a webhook target needs a url"),
        ({"notify": [{"type": "sms", "to": "x"}]}, "params.notify[0].type: 'sms'"),
        ({"notify": [{"type": "nats", "subject": "a b"}]}, "is not a NATS subject"),
    ]
    for params, message in cases:
        status, body = post_json(
            f"{server.url}/executions", {"workflow_name": name, "params": json.dumps(params)}
        )
        assert status == 400 and message in body["faultstring"], body
    _, listed = request("GET", f"{server.url}/executions?workflow_name={name}")
    assert listed["executions"] == []


def _failed_count(server: LevanteProcess) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{server.rest_port}/metrics") as answer:
        text = answer.read().decode()
    for line in text.splitlines():
        if line.startswith("levante_notifications_total{") and 'outcome="failed"' in line:
            if 'target="webhook"' in line:
                return float(line.rsplit(" ", 1)[1])
    return 0.0


async def _until(probe: Any, *, timeout: float = 20.0, what: str = "notifications") -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not probe():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
