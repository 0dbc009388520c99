"""High availability, short form: the four scenarios of tests/ha/harness.py on one cluster.

2 api, 2 engine, 2 executor and 2 scheduler processes on a PostgreSQL of
their own and a nats-server, under a load of the reference shapes. Every
execution must end as its shape says (or, in the crash scenario only, in
ERROR because an action that is not `safe-rerun` was caught mid-run on a
killed executor), none may be lost, no action that is not `safe-rerun` may
start twice, and the services must report NOT_SERVING while the broker or
the database is away. The figures are printed for every scenario;
`python -m tests.ha.soak` runs the full size.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.ha.harness import Harness, Plan
from tests.ha.verify import Figures

PLANS = {
    "stable": Plan(executions=60, in_flight=60),
    "variable": Plan(executions=10_000, in_flight=20, duration=24, fault_every=3),
    "crashes": Plan(executions=10_000, in_flight=20, duration=24, fault_every=4),
    "outages": Plan(executions=10_000, in_flight=20, duration=30, outage_seconds=10, fault_every=4),
}


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    built = Harness(tmp_path_factory.mktemp("ha"))
    try:
        built.start()
        yield built
    finally:
        built.close()


@pytest.mark.parametrize("scenario", list(PLANS))
def test_scenario(harness: Harness, scenario: str, capsys: pytest.CaptureFixture[str]) -> None:
    figures = harness.run(scenario, PLANS[scenario], seed=7)
    with capsys.disabled():
        print(f"\n{figures.report()}")
    check(figures, scenario)


def check(figures: Figures, scenario: str) -> None:
    """The scenario's rules, with every problem named in the failure."""
    report = figures.report()
    assert figures.problems == [], report
    assert (figures.lost, figures.wrong, figures.duplicated_runs) == (0, 0, 0), report
    ended = figures.succeeded + figures.failed_as_expected + figures.interrupted
    assert ended == figures.executions >= 20, report
    # One shape in six fails on purpose.
    assert figures.failed_as_expected >= figures.executions // 6 - 1, report
    if scenario == "crashes":
        assert len(figures.faults) >= 2, report
    else:
        assert figures.interrupted == 0, report
    if scenario == "outages":
        assert [f.what.split()[0] for f in figures.faults] == ["nats", "database"], report
    if scenario == "variable":
        assert len(figures.faults) >= 3, report
