"""Schemathesis hooks for test_openapi.py (loaded through SCHEMATHESIS_HOOKS).

The fuzzer may run actions for real (`POST /v2/action_executions`,
`POST /levante/v2/actionExecutions`); with names it learns from the action
list it could make `std.http`, `std.ssh` or `std.email` reach arbitrary
hosts, or `std.sleep` and `std.async_noop` hold a request for a minute. Any
dotted action name there becomes `std.noop`: the endpoint is still fuzzed,
nothing leaves the machine.
"""

from __future__ import annotations

from typing import Any

import schemathesis

RUNS_ACTIONS = {("POST", "/v2/action_executions"), ("POST", "/levante/v2/actionExecutions")}
NAME_KEYS = ("name", "actionName", "action_name")


@schemathesis.hook
def before_call(ctx: Any, case: Any, **kwargs: Any) -> None:
    """Replaces the action name of action runs with `std.noop`."""
    operation = case.operation
    if (operation.method.upper(), operation.path) not in RUNS_ACTIONS:
        return
    if isinstance(case.body, dict):
        for key in NAME_KEYS:
            if isinstance(case.body.get(key), str) and "." in case.body[key]:
                case.body[key] = "std.noop"
