"""Scaling executors down under load: a graceful drain loses and repeats nothing.

Two executors share the work: the one inside the module's server and a
second `levante server --services executor` joined to the same NATS and
database. While 200 `std.sleep 0.2` actions (safe-rerun: false) run, the
second one is stopped with SIGTERM. A graceful drain finishes and reports
what it took, so no action is redelivered: a redelivered action that is not
safe to rerun would fail its task, and with it the execution.

The broker's count of deliveries on the executors' consumer shows that each
action was delivered once. The second executor logs at debug level: it logs
`action finished` with the action execution id of every action it runs,
which shows it did part of the work (some of it while draining), and ran
each of those actions once.
"""

from __future__ import annotations

import asyncio
import re
import signal
import time
import uuid
from datetime import UTC, datetime

import nats

from levante.messaging import jetstream
from tests.support.net import eventually
from tests.support.system import LevanteProcess

EXECUTIONS = 20
ITEMS = 10

SLEEPY = """\
version: '2.0'
{name}:
  input:
    - items: {items}
  tasks:
    sleepy:
      with-items: i in <% $.items %>
      action: std.sleep seconds=0.2
      safe-rerun: false
"""

FINISHED = re.compile(r"^(\S+) \[debug\s*\] action finished\s.*?action_execution_id=(\S+)", re.M)


def _finished(log: str) -> list[tuple[datetime, str]]:
    """(time, action execution id) of each action the executor logged as finished."""
    return [(datetime.fromisoformat(at), action) for at, action in FINISHED.findall(log)]


def _deliveries(nats_url: str) -> tuple[int, int, int]:
    """The default executors' consumer: (deliveries so far, redelivered, unacked)."""

    async def probe() -> tuple[int, int, int]:
        nc = await nats.connect(nats_url)
        try:
            info = await nc.jetstream().consumer_info(
                jetstream.WORK_STREAM, jetstream.executor_consumer(None)
            )
        finally:
            await nc.close()
        return info.delivered.consumer_seq, info.num_redelivered or 0, info.num_ack_pending or 0

    return asyncio.run(probe())


def _states(mistral, ids: set[str]) -> dict[str, str]:
    """The state of each execution."""
    return {i: mistral.executions.get(i).state for i in ids}


def test_scaling_two_executors_down_to_one_runs_every_action_once(
    mistral, levante: LevanteProcess
) -> None:
    name = f"sleepy_{uuid.uuid4().hex[:8]}"
    mistral.workflows.create(SLEEPY.format(name=name, items=list(range(ITEMS))))

    port = (levante.data_dir / "nats.port").read_text().strip()
    nats_url = f"nats://127.0.0.1:{port}"
    delivered_before, _, _ = _deliveries(nats_url)
    second = LevanteProcess(
        levante.data_dir / f"executor-{uuid.uuid4().hex[:6]}",
        services="executor",
        database_url=levante.database_url or f"sqlite:///{levante.data_dir / 'levante.db'}",
        extra_env={
            "LEVANTE_NATS_URL": nats_url,
            "LEVANTE_EXECUTOR_CONCURRENCY": "8",
            "LEVANTE_LOG_LEVEL": "debug",
        },
        ready="log",
    )
    second.start()
    try:
        started = time.monotonic()
        ids = {mistral.executions.create(name).id for _ in range(EXECUTIONS)}

        # Stop the second executor once it has run some actions and is running more.
        def busy() -> bool:
            log = second.log()
            finished = len(_finished(log))
            return finished >= 4 and log.count("running action") > finished

        eventually(busy, timeout=30, interval=0.01, what="the second executor to be busy")
        assert second.process is not None
        stopped_at, signalled_at = time.monotonic(), datetime.now(UTC)
        second.process.send_signal(signal.SIGTERM)
        # Executions still running now were running when the stop began.
        remaining = sum(1 for state in _states(mistral, ids).values() if state == "RUNNING")
        code = second.process.wait(30)
        drain_seconds = time.monotonic() - stopped_at

        def all_done():
            states = _states(mistral, ids)
            return "RUNNING" not in states.values() and states

        states = eventually(all_done, timeout=45, interval=0.2, what="every execution to finish")
        elapsed = time.monotonic() - started
    finally:
        second.stop(timeout=30)

    log = second.log()
    assert code == 0, log
    assert remaining > 0, "the second executor stopped only after all the work was done"
    assert drain_seconds < 10, f"the drain took {drain_seconds:.1f}s"
    assert "executor stopped" in log and "grace period over" not in log, log
    failed = {i: s for i, s in states.items() if s != "SUCCESS"}
    assert not failed, {i: mistral.executions.get(i).state_info for i in failed}

    # The broker delivered each action once: no redelivery, nothing left unacked.
    delivered, redelivered, unacked = _deliveries(nats_url)
    assert (delivered - delivered_before, redelivered, unacked) == (EXECUTIONS * ITEMS, 0, 0)

    # Every task ran each of its items once, and every run succeeded.
    action_ids: set[str] = set()
    for execution_id in ids:
        [task] = mistral.tasks.list(workflow_execution_id=execution_id)
        assert task.state == "SUCCESS", task.state_info
        actions = mistral.action_executions.list(task.id)
        assert len(actions) == ITEMS, [(a.id, a.state) for a in actions]
        assert {a.state for a in actions} == {"SUCCESS"}, [a.state_info for a in actions]
        action_ids |= {a.id for a in actions}
    assert len(action_ids) == EXECUTIONS * ITEMS

    # The second executor did part of the work, each of its actions once.
    finished = _finished(log)
    ran = [action for _, action in finished]
    assert len(ran) == len(set(ran)), "an action ran twice on the second executor"
    assert set(ran) <= action_ids
    assert 4 <= len(ran) < EXECUTIONS * ITEMS
    # It was stopped with actions in flight, and finished them while draining.
    drained = sum(1 for at, _ in finished if at > signalled_at)
    assert drained > 0, log
    assert "not safe to rerun" not in levante.log() + log
    print(
        f"\n{levante.database_url and 'postgresql' or 'sqlite'}: {len(ran)} of "
        f"{EXECUTIONS * ITEMS} actions on the second executor ({drained} while draining), "
        f"{remaining} executions running at its stop, drain {drain_seconds:.2f}s, "
        f"all done in {elapsed:.1f}s"
    )
