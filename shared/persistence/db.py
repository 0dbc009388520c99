"""Database connections: SQLite (WAL) embedded, PostgreSQL in production.

Writes and reads use separate session factories. On SQLite a write
transaction starts with `BEGIN IMMEDIATE`, taking the database's single
writer lock up front: two writers can then never both read, then both try to
upgrade their lock and deadlock (SQLITE_BUSY mid-transaction). WAL lets
readers proceed meanwhile. On PostgreSQL, writers lock the root execution's
row explicitly (see `levante.persistence.repository`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session, sessionmaker

from levante.errors import InputError

_WRITE = "levante_write"


def normalize_url(url: str) -> str:
    """Selects the drivers Levante ships: psycopg 3 for PostgreSQL."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def sqlite_url(path: Path) -> str:
    """The URL of a SQLite database file."""
    return f"sqlite:///{path}"


class Database:
    """Owns the SQLAlchemy engine and hands out transactions."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = normalize_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        options: dict[str, Any] = {"echo": echo, "future": True}
        if self.is_sqlite:
            options["connect_args"] = {"check_same_thread": False, "timeout": 30}
            if ":memory:" in self.url or self.url in ("sqlite://", "sqlite:///"):
                raise ValueError(
                    "Levante needs a file database; in-memory SQLite is per connection"
                )
        else:
            # A connection attempt to an unreachable server fails after 10 s
            # instead of hanging (libpq waits forever by default).
            options.update(
                pool_size=10,
                max_overflow=20,
                pool_pre_ping=True,
                connect_args={"connect_timeout": 10},
            )
        self.engine: Engine = create_engine(self.url, **options)
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        self._writer = sessionmaker(
            bind=self.engine.execution_options(**{_WRITE: True}), expire_on_commit=False
        )
        self._reader = sessionmaker(bind=self.engine, expire_on_commit=False)

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A read-write transaction, committed when the block exits cleanly.

        Raises InputError for a value the database refuses (see `_refused`).
        """
        with _refused(), self._writer.begin() as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only transaction; InputError for a value the database refuses."""
        with _refused(), self._reader() as session, session.begin():
            yield session

    def dispose(self) -> None:
        """Closes every pooled connection."""
        self.engine.dispose()


@contextmanager
def _refused() -> Iterator[None]:
    """A value the database cannot hold (PostgreSQL's data exceptions, class 22) is bad input.

    E.g. a NUL character in a name or id: SQLite stores it, PostgreSQL refuses
    it; either way the caller gets an answer, not an internal error.
    """
    try:
        yield
    except DataError as error:
        raise InputError(f"A value cannot be stored or looked up: {error.orig}") from error


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN itself; pysqlite's
        # implicit transaction handling would defer it and pick the mode.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        write = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
