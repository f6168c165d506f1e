"""SQL for API keys. Only the SHA-256 of a key is stored; the key itself is returned once,
by ``create_api_key``. See ``newsflow/apikeys.py`` for the format and the Redis mirror."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from newsflow.apikeys import Principal, generate_key, hash_key, normalise_scopes


@dataclass(frozen=True)
class NewApiKey:
    id: str
    name: str
    scopes: list[str]
    created_at: datetime
    key: str  # the only copy: show it once, never store it
    key_hash: str

    @property
    def principal(self) -> Principal:
        return Principal(id=self.id, name=self.name, scopes=frozenset(self.scopes))


def create_api_key(connection: Connection, *, name: str, scopes: Iterable[str]) -> NewApiKey:
    """Insert a new key and return it, with the plain key, this one time."""
    scope_list = normalise_scopes(scopes)
    key_id, key = generate_key()
    key_hash = hash_key(key)
    created_at = connection.execute(
        text(
            """
            INSERT INTO newsflow.api_keys (id, name, key_hash, scopes)
            VALUES (:id, :name, :key_hash, :scopes)
            RETURNING created_at
            """
        ),
        {"id": key_id, "name": name, "key_hash": key_hash, "scopes": scope_list},
    ).scalar_one()
    return NewApiKey(key_id, name, scope_list, created_at, key, key_hash)


def find_active_key(connection: Connection, key_hash: str) -> Principal | None:
    row = connection.execute(
        text(
            """
            SELECT id, name, scopes FROM newsflow.api_keys
            WHERE key_hash = :key_hash AND revoked_at IS NULL
            """
        ),
        {"key_hash": key_hash},
    ).one_or_none()
    if row is None:
        return None
    return Principal(id=row.id, name=row.name, scopes=frozenset(row.scopes))


def list_api_keys(connection: Connection) -> list[dict[str, Any]]:
    rows = connection.execute(
        text(
            """
            SELECT id, name, scopes, created_at, revoked_at
            FROM newsflow.api_keys ORDER BY created_at, id
            """
        )
    )
    return [dict(row._mapping) for row in rows]


def revoke_api_key(connection: Connection, key_id: str) -> str | None:
    """Mark the key revoked (keeping the first revocation time). Returns its hash, so the
    caller can drop it from the Redis mirror, or None if there is no such key."""
    key_hash: str | None = connection.execute(
        text(
            """
            UPDATE newsflow.api_keys SET revoked_at = coalesce(revoked_at, now())
            WHERE id = :id RETURNING key_hash
            """
        ),
        {"id": key_id},
    ).scalar_one_or_none()
    return key_hash


def active_keys(connection: Connection) -> dict[str, Principal]:
    """Every active key, by hash: what the Redis mirror should hold."""
    rows = connection.execute(
        text("SELECT key_hash, id, name, scopes FROM newsflow.api_keys WHERE revoked_at IS NULL")
    )
    return {
        row.key_hash: Principal(id=row.id, name=row.name, scopes=frozenset(row.scopes))
        for row in rows
    }
