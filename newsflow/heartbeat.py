"""Which workers are alive: each worker's parent process writes a heartbeat every
HEARTBEAT_SECONDS into one Redis sorted set, ``<prefix>workers`` (member: the Celery
node name, score: the Unix time of its last beat), and the console counts a worker live
when its last beat is under LIVE_WITHIN_SECONDS old.

Why not Celery's ``inspect().ping()``: it broadcasts and then waits out its reply timeout
(a second) on every page view, and answers nothing about a worker busy on a long task;
one ZRANGEBYSCORE answers at once and says how old each beat is."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import cast

import redis

from newsflow.settings import Settings

HEARTBEAT_SECONDS = 10.0
LIVE_WITHIN_SECONDS = 30.0
FORGET_AFTER_SECONDS = 86400.0  # a worker silent this long leaves the set


@dataclass(frozen=True)
class WorkerBeat:
    name: str
    age_seconds: float

    @property
    def live(self) -> bool:
        return self.age_seconds < LIVE_WITHIN_SECONDS


def workers_key(settings: Settings) -> str:
    return f"{settings.redis_key_prefix}workers"


def beat(client: redis.Redis, settings: Settings, name: str) -> None:
    now = time.time()
    pipe = client.pipeline(transaction=False)
    pipe.zadd(workers_key(settings), {name: now})
    pipe.zremrangebyscore(workers_key(settings), "-inf", now - FORGET_AFTER_SECONDS)
    pipe.execute()


def stopped(client: redis.Redis, settings: Settings, name: str) -> None:
    client.zrem(workers_key(settings), name)


def recent_workers(client: redis.Redis, settings: Settings) -> list[WorkerBeat]:
    """Workers heard from in the last day, most recent beat first."""
    now = time.time()
    rows = cast(
        list[tuple[bytes, float]],
        client.zrevrangebyscore(
            workers_key(settings), "+inf", now - FORGET_AFTER_SECONDS, withscores=True
        ),
    )
    return [
        WorkerBeat(name.decode() if isinstance(name, bytes) else str(name), now - float(score))
        for name, score in rows
    ]
