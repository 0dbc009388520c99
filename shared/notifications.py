"""Mistral's notifier: the `notify` param of an execution, its event names and payloads.

An execution started with params such as

    {"notify": [
        {"type": "webhook", "url": "https://hooks.example.com/x",
         "headers": {"X-Token": "..."}, "event_types": ["WORKFLOW_FAILED"]},
        {"type": "nats", "subject": "ops.workflows"}
    ]}

has every state change of itself and its sub-workflows (which inherit the
notify of the nearest ancestor that has one, as Mistral copies it into a
sub-workflow's params) announced to each target whose `event_types` (or
`events`) names the event; no list means every event. Event names and the
task-transition rules are Mistral's (`mistral.notifiers.notification_events`):
action executions are not announced. Delivery lives in
`levante.scheduler.notifier`; this module is pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from levante.errors import InputError

WORKFLOW_LAUNCHED = "WORKFLOW_LAUNCHED"
WORKFLOW_SUCCEEDED = "WORKFLOW_SUCCEEDED"
WORKFLOW_FAILED = "WORKFLOW_FAILED"
WORKFLOW_CANCELLED = "WORKFLOW_CANCELLED"
WORKFLOW_PAUSED = "WORKFLOW_PAUSED"
WORKFLOW_RESUMED = "WORKFLOW_RESUMED"
TASK_LAUNCHED = "TASK_LAUNCHED"
TASK_SUCCEEDED = "TASK_SUCCEEDED"
TASK_FAILED = "TASK_FAILED"
TASK_CANCELLED = "TASK_CANCELLED"
TASK_PAUSED = "TASK_PAUSED"
TASK_RESUMED = "TASK_RESUMED"

WORKFLOW_EVENTS = (
    WORKFLOW_LAUNCHED,
    WORKFLOW_SUCCEEDED,
    WORKFLOW_FAILED,
    WORKFLOW_CANCELLED,
    WORKFLOW_PAUSED,
    WORKFLOW_RESUMED,
)
TASK_EVENTS = (
    TASK_LAUNCHED,
    TASK_SUCCEEDED,
    TASK_FAILED,
    TASK_CANCELLED,
    TASK_PAUSED,
    TASK_RESUMED,
)
EVENTS = frozenset(WORKFLOW_EVENTS + TASK_EVENTS)

#: Target types and the keys each takes.
_KEYS = {
    "webhook": frozenset({"type", "url", "headers", "event_types", "events"}),
    "nats": frozenset({"type", "subject", "event_types", "events"}),
    "noop": frozenset({"type", "event_types", "events"}),
}

# Mistral's TASK_STATE_TRANSITION_MAP: new state -> {old state: event}, "" for any other.
_TASK_TRANSITIONS: dict[str, dict[str, str]] = {
    "RUNNING": {
        "": TASK_LAUNCHED,
        "IDLE": TASK_RESUMED,
        "PAUSED": TASK_RESUMED,
        "WAITING": TASK_RESUMED,
    },
    "SUCCESS": {"": TASK_SUCCEEDED},
    "ERROR": {"": TASK_FAILED},
    "CANCELLED": {"": TASK_CANCELLED},
    "PAUSED": {"": TASK_PAUSED},
}
_WORKFLOW_FINAL = {
    "SUCCESS": WORKFLOW_SUCCEEDED,
    "ERROR": WORKFLOW_FAILED,
    "CANCELLED": WORKFLOW_CANCELLED,
    "PAUSED": WORKFLOW_PAUSED,
}


@dataclass(frozen=True, slots=True)
class Target:
    """Where notifications go: a webhook URL, a NATS subject, or nowhere (`noop`)."""

    type: str
    url: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    subject: str = ""
    #: The events to send; None for all of them.
    event_types: frozenset[str] | None = None

    def wants(self, event: str) -> bool:
        """Whether this target takes `event`."""
        return self.event_types is None or event in self.event_types


def parse_targets(value: Any, *, where: str = "notify") -> tuple[Target, ...]:
    """The targets of a `notify` param; raises InputError naming what is wrong and where."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InputError(
            f"Invalid {where}: expected a list of targets such as "
            f'[{{"type": "webhook", "url": "https://..."}}], got {_kind(value)}'
        )
    return tuple(_target(item, f"{where}[{n}]") for n, item in enumerate(value))


def validate_params(params: Mapping[str, Any]) -> None:
    """Checks an execution's params' `notify`, if any; raises InputError."""
    if "notify" in params:
        parse_targets(params["notify"], where="params.notify")


