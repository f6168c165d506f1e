"""`newsflow keys`: create, list, revoke and re-mirror API keys.

PostgreSQL (``newsflow.api_keys``) is the source of truth; each command then updates the
Redis mirror the API reads (see ``newsflow/apikeys.py`` and ``api/auth.py``). create,
revoke and sync need the mirror: when it cannot be updated they say so and exit 1, never
report a success the API does not see."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import click
import redis

from newsflow import redisconn
from newsflow.apikeys import (
    KEY_PREFIX,
    SCOPES,
    mirror,
    mirror_key,
    normalise_key_id,
    normalise_owner,
    read_last_used,
    unmirror,
)
from newsflow.settings import Settings
from newsflow.store import api_keys
from newsflow.store.db import get_engine, transaction


def _settings() -> Settings:
    # read now, not the process-wide cached copy: the environment is what the user set
    return Settings()


def _database_url(settings: Settings) -> str:
    if not settings.database_url:
        raise click.ClickException(
            "NEWSFLOW_DATABASE_URL is not set (with `newsflow up`, use the URL it prints)"
        )
    return settings.database_url


@contextmanager
def _redis(settings: Settings) -> Iterator[redis.Redis]:
    """The mirror's Redis; raises redis.ConnectionError when NEWSFLOW_REDIS_URL is unset."""
    if not settings.redis_url:
        raise redis.ConnectionError("NEWSFLOW_REDIS_URL is not set")
    client = redisconn.sync_client(settings, socket_connect_timeout=2, socket_timeout=5)
    try:
        yield client
    finally:
        client.close()


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%SZ") if value else "-"


@click.group()
def keys() -> None:
    """API keys (`Authorization: Bearer <key>`)."""


@keys.command()
@click.option("--name", required=True, help="Who or what uses the key.")
@click.option(
    "--scope",
    "scopes",
    type=click.Choice(SCOPES),
    multiple=True,
    required=True,
    help="Repeat for several; admin implies all.",
)
@click.option(
    "--owner",
    help="Keys of one owner share idempotency claims (e.g. several keys of one partner); "
    "default: the new key's own id.",
)
def create(name: str, scopes: tuple[str, ...], owner: str | None) -> None:
    """Create a key and print it, this one time."""
    if owner is not None:
        try:
            owner = normalise_owner(owner)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--owner") from exc
    settings = _settings()
    database_url = _database_url(settings)
    unmirrored: redis.RedisError | None = None
    try:
        with _redis(settings) as client:
            client.ping()  # before creating: the key is shown once, so fail before that
            with transaction(database_url) as connection:
                new = api_keys.create_api_key(connection, name=name, scopes=scopes, owner=owner)
            try:
                mirror(client, settings, new.key_hash, new.principal)
            except redis.RedisError as exc:
                unmirrored = exc
    except redis.RedisError as exc:
        raise click.ClickException(
            f"cannot reach the Redis mirror of API keys ({exc}); no key was created: "
            "set NEWSFLOW_REDIS_URL to the API's Redis and run this again"
        ) from exc
    click.echo(
        f"created API key {new.id} ({new.name}; scopes: {', '.join(new.scopes)}; "
        f"owner: {new.owner}):"
    )
    click.echo("")
    click.echo(f"    {new.key}")
    click.echo("")
    click.echo("This is the only time the key is shown; only its SHA-256 is stored. Keep it safe.")
    if unmirrored is not None:
        raise click.ClickException(
            f"the key is in PostgreSQL but not in the Redis mirror ({unmirrored}); it works "
            "while PostgreSQL answers: run `newsflow keys sync` once Redis answers"
        )


@keys.command(name="list")
def list_keys() -> None:
    """List keys: id, name, scopes, owner, created, last used, revoked."""
    settings = _settings()
    with get_engine(_database_url(settings)).connect() as connection:
        rows = api_keys.list_api_keys(connection)
    last_used: dict[str, datetime] = {}
    try:
        with _redis(settings) as client:
            last_used = read_last_used(client, settings)
    except redis.RedisError as exc:
        click.echo(f"warning: Redis is unreachable ({exc}); last use unknown", err=True)
    if not rows:
        click.echo("no API keys (create one with `newsflow keys create`)")
        return
    header = ("id", "name", "scopes", "owner", "created", "last used", "revoked")
    table = [header] + [
        (
            f"{KEY_PREFIX}{row['id']}",
            row["name"],
            ",".join(row["scopes"]),
            row["owner"],
            _when(row["created_at"]),
            _when(last_used.get(row["id"])),
            _when(row["revoked_at"]),
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for line in table:
        click.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        )


@keys.command()
@click.argument("key_id")
def revoke(key_id: str) -> None:
    """Revoke the key KEY_ID (as `newsflow keys list` shows it)."""
    settings = _settings()
    key_id = normalise_key_id(key_id)
    with transaction(_database_url(settings)) as connection:
        key_hash = api_keys.revoke_api_key(connection, key_id)
    if key_hash is None:
        raise click.ClickException(f"no API key {key_id}")
    try:
        with _redis(settings) as client:
            unmirror(client, settings, key_hash)
    except redis.RedisError as exc:
        raise click.ClickException(
            f"revoked {key_id} in PostgreSQL, but could not remove it from the Redis mirror "
            f"({exc}): API processes may accept it for {settings.auth_cache_seconds:g} s more, "
            "longer while PostgreSQL is unreachable; run `newsflow keys sync` once Redis answers"
        ) from exc
    click.echo(
        f"revoked API key {key_id}; every API process refuses it within "
        f"{settings.auth_cache_seconds:g} s (NEWSFLOW_AUTH_CACHE_SECONDS)"
    )


@keys.command()
def sync() -> None:
    """Rebuild the Redis mirror of active keys from PostgreSQL (after Redis lost data)."""
    settings = _settings()
    with get_engine(_database_url(settings)).connect() as connection:
        active = api_keys.active_keys(connection)
    try:
        with _redis(settings) as client:
            wanted = {mirror_key(settings, key_hash) for key_hash in active}
            stale = [
                key
                for key in client.scan_iter(match=mirror_key(settings, "*"), count=1000)
                if (key.decode() if isinstance(key, bytes) else str(key)) not in wanted
            ]
            if stale:
                client.delete(*stale)
            for key_hash, principal in active.items():
                mirror(client, settings, key_hash, principal)
    except redis.RedisError as exc:
        raise click.ClickException(f"cannot update the Redis mirror of API keys: {exc}") from exc
    click.echo(f"mirrored {len(active)} active API keys into Redis; removed {len(stale)} others")
