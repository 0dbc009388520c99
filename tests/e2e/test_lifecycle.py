"""Starting, stopping and restarting the embedded system on one data dir."""

from __future__ import annotations

import json
import signal
import uuid
from pathlib import Path

from mistralclient.api import client as mistral_client

from tests.support.net import eventually
from tests.support.system import LevanteProcess, nats_children, wait_gone


def test_sigterm_stops_everything_and_a_restart_resumes(tmp_path: Path) -> None:
    system = LevanteProcess(tmp_path / "data")
    system.start()
    brokers = nats_children(system.data_dir)
    assert len(brokers) == 1, "the embedded nats-server runs as a child"
    client = mistral_client.client(mistral_url=system.url)
    name = f"slow_{uuid.uuid4().hex[:8]}"
    client.workflows.create(f"""\
version: '2.0'
{name}:
  output:
    last: <% $.last %>
  tasks:
    slow:
      action: std.echo output=slept delay=2
      on-success: after
    after:
      action: std.echo output=after-restart
      publish:
        last: <% task().result %>
""")
    execution = client.executions.create(name)
    # Stop while `slow` runs: the executor finishes it and reports before exiting.
    eventually(
        lambda: client.tasks.list(workflow_execution_id=execution.id),
        timeout=10,
        what="the first task to start",
    )
    assert system.stop(sig=signal.SIGTERM) == 0
    wait_gone(brokers)

    system.start()
    assert len(nats_children(system.data_dir)) == 1
    client = mistral_client.client(mistral_url=system.url)
    assert name in [w.name for w in client.workflows.list()]

    def finished():
        current = client.executions.get(execution.id)
        return current if current.state in ("SUCCESS", "ERROR") else None

    done = eventually(finished, timeout=30, what="the execution to finish after restart")
    assert done.state == "SUCCESS", done.state_info
    assert json.loads(done.output) == {"last": "after-restart"}
    assert system.stop(sig=signal.SIGINT) == 0
    assert nats_children(system.data_dir) == []