def _target(item: Any, where: str) -> Target:
    if not isinstance(item, dict):
        raise InputError(f"Invalid {where}: expected an object, got {_kind(item)}")
    kind = item.get("type")
    if kind not in _KEYS:
        raise InputError(
            f"Invalid {where}.type: {kind!r}; expected one of {', '.join(sorted(_KEYS))}"
        )
    unknown = sorted(str(k) for k in item if k not in _KEYS[kind])
    if unknown:
        raise InputError(
            f"Invalid {where}: unknown key(s) {', '.join(unknown)} for a {kind} target "
            f"(allowed: {', '.join(sorted(_KEYS[kind]))})"
        )
    events = _event_types(item, where)
    if kind == "webhook":
        return Target(
            type=kind,
            url=_url(item.get("url"), f"{where}.url"),
            headers=_headers(item.get("headers"), f"{where}.headers"),
            event_types=events,
        )
    if kind == "nats":
        return Target(
            type=kind, subject=_subject(item.get("subject"), f"{where}.subject"), event_types=events
        )
    return Target(type=kind, event_types=events)


def _event_types(item: dict[str, Any], where: str) -> frozenset[str] | None:
    if "event_types" in item and "events" in item:
        raise InputError(f"Invalid {where}: give event_types or events, not both")
    key = "event_types" if "event_types" in item else "events"
    value = item.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"Invalid {where}.{key}: expected a list of event names")
    unknown = sorted(set(value) - EVENTS)
    if unknown:
        raise InputError(
            f"Invalid {where}.{key}: unknown event(s) {', '.join(unknown)}; "
            f"expected some of {', '.join(WORKFLOW_EVENTS + TASK_EVENTS)}"
        )
    return frozenset(value) or None


def _url(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise InputError(f"Invalid {where}: a webhook target needs a url (http or https)")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as error:
        raise InputError(f"Invalid {where}: {value!r} is not a URL ({error})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"Invalid {where}: {value!r} is not an http or https URL with a host")
    return value


def _headers(value: Any, where: str) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and k and isinstance(v, str) for k, v in value.items()
    ):
        raise InputError(f"Invalid {where}: expected an object of header names to text values")
    if any(ch in k + v for k, v in value.items() for ch in "\r\n"):
        raise InputError(f"Invalid {where}: header names and values may not contain newlines")
    return tuple(value.items())


def _subject(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise InputError(f"Invalid {where}: a nats target needs a subject")
    tokens = value.split(".")
    if any(not t or t in ("*", ">") or any(c.isspace() for c in t) for t in tokens):
        raise InputError(
            f"Invalid {where}: {value!r} is not a NATS subject to publish to "
            "(dot-separated tokens, no spaces or wildcards)"
        )
    return value


def _kind(value: Any) -> str:
    return {dict: "an object", str: "a string", list: "a list"}.get(
        type(value), type(value).__name__
    )


def workflow_event(old_state: str, new_state: str) -> str | None:
    """The notifier event of a workflow execution's state change, or None.

    Started is LAUNCHED, RUNNING again after PAUSED is RESUMED; a rerun
    (RUNNING again after a final state) is not announced, as in Mistral.
    """
    if new_state == "RUNNING":
        if old_state in ("", "IDLE"):
            return WORKFLOW_LAUNCHED
        return WORKFLOW_RESUMED if old_state == "PAUSED" else None
    return _WORKFLOW_FINAL.get(new_state)


def task_event(old_state: str, new_state: str) -> str | None:
    """The notifier event of a task execution's state change, or None (Mistral's table)."""
    options = _TASK_TRANSITIONS.get(new_state)
    if options is None:
        return None
    return options.get(old_state, options[""])


def _time(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else None


@dataclass(frozen=True, slots=True)
class ExecutionInfo:
    """What a payload tells about the workflow execution an event belongs to."""

    id: str
    workflow_id: str
    workflow_name: str
    workflow_namespace: str
    root_execution_id: str
    task_execution_id: str
    project_id: str
    created_at: datetime | None


def payload(
    event_name: str,
    *,
    entity_id: str,
    name: str,
    old_state: str,
    new_state: str,
    state_info: str,
    timestamp: datetime,
    execution: ExecutionInfo,
    parent_execution_id: str,
    is_workflow: bool,
) -> dict[str, Any]:
    """The JSON body sent for one event: Mistral's execution or task dict, plus the event.

    Mistral posts the execution's (or task's) fields; Levante adds `event`,
    `timestamp` and `old_state` so a receiver needs nothing else.
    """
    common = {
        "event": event_name,
        "timestamp": timestamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "id": entity_id,
        "name": name,
        "workflow_id": execution.workflow_id,
        "workflow_name": execution.workflow_name,
        "workflow_namespace": execution.workflow_namespace,
        "root_execution_id": execution.root_execution_id or execution.id,
        "old_state": old_state or None,
        "state": new_state,
        "state_info": state_info or None,
        "project_id": execution.project_id,
        "updated_at": _time(timestamp),
    }
    if is_workflow:
        return {
            **common,
            "task_execution_id": execution.task_execution_id or None,
            "parent_execution_id": parent_execution_id or None,
            "created_at": _time(execution.created_at),
        }
    return {**common, "workflow_execution_id": execution.id}
