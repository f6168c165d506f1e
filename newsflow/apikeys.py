"""API keys: their format, hashing, scopes, and the Redis mirror of the active ones.

A key is ``nf_<id>_<secret>``: ``id`` is 12 hex characters, not secret, shown by
``newsflow keys list`` and used to revoke the key and to count its rate limit; ``secret``
is ``secrets.token_urlsafe(32)`` (256 bits). The key is shown once, when it is created;
PostgreSQL (``newsflow.api_keys``, the source of truth) keeps only the SHA-256 of the whole
key. A plain hash is enough for 256-bit random secrets (there is nothing to brute-force, so
no slow hash and no server-side pepper to manage).

A key belongs to an ``owner`` (``newsflow keys create --owner``; by default the key's own
id): the idempotency claims a submission makes (Idempotency-Key, source + external_id) are
per owner, so keys of one owner deduplicate together and nothing of one owner's claims
answers another's (``api/intake.py``). Reads are not scoped: a ``read`` key reads every
article.

Redis holds a mirror of the active keys, ``<prefix>api-key:<sha256>`` -> JSON
``{id, name, scopes, owner}``, written by ``newsflow keys create`` after the row is committed and
deleted by ``newsflow keys revoke`` after the revocation is committed (both fail loudly
when Redis cannot be updated; ``newsflow keys sync`` repairs it). The API reads the mirror,
so it verifies keys with Redis alone while PostgreSQL is down, and re-checks a mirrored key
in PostgreSQL once per cache window (see ``api/auth.py``). Only the CLI adds entries; the
API only deletes one PostgreSQL says is revoked or unknown, so a lookup racing a
revocation cannot bring a revoked key back.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import redis

from newsflow.settings import Settings

KEY_PREFIX = "nf_"
SCOPES = ("submit", "read", "admin")
ADMIN = "admin"

_KEY_RE = re.compile(r"^nf_([0-9a-f]{12})_[A-Za-z0-9_-]{20,128}$")
_OWNER_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# the owner of every submission while the API runs open (no keys): not a key's owner
ANONYMOUS_OWNER = "anonymous"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a verified key, or ``anonymous`` when the API runs open. ``owner``
    scopes its idempotency claims; empty means the key's own id."""

    id: str
    name: str
    scopes: frozenset[str] = field(default_factory=frozenset)
    owner: str = ""

    def __post_init__(self) -> None:
        if not self.owner:
            object.__setattr__(self, "owner", self.id)

    def allows(self, scope: str) -> bool:
        return ADMIN in self.scopes or scope in self.scopes

    def to_json(self) -> str:
        return json.dumps(
            {"id": self.id, "name": self.name, "scopes": sorted(self.scopes), "owner": self.owner}
        )

    @classmethod
    def from_json(cls, raw: bytes | str) -> Principal:
        data = json.loads(raw)
        # an entry mirrored before owners existed: its key's owner is its id (migration 0007)
        return cls(
            id=data["id"],
            name=data["name"],
            scopes=frozenset(data["scopes"]),
            owner=data.get("owner", ""),
        )


def generate_key() -> tuple[str, str]:
    """A new ``(key_id, key)``."""
    key_id = secrets.token_hex(6)
    return key_id, f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def looks_like_key(key: str) -> bool:
    """Anything else is refused without a lookup."""
    return _KEY_RE.match(key) is not None


def normalise_scopes(scopes: Iterable[str]) -> list[str]:
    result = sorted(set(scopes))
    unknown = [scope for scope in result if scope not in SCOPES]
    if unknown or not result:
        raise ValueError(f"scopes must be a non-empty subset of {SCOPES}, got {result}")
    return result


def normalise_owner(owner: str) -> str:
    owner = owner.strip()
    if not _OWNER_RE.match(owner) or owner == ANONYMOUS_OWNER:
        raise ValueError(
            f"an owner is 1-64 letters, digits, '.', '_' or '-', not {ANONYMOUS_OWNER!r}; "
            f"got {owner!r}"
        )
    return owner


def normalise_key_id(key_id: str) -> str:
    """Accept ``abcdef012345`` or ``nf_abcdef012345`` (as ``newsflow keys list`` shows)."""
    key_id = key_id.strip()
    return key_id[len(KEY_PREFIX) :] if key_id.startswith(KEY_PREFIX) else key_id


def mirror_key(settings: Settings, key_hash: str) -> str:
    return f"{settings.redis_key_prefix}api-key:{key_hash}"


def last_used_key(settings: Settings) -> str:
    """A hash: key id -> ISO time the API last (re)verified it."""
    return f"{settings.redis_key_prefix}api-keys:last-used"


def mirror(client: redis.Redis, settings: Settings, key_hash: str, principal: Principal) -> None:
    client.set(mirror_key(settings, key_hash), principal.to_json())


def unmirror(client: redis.Redis, settings: Settings, key_hash: str) -> None:
    client.delete(mirror_key(settings, key_hash))


def record_last_used(client: redis.Redis, settings: Settings, key_id: str) -> None:
    client.hset(last_used_key(settings), key_id, datetime.now(UTC).isoformat())


def read_last_used(client: redis.Redis, settings: Settings) -> dict[str, datetime]:
    raw = client.hgetall(last_used_key(settings))
    return {
        (k.decode() if isinstance(k, bytes) else str(k)): datetime.fromisoformat(
            v.decode() if isinstance(v, bytes) else str(v)
        )
        for k, v in raw.items()
    }
