"""Cron arithmetic with a fake clock: patterns, time zones, first times, missed fire times."""

from __future__ import annotations

from datetime import datetime

import pytest

from levante import cron
from levante.errors import InputError
from levante.persistence import models
from levante.persistence.triggers import claim_due

NOW = datetime(2026, 3, 28, 22, 30, 0)  # UTC; Europe/Madrid moves to summer time next night


@pytest.mark.parametrize(
    ("pattern", "timezone", "expected"),
    [
        ("0 0 * * *", "", datetime(2026, 3, 29, 0, 0)),
        ("*/5 * * * *", "", datetime(2026, 3, 28, 22, 35)),
        ("0 9 * * *", "Europe/Madrid", datetime(2026, 3, 29, 7, 0)),  # 09:00 CEST
        ("0 9 * * *", "America/New_York", datetime(2026, 3, 29, 13, 0)),  # 09:00 EDT
        ("* * * * * */10", "", datetime(2026, 3, 28, 22, 30, 10)),
    ],
    ids=["midnight", "every-5-min", "madrid", "new-york", "seconds-field"],
)
def test_next_fire(pattern: str, timezone: str, expected: datetime) -> None:
    assert cron.next_fire(pattern, NOW, timezone=timezone) == expected


def test_bad_inputs_are_named() -> None:
    with pytest.raises(InputError, match="The specified pattern is not valid: every minute"):
        cron.validate_pattern("every minute")
    with pytest.raises(InputError, match="Unknown time zone: 'Mars/Olympus'"):
        cron.zone("Mars/Olympus")
    with pytest.raises(InputError, match="at least 1 minute in the future"):
        cron.check_first_time(NOW, NOW)
    with pytest.raises(InputError, match="Invalid time"):
        cron.parse_time("tomorrow")
    assert cron.parse_time("2026-03-29 10:00") == datetime(2026, 3, 29, 10, 0)
    assert cron.parse_time("2026-03-29T12:00:00+02:00") == datetime(2026, 3, 29, 10, 0)


class _Session:
    """Just enough of a Session for claim_due: the due rows, and what was deleted."""

    def __init__(self, rows: list[models.CronTrigger]) -> None:
        self.rows = rows
        self.deleted: list[models.CronTrigger] = []

    def scalars(self, _statement: object) -> _Session:
        return self

    def all(self) -> list[models.CronTrigger]:
        return self.rows

    def delete(self, row: models.CronTrigger) -> None:
        self.deleted.append(row)


def _trigger(pattern: str, due: datetime, remaining: int | None) -> models.CronTrigger:
    return models.CronTrigger(
        id="t",
        name="t",
        pattern=pattern,
        timezone="",
        next_execution_time=due,
        remaining_executions=remaining,
    )


def test_missed_fire_times_fire_once_then_the_next_is_in_the_future() -> None:
    trigger = _trigger("*/5 * * * *", datetime(2026, 3, 28, 10, 0), None)  # 12 hours late
    fired: list[datetime] = []
    session = _Session([trigger])
    claim_due(
        session,
        now=NOW,
        limit=10,
        lock=False,  # type: ignore[arg-type]
        fired=lambda _t, due: fired.append(due),
    )
    assert fired == [datetime(2026, 3, 28, 10, 0)]
    assert trigger.next_execution_time == datetime(2026, 3, 28, 22, 35)
    assert session.deleted == []


def test_the_last_remaining_run_deletes_the_trigger() -> None:
    counted = _trigger("*/5 * * * *", NOW, 1)
    once = _trigger(cron.ONCE_PATTERN, NOW, None)
    session = _Session([counted, once])
    claim_due(
        session,
        now=NOW,
        limit=10,
        lock=False,  # type: ignore[arg-type]
        fired=lambda _t, _due: None,
    )
    assert session.deleted == [counted, once]
