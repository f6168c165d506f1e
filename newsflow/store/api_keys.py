"""SQL for API keys. Only the SHA-256 of a key is stored; the key itself is returned once,
by ``create_api_key``. See ``newsflow/apikeys.py`` for the format and the Redis mirror."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from newsflow.apikeys import (
    Principal,
    generate_key,
    hash_key,
    normalise_owner,
    normalise_scopes,
)


@dataclass(frozen=True)
class NewApiKey:
    id: str
    name: str
    scopes: list[str]
    owner: str
    created_at: datetime
    key: str  # the only copy: show it once, never store it
    key_hash: str

    @property
    def principal(self) -> Principal:
        return Principal(self.id, self.name, frozenset(self.scopes), self.owner)


def create_api_key(
    connection: Connection, *, name: str, scopes: Iterable[str], owner: str | None = None
) -> NewApiKey:
    """Insert a new key and return it, with the plain key, this one time. Without an
    ``owner`` the key is its own owner (its id): it shares claims with no other key."""
    scope_list = normalise_scopes(scopes)
    key_id, key = generate_key()
    owner = key_id if owner is None else normalise_owner(owner)
    key_hash = hash_key(key)
    created_at = connection.execute(
        text(
            """
            INSERT INTO newsflow.api_keys (id, name, key_hash, scopes, owner)
            VALUES (:id, :name, :key_hash, :scopes, :owner)
            RETURNING created_at
            """
        ),
        {"id": key_id, "name": name, "key_hash": key_hash, "scopes": scope_list, "owner": owner},
    ).scalar_one()
    return NewApiKey(key_id, name, scope_list, owner, created_at, key, key_hash)


def _principal(row: Any) -> Principal:
    return Principal(row.id, row.name, frozenset(row.scopes), row.owner)


def find_active_key(connection: Connection, key_hash: str) -> Principal | None:
    row = connection.execute(
        text(
            """
            SELECT id, name, scopes, owner FROM newsflow.api_keys
            WHERE key_hash = :key_hash AND revoked_at IS NULL
            """
        ),
        {"key_hash": key_hash},
    ).one_or_none()
    return None if row is None else _principal(row)


def list_api_keys(connection: Connection) -> list[dict[str, Any]]:
    rows = connection.execute(
        text(
            """
            SELECT id, name, scopes, owner, created_at, revoked_at
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
        text(
            "SELECT key_hash, id, name, scopes, owner FROM newsflow.api_keys"
            " WHERE revoked_at IS NULL"
        )
    )
    return {row.key_hash: _principal(row) for row in rows}
