"""Levante's Python client: the REST face, the event stream, and following executions.

    from levante.client import Client

    client = Client.from_env()                      # LEVANTE_URL, LEVANTE_GRPC, LEVANTE_TOKEN
    names = client.upload(open("hello.yaml").read())
    execution = client.rest.create_execution(names[0], {"who": "you"})
    final = client.wait(execution["id"])            # follows it to its end
    print(final["state"], final["output"])

`Client.rest` is the `RestClient` (every resource of Mistral's v2 face),
`Client.follow` yields an `ExecutionProgress` after every change (event
stream over gRPC or SSE, polling where the server offers neither).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from levante.client.events import DEFAULT_GRPC, WatchNotOfferedError, watch_execution
from levante.client.progress import TERMINAL, ExecutionProgress
from levante.client.rest import (
    DEFAULT_URL,
    RESOURCES,
    ClientError,
    ConnectionFailedError,
    NotFoundError,
    Resource,
    RestClient,
    resource,
)
from levante.client.watch import LockedProgress, follow

__all__ = [
    "DEFAULT_GRPC",
    "DEFAULT_URL",
    "RESOURCES",
    "TERMINAL",
    "Client",
    "ClientError",
    "ConnectionFailedError",
    "Definition",
    "ExecutionProgress",
    "LockedProgress",
    "NotFoundError",
    "Resource",
    "RestClient",
    "WatchNotOfferedError",
    "follow",
    "read_definition",
    "resource",
    "watch_execution",
]

#: Top-level keys of a standalone-workflows document that are not workflows.
_DOCUMENT_KEYS = frozenset({"version", "description", "tags"})


@dataclass(frozen=True, slots=True)
class Definition:
    """What a definition file holds: its workflows' names in order, and whether it is a workbook."""

    text: str
    workflows: tuple[str, ...]
    workbook: str | None = None


def read_definition(text: str) -> Definition:
    """Finds the workflows of a definition (standalone workflows or a workbook).

    Workbook workflows are named `<workbook>.<workflow>`, as the server names
    them. Raises ClientError when the text is not a YAML mapping; the server
    validates the rest.
    """
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ClientError(f"the definition is not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise ClientError("the definition must be a YAML mapping of workflows (version: '2.0')")
    name = data.get("name")
    if isinstance(name, str) and isinstance(data.get("workflows"), dict):
        return Definition(text, tuple(f"{name}.{wf}" for wf in data["workflows"]), workbook=name)
    names = tuple(
        str(k) for k, v in data.items() if k not in _DOCUMENT_KEYS and isinstance(v, dict)
    )
    return Definition(text, names)


class Client:
    """A Levante server as seen from a program: REST for resources, gRPC for events.

    Args:
        url: REST base (`http://127.0.0.1:8989/v2`).
        grpc: gRPC address (`127.0.0.1:50051`) for the event stream; None to
            use only REST (SSE or polling).
        token: Authentication token, when the server has authentication on.
    """

    def __init__(
        self, url: str = DEFAULT_URL, *, grpc: str | None = DEFAULT_GRPC, token: str | None = None
    ) -> None:
        self.rest = RestClient(url, token=token)
        self.grpc = grpc
        self.token = token

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        url: str | None = None,
        grpc: str | None = None,
        token: str | None = None,
    ) -> Client:
        """Arguments first, then LEVANTE_URL, LEVANTE_GRPC, LEVANTE_TOKEN, then the defaults."""
        env = os.environ if environ is None else environ
        return cls(
            url or env.get("LEVANTE_URL") or DEFAULT_URL,
            grpc=grpc or env.get("LEVANTE_GRPC") or DEFAULT_GRPC,
            token=token or env.get("LEVANTE_TOKEN") or None,
        )

    def upload(self, text: str, *, namespace: str = "") -> list[str]:
        """Creates or updates a definition's workflows (or workbook); returns their names."""
        definition = read_definition(text)
        if definition.workbook is not None:
            self.rest.upload_workbook(text, namespace=namespace)
            return list(definition.workflows)
        uploaded = self.rest.upload_workflows(text, namespace=namespace)
        stored = [w.get("name", "") for w in uploaded]
        return [n for n in definition.workflows if n in stored] or stored

    def follow(
        self, execution_id: str, *, progress: LockedProgress | None = None, poll: bool = False
    ) -> Iterator[LockedProgress]:
        """Follows an execution to its end (see `levante.client.watch.follow`)."""
        return follow(
            execution_id,
            rest=self.rest,
            grpc_address=self.grpc,
            token=self.token,
            progress=progress,
            poll=poll,
        )

    def wait(self, execution_id: str) -> dict[str, Any]:
        """Follows an execution until it ends; returns it as the REST face shows it."""
        for _ in self.follow(execution_id):
            pass
        return self.rest.execution(execution_id)
