"""The `levante` command line against a real server: in a real terminal (tmux), and as a pipe.

The terminal tests run `levante run` in a tmux pane of fixed size and read
the screen at intervals, as a user would see it: the live tree while the
with-items task progresses, then the final state (or, for a failing nested
workflow, the exit status and the report).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from levante.client import Client, RestClient
from tests.support.net import free_port
from tests.support.system import LevanteProcess

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
HELLO = EXAMPLES / "hello.yaml"
FAILING = EXAMPLES / "failing_nested.yaml"
EXIT = re.compile(r"__EXIT=(\d+)")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LevanteProcess]:
    """A running `levante server` (SQLite, embedded NATS) for the CLI."""
    system = LevanteProcess(tmp_path_factory.mktemp("levante-cli"))
    system.start()
    yield system
    system.stop()


def cli_env(server: LevanteProcess, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "LEVANTE_URL": server.url,
        "LEVANTE_GRPC": server.grpc_address,
        "COLUMNS": "160",
        **extra,
    }
    env.pop("LEVANTE_TOKEN", None)
    return env


def levante(server: LevanteProcess, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`levante ARGS` as a plain subprocess (no terminal)."""
    return subprocess.run(
        [sys.executable, "-m", "levante.cli", *args],
        env=cli_env(server, **env),
        capture_output=True,
        text=True,
        timeout=60,
    )


# -- a real terminal ------------------------------------------------------------


