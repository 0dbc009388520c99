"""ServicesService over the services of this process."""

from __future__ import annotations

from datetime import datetime

import pytest

from levante.api.rest_extras import service_json
from levante.api.system import LocalServices, ServicesServicer, kind_name
from levante.errors import InputError
from levante.v2 import service_pb2

STARTED = datetime(2026, 1, 1, 12, 0, 0)


def _servicer(kinds: tuple[str, ...], target: str | None = None) -> ServicesServicer:
    local = LocalServices(kinds, executor_target=target, host="h1", pid=42, started_at=STARTED)
    return ServicesServicer(local)


async def test_lists_this_process_services_in_a_fixed_order() -> None:
    servicer = _servicer(("scheduler", "executor", "api", "engine"), target="gpu")
    answer = await servicer.ListServices(service_pb2.ListServicesRequest(), None)
    assert [(s.name, kind_name(s.kind), s.executor_target) for s in answer.services] == [
        ("services/api/h1_42", "api", ""),
        ("services/engine/h1_42", "engine", ""),
        ("services/executor/h1_42", "executor", "gpu"),
        ("services/scheduler/h1_42", "scheduler", ""),
    ]
    assert answer.services[0].start_time.ToDatetime() == STARTED
    assert [service_json(s) for s in answer.services[:2]] == [
        {"name": "h1_42", "type": "api_group"},
        {"name": "h1_42", "type": "engine_group"},
    ]


async def test_pages() -> None:
    servicer = _servicer(("api", "engine", "executor"))
    first = await servicer.ListServices(service_pb2.ListServicesRequest(page_size=2), None)
    assert len(first.services) == 2 and first.next_page_token == "2"
    rest = await servicer.ListServices(
        service_pb2.ListServicesRequest(page_size=2, page_token=first.next_page_token), None
    )
    assert [kind_name(s.kind) for s in rest.services] == ["executor"]
    assert rest.next_page_token == ""
    with pytest.raises(InputError, match="page_token"):
        await servicer.ListServices(service_pb2.ListServicesRequest(page_token="x"), None)
    with pytest.raises(InputError, match="page_size"):
        await servicer.ListServices(service_pb2.ListServicesRequest(page_size=-1), None)
