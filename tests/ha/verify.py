"""The verdict on a scenario: every execution's end, checked against its shape and the run records.

An execution counts as
- succeeded: it ended as its shape says (state, output, and no task ran twice);
- failed as expected: the `ha_failing` shape's deliberate ERROR;
- interrupted: it ended in ERROR because an action that is not `safe-rerun`
  was caught mid-run, and the records agree: that action either never
  started, or started on a process the harness killed (SIGKILL). Only the
  crash scenario may have these;
- wrong: any other end (a wrong output, a false interruption, ...);
- lost: not ended when the scenario gave up waiting.

Duplicates: actions of tasks that are not `safe-rerun` whose run records
show more than one start (must be 0). Safe reruns: the same for `safe-rerun`
tasks (allowed, and counted).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from levante.persistence import models
from levante.persistence.db import Database
from tests.ha.workload import SAFE_TASKS, LoadResult

NOT_SAFE = "not safe to rerun"


@dataclass
class Fault:
    """One fault the harness injected, and how long the system took to get over it."""

    at: float
    what: str
    recovered_after: float | None = None
    #: The kind and pid of a killed process.
    kind: str | None = None
    pid: int | None = None
    #: When an outage ended, and when every service was SERVING again.
    restored_at: float | None = None
    serving_at: float | None = None


@dataclass
class Figures:
    """A scenario's figures (see the module docstring)."""

    scenario: str
    executions: int = 0
    succeeded: int = 0
    failed_as_expected: int = 0
    interrupted: int = 0
    wrong: int = 0
    lost: int = 0
    duplicated_runs: int = 0
    safe_reruns: int = 0
    action_runs: int = 0
    wall_seconds: float = 0.0
    submit_retries: int = 0
    faults: list[Fault] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    #: Actions whose interruption explains an `interrupted` execution.
    interrupted_actions: set[str] = field(default_factory=set)
    #: What `levante doctor` listed once the scenario was over.
    doctor: list[str] = field(default_factory=list)

    def recovery_summary(self) -> str:
        """min / median / max seconds to recover, over the faults that have a figure."""
        times = sorted(f.recovered_after for f in self.faults if f.recovered_after is not None)
        if not times:
            return "-"
        return f"{times[0]:.1f}/{times[len(times) // 2]:.1f}/{times[-1]:.1f}"

    def table_row(self) -> str:
        """One line of the figures table."""
        return (
            f"{self.scenario:<10} {self.executions:>6} {self.succeeded:>6} "
            f"{self.failed_as_expected:>6} {self.interrupted:>6} {self.lost:>5} {self.wrong:>5} "
            f"{self.duplicated_runs:>5} {self.safe_reruns:>6} {self.action_runs:>7} "
            f"{len(self.faults):>6} {self.recovery_summary():>16} {self.wall_seconds:>7.1f}"
        )

    def report(self) -> str:
        """The figures with every fault and every problem."""
        lines = [HEADER, self.table_row()]
        for fault in self.faults:
            recovered = (
                "-"
                if fault.recovered_after is None
                else f"recovered in {fault.recovered_after:.1f}s"
            )
            lines.append(f"  +{fault.at:6.1f}s {fault.what}: {recovered}")
        lines += [f"  doctor: {d}" for d in self.doctor[:10]]
        lines += [f"  problem: {p}" for p in self.problems[:40]]
        return "\n".join(lines)


HEADER = (
    f"{'scenario':<10} {'execs':>6} {'ok':>6} {'failok':>6} {'intr':>6} {'lost':>5} "
    f"{'wrong':>5} {'dupl':>5} {'rerun':>6} {'actions':>7} {'faults':>6} "
    f"{'recover min/med/max':>16} {'wall s':>7}"
)


def read_records(path: Path) -> dict[str, dict[str, Any]]:
    """Action execution id -> {task, starts: [pid], ends: [pid]} from the run records."""
    runs: dict[str, dict[str, Any]] = defaultdict(lambda: {"starts": [], "ends": []})
    if not path.exists():
        return {}
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        entry = runs[record["action_execution_id"]]
        entry["task"] = record["task"]
        entry["starts" if record["event"] == "start" else "ends"].append(record["pid"])
    return dict(runs)


