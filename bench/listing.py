"""Listing benchmark: pages of executions stay constant-time as the table grows.

    .venv/bin/python bench/listing.py [--rows 100000] [--page 100]
        [--database-url postgresql://...] [--sample 25]

Fills a fresh database (SQLite in a temporary directory unless
--database-url names an empty PostgreSQL database) with --rows workflow
executions, then walks the whole list the way `GET /v2/executions` does,
page after page of --page rows with the previous page's last id as the
marker (keyset paging: no OFFSET). It prints how long pages took near the
start, the middle and the end of the list, and the ratio of the last pages'
median to the first pages'. Constant time per page means a ratio near 1.

The measured call is the repository's `list_executions` (what both REST
faces and gRPC call), newest-first as `sort_dirs=desc` asks and oldest-first
(Mistral's default), plus one filtered walk (`state=SUCCESS`).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from levante.listing import Filter, Order
from levante.persistence import models
from levante.persistence.db import Database
from levante.persistence.migrate import upgrade
from levante.persistence.repository import ListQuery, Repository

CHUNK = 5_000


def fill(database: Database, rows: int) -> None:
    """Inserts `rows` finished executions, one second apart, in chunks."""
    start = datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=rows)
    table = models.WorkflowExecution.__table__
    with database.write() as session:
        connection = session.connection()
        for first in range(0, rows, CHUNK):
            batch = []
            for n in range(first, min(rows, first + CHUNK)):
                created = start + timedelta(seconds=n)
                batch.append(
                    {
                        "id": str(uuid.uuid4()),
                        "workflow_id": "bench-workflow",
                        "workflow_name": "bench",
                        "workflow_namespace": "",
                        "definition": "",
                        "description": "",
                        "tags": [],
                        "params": {},
                        "input": {"n": n},
                        "output": {},
                        "context": {},
                        "published_global": {},
                        "custom_context": {},
                        "version": 1,
                        "adhoc_actions": {},
                        "state": "SUCCESS" if n % 4 else "ERROR",
                        "state_info": None,
                        "task_execution_id": None,
                        "root_execution_id": None,
                        "scope": "private",
                        "project_id": models.DEFAULT_PROJECT,
                        "created_at": created,
                        "updated_at": created,
                    }
                )
            connection.execute(table.insert(), batch)


def walk(repository: Repository, query: ListQuery) -> list[float]:
    """Seconds per page, following markers to the end of the list."""
    timings: list[float] = []
    marker = None
    while True:
        started = time.perf_counter()
        page = repository.list_executions(
            ListQuery(filters=query.filters, order=query.order, limit=query.limit, marker=marker)
        )
        timings.append(time.perf_counter() - started)
        marker = page.next_marker
        if marker is None:
            return timings


def report(label: str, timings: list[float], sample: int) -> None:
    head = timings[:sample]
    middle_at = len(timings) // 2
    middle = timings[middle_at - sample // 2 : middle_at + sample // 2]
    tail = timings[-sample:]

    def ms(values: list[float]) -> str:
        return f"{statistics.median(values) * 1000:7.2f}"

    ratio = statistics.median(tail) / statistics.median(head)
    print(
        f"| {label} | {len(timings)} | {ms(head)} | {ms(middle)} | {ms(tail)} | "
        f"{max(timings) * 1000:7.2f} | {ratio:4.2f} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--page", type=int, default=100)
    parser.add_argument("--sample", type=int, default=25, help="pages per position measured")
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: SQLite)")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        url = options.database_url or f"sqlite:///{Path(scratch) / 'listing.db'}"
        database = Database(url)
        upgrade(database)
        started = time.perf_counter()
        fill(database, options.rows)
        where = url.split("@")[-1]
        print(
            f"filled {options.rows} executions in {time.perf_counter() - started:.1f} s ({where})"
        )
        repository = Repository(database)
        print(
            "\n| walk | pages | first pages ms | middle pages ms | last pages ms | "
            "slowest ms | last / first |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|")
        walks = {
            "oldest first": ListQuery(limit=options.page),
            "newest first": ListQuery(
                order=(Order("created_at", descending=True),), limit=options.page
            ),
            "state=SUCCESS": ListQuery(
                filters=(Filter("state", "eq", "SUCCESS"),), limit=options.page
            ),
        }
        for label, query in walks.items():
            report(label, walk(repository, query), options.sample)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
