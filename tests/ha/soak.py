"""Runs the HA scenarios at full size, or as a soak of many rounds, and prints their figures.

    .venv/bin/python -m tests.ha.soak                       # each scenario once, full size
    .venv/bin/python -m tests.ha.soak --minutes 10          # rounds of every scenario for 10 min
    .venv/bin/python -m tests.ha.soak --scenarios crashes --executions 100 --nats-nodes 3

Full size is 300 executions at once for `stable`, and for the others a
continuous load of `--in-flight` executions while faults come every
`--fault-every` seconds for `--duration` seconds. It exits non-zero when
any execution was lost or ended wrong, or a non-idempotent action ran twice.
The cluster (2 of each service, PostgreSQL of its own, nats-server) lives in
a temporary directory, kept with `--keep` for its logs.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from tests.ha.harness import Harness, Plan
from tests.ha.verify import HEADER, Figures

SCENARIOS = ("stable", "variable", "crashes", "outages")


def plan_for(scenario: str, options: argparse.Namespace) -> Plan:
    """The scenario's size from the command line."""
    if scenario == "stable":
        return Plan(executions=options.executions, in_flight=options.executions)
    return Plan(
        executions=10**6,
        in_flight=options.in_flight,
        duration=options.duration,
        fault_every=options.fault_every,
        outage_seconds=options.outage_seconds,
    )


def failures(figures: Figures, scenario: str) -> list[str]:
    """What makes a scenario fail (the same rules as tests/ha/test_ha.py)."""
    found = list(figures.problems)
    if scenario != "crashes" and figures.interrupted:
        found.append(f"{figures.interrupted} executions interrupted without a crash")
    return found


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="python -m tests.ha.soak", description=__doc__)
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--minutes", type=float, default=0, help="repeat rounds this long")
    parser.add_argument("--executions", type=int, default=300, help="stable: executions at once")
    parser.add_argument("--in-flight", type=int, default=60, help="others: executions at once")
    parser.add_argument("--duration", type=float, default=90, help="others: seconds of load")
    parser.add_argument("--fault-every", type=float, default=5)
    parser.add_argument("--outage-seconds", type=float, default=10)
    parser.add_argument("--nats-nodes", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the cluster's directory")
    options = parser.parse_args(argv)
    scenarios = [s.strip() for s in options.scenarios.split(",") if s.strip()]
    unknown = set(scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios {sorted(unknown)}")
    root = Path(tempfile.mkdtemp(prefix="levante-ha-"))
    harness = Harness(root, nats_nodes=options.nats_nodes)
    results: list[Figures] = []
    bad: list[str] = []
    began = time.monotonic()
    try:
        harness.start()
        print(f"cluster up in {root}", flush=True)
        round_number = 0
        while True:
            round_number += 1
            for scenario in scenarios:
                figures = harness.run(scenario, plan_for(scenario, options), seed=round_number)
                results.append(figures)
                print(figures.report(), flush=True)
                bad += [
                    f"{scenario} round {round_number}: {p}" for p in failures(figures, scenario)
                ]
            if time.monotonic() - began >= options.minutes * 60:
                break
    finally:
        harness.close()
        if not options.keep:
            shutil.rmtree(root, ignore_errors=True)
    print(f"\n{HEADER}")
    for figures in results:
        print(figures.table_row())
    total = sum(f.executions for f in results)
    print(
        f"\n{len(results)} scenario runs, {total} executions in {time.monotonic() - began:.0f}s; "
        f"lost {sum(f.lost for f in results)}, wrong {sum(f.wrong for f in results)}, "
        f"duplicated non-idempotent runs {sum(f.duplicated_runs for f in results)}"
    )
    for problem in bad:
        print(f"FAIL {problem}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
