"""Every Redis connection newsflow makes, from one setting: ``NEWSFLOW_REDIS_URL`` is a
plain ``redis://`` URL, or ``redis+sentinel://[:password@]host:port,host:port/<master>[/<db>]``
for a primary that Redis Sentinel fails over. With Sentinel, the API's clients (redis-py's
Sentinel) and the broker (kombu's ``sentinel://`` transport) ask the sentinels where the
primary is on every new connection, so both follow a failover without a restart."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import redis
import redis.asyncio
import redis.asyncio.sentinel
import redis.sentinel

from newsflow.settings import Settings

SENTINEL_SCHEME = "redis+sentinel"
# how long one question to a sentinel may take (they answer from memory)
SENTINEL_TIMEOUT_SECONDS = 1.0


@dataclass(frozen=True)
class SentinelTarget:
    sentinels: list[tuple[str, int]]
    master: str
    db: int
    password: str | None


def sentinel_target(url: str) -> SentinelTarget | None:
    """The sentinels and primary a ``redis+sentinel://`` URL names; None for a plain URL."""
    parts = urlsplit(url)
    if parts.scheme != SENTINEL_SCHEME:
        return None
    credentials, _, hosts = parts.netloc.rpartition("@")
    password = unquote(credentials.partition(":")[2]) or None if credentials else None
    sentinels = []
    for host_port in hosts.split(","):
        host, _, port = host_port.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"NEWSFLOW_REDIS_URL: sentinel {host_port!r} is not host:port")
        sentinels.append((host.strip("[]"), int(port)))
    path = [part for part in parts.path.split("/") if part]
    if not path:
        raise ValueError("NEWSFLOW_REDIS_URL: name the primary: redis+sentinel://h:p/<master>")
    db = int(path[1]) if len(path) > 1 else 0
    return SentinelTarget(sentinels, unquote(path[0]), db, password)


def sync_client(settings: Settings, **options: Any) -> redis.Redis:
    url = settings.require_redis_url()
    target = sentinel_target(url)
    if target is None:
        return redis.Redis.from_url(url, **options)
    sentinel = redis.sentinel.Sentinel(
        target.sentinels,
        sentinel_kwargs={"socket_timeout": SENTINEL_TIMEOUT_SECONDS},
        socket_connect_timeout=options.get("socket_connect_timeout"),
    )
    return sentinel.master_for(target.master, db=target.db, password=target.password, **options)


def async_client(settings: Settings, **options: Any) -> redis.asyncio.Redis:
    url = settings.require_redis_url()
    target = sentinel_target(url)
    if target is None:
        return redis.asyncio.Redis.from_url(url, **options)
    sentinel = redis.asyncio.sentinel.Sentinel(
        target.sentinels,
        sentinel_kwargs={"socket_timeout": SENTINEL_TIMEOUT_SECONDS},
        socket_connect_timeout=options.get("socket_connect_timeout"),
    )
    return sentinel.master_for(target.master, db=target.db, password=target.password, **options)


def broker(settings: Settings) -> tuple[str, dict[str, Any]]:
    """Celery's broker URL and the transport options Sentinel adds to it."""
    url = settings.require_redis_url()
    target = sentinel_target(url)
    if target is None:
        return url, {}
    password = f":{target.password}@" if target.password else ""
    urls = ";".join(f"sentinel://{password}{h}:{p}/{target.db}" for h, p in target.sentinels)
    return urls, {
        "master_name": target.master,
        "sentinel_kwargs": {"socket_timeout": SENTINEL_TIMEOUT_SECONDS},
    }
