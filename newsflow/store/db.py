"""Engines and transactions. The caller (a route or a task) owns the transaction."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from sqlalchemy import Engine, create_engine
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
        _engines[key] = engine
    return engine


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