class Pane:
    """A tmux session of fixed size on a private socket, running one command."""

    def __init__(self, *, width: int = 110, height: int = 60) -> None:
        assert shutil.which("tmux"), "tmux is installed by `make test` (Makefile: tools)"
        self.socket = f"levante-test-{uuid.uuid4().hex[:8]}"
        self.width = width
        self.height = height

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        return done.stdout

    def start(self, command: list[str], env: dict[str, str]) -> None:
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        # COLUMNS/LINES from the test's own environment would override the pane's size.
        shell = (
            f"env -u COLUMNS -u LINES {exports} {shlex.join(command)}; echo __EXIT=$?; sleep 120"
        )
        self._tmux(
            "new-session", "-d", "-s", "cli", "-x", str(self.width), "-y", str(self.height),
            "sh", "-c", shell,
        )  # fmt: skip

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "cli")

    def frames_until_exit(self, *, timeout: float = 60.0, interval: float = 0.1) -> list[str]:
        """Screens captured every `interval` s until the command printed its exit status."""
        frames = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            frames.append(self.screen())
            if EXIT.search(frames[-1]):
                return frames
            time.sleep(interval)
        raise AssertionError("the command did not finish; last screen:\n" + frames[-1])

    def close(self) -> None:
        subprocess.run(
            ["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=10, check=False
        )


@pytest.fixture
def pane() -> Iterator[Pane]:
    terminal = Pane()
    yield terminal
    terminal.close()


def terminal_env(server: LevanteProcess) -> dict[str, str]:
    return {
        "LANG": "C.UTF-8",
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
        "LEVANTE_URL": server.url,
        "LEVANTE_GRPC": server.grpc_address,
    }


def test_run_shows_the_live_tree_and_the_final_state(server: LevanteProcess, pane: Pane) -> None:
    pane.start(
        [sys.executable, "-m", "levante.cli", "run", str(HELLO), "--input", '{"who": "tmux"}'],
        terminal_env(server),
    )
    frames = pane.frames_until_exit()
    final = frames[-1]
    # While it ran: the root RUNNING, the with-items task part way through its items.
    running = [f for f in frames if re.search(r"hello\s+▶ RUNNING", f)]
    assert running, "no frame showed the execution running:\n" + final
    partial = {
        int(m.group(1)) for f in running for m in re.finditer(r"wave\s.*?\b([0-5])/6 items", f)
    }
    assert partial, "no frame showed the with-items task part way:\n" + "\n".join(running[-3:])
    assert any(
        re.search(r"updates: (events over grpc|events over sse|polling)", f) for f in running
    )
    # At the end: every task finished, the sub-workflow's tree, the output, exit 0.
    assert EXIT.search(final).group(1) == "0", final
    assert re.search(r"hello\s+✔ SUCCESS", final)
    assert re.search(r"wave\s+✔ SUCCESS\s+━+\s+6/6 items", final)
    assert re.search(r"hello_guest_book\s+✔ SUCCESS", final)
    assert re.search(r"goodbye\s+✔ SUCCESS", final)
    assert '"greeting": "Hello, tmux!"' in final
    assert "RUNNING" not in final


def test_a_failing_nested_workflow_exits_non_zero_with_the_report(
    server: LevanteProcess, pane: Pane
) -> None:
    pane.start([sys.executable, "-m", "levante.cli", "run", str(FAILING)], terminal_env(server))
    final = pane.frames_until_exit()[-1]
    assert EXIT.search(final).group(1) == "1", final
    assert re.search(r"release\s+✘ ERROR", final)
    assert re.search(r"release_migrate_database\s+✘ ERROR", final)
    assert re.search(r"check_schema\s+✔ SUCCESS", final)
    assert "ended in ERROR" in final
    assert "why it failed" in final
    flat = " ".join(final.split())
    assert 'migration 0042_add_index failed: relation "orders" is locked' in flat
    # The path from the root to the failure (the server's analysis, or read off the tree).
    path = flat[flat.index("path") :]
    names = ["release", "deploy", "release_deploy", "migrate", "release_migrate_database"]
    assert re.search(r"\s→\s.*".join(re.escape(n) for n in names) + r".*apply_migrations", path)


# -- as a pipe ------------------------------------------------------------------


@pytest.fixture(scope="module")
def finished(server: LevanteProcess) -> dict[str, Any]:
    """One successful and one failed execution, started by `levante run` without a terminal."""
    ok = levante(server, "run", str(HELLO), "--json")
    assert ok.returncode == 0, ok.stderr
    failed = levante(server, "run", str(FAILING), "--json")
    assert failed.returncode == 1, failed.stderr
    return {"ok": json.loads(ok.stdout), "failed": json.loads(failed.stdout)}


def test_run_without_a_terminal_prints_the_final_tree_and_json(finished: dict[str, Any]) -> None:
    assert finished["ok"]["state"] == "SUCCESS"
    assert json.loads(finished["ok"]["output"])["guest_book"] == "world was here"
    assert finished["failed"]["state"] == "ERROR"


def test_run_updates_existing_workflows_and_picks_one(
    server: LevanteProcess, tmp_path: Path
) -> None:
    path = tmp_path / "two.yaml"
    name = f"cli_{uuid.uuid4().hex[:8]}"
    body = "version: '2.0'\n{n}_a:\n  tasks:\n    t:\n      action: std.echo output={v}\n"
    text = body.format(n=name, v="one") + f"{name}_b:\n  tasks:\n    t:\n      action: std.noop\n"
    path.write_text(text)
    first = levante(server, "run", str(path), "--workflow", f"{name}_b", "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["workflow_name"] == f"{name}_b"
    path.write_text(text.replace("output=one", "output=two"))
    second = levante(server, "run", str(path), "--json")  # the first workflow, updated
    assert second.returncode == 0, second.stderr
    execution = json.loads(second.stdout)
    assert execution["workflow_name"] == f"{name}_a"
    stored = RestClient(server.url).get("workflows", f"{name}_a")
    assert "output=two" in stored["definition"]


def test_watch_follows_to_the_end_by_polling_too(
    server: LevanteProcess, finished: dict[str, Any]
) -> None:
    for extra in ([], ["--poll"]):
        ok = levante(server, "watch", finished["ok"]["id"], *extra)
        assert ok.returncode == 0, ok.stderr
        assert re.search(r"wave\s+✔ SUCCESS\s+━+\s+6/6 items", ok.stdout), ok.stdout
        failed = levante(server, "watch", finished["failed"]["id"], *extra)
        assert failed.returncode == 1
        assert "why it failed" in failed.stdout
    unknown = levante(server, "watch", str(uuid.uuid4()))
    assert unknown.returncode == 1 and "not found" in unknown.stderr.lower()


def test_report_explains_the_failure(server: LevanteProcess, finished: dict[str, Any]) -> None:
    execution_id = finished["failed"]["id"]
    shown = levante(server, "report", execution_id)
    assert shown.returncode == 0, shown.stderr
    assert "why it failed" in shown.stdout
    assert 'relation "orders" is locked' in shown.stdout
    assert "check_schema" not in shown.stdout  # only the failed path by default
    full = levante(server, "report", execution_id, "--include-trace")
    assert "check_schema" in full.stdout and "build" in full.stdout
    data = json.loads(levante(server, "report", execution_id, "--json").stdout)
    assert data["root_workflow_execution"]["state"] == "ERROR"
    assert data["statistics"]["error_tasks_count"] >= 1


@pytest.fixture(scope="module")
def one_of_each(server: LevanteProcess, finished: dict[str, Any]) -> dict[str, str]:
    """An id or name of every kind of resource."""
    client = Client(server.url, grpc=None)
    rest = client.rest
    book = f"book_{uuid.uuid4().hex[:8]}"
    client.upload(f"version: '2.0'\nname: {book}\nworkflows:\n  w:\n    tasks:\n      t:\n"
                  "        action: std.noop\n")  # fmt: skip
    trigger = f"cron_{uuid.uuid4().hex[:8]}"
    rest.request(
        "POST",
        "/cron_triggers",
        body={"name": trigger, "workflow_name": "hello", "pattern": "0 0 1 1 *"},
    )
    environment = f"env_{uuid.uuid4().hex[:8]}"
    rest.request("POST", "/environments", body={"name": environment, "variables": '{"k": 1}'})
    execution_id = finished["ok"]["id"]
    task = rest.tasks(execution_id)[0]
    action = rest.task_action_executions(task["id"])[0]
    return {
        "workflows": "hello",
        "executions": execution_id,
        "tasks": task["id"],
        "action-executions": action["id"],
        "actions": "std.echo",
        "workbooks": book,
        "cron-triggers": trigger,
        "environments": environment,
    }


KINDS = [
    "workflows",
    "executions",
    "tasks",
    "action-executions",
    "actions",
    "workbooks",
    "cron-triggers",
    "environments",
]


@pytest.mark.parametrize("kind", KINDS)
def test_get_and_list_every_resource(
    server: LevanteProcess, one_of_each: dict[str, str], kind: str
) -> None:
    key = one_of_each[kind]
    listed = levante(server, "list", kind, "--json")
    assert listed.returncode == 0, listed.stderr
    items = json.loads(listed.stdout)
    assert isinstance(items, list)
    assert any(key in (item.get("id"), item.get("name")) for item in items)
    got = levante(server, "get", kind.rstrip("s"), key, "--json")  # singular works too
    assert got.returncode == 0, got.stderr
    assert key in (json.loads(got.stdout).get("id"), json.loads(got.stdout).get("name"))
    table = levante(server, "list", kind)
    assert table.returncode == 0 and kind in table.stdout and key in table.stdout
    detail = levante(server, "get", kind, key)
    assert detail.returncode == 0 and key in detail.stdout


def test_lists_filter_and_follow_their_parent(
    server: LevanteProcess, finished: dict[str, Any]
) -> None:
    execution_id = finished["ok"]["id"]
    tasks = json.loads(
        levante(server, "list", "tasks", "--execution", execution_id, "--json").stdout
    )
    assert [t["name"] for t in tasks] == ["greet", "wave", "sign_guest_book", "goodbye"]
    wave = next(t for t in tasks if t["name"] == "wave")
    actions = levante(server, "list", "action-executions", "--task", wave["id"], "--json")
    assert len(json.loads(actions.stdout)) == 6
    errors = levante(server, "list", "executions", "--filter", "state=ERROR", "--json")
    assert {e["state"] for e in json.loads(errors.stdout)} == {"ERROR"}
    bad = levante(server, "list", "gizmos")
    assert bad.returncode == 2 and "unknown resource 'gizmos'" in bad.stderr


def test_graph_as_dot_and_svg(
    server: LevanteProcess, finished: dict[str, Any], tmp_path: Path
) -> None:
    dot = levante(server, "graph", "hello")
    assert dot.returncode == 0, dot.stderr
    assert dot.stdout.startswith('digraph "hello" {')
    assert '"greet" -> "wave" [label="on-success"' in dot.stdout
    assert 'xlabel="join: all"' in dot.stdout
    local = levante(server, "graph", "release_deploy", "--file", str(FAILING))
    assert '"upload" -> "migrate" [label="on-success"' in local.stdout
    out = tmp_path / "hello.svg"
    drawn = levante(server, "graph", "hello", "--svg", str(out))
    assert drawn.returncode == 0, drawn.stderr
    assert b"<svg" in out.read_bytes()
    bare = tmp_path / "bin"
    bare.mkdir()
    missing = levante(server, "graph", "hello", "--svg", str(tmp_path / "x.svg"), PATH=str(bare))
    assert missing.returncode == 1
    assert "Graphviz is not installed" in missing.stderr and not (tmp_path / "x.svg").exists()


def test_connection_problems_and_the_server_commands(server: LevanteProcess) -> None:
    away = levante(server, "list", "workflows", "--url", f"http://127.0.0.1:{free_port()}/v2")
    assert away.returncode == 1 and "cannot reach Levante" in away.stderr
    helped = levante(server, "--help")
    for command in ("server", "db", "actions", "run", "watch", "report", "get", "list", "graph"):
        assert re.search(rf"^\s+{command}\s", helped.stdout, re.M), helped.stdout
    wrong = levante(server, "server", "--services", "api,nope")
    assert wrong.returncode == 2 and "unknown service(s) ['nope']" in wrong.stderr