def judge(
    figures: Figures,
    load: LoadResult,
    database: Database,
    records: dict[str, dict[str, Any]],
    *,
    killed_pids: set[int],
    process_names: dict[int, str] | None = None,
) -> Figures:
    """Fills `figures` from the executions' rows and the run records."""
    ids = [s.id for s in load.started]
    figures.executions = len(ids)
    figures.submit_retries = load.submit_failures
    rows, actions, task_names = _read(database, ids)
    ours = set()
    for started in load.started:
        row = rows.get(started.id)
        tree_actions = actions.get(started.id, [])
        ours |= {a["id"] for a in tree_actions}
        if row is None or row["state"] not in ("SUCCESS", "ERROR", "CANCELLED"):
            figures.lost += 1
            figures.problems.append(
                f"lost: {started.shape.workflow} {started.id} is "
                f"{row['state'] if row else 'missing'}"
            )
            continue
        verdict = _verdict(
            started,
            row,
            tree_actions,
            task_names.get(started.id, []),
            records,
            killed_pids,
            process_names or {},
        )
        if verdict == "succeeded":
            figures.succeeded += 1
        elif verdict == "failed_as_expected":
            figures.failed_as_expected += 1
        elif verdict == "interrupted":
            figures.interrupted += 1
            figures.interrupted_actions |= {
                a["id"] for a in tree_actions if a["state"] == "ERROR" and _not_safe(a)
            }
        else:
            figures.wrong += 1
            figures.problems.append(f"wrong: {started.shape.workflow} {started.id}: {verdict}")
    for action_id, run in records.items():
        if action_id not in ours:
            continue
        figures.action_runs += len(run["starts"])
        if len(run["starts"]) > 1:
            if run["task"] in SAFE_TASKS:
                figures.safe_reruns += 1
            else:
                figures.duplicated_runs += 1
                figures.problems.append(
                    f"duplicated: action {action_id} of task {run['task']} started "
                    f"{len(run['starts'])} times (pids {run['starts']})"
                )
    return figures


def _verdict(
    started: Any,
    row: dict[str, Any],
    tree_actions: list[dict[str, Any]],
    task_names: list[str],
    records: dict[str, dict[str, Any]],
    killed_pids: set[int],
    names: dict[int, str],
) -> str:
    shape = started.shape
    repeated = [name for name, count in Counter(task_names).items() if count > 1]
    if repeated:
        return f"tasks ran more than once: {repeated}"
    if row["state"] == shape.state == "SUCCESS":
        expected = shape.output(started.n) if shape.output else None
        if expected is not None and row["output"] != expected:
            return f"output {row['output']!r}, expected {expected!r}"
        return "succeeded"
    if row["state"] == shape.state == "ERROR":
        if shape.state_info and shape.state_info not in (row["state_info"] or ""):
            return f"state_info {row['state_info']!r} lacks {shape.state_info!r}"
        return "failed_as_expected"
    if row["state"] == "ERROR":
        interrupted = [a for a in tree_actions if a["state"] == "ERROR" and _not_safe(a)]
        if not interrupted:
            return f"ERROR: {row['state_info']}"
        for action in interrupted:
            run = records.get(action["id"], {})
            starts = run.get("starts", [])
            false_alarm = [pid for pid in starts if pid not in killed_pids]
            if false_alarm:
                who = [f"{pid} ({names.get(pid, '?')})" for pid in false_alarm]
                ended = [f"{pid} ({names.get(pid, '?')})" for pid in run.get("ends", [])]
                return (
                    f"action {action['id']} ({action['task_name']}) failed with "
                    f"{_message(action)!r} but started on {who}, never killed (ended on {ended})"
                )
        return "interrupted"
    return f"{row['state']}: {row['state_info']}"


def _message(action: dict[str, Any]) -> str:
    output = action.get("output") or {}
    return action.get("state_info") or str(output.get("result", output))


def _not_safe(action: dict[str, Any]) -> bool:
    return NOT_SAFE in _message(action)


def _read(database: Database, ids: list[str]) -> tuple[dict, dict, dict]:
    rows: dict[str, dict[str, Any]] = {}
    actions: dict[str, list[dict[str, Any]]] = defaultdict(list)
    task_names: dict[str, list[str]] = defaultdict(list)
    executions = models.WorkflowExecution
    action_table = models.ActionExecution
    tasks = models.TaskExecution
    with database.read() as session:
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            for row in session.execute(
                select(
                    executions.id, executions.state, executions.state_info, executions.output
                ).where(executions.id.in_(chunk))
            ):
                rows[row.id] = {
                    "state": row.state,
                    "state_info": row.state_info,
                    "output": row.output,
                }
            for action in session.execute(
                select(
                    action_table.id,
                    action_table.root_execution_id,
                    action_table.state,
                    action_table.state_info,
                    action_table.task_name,
                    action_table.output,
                ).where(action_table.root_execution_id.in_(chunk))
            ):
                actions[action.root_execution_id].append(dict(action._mapping))
            for task in session.execute(
                select(tasks.workflow_execution_id, tasks.name).where(
                    tasks.workflow_execution_id.in_(chunk)
                )
            ):
                task_names[task.workflow_execution_id].append(task.name)
    return rows, actions, task_names
