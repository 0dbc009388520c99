"""The HA harness's action pack: actions that record every run in a shared file.

`ha.record` appends one JSON line when it starts and one when it ends to the
file named by LEVANTE_HA_RECORD (every service process of a cluster writes
to the same file; each line is one `write` on a file opened with O_APPEND,
so lines of concurrent writers never interleave). The harness reads the file
to check that no action that is not `safe-rerun` started twice, and which
process ran what.

The pack reaches the service processes as an installed distribution would:
`install_pack(directory)` writes a `*.dist-info` with the entry points into
`directory`, which the harness puts on the processes' PYTHONPATH (beside the
repository root, which makes `tests.ha.actions` importable).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any

from levante.actions import Action, ActionContext, ActionError

RECORD_VARIABLE = "LEVANTE_HA_RECORD"
DISTRIBUTION = "levante-ha-actions"
ENTRY_POINTS = {
    "ha.record": "tests.ha.actions:RecordAction",
}


def _append(path: Path, line: dict[str, Any]) -> None:
    data = (json.dumps(line, separators=(",", ":")) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def _attempt(directory: Path, task_execution_id: str) -> int:
    """Counts this run among the runs of its task execution (1 for the first)."""
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / task_execution_id, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, b".")
        return os.fstat(fd).st_size
    finally:
        os.close(fd)


class RecordAction(Action):
    """Records its run, waits `seconds`, and returns `value`.

    With `fail_first: N` the first N runs of one task execution fail (each
    retry of a task is a new run of it), so retry policies have something to
    retry.
    """

    async def run(
        self,
        context: ActionContext,
        value: Any = None,
        seconds: Any = 0,
        fail_first: Any = 0,
    ) -> Any:
        path = os.environ.get(RECORD_VARIABLE)
        if not path:
            raise ActionError(f"ha.record: {RECORD_VARIABLE} is not set")
        record = Path(path)
        execution = context.execution
        line = {
            "action_execution_id": execution.action_execution_id,
            "task_execution_id": execution.task_execution_id,
            "task": execution.task_name,
            "workflow": execution.workflow_name,
            "execution_id": execution.workflow_execution_id,
            "pid": os.getpid(),
        }
        attempt = 1
        if int(fail_first or 0) and execution.task_execution_id:
            attempt = _attempt(record.parent / "attempts", execution.task_execution_id)
        _append(record, {**line, "event": "start", "attempt": attempt, "time": time.time()})
        await asyncio.sleep(max(0.0, float(seconds or 0)))
        failed = attempt <= int(fail_first or 0)
        _append(record, {**line, "event": "end", "failed": failed, "time": time.time()})
        if failed:
            raise ActionError(f"ha.record: attempt {attempt} fails on purpose")
        return value


def install_pack(directory: Path) -> Path:
    """Writes the pack's distribution metadata into `directory`; returns it.

    Put `directory` and the repository root on PYTHONPATH, and the pack's
    actions load like any installed plugin's (entry point group
    `levante.actions`).
    """
    info = directory / f"{DISTRIBUTION.replace('-', '_')}-0.1.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {DISTRIBUTION}\nVersion: 0.1\n")
    lines = ["[levante.actions]", *(f"{name} = {target}" for name, target in ENTRY_POINTS.items())]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    return directory
