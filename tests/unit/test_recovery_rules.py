"""Recovery's timing from the environment, and the traces it and the executor leave."""

from __future__ import annotations

from datetime import datetime

import pytest

from levante.errors import InputError
from levante.recovery_rules import (
    INTERRUPTED,
    LOST,
    RESENT,
    RecoveryTiming,
    interrupted_message,
    lost_message,
    resent_note,
)


def test_timing_defaults_and_overrides() -> None:
    assert RecoveryTiming.from_env({}) == RecoveryTiming(after_seconds=120, interval_seconds=30)
    assert RecoveryTiming.from_env(
        {"LEVANTE_RECOVERY_AFTER_SECONDS": "20", "LEVANTE_RECOVERY_INTERVAL_SECONDS": "2.5"}
    ) == RecoveryTiming(after_seconds=20, interval_seconds=2.5)


@pytest.mark.parametrize("raw", ["soon", "0", "-3"])
def test_a_bad_timing_is_named(raw: str) -> None:
    with pytest.raises(InputError, match="LEVANTE_RECOVERY_AFTER_SECONDS"):
        RecoveryTiming.from_env({"LEVANTE_RECOVERY_AFTER_SECONDS": raw})


def test_the_traces_carry_their_marks() -> None:
    assert INTERRUPTED in interrupted_message("std.echo", "a1")
    assert "safe-rerun: false" in interrupted_message("std.echo", "a1")
    assert LOST in lost_message("std.echo", "a1") and "a1" in lost_message("std.echo", "a1")
    note = resent_note(datetime(2026, 1, 2, 3, 4, 5))
    assert note == f"{RESENT} at 2026-01-02T03:04:05Z: its work lost in a broker or database outage"
