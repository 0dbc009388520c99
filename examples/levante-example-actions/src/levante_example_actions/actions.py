"""Two custom actions showing the parts of the levante.actions API.

- `example.greet` is asynchronous Python (`async def run`): it reads the
  action context (workflow, custom context) and reuses a standard action
  through `context.call_action`.
- `example.checksum` is blocking (`def run`): it runs in the executor's
  thread pool, marks a parameter secret, and fails with `ActionError`.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from levante.actions import Action, ActionContext, ActionError, Failure, secret


class GreetAction(Action):
    """Greets `name`, saying which workflow asked; echoes the correlation id if there is one."""

    async def run(self, context: ActionContext, *, name: str, greeting: str = "Hello") -> Any:
        if not name.strip():
            raise ActionError("example.greet: name must not be empty")
        # Reuse another action as a workflow task would: validated input,
        # same context, a Success / Failure / Pending back.
        echoed = await context.call_action("std.echo", {"output": f"{greeting}, {name}!"})
        if isinstance(echoed, Failure):
            return echoed
        return {
            "message": echoed.value,
            "workflow": context.execution.workflow_name or None,
            "correlation_id": context.custom_context.get("correlation_id"),
        }


@secret("key")
class ChecksumAction(Action):
    """Returns the hex digest of `text` (an HMAC when a secret `key` is given)."""

    def run(
        self, context: ActionContext, *, text: str, algorithm: str = "sha256", key: str = ""
    ) -> str:
        if algorithm not in hashlib.algorithms_available:
            raise ActionError(f"example.checksum: unknown algorithm {algorithm!r}")
        data = text.encode()
        if key:
            return hmac.new(key.encode(), data, algorithm).hexdigest()
        return hashlib.new(algorithm, data).hexdigest()
