"""std.javascript (alias std.js): evaluates JavaScript in an embedded V8 (PyPI's mini-racer).

As in Mistral, `script` is the body of a function (it `return`s the result)
and `context` is bound to `$`. Each run gets a fresh V8 context (no state
leaks between runs) in the executor's thread pool; a script that runs longer
than `TIME_LIMIT_SECONDS` is stopped.
"""

from __future__ import annotations

import json
from typing import Any

from levante.actions.base import REQUIRED, Action
from levante.actions.context import ActionContext
from levante.actions.results import ActionError

#: Longest a script may run; a runaway loop must not hold a pool thread forever.
TIME_LIMIT_SECONDS = 300.0

_WRAPPER = """\
var $ = {context};
(function () {{
  var result = (function () {{
{script}
  }})();
  return result === undefined ? null : JSON.stringify(result);
}})()
"""


class JavaScriptAction(Action):
    """Evaluates JavaScript: `script` is a function body, `context` is available to it as `$`."""

    # The input is named `context` (Mistral's name), so it cannot be a keyword
    # parameter of run() beside the action context: declare it here instead.
    parameters = {"script": REQUIRED, "context": None}
    time_limit_seconds: float = TIME_LIMIT_SECONDS

    def run(self, action_context: ActionContext, **action_input: Any) -> Any:
        from py_mini_racer import JSEvalException, JSTimeoutException, MiniRacer

        try:
            data = json.dumps(action_input["context"])
        except (TypeError, ValueError) as error:
            raise ActionError(f"JavaScriptAction failed: context is not JSON: {error}") from error
        source = _WRAPPER.format(context=data, script=action_input["script"])
        engine = MiniRacer()
        try:
            text = engine.eval(source, timeout_sec=self.time_limit_seconds)
        except JSTimeoutException as error:
            raise ActionError(
                f"JavaScriptAction failed: the script ran longer than {self.time_limit_seconds} s"
            ) from error
        except JSEvalException as error:
            raise ActionError(f"JavaScriptAction failed: {error}") from error
        finally:
            engine.close()
        # The wrapper returns JSON text, or null when the script returned nothing.
        return json.loads(text) if isinstance(text, str) else None

    def test(self, action_context: ActionContext, **action_input: Any) -> Any:
        return action_input.get("script")
