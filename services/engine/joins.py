"""When a `join` task may run: pure functions over the workflow graph and task runs.

For each inbound task (a task with a transition to the join task) the join
sees one of three things: it triggered this join run (satisfied); it has not
finished yet, or has not run but still can (waiting); or it finished without
triggering the join, or can no longer run at all (failed). `join: all` needs
every inbound task satisfied, `join: N` any N of them, `join: one` one. A join
that can no longer be satisfied fails with Mistral's state_info
`Failed by tasks: ['b']`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from levante.engine.state import TaskRun
from levante.language.spec import TaskSpec, TransitionKind, WorkflowSpec
from levante.states import COMPLETED, State

RUN = "run"
WAIT = "wait"
FAIL = "fail"


@dataclass(frozen=True, slots=True)
class JoinDecision:
    """What to do with a waiting join run; `blocking` names the inbound tasks that failed it."""

    action: str
    blocking: tuple[str, ...] = ()


def targets(spec: TaskSpec) -> set[str]:
    """Names of the tasks any transition of `spec` may start."""
    return {
        t.target
        for t in (*spec.on_success, *spec.on_error, *spec.on_complete)
        if t.kind is TransitionKind.TASK and t.target
    }


def inbound(workflow: WorkflowSpec, name: str) -> list[str]:
    """Tasks with a transition to `name`, in definition order."""
    return _graph(workflow).inbound.get(name, [])


def has_joins(workflow: WorkflowSpec) -> bool:
    """Whether any task of `workflow` is a join."""
    return _graph(workflow).has_joins


@dataclass(frozen=True, slots=True)
class _Graph:
    """What joins need of a workflow's graph: each task's inbound tasks, and
    whether there is any join at all."""

    inbound: dict[str, list[str]]
    has_joins: bool


#: Graphs of recently seen workflow specs, by identity: specs are immutable
#: and shared by every event of an execution, and building a graph walks
#: every transition of the workflow.
_GRAPHS: OrderedDict[int, tuple[WorkflowSpec, _Graph]] = OrderedDict()
_GRAPHS_SIZE = 256


def _graph(workflow: WorkflowSpec) -> _Graph:
    cached = _GRAPHS.get(id(workflow))
    if cached is not None and cached[0] is workflow:
        _GRAPHS.move_to_end(id(workflow))
        return cached[1]
    mapping: dict[str, list[str]] = {}
    for task in workflow.tasks.values():
        for target in sorted(targets(task)):
            mapping.setdefault(target, []).append(task.name)
    graph = _Graph(
        inbound=mapping, has_joins=any(t.join is not None for t in workflow.tasks.values())
    )
    _GRAPHS[id(workflow)] = (workflow, graph)
    while len(_GRAPHS) > _GRAPHS_SIZE:
        _GRAPHS.popitem(last=False)
    return graph


def required(join: object, inbound_count: int) -> int:
    """How many inbound tasks `join` needs: all, one, or a number."""
    if join == "all":
        return inbound_count
    if join == "one":
        return 1
    return int(join)  # type: ignore[call-overload]


def decide(
    workflow: WorkflowSpec, spec: TaskSpec, run: TaskRun, tasks: Iterable[TaskRun]
) -> JoinDecision:
    """Whether the waiting join `run` of `spec` runs now, keeps waiting, or fails.

    One pass over the task runs, so deciding a join of N branches is O(N).
    """
    runs = list(tasks)
    by_id = {t.id: t for t in runs}
    triggered = {by_id[t["task_id"]].name for t in run.triggered_by if t["task_id"] in by_id}
    since = _previous_join_end(runs, spec.name)
    latest = _latest_by_name(runs, after=since)
    reachable: set[str] | None = None
    satisfied, waiting, failed = 0, 0, []
    for name in inbound(workflow, spec.name):
        if name in triggered:
            satisfied += 1
            continue
        last = latest.get(name)
        if last is None:
            if reachable is None:
                reachable = _reachable(workflow, runs, join=spec.name)
            if name in reachable:
                waiting += 1
            else:
                failed.append(name)
        elif last.state not in COMPLETED or not last.processed:
            waiting += 1
        else:
            failed.append(name)
    need = required(spec.join, satisfied + waiting + len(failed))
    if satisfied >= need:
        return JoinDecision(RUN)
    if satisfied + waiting < need:
        return JoinDecision(FAIL, tuple(failed))
    return JoinDecision(WAIT)


def _previous_join_end(runs: list[TaskRun], name: str) -> datetime | None:
    """Creation time of the last finished run of the join task (joins in loops)."""
    done = [t.created_at for t in runs if t.name == name and t.state is not State.WAITING]
    return max(done) if done else None


def _latest_by_name(runs: list[TaskRun], *, after: datetime | None) -> dict[str, TaskRun]:
    """The latest run of each task created after `after` (the first of equals)."""
    latest: dict[str, TaskRun] = {}
    for t in runs:
        if after is not None and t.created_at <= after:
            continue
        current = latest.get(t.name)
        if current is None or t.created_at > current.created_at:
            latest[t.name] = t
    return latest


def _reachable(workflow: WorkflowSpec, runs: list[TaskRun], *, join: str) -> set[str]:
    """Tasks that a still active task (other than the join) could lead to."""
    frontier = [
        t.name for t in runs if (t.state not in COMPLETED or not t.processed) and t.name != join
    ]
    seen: set[str] = set()
    found: set[str] = set()
    while frontier:
        current = frontier.pop()
        if current in seen:
            continue
        seen.add(current)
        following = targets(workflow.tasks[current]) if current in workflow.tasks else set()
        found |= following
        frontier.extend(following - seen)
    return found
