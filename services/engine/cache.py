"""A cache of execution states between transactions, checked against a version.

Loading an execution reads its row, all its task rows and all its action
rows: with the rows of a long workflow growing, every event would cost more
than the last. Every save bumps the execution row's `version`; a state kept
here is reused only while the row still has the version it was saved with,
so a change by another engine process (or anything else that bumps the
version) is always seen. States are immutable values, shared safely.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from levante.engine.state import ExecutionState


class StateCache:
    """Recently saved execution states, by id, with the version they were saved as."""

    def __init__(self, *, size: int = 2000) -> None:
        self._size = size
        self._states: OrderedDict[str, tuple[int, ExecutionState]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, execution_id: str, version: int) -> ExecutionState | None:
        """The cached state, if it was saved as `version`."""
        with self._lock:
            found = self._states.get(execution_id)
            if found is None or found[0] != version:
                return None
            self._states.move_to_end(execution_id)
            return found[1]

    def put(self, entries: list[tuple[str, int, ExecutionState]]) -> None:
        """Remembers states a committed transaction saved."""
        with self._lock:
            for execution_id, version, state in entries:
                self._states[execution_id] = (version, state)
                self._states.move_to_end(execution_id)
            while len(self._states) > self._size:
                self._states.popitem(last=False)
