"""What one expression evaluation may take: time and memory.

An expression is user code run inside the engine. A runaway one (a loop
over a billion items, a string repeated a billion times) must fail its task,
not stall or sink the engine:

- **Time**: `bounded(fn, ...)` runs an evaluation under a deadline. A single
  watchdog thread raises `ExpressionTimeout` inside the evaluating thread
  when the deadline passes (CPython's `PyThreadState_SetAsyncExc`, delivered
  between two bytecodes). Arming and disarming cost a lock and a dict entry.
  A deadline cannot interrupt one long C call; the memory limits keep those
  from being huge.
- **Memory**: YAQL's `memoryQuota` (the largest collection an expression may
  build), and in both languages a cap on repeating strings and lists and on
  the size of powers, checked before computing them.

The composition root sets the limits (`configure`); the defaults are those
of LEVANTE_EXPRESSION_TIMEOUT and LEVANTE_EXPRESSION_MEMORY_MB.
"""

from __future__ import annotations

import ctypes
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")

DEFAULT_TIMEOUT = 10.0
DEFAULT_MEMORY = 128 * 1024 * 1024


class ExpressionTimeout(Exception):
    """An expression ran past its deadline."""


class _Exhausted(BaseException):
    """Raised inside the evaluating thread; a BaseException so that no `except
    Exception` inside an expression library swallows it."""


@dataclass(slots=True)
class _Limits:
    timeout: float = DEFAULT_TIMEOUT
    memory: int = DEFAULT_MEMORY


LIMITS = _Limits()


def configure(*, timeout: float | None = None, memory: int | None = None) -> None:
    """Sets the limits of this process (0 turns one off)."""
    if timeout is not None:
        LIMITS.timeout = timeout
    if memory is not None:
        LIMITS.memory = memory
        from levante.expressions import yaql_engine

        yaql_engine.set_memory_quota(memory)


def check_repeat(item: Any, times: Any) -> None:
    """Refuses `item * times` (a string or list repeated) beyond the memory limit."""
    if LIMITS.memory <= 0 or not isinstance(times, int) or isinstance(times, bool):
        return
    if (
        isinstance(item, str | bytes | list | tuple)
        and len(item) * max(times, 0) * 8 > LIMITS.memory
    ):
        raise MemoryError(
            f"repeating a value of length {len(item)} {times} times would exceed the "
            f"expression memory limit ({LIMITS.memory} bytes)"
        )


def check_power(base: Any, exponent: Any) -> None:
    """Refuses `base ** exponent` on integers whose result would exceed the memory limit."""
    if LIMITS.memory <= 0 or not isinstance(base, int) or not isinstance(exponent, int):
        return
    if abs(base) > 1 and exponent > 0 and (abs(base).bit_length() * exponent) // 8 > LIMITS.memory:
        raise MemoryError(
            f"{base} ** {exponent} would exceed the expression memory limit ({LIMITS.memory} bytes)"
        )


class _Watchdog:
    """One thread that interrupts evaluations past their deadline."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._armed: dict[int, list[Any]] = {}  # token -> [thread id, deadline, fired]
        self._next = 0
        self._thread: threading.Thread | None = None
        # When the watchdog wakes next (None: only when told); arming a later
        # deadline, the usual case, needs no wake-up.
        self._sleeping_until: float | None = None

    def arm(self, deadline: float) -> int:
        with self._lock:
            self._next += 1
            token = self._next
            self._armed[token] = [threading.get_ident(), deadline, False]
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="levante-expression-watchdog", daemon=True
                )
                self._thread.start()
            if self._sleeping_until is None or deadline < self._sleeping_until:
                self._wake.notify()
            return token

    def disarm(self, token: int) -> None:
        with self._lock:
            entry = self._armed.pop(token, None)
            if entry is not None and entry[2]:
                # Fired but maybe not delivered yet: take the pending exception back.
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(entry[0]), None)

    def _run(self) -> None:
        with self._lock:
            while True:
                now = time.monotonic()
                waits = [e[1] - now for e in self._armed.values() if not e[2]]
                for entry in self._armed.values():
                    if not entry[2] and entry[1] <= now:
                        entry[2] = True  # at most once per evaluation
                        ctypes.pythonapi.PyThreadState_SetAsyncExc(
                            ctypes.c_ulong(entry[0]), ctypes.py_object(_Exhausted)
                        )
                pending = [w for w in waits if w > 0]
                wait = min(pending) if pending else None
                self._sleeping_until = None if wait is None else now + wait
                self._wake.wait(timeout=wait)


_WATCHDOG = _Watchdog()


def bounded(fn: Callable[..., T], *args: Any) -> T:
    """`fn(*args)` under the evaluation deadline; raises ExpressionTimeout past it."""
    timeout = LIMITS.timeout
    if timeout <= 0:
        return fn(*args)
    token = _WATCHDOG.arm(time.monotonic() + timeout)
    try:
        try:
            return fn(*args)
        finally:
            _WATCHDOG.disarm(token)
    except _Exhausted:
        _WATCHDOG.disarm(token)
        raise ExpressionTimeout(
            f"the expression took longer than {timeout:g} s (LEVANTE_EXPRESSION_TIMEOUT)"
        ) from None


__all__ = [
    "DEFAULT_MEMORY",
    "DEFAULT_TIMEOUT",
    "LIMITS",
    "ExpressionTimeout",
    "bounded",
    "check_power",
    "check_repeat",
    "configure",
]
