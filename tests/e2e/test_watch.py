"""Watching executions live: Server-Sent Events on Mistral's face and the gRPC stream.

The workflow has parallel tasks, a with-items task and a sub-workflow, and
starts with an asynchronous action the test completes itself once every
watcher is subscribed, so that the watchers that do not replay see the
whole run after that point.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
import uuid
from typing import Any

import aiohttp
import grpc
import nats
import pytest

from levante.v2 import event_pb2, event_pb2_grpc
from tests.support.http import post_json, post_text, request
from tests.support.net import eventually
from tests.support.system import LevanteProcess

FINAL = ("SUCCESS", "ERROR", "CANCELLED")
WATCHERS = 100


def _definition(name: str) -> str:
    return f"""\
version: '2.0'
{name}:
  tasks:
    gate:
      action: std.async_noop
      on-success: [left, right, items, child]
    left:
      action: std.echo output=left
      on-success: done
    right:
      action: std.echo output=right
      on-success: done
    items:
      with-items: i in <% range(6) %>
      concurrency: 3
      action: std.echo output=<% $.i %>
      on-success: done
    child:
      workflow: {name}_child
      input:
        word: hello
      on-success: done
    done:
      join: all
      action: std.noop
{name}_child:
  input: [word]
  output:
    said: <% $.said %>
  tasks:
    first:
      action: std.echo output=<% $.word %>
      publish:
        said: <% task().result %>
      on-success: second
    second:
      action: std.noop
