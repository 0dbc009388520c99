"""Task policies (retry, waits, timeout, pause, concurrency, fail-on,
safe-rerun), shared by tasks and the workflow's `task-defaults`."""

from __future__ import annotations

from typing import Any

from levante.language.report import Reporter
from levante.language.shorthand import ShorthandError, parse_parameters
from levante.language.source import child_path
from levante.language.spec import RetryPolicy

_RETRY_KEYS = frozenset({"count", "delay", "break-on", "continue-on"})

# Policy key -> TaskSpec field. Values are checked by `parse_policies`.
POLICY_FIELDS = {
    "retry": "retry",
    "wait-before": "wait_before",
    "wait-after": "wait_after",
    "timeout": "timeout",
    "pause-before": "pause_before",
    "concurrency": "concurrency",
    "fail-on": "fail_on",
    "safe-rerun": "safe_rerun",
}


def parse_policies(
    reporter: Reporter, raw: dict[str, Any], path: str, owner: str
) -> dict[str, Any]:
    """The policy keys present in `raw`, checked, as TaskSpec field values.

    Only keys that are present and valid appear in the result, so callers
    can tell "not set" (inherit from task-defaults) from "set".
    """
    fields: dict[str, Any] = {}
    for key, field_name in POLICY_FIELDS.items():
        if key not in raw:
            continue
        value, key_path = raw[key], child_path(path, key)
        what = f"'{key}' of {owner}"
        if key == "retry":
            checked = parse_retry(reporter, value, key_path, what)
        elif key in ("pause-before", "fail-on"):
            checked = reporter.boolean_or_expression(value, key_path, what)
        elif key == "safe-rerun":
            checked = reporter.boolean_or_expression(value, key_path, what)
        else:
            checked = reporter.count_or_expression(value, key_path, what)
        if checked is not None:
            fields[field_name] = checked
    return fields


def parse_retry(reporter: Reporter, value: Any, path: str, what: str) -> RetryPolicy | None:
    """A `retry` mapping, or its one-line form `count=3 delay=1 break-on=<% ... %>`."""
    if isinstance(value, str) and value.strip():
        try:
            value = parse_parameters(value, context=value)
        except ShorthandError as error:
            reporter.at_value(f"Invalid {what}: {error}", path)
            return None
    retry = reporter.mapping(value, path, what)
    if retry is None:
        return None
    reporter.unknown_keys(retry, _RETRY_KEYS, path, what)
    missing = [key for key in ("count", "delay") if key not in retry]
    if missing:
        reporter.at_value(f"{what} requires {' and '.join(map(repr, missing))}", path)
        return None
    count = reporter.count_or_expression(
        retry["count"], child_path(path, "count"), f"count in {what}"
    )
    delay = reporter.count_or_expression(
        retry["delay"], child_path(path, "delay"), f"delay in {what}"
    )
    conditions = {}
    for key in ("break-on", "continue-on"):
        if key in retry:
            conditions[key] = reporter.expression(
                retry[key], child_path(path, key), f"{key} in {what}"
            )
    if count is None or delay is None or None in conditions.values():
        return None
    return RetryPolicy(
        count=count,
        delay=delay,
        break_on=conditions.get("break-on"),
        continue_on=conditions.get("continue-on"),
    )
