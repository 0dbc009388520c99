"""Levante's custom-action API (stable): write actions, run them through a catalogue.

A custom action is an `Action` subclass whose `run` receives an
`ActionContext` and the input as keyword arguments:

    from levante.actions import Action, ActionContext, ActionError, secret

    @secret("token")
    class Deploy(Action):
        \"\"\"Deploys a build.\"\"\"

        async def run(self, context: ActionContext, *, build: str, token: str, dry: bool = False):
            if not build:
                raise ActionError("build is empty")
            echoed = await context.call_action("std.echo", {"output": build})
            return {"build": echoed.value, "by": context.security.user}

and is published as an entry point in the group `levante.actions`, named
after the action (see `levante.actions.catalogue`). Everything importable
from this module is the public API; the submodules' other names are not.
"""

from levante.actions.base import (
    MASK,
    REQUIRED,
    Action,
    InvalidInputError,
    Parameter,
    Signature,
    mask,
    scrub,
    secret,
    secret_values,
)
from levante.actions.catalogue import (
    ENTRY_POINT_GROUP,
    PACKS_VARIABLE,
    ActionCatalogue,
    CatalogueEntry,
)
from levante.actions.context import (
    MAX_CALL_DEPTH,
    ActionContext,
    ExecutionContext,
    SecurityContext,
)
from levante.actions.results import ActionError, Failure, Outcome, Pending, Result, Success
from levante.actions.std.netguard import ALLOWED_HOSTS_VARIABLE, NetworkPolicy

__all__ = [
    "ALLOWED_HOSTS_VARIABLE",
    "ENTRY_POINT_GROUP",
    "MASK",
    "MAX_CALL_DEPTH",
    "PACKS_VARIABLE",
    "REQUIRED",
    "Action",
    "ActionCatalogue",
    "ActionContext",
    "ActionError",
    "CatalogueEntry",
    "ExecutionContext",
    "Failure",
    "InvalidInputError",
    "NetworkPolicy",
    "Outcome",
    "Parameter",
    "Pending",
    "Result",
    "SecurityContext",
    "Signature",
    "Success",
    "mask",
    "scrub",
    "secret",
    "secret_values",
]
