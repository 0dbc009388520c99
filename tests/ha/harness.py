"""The HA harness: a multi-process cluster under load, and the four fault scenarios.

    stable     2 of each service, a batch of executions at once, no faults
    variable   the same load while engines, executors and schedulers are added
               and removed (SIGTERM: graceful) every few seconds
    crashes    SIGKILL of an engine, an executor or a scheduler (in turn, a
               random one of its kind, never the last) every few seconds,
               restarted moments later
    outages    NATS stopped for a while, then PostgreSQL, mid-run (with a
               JetStream cluster, one node is killed first)

Every scenario checks the end of every execution (tests/ha/verify.py) and
measures, per fault, the time to recover:

- executor killed: until every action it had started is settled (redelivered
  and run again if `safe-rerun`, failed otherwise);
- engine or scheduler killed, broker or database outage: from the fault (for
  an outage: from the dependency's return) until every service reports
  SERVING again and an execution has ended since;
- process added: until it reports SERVING; process stopped: its drain.

`python -m tests.ha.soak` runs them at full size; tests/ha/test_ha.py runs a
short form of each in CI.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path

import grpc
from sqlalchemy import select

from levante.devcluster import KINDS, Cluster
from levante.persistence import models
from levante.persistence.db import Database
from levante.v2 import doctor_pb2, doctor_pb2_grpc
from tests.ha.actions import RECORD_VARIABLE, install_pack
from tests.ha.verify import Fault, Figures, judge, read_records
from tests.ha.workload import LoadResult, LoadRunner, upload

REPOSITORY = Path(__file__).resolve().parents[2]
#: The kinds whose processes the topology and crash scenarios change.
CHANGING = ("engine", "executor", "scheduler")
#: Which services must report NOT_SERVING while a dependency is away.
NEEDS = {
    "nats": {"engine", "executor", "scheduler"},
    "database": {"api", "engine", "scheduler"},
    "nats-node": set(),
}


@dataclass(frozen=True, slots=True)
class Plan:
    """How big a scenario is.

    Attributes:
        executions: How many executions to start at most.
        in_flight: How many run at once.
        duration: Seconds during which executions are started (None: until
            `executions` were started).
        fault_every: Seconds between two faults.
        outage_seconds: How long the broker and the database stay away.
        drain_timeout: How long to wait for the last executions to end.
    """

    executions: int
    in_flight: int
    duration: float | None = None
    fault_every: float = 4.0
    outage_seconds: float = 10.0
    drain_timeout: float = 240.0


@dataclass
class _Watch:
    """Health statuses seen per process while a dependency was away."""

    seen: dict[str, set[str]] = field(default_factory=dict)


class Harness:
    """A cluster for the scenarios: the action pack installed, recovery tuned for short runs."""

    def __init__(
        self,
        root: Path,
        *,
        nats_nodes: int = 1,
        counts: dict[str, int] | None = None,
        recovery_after: float = 20.0,
        recovery_interval: float = 5.0,
    ) -> None:
        self.root = root
        self.counts = counts or {kind: 2 for kind in KINDS}
        self.records = root / "runs" / "records.jsonl"
        self.records.parent.mkdir(parents=True, exist_ok=True)
        pack = install_pack(root / "pack")
        env = {
            "PYTHONPATH": f"{REPOSITORY}:{pack}",
            RECORD_VARIABLE: str(self.records),
            "LEVANTE_RECOVERY_AFTER_SECONDS": str(recovery_after),
            "LEVANTE_RECOVERY_INTERVAL_SECONDS": str(recovery_interval),
        }
        self.cluster = Cluster(root / "cluster", nats_nodes=nats_nodes, env=env)
        self.database: Database | None = None
        self.killed_pids: set[int] = set()

    def start(self) -> None:
        """Starts the cluster and uploads the workflows."""
        self.cluster.start(**self.counts)
        self.database = Database(self.cluster.database_url)
        upload(self.cluster.api_urls()[0])

    def close(self) -> None:
        """Stops everything (also after a failure)."""
        if self.database is not None:
            self.database.dispose()
        self.cluster.close()

    def heal(self) -> None:
        """Brings the broker, the database and `counts` processes of each kind back."""
        cluster = self.cluster
        cluster.nats.start()
        if cluster.postgres is not None and not cluster.postgres.running:
            cluster.postgres.start()
        for kind in KINDS:
            live = cluster.running(kind)
            for extra in live[self.counts[kind] :]:
                cluster.stop(extra.name)
            dead = [s for s in cluster.services.values() if s.kind == kind and not s.alive]
            for _ in range(self.counts[kind] - len(live)):
                if dead:
                    cluster.restart(dead.pop().name)
                else:
                    cluster.add(kind)
        for service in cluster.running():
            service.wait_serving(timeout=120)

    def all_serving(self) -> bool:
        """Whether every live process reports SERVING."""
        return all(s.health() == "SERVING" for s in self.cluster.running())

    # -- scenarios ----------------------------------------------------------------

    def run(self, scenario: str, plan: Plan, *, seed: int = 0) -> Figures:
        """Runs one scenario and returns its figures (checked by the caller)."""
        assert self.database is not None, "start() first"
        self.heal()
        figures = Figures(scenario)
        # The outages come one after the other whatever the duration: the
        # load goes on until the last one is over.
        faults_done = threading.Event()
        runner = LoadRunner(
            self.cluster.api_urls,
            self.database,
            total=plan.executions,
            in_flight=plan.in_flight,
            duration=plan.duration,
            seed=seed,
            hold=faults_done if scenario == "outages" else None,
        )
        faults = {
            "stable": None,
            "variable": self._vary,
            "crashes": self._crash,
            "outages": self._outages,
        }[scenario]
        stop = threading.Event()
        errors: list[BaseException] = []
        injector = None
        if faults is not None:

            def inject() -> None:
                try:
                    faults(plan, runner, figures, stop, random.Random(seed))
                except BaseException as error:  # reported by the scenario, not lost in a thread
                    errors.append(error)
                finally:
                    faults_done.set()

            injector = threading.Thread(target=inject, name=f"ha-{scenario}", daemon=True)
        begun = time.time()
        if injector is not None:
            injector.start()
        try:
            load = runner.run(drain_timeout=plan.drain_timeout)
        finally:
            stop.set()
            if injector is not None:
                injector.join(timeout=600)
        figures.wall_seconds = time.time() - begun
        if errors:
            raise errors[0]
        records = read_records(self.records)
        names = {pid: s.name for s in self.cluster.services.values() for pid in s.pids}
        judge(
            figures,
            load,
            self.database,
            records,
            killed_pids=self.killed_pids,
            process_names=names,
        )
        self._settle_recoveries(figures, load, records)
        for fault in figures.faults:
            fault.at -= begun
        self.heal()
        self._consult_doctor(figures)
        return figures

    def _consult_doctor(self, figures: Figures, *, patience: float = 90.0) -> None:
        """`levante doctor` (its RPC) must list every interruption as applied, and nothing else.

        What it lists as recovered automatically must indeed go away by itself
        (within `patience` seconds); anything else left is a problem.
        """
        deadline = time.time() + patience
        while True:
            recovered, left = self._diagnose()
            automatic = [f for f in left if f.recovery_state == doctor_pb2.RECOVERY_STATE_AUTOMATIC]
            if len(automatic) < len(left) or not left or time.time() > deadline:
                break
            time.sleep(2)
        figures.doctor.append(f"{len(recovered)} recovered actions listed")
        for finding in left:
            kind = doctor_pb2.FindingKind.Name(finding.kind).removeprefix("FINDING_KIND_")
            line = f"{kind} {finding.resource}: {finding.reason} -> {finding.recovery}"
            figures.doctor.append(line)
            figures.problems.append(f"doctor lists {line}")
        missing = figures.interrupted_actions - recovered
        if missing:
            figures.problems.append(f"doctor does not list these interruptions: {sorted(missing)}")

    def _diagnose(self) -> tuple[set[str], list[doctor_pb2.Finding]]:
        api = self.cluster.running("api")[0]
        with grpc.insecure_channel(api.grpc_address) as channel:
            answer = doctor_pb2_grpc.DoctorServiceStub(channel).Diagnose(
                doctor_pb2.DiagnoseRequest(stuck_after_seconds=60), timeout=120
            )
        recovered = {
            f.resource.removeprefix("action_executions/")
            for f in answer.findings
            if f.kind == doctor_pb2.FINDING_KIND_ACTION_RECOVERED
        }
        left = [f for f in answer.findings if f.kind != doctor_pb2.FINDING_KIND_ACTION_RECOVERED]
        return recovered, left

    def _vary(self, plan: Plan, runner: LoadRunner, figures: Figures, stop, rng) -> None:
        cluster = self.cluster
        while not stop.wait(plan.fault_every) and not runner.done_starting.is_set():
            kind = rng.choice(CHANGING)
            live = cluster.running(kind)
            at = time.time()
            if len(live) > 1 and (len(live) >= 3 or rng.random() < 0.5):
                victim = rng.choice(live)
                code = cluster.stop(victim.name)
                fault = Fault(at, f"SIGTERM {victim.name} (exit {code})", time.time() - at)
                if code != 0:
                    figures.problems.append(f"{victim.name} exited with {code} on SIGTERM")
            else:
                added = cluster.add(kind)
                fault = Fault(at, f"added {added.name}", time.time() - at)
            figures.faults.append(fault)

    def _crash(self, plan: Plan, runner: LoadRunner, figures: Figures, stop, rng) -> None:
        cluster = self.cluster
        # Every kind in turn (in an order of the seed's), so a few faults hit each.
        kinds = itertools.cycle(rng.sample(CHANGING, len(CHANGING)))
        while not stop.wait(plan.fault_every) and not runner.done_starting.is_set():
            kind = next(kinds)
            live = cluster.running(kind)
            if len(live) < 2:
                continue
            victim = rng.choice(live)
            pid = victim.pid
            assert pid is not None
            at = time.time()
            cluster.kill(victim.name)
            self.killed_pids.add(pid)
            fault = Fault(at, f"SIGKILL {victim.name} (pid {pid})", kind=kind, pid=pid)
            figures.faults.append(fault)
            stop.wait(min(2.0, plan.fault_every / 2))
            cluster.restart(victim.name)
            fault.serving_at = time.time()

    def _outages(self, plan: Plan, runner: LoadRunner, figures: Figures, stop, rng) -> None:
        cluster = self.cluster
        # A JetStream cluster first loses one node (SIGKILL): the others carry on.
        dependencies = ["nats", "database"]
        if cluster.nats.nodes >= 3:
            dependencies.insert(0, "nats-node")
        for dependency in dependencies:
            stop.wait(plan.fault_every)
            watch = _Watch()
            at = time.time()
            if dependency == "nats-node":
                cluster.nats.stop(0, kill=True)
            elif dependency == "nats":
                cluster.nats.stop()
            else:
                assert cluster.postgres is not None
                cluster.postgres.stop(mode="fast")
            deadline = time.time() + plan.outage_seconds
            while time.time() < deadline:
                self._look(watch)
                time.sleep(0.5)
            self._look(watch)
            if dependency.startswith("nats"):
                cluster.nats.start()
            else:
                assert cluster.postgres is not None
                cluster.postgres.start()
            restored = time.time()
            fault = Fault(at, f"{dependency} away for {restored - at:.1f}s", restored_at=restored)
            figures.faults.append(fault)
            not_serving = {n for n, seen in watch.seen.items() if seen & {"NOT_SERVING"}}
            for service in cluster.running():
                expected = service.kind in NEEDS[dependency]
                if expected and service.name not in not_serving:
                    figures.problems.append(
                        f"{service.name} never reported NOT_SERVING while {dependency} was "
                        f"away (saw {sorted(watch.seen.get(service.name, ()))})"
                    )
            deadline = time.time() + 120
            while not self.all_serving() and time.time() < deadline:
                time.sleep(0.2)
            fault.serving_at = time.time()
            if not self.all_serving():
                figures.problems.append(f"not every service SERVING 120 s after {dependency}")

    def _look(self, watch: _Watch) -> None:
        for service in self.cluster.running():
            watch.seen.setdefault(service.name, set()).add(service.health())

    # -- figures --------------------------------------------------------------------

    def _settle_recoveries(self, figures: Figures, load: LoadResult, records: dict) -> None:
        assert self.database is not None
        for fault in figures.faults:
            if fault.recovered_after is not None:
                continue
            since = fault.restored_at or fault.at
            serving = fault.serving_at or since
            progress = min((t for t in load.finishes if t > since), default=None)
            if fault.kind == "executor":
                held = [a for a, run in records.items() if fault.pid in run["starts"]]
                settled = self._settled_at(held)
                if settled:
                    fault.recovered_after = max(settled) - fault.at
                    continue
            if progress is not None:
                fault.recovered_after = max(serving, progress) - since

    def _settled_at(self, action_ids: list[str]) -> list[float]:
        assert self.database is not None
        if not action_ids:
            return []
        table = models.ActionExecution
        with self.database.read() as session:
            rows = session.execute(
                select(table.updated_at).where(table.id.in_(action_ids), table.state != "RUNNING")
            ).all()
        return [row.updated_at.replace(tzinfo=UTC).timestamp() for row in rows if row.updated_at]