"""


def _start(levante: LevanteProcess, name: str) -> str:
    status, body = post_json(f"{levante.url}/executions", {"workflow_name": name})
    assert status == 201, body
    return body["id"]


def _gate_action(levante: LevanteProcess, execution_id: str) -> str:
    def running() -> str | None:
        status, tasks = request("GET", f"{levante.url}/executions/{execution_id}/tasks")
        gates = [t for t in tasks["tasks"] if t["name"] == "gate"] if status == 200 else []
        if not gates:
            return None
        _, actions = request("GET", f"{levante.url}/tasks/{gates[0]['id']}/action_executions")
        found = actions["action_executions"]
        return found[0]["id"] if found and found[0]["state"] == "RUNNING" else None

    return eventually(running, timeout=30, what="the gate action to run")


def _open_gate(levante: LevanteProcess, action_id: str) -> None:
    body = json.dumps({"state": "SUCCESS", "output": '{"open": true}'}).encode()
    status, answer = request("PUT", f"{levante.url}/action_executions/{action_id}", body=body)
    assert status == 200, answer


async def _read_sse(response: aiohttp.ClientResponse) -> list[dict[str, Any]]:
    """Every event of an SSE response until the server ends it: the JSON with its `id:`."""
    events: list[dict[str, Any]] = []
    current: dict[str, str] = {}
    async for raw in response.content:
        line = raw.decode().rstrip("\n")
        if not line:
            if "data" in current:
                event = json.loads(current["data"])
                event["_id"] = current.get("id")
                events.append(event)
            current = {}
        elif not line.startswith(":"):
            field, _, value = line.partition(": ")
            current[field] = value
    return events


def _key(event: dict[str, Any]) -> tuple[str, str]:
    return event["id"], event["sequence"]


async def _watch_many(
    levante: LevanteProcess, execution_id: str, gate: str
) -> tuple[list[list[dict]], list[list[dict]]]:
    url = f"{levante.url}/executions/{execution_id}/events"
    timeout = aiohttp.ClientTimeout(total=120)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        responses = await asyncio.gather(
            *(
                session.get(url, params={"replay": "true"} if n % 2 == 0 else {})
                for n in range(WATCHERS)
            )
        )
        for response in responses:
            assert response.status == 200, await response.text()
            assert response.headers["Content-Type"].startswith("text/event-stream")
        # Every watcher is subscribed once its headers arrived: let the run go on.
        await asyncio.to_thread(_open_gate, levante, gate)
        streams = await asyncio.gather(*(_read_sse(r) for r in responses))
    return streams[0::2], streams[1::2]


@pytest.mark.parametrize("levante", ["sqlite"], indirect=True)
def test_a_hundred_watchers_each_see_every_event_in_order(levante: LevanteProcess) -> None:
    name = f"watched_{uuid.uuid4().hex[:8]}"
    status, body = post_text(f"{levante.url}/workflows", _definition(name))
    assert status == 201, body
    execution_id = _start(levante, name)
    gate = _gate_action(levante, execution_id)

    started = time.monotonic()
    replayed, live = asyncio.run(_watch_many(levante, execution_id, gate))
    elapsed = time.monotonic() - started

    # The reference: a replay of the finished execution (the stream's own record).
    status, execution = request("GET", f"{levante.url}/executions/{execution_id}")
    assert execution["state"] == "SUCCESS", execution
    reference = asyncio.run(_replay(levante, execution_id))
    sequences = [int(e["sequence"]) for e in reference]
    assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences)
    assert [e["_id"] for e in reference] == [e["sequence"] for e in reference]
    last = reference[-1]
    assert (last["entity"], last["entity_id"], last["new_state"]) == (
        "EVENT_ENTITY_WORKFLOW_EXECUTION",
        execution_id,
        "SUCCESS",
    )
    # Everything the database holds appears, each in its final state.
    _assert_matches_database(levante, execution_id, reference)

    keys = [_key(e) for e in reference]
    for stream in replayed:
        assert [_key(e) for e in stream] == keys
    gate_done = next(
        n
        for n, e in enumerate(reference)
        if e["entity"] == "EVENT_ENTITY_ACTION_EXECUTION" and e["entity_id"] == gate
        and e["new_state"] == "SUCCESS"
    )  # fmt: skip
    for stream in live:
        got = [_key(e) for e in stream]
        # No gap: a suffix of the reference that starts before the gate opened.
        assert got and got == keys[len(keys) - len(got) :], got[:3]
        assert len(got) >= len(keys) - gate_done
    print(f"{WATCHERS} watchers, {len(keys)} events each at most, streams done in {elapsed:.1f} s")
    _assert_no_watch_left(levante)


def _assert_no_watch_left(levante: LevanteProcess) -> None:
    """Every watch stream closed its consumer (the gauge counts open ones)."""

    def closed() -> bool:
        with urllib.request.urlopen(f"http://127.0.0.1:{levante.rest_port}/metrics") as answer:
            text = answer.read().decode()
        return "levante_execution_watches 0.0" in text

    eventually(closed, timeout=20, what="every watch to close")

    async def consumers() -> list[str]:
        port = (levante.data_dir / "nats.port").read_text().strip()
        nc = await nats.connect(f"nats://127.0.0.1:{port}")
        try:
            found = await nc.jetstream().consumers_info("LEVANTE_EXECUTION_EVENTS")
            return [c.name for c in found]
        finally:
            await nc.close()

    # Only durable consumers are left: each watch deleted its own.
    assert asyncio.run(consumers()) in (["notifier"], [])


async def _replay(levante: LevanteProcess, execution_id: str) -> list[dict[str, Any]]:
    url = f"{levante.url}/executions/{execution_id}/events?replay=true"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        async with session.get(url) as response:
            assert response.status == 200
            return await _read_sse(response)


def _assert_matches_database(
    levante: LevanteProcess, execution_id: str, events: list[dict[str, Any]]
) -> None:
    final: dict[str, str] = {}
    for event in events:
        final[event["entity_id"]] = event["new_state"]
    status, found = request("GET", f"{levante.url}/executions/{execution_id}/executions")
    assert status == 200
    executions = found["executions"]
    assert len(executions) == 2  # the parent and its sub-workflow
    for execution in executions:
        assert final[execution["id"]] == execution["state"] == "SUCCESS"
        _, tasks = request("GET", f"{levante.url}/executions/{execution['id']}/tasks")
        for task in tasks["tasks"]:
            assert final[task["id"]] == task["state"], task["name"]
            _, actions = request("GET", f"{levante.url}/tasks/{task['id']}/action_executions")
            for action in actions["action_executions"]:
                assert final[action["id"]] == action["state"], action["name"]
    items = [e for e in events if e["name"] == "std.echo" and e["new_state"] == "SUCCESS"]
    assert len(items) >= 6 + 2 + 1  # six items, left and right, the child's first task


@pytest.mark.parametrize("levante", ["sqlite"], indirect=True)
def test_a_sub_workflow_watch_sees_only_its_own_tree(levante: LevanteProcess) -> None:
    name = f"watched_sub_{uuid.uuid4().hex[:8]}"
    status, body = post_text(f"{levante.url}/workflows", _definition(name))
    assert status == 201, body
    execution_id = _start(levante, name)
    _open_gate(levante, _gate_action(levante, execution_id))
    eventually(
        lambda: request("GET", f"{levante.url}/executions/{execution_id}")[1]["state"] in FINAL,
        timeout=60,
        what="the execution to finish",
    )
    _, found = request("GET", f"{levante.url}/executions/{execution_id}/executions")
    [child] = [e for e in found["executions"] if e["id"] != execution_id]
    everything = asyncio.run(_replay(levante, execution_id))
    mine = asyncio.run(_replay(levante, child["id"]))
    expected = [e for e in everything if e["execution_id"] == child["id"]]
    assert [_key(e) for e in mine] == [_key(e) for e in expected]
    assert mine[-1]["entity_id"] == child["id"] and mine[-1]["new_state"] == "SUCCESS"
    assert {e["parent_execution_id"] for e in mine} == {execution_id}

    # A finished execution without replay: the stream ends at once, empty.
    status, _ = request("GET", f"{levante.url}/executions/{child['id']}/events")
    assert status == 200


def test_watch_over_grpc(levante: LevanteProcess) -> None:
    name = f"watched_grpc_{uuid.uuid4().hex[:8]}"
    status, body = post_text(f"{levante.url}/workflows", _definition(name))
    assert status == 201, body
    execution_id = _start(levante, name)
    gate = _gate_action(levante, execution_id)
    with grpc.insecure_channel(levante.grpc_address) as channel:
        stub = event_pb2_grpc.ExecutionEventsServiceStub(channel)
        request_ = event_pb2.WatchExecutionRequest(name=f"executions/{execution_id}", replay=True)
        stream = stub.WatchExecution(request_, timeout=60)
        first = next(stream)
        assert first.entity == event_pb2.EVENT_ENTITY_WORKFLOW_EXECUTION
        assert (first.entity_id, first.new_state) == (execution_id, "RUNNING")
        _open_gate(levante, gate)
        events = [first, *stream]  # ends by itself after the final event
        assert events[-1].entity_id == execution_id and events[-1].new_state == "SUCCESS"
        sequences = [e.sequence for e in events]
        assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences)
        assert {e.root_execution_id for e in events} == {execution_id}

        # Unknown executions are NOT_FOUND; a missing name is INVALID_ARGUMENT.
        for name_, code in (
            (f"executions/{uuid.uuid4()}", grpc.StatusCode.NOT_FOUND),
            ("", grpc.StatusCode.INVALID_ARGUMENT),
        ):
            with pytest.raises(grpc.RpcError) as caught:
                list(stub.WatchExecution(event_pb2.WatchExecutionRequest(name=name_), timeout=10))
            assert caught.value.code() == code, caught.value.details()

        # A deadline ends a watch of a running execution; the server lets it go.
        waiting = _start(levante, name)
        _gate_action(levante, waiting)
        watch = stub.WatchExecution(
            event_pb2.WatchExecutionRequest(name=f"executions/{waiting}"), timeout=1.5
        )
        with pytest.raises(grpc.RpcError) as caught:
            list(watch)
        assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    _assert_no_watch_left(levante)
    body = json.dumps({"state": "CANCELLED"}).encode()
    assert request("PUT", f"{levante.url}/executions/{waiting}", body=body)[0] == 200


@pytest.mark.parametrize("levante", ["sqlite"], indirect=True)
def test_a_client_that_hangs_up_ends_its_watch(levante: LevanteProcess) -> None:
    name = f"watched_gone_{uuid.uuid4().hex[:8]}"
    status, body = post_text(f"{levante.url}/workflows", _definition(name))
    assert status == 201, body
    execution_id = _start(levante, name)
    _gate_action(levante, execution_id)

    async def hang_up() -> None:
        url = f"{levante.url}/executions/{execution_id}/events?replay=true"
        async with aiohttp.ClientSession() as session:
            response = await session.get(url)
            assert response.status == 200
            first = await response.content.readuntil(b"\n\n")
            assert first.startswith(b"id: ")
            response.close()

    asyncio.run(hang_up())
    _assert_no_watch_left(levante)  # the server noticed within seconds, not at the next event
    body = json.dumps({"state": "CANCELLED"}).encode()
    assert request("PUT", f"{levante.url}/executions/{execution_id}", body=body)[0] == 200


@pytest.mark.parametrize("levante", ["sqlite"], indirect=True)
def test_sse_errors(levante: LevanteProcess) -> None:
    status, body = request("GET", f"{levante.url}/executions/{uuid.uuid4()}/events")
    assert status == 404 and "WorkflowExecution not found" in body["faultstring"], body
    status, body = request("GET", f"{levante.url}/executions/x/events?replay=maybe")
    assert status == 400 and "replay" in body["faultstring"], body
