"""Names a definition may use unqualified.

Inside a workbook, a task's `workflow:` / `action:` and an action's `base:`
may name the workbook's own workflows and actions by their local name
(`wf1` for `book.wf1`): as in Mistral, the workbook's definition wins over
a global one of the same name. The parser resolves those names, so specs
always carry the name to look up.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Scope:
    """The workbook prefix (`book.`) and the local names it qualifies;
    empty outside a workbook."""

    prefix: str = ""
    workflows: frozenset[str] = frozenset()
    actions: frozenset[str] = frozenset()

    def workflow(self, name: str) -> str:
        """The name to look a task's `workflow:` up by."""
        return self.prefix + name if name in self.workflows else name

    def action(self, name: str) -> str:
        """The name to look a task's `action:` (or an action's `base:`) up by."""
        return self.prefix + name if name in self.actions else name
