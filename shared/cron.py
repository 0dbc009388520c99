"""Cron arithmetic for triggers (croniter), pure and time-zone aware.

Patterns have 5 fields, or 6 with seconds last (croniter's extension). Times
are stored as naive UTC; a trigger's `timezone` says in which zone its
pattern is read (`0 9 * * *` in Europe/Madrid fires at 09:00 there).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from levante.errors import InputError

#: Stored for a trigger created without a pattern (it fires once); Mistral's value.
ONCE_PATTERN = "0 0 30 2 0"


def validate_pattern(pattern: str) -> None:
    """Raises InputError with Mistral's message for an invalid pattern."""
    if not croniter.is_valid(pattern):
        raise InputError(f"The specified pattern is not valid: {pattern}")


def zone(name: str | None) -> ZoneInfo:
    """The time zone of `name` (UTC when empty); raises InputError naming a bad one."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise InputError(f"Unknown time zone: {name!r}") from error


def next_fire(pattern: str, after: datetime, *, timezone: str | None = None) -> datetime:
    """The first fire time strictly after `after` (naive UTC in, naive UTC out)."""
    tz = zone(timezone)
    local = after.replace(tzinfo=UTC).astimezone(tz)
    following = croniter(pattern, local).get_next(datetime)
    return following.astimezone(UTC).replace(tzinfo=None)


def check_first_time(first: datetime, now: datetime) -> None:
    """Mistral requires the first execution time to be at least a minute ahead."""
    if first < now + timedelta(minutes=1):
        raise InputError("first_execution_time must be at least 1 minute in the future.")


def parse_time(text: str) -> datetime:
    """Parses `YYYY-MM-DD HH:MM[:SS]` (Mistral's format, UTC) or ISO 8601."""
    for layout in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(text, layout)
        except ValueError:
            pass
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as error:
        raise InputError(f"Invalid time {text!r}: use YYYY-MM-DD HH:MM") from error
    return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed
