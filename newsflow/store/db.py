"""Engines and transactions. The caller (a route or a task) owns the transaction."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

import psycopg
from psycopg.adapt import Buffer, Loader
from psycopg.pq import Format
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection

from newsflow.settings import sqlalchemy_url

_engines: dict[tuple[int, str], Engine] = {}


def get_engine(database_url: str) -> Engine:
    """One engine per process and URL. Keyed by pid so a forked worker child never shares
    its parent's connections."""
    key = (os.getpid(), database_url)
    engine = _engines.get(key)
    if engine is None:
        engine = create_engine(
            sqlalchemy_url(database_url),
            pool_pre_ping=True,
            pool_size=5,
            max_overflow=10,
            pool_timeout=10,
            connect_args={"connect_timeout": 5, "application_name": "newsflow"},
        )
        event.listen(engine, "connect", _readable_dates)
        _engines[key] = engine
    return engine


# PostgreSQL stores dates from 4713 BC to 294276 AD, Python's run from year 1 to 9999: a
# stored value beyond them (one that entered before intake checked dates, or written by
# hand) is read as the nearest one Python has, instead of failing every read of its row
# (a page of articles, the change feed) for good. Intake keeps new ones in range
# (newsflow/dates.py).
_BOUNDS: dict[str, tuple[Any, Any]] = {
    "timestamptz": (datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)),
    "timestamp": (datetime.min, datetime.max),
    "date": (date.min, date.max),
}


def _readable_dates(dbapi_connection: Any, _: Any) -> None:
    adapters = dbapi_connection.adapters
    for name, (earliest, latest) in _BOUNDS.items():
        base = adapters.get_loader(adapters.types[name].oid, Format.TEXT)
        adapters.register_loader(name, _clamping(base, earliest, latest))


def _clamping(base: type[Loader], earliest: Any, latest: Any) -> type[Loader]:
    class Clamped(Loader):
        def __init__(self, oid: int, context: Any = None) -> None:
            super().__init__(oid, context)
            self._load = base(oid, context).load

        def load(self, data: Buffer) -> Any:
            try:
                return self._load(data)
            except psycopg.DataError:
                text = bytes(data)  # "-infinity", "0044-03-15 … BC", or too large
                return earliest if text.startswith(b"-") or text.endswith(b"BC") else latest

    return Clamped


@contextmanager
def transaction(database_url: str) -> Iterator[Connection]:
    """Commit when the block ends, roll back if it raises."""
    with get_engine(database_url).begin() as connection:
        yield connection


def driver_connection(connection: Connection) -> psycopg.Connection[Any]:
    """The psycopg connection under a SQLAlchemy one, in the same transaction: for
    pipelines (many statements, one round trip) where SQLAlchemy has no API for them."""
    pg = connection.connection.driver_connection
    if not isinstance(pg, psycopg.Connection):
        raise TypeError(f"expected a psycopg connection, got {type(pg).__name__}")
    return pg


def dispose_engines() -> None:
    for engine in _engines.values():
        engine.dispose(close=False)
    _engines.clear()
