"""Levante's standard actions, under Mistral's names."""

from __future__ import annotations

from collections.abc import Callable

from levante.actions.base import Action
from levante.actions.std.basic import (
    AsyncNoOpAction,
    EchoAction,
    FailAction,
    NoOpAction,
    SleepAction,
    TestDictAction,
)
from levante.actions.std.email import SendEmailAction
from levante.actions.std.http import HttpAction, MistralHttpAction
from levante.actions.std.javascript import JavaScriptAction
from levante.actions.std.netguard import NetworkPolicy
from levante.actions.std.ssh import SSHAction, SSHProxiedAction

#: Standard action name -> class.
STANDARD_ACTIONS: dict[str, type[Action]] = {
    "std.noop": NoOpAction,
    "std.async_noop": AsyncNoOpAction,
    "std.echo": EchoAction,
    "std.fail": FailAction,
    "std.sleep": SleepAction,
    "std.test_dict": TestDictAction,
    "std.http": HttpAction,
    "std.mistral_http": MistralHttpAction,
    "std.email": SendEmailAction,
    "std.ssh": SSHAction,
    "std.ssh_proxied": SSHProxiedAction,
    "std.javascript": JavaScriptAction,
    "std.js": JavaScriptAction,
}


def standard_actions(
    *, network: NetworkPolicy
) -> dict[str, tuple[type[Action], Callable[[], Action]]]:
    """Standard action name -> (class, factory making an instance with its dependencies)."""
    found: dict[str, tuple[type[Action], Callable[[], Action]]] = {}
    for name, cls in STANDARD_ACTIONS.items():
        factory: Callable[[], Action] = cls
        if issubclass(cls, HttpAction):
            factory = _with_network(cls, network)
        found[name] = (cls, factory)
    return found


def _with_network(cls: type[HttpAction], network: NetworkPolicy) -> Callable[[], Action]:
    def make() -> Action:
        return cls(network=network)

    return make


__all__ = ["STANDARD_ACTIONS", "NetworkPolicy", "standard_actions"]
