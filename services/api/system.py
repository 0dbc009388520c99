"""levante.v2.ServicesService: which service processes the system knows of.

There is no cluster-wide registry of running processes yet, so the api
lists the services of its own process (`LocalServices`): everything in the
embedded system, only `api` when it runs alone. A registry (processes
announcing themselves with heartbeats) would be another `ServiceDirectory`.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from levante.api import convert
from levante.errors import InputError
from levante.messaging.outbox import utcnow
from levante.v2 import service_pb2, service_pb2_grpc

#: Order services are listed in (and Mistral's group names are built from).
KINDS = ("api", "engine", "executor", "scheduler")


@dataclass(frozen=True, slots=True)
class RunningService:
    """One service in one process."""

    kind: str
    host: str
    pid: int
    started_at: datetime
    executor_target: str = ""

    @property
    def instance(self) -> str:
        """The process, as Mistral names service members: `{host}_{pid}`."""
        return f"{self.host}_{self.pid}"


class ServiceDirectory(Protocol):
    """Where the list of running services comes from."""

    def services(self) -> list[RunningService]:
        """The running services."""
        ...


class LocalServices:
    """The services running in this process."""

    def __init__(
        self,
        kinds: tuple[str, ...],
        *,
        executor_target: str | None = None,
        host: str | None = None,
        pid: int | None = None,
        started_at: datetime | None = None,
    ) -> None:
        host = host or socket.gethostname()
        pid = pid or os.getpid()
        started_at = started_at or utcnow()
        self._services = [
            RunningService(
                kind=kind,
                host=host,
                pid=pid,
                started_at=started_at,
                executor_target=(executor_target or "") if kind == "executor" else "",
            )
            for kind in KINDS
            if kind in kinds
        ]

    def services(self) -> list[RunningService]:
        """The services of this process, in KINDS order."""
        return list(self._services)


def service_to_proto(service: RunningService) -> service_pb2.Service:
    """The public Service of a running service."""
    return service_pb2.Service(
        name=f"services/{service.kind}/{service.instance}",
        kind=service_pb2.ServiceKind.Value(f"SERVICE_KIND_{service.kind.upper()}"),
        instance=service.instance,
        host=service.host,
        pid=service.pid,
        executor_target=service.executor_target,
        start_time=convert.timestamp(service.started_at),
    )


def kind_name(kind: service_pb2.ServiceKind.ValueType) -> str:
    """SERVICE_KIND_ENGINE -> `engine`."""
    return service_pb2.ServiceKind.Name(kind).removeprefix("SERVICE_KIND_").lower()


class ServicesServicer(service_pb2_grpc.ServicesServiceServicer):
    """Lists the services of a ServiceDirectory."""

    def __init__(self, directory: ServiceDirectory) -> None:
        self._directory = directory

    async def ListServices(self, request: Any, context: Any) -> service_pb2.ListServicesResponse:
        if request.page_size < 0:
            raise InputError("page_size must not be negative")
        found = sorted(self._directory.services(), key=lambda s: (KINDS.index(s.kind), s.instance))
        start = _offset(request.page_token)
        end = start + request.page_size if request.page_size else len(found)
        return service_pb2.ListServicesResponse(
            services=[service_to_proto(s) for s in found[start:end]],
            next_page_token=str(end) if end < len(found) else "",
        )


def _offset(token: str) -> int:
    if not token:
        return 0
    if not token.isdigit():
        raise InputError(f"Invalid page_token {token!r}")
    return int(token)
