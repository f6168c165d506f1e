"""Accepting a submission: the idempotency claim and the enqueue, in ONE atomic Redis
script (one round trip).

PostgreSQL is not on this path: a 202 means the task message is in Redis together with
its claims (with AOF `appendfsync always` in production), and the worker lands it in
PostgreSQL first. The message is Celery's own format (see newsflow/taskmessage.py)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import redis
import redis.asyncio

from api.metrics import count_redis_error
from newsflow.contract import Submission
from newsflow.ids import new_submission_id
from newsflow.settings import Settings
from newsflow.taskmessage import (
    ProcessMessage,
    enqueue_submission,
    queue_for,
    queue_key,
    task_message,
)
from newsflow.taskqueue import PROCESS_SUBMISSION

# If any claim key is taken, answer {its index, its value} and change nothing; else take
# them all, mark the submission queued and push its task message, all or nothing.
# KEYS = claim keys..., status key, queue key; ARGV = claim value, ttl, message.
_CLAIM_AND_PUSH = """
for i = 1, claims do
  local existing = redis.call('GET', KEYS[i])
  if existing then return {i, existing} end
end
for i = 1, claims do
  redis.call('SET', KEYS[i], ARGV[1], 'EX', ARGV[2])
end
redis.call('SET', KEYS[claims + 1], 'queued', 'EX', ARGV[2])
redis.call('LPUSH', KEYS[claims + 2], ARGV[3])
return false
"""
_ACCEPT = "local claims = #KEYS - 2\n" + _CLAIM_AND_PUSH


def count_in_window(key: str, window_ms: str) -> str:
    """Lua that counts one request in the fixed rate-limit window at ``key`` (a Lua
    expression), starting its ``window_ms`` expiry on its first request, and leaves the
    locals ``count`` and ``left`` (milliseconds left in the window). Shared by
    api/auth.py's RateLimiter and the intake script below."""
    return f"""
local count = redis.call('INCR', {key})
local left = redis.call('PTTL', {key})
if left < 0 then
  redis.call('PEXPIRE', {key}, {window_ms})
  left = tonumber({window_ms})
end
"""


def retry_after_seconds(left_ms: int) -> int:
    """Whole seconds until a window with ``left_ms`` milliseconds to go frees (at least 1)."""
    return max(1, math.ceil(left_ms / 1000))


# The same, counted first in the caller's rate-limit window (in the same round trip): over
# the limit, answer {0, milliseconds left in the window} and change nothing else.
# KEYS += rate-limit key; ARGV += limit, window (ms).
_ACCEPT_LIMITED = (
    count_in_window("KEYS[#KEYS]", "ARGV[5]")
    + """
if count > tonumber(ARGV[4]) then return {0, left} end
local claims = #KEYS - 3
"""
    + _CLAIM_AND_PUSH
)


# Many submissions in one call, each all-or-nothing on its own as in _ACCEPT (a duplicate
# does not refuse the rest). KEYS = for each item its claim keys then its status key, and
# the queue keys last (articles, then fetch: see taskmessage.queue_for); ARGV = ttl, the
# layout ("<claims>:<message length>:<1 articles | 2 fetch>," per item), each
# item's claim value, and all the task messages end to end in ONE argument. Redis reads an
# argument of 32 KB or more in one go, where it reads other commands 16 KB at a time, and
# with `appendfsync always` it fsyncs after each read that ran a write: messages sent one
# by one (14 KB each) cost an fsync apiece, a chunk of them in one argument costs one.
# Answers per item 0 (accepted) or {claim index, its value}.
_ACCEPT_MANY = """
local ttl = ARGV[1]
local blob = ARGV[#ARGV]
local queues = {KEYS[#KEYS - 1], KEYS[#KEYS]}
local results = {}
local key, value, offset, n = 1, 3, 1, 0
for claims, length, queue in string.gmatch(ARGV[2], '(%d+):(%d+):(%d),') do
  claims = tonumber(claims)
  length = tonumber(length)
  n = n + 1
  results[n] = 0
  for i = 0, claims - 1 do
    local existing = redis.call('GET', KEYS[key + i])
    if existing then
      results[n] = {i + 1, existing}
      break
    end
  end
  if results[n] == 0 then
    for i = 0, claims - 1 do
      redis.call('SET', KEYS[key + i], ARGV[value], 'EX', ttl)
    end
    redis.call('SET', KEYS[key + claims], 'queued', 'EX', ttl)
    redis.call('LPUSH', queues[tonumber(queue)], string.sub(blob, offset, offset + length - 1))
  end
  key = key + claims + 1
  value = value + 1
  offset = offset + length
end
return results
"""
# submissions per call of _ACCEPT_MANY: bounds how long one call holds Redis (~1.4 MB)
ACCEPT_MANY_CHUNK = 100


@dataclass(frozen=True)
class RateLimit:
    """Count the submission in this window (see api/auth.py) before accepting it."""

    key: str
    limit: int
    window_ms: int


class RateLimited(Exception):
    """Over the rate limit: nothing was accepted."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry in {retry_after} s")
        self.retry_after = retry_after


# How long a request waits for Redis (the async client has no socket timeout of its own:
# see api/app.py); past it, the caller answers 503 (TimeoutError is an OSError).
REDIS_DEADLINE_SECONDS = 5.0


@asynccontextmanager
async def redis_deadline(seconds: float) -> AsyncIterator[None]:
    """``asyncio.timeout``, counting a cut-off as a Redis error (see api/metrics.py)."""
    try:
        async with asyncio.timeout(seconds):
            yield
    except TimeoutError:
        count_redis_error("deadline")
        raise


class IdempotencyMismatch(Exception):
    """The Idempotency-Key was used before with a different body."""


@dataclass(frozen=True)
class Intake:
    id: uuid.UUID
    duplicate: bool


def canonical_hash(submission: Submission) -> str:
    """What "the same body" means for an Idempotency-Key: the submission as validated,
    every field, keys sorted."""
    canonical = submission.model_dump(mode="json")
    try:
        encoded = orjson.dumps(canonical, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # integers beyond 64 bits (see contract.json_bytes)
        encoded = json.dumps(canonical, ensure_ascii=False, sort_keys=True).encode()
    return hashlib.sha256(encoded).hexdigest()[:32]


def status_key(settings: Settings, submission_id: uuid.UUID | str) -> str:
    return f"{settings.redis_key_prefix}submission:{submission_id}"


def _claim_keys(
    settings: Settings, owner: str, submission: Submission, idempotency_key: str | None
) -> list[str]:
    """The claims are the owner's (the API key's owner, see newsflow/apikeys.py): another
    owner's same Idempotency-Key or (source, external_id) is a different submission, and
    never learns of this one."""
    prefix = settings.redis_key_prefix
    keys = []
    if idempotency_key:
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()
        keys.append(f"{prefix}idempotency:{owner}:{digest}")
    if submission.external_id:
        digest = hashlib.sha256(
            f"{submission.source}\0{submission.external_id}".encode()
        ).hexdigest()
        keys.append(f"{prefix}external-id:{owner}:{digest}")
    return keys


@dataclass(frozen=True)
class _Prepared:
    submission_id: uuid.UUID
    queue: str
    keys: list[str]
    args: list[Any]
    body_hash: str
    idempotency_key: str | None


class SubmissionIntake:
    """Redis-side intake. ``accept_async`` serves the API's hot path; ``accept`` and
    ``enqueue`` (sync) serve feeds and replays, which run in worker threads."""

    def __init__(
        self, settings: Settings, redis_client: redis.Redis, async_redis: redis.asyncio.Redis
    ) -> None:
        self.settings = settings
        self.redis = redis_client
        self.async_redis = async_redis
        self._accept = redis_client.register_script(_ACCEPT)
        self._accept_async = async_redis.register_script(_ACCEPT)
        self._accept_limited_async = async_redis.register_script(_ACCEPT_LIMITED)
        self._accept_many_async = async_redis.register_script(_ACCEPT_MANY)

    def _prepare(
        self, submission: Submission, idempotency_key: str | None, owner: str
    ) -> _Prepared:
        submission_id = new_submission_id()
        task_id = str(submission_id)
        # only an Idempotency-Key promises "same key, same body" (see _outcome): the body
        # as parsed, so indentation, key order or escapes do not make it another one
        body_hash = canonical_hash(submission) if idempotency_key else ""
        payload = submission.model_dump(mode="json", exclude_unset=True)
        message: ProcessMessage = {
            "id": task_id,
            "received_at": datetime.now(UTC).isoformat(),
            "idempotency_key": idempotency_key,
            "submission": payload,
        }
        queue = queue_for(self.settings, payload)
        keys = [
            *_claim_keys(self.settings, owner, submission, idempotency_key),
            status_key(self.settings, task_id),
            queue_key(self.settings, queue),
        ]
        args = [
            f"{task_id}|{body_hash}",
            self.settings.idempotency_ttl_seconds,
            task_message(PROCESS_SUBMISSION, task_id, [message], queue),
        ]
        return _Prepared(submission_id, queue, keys, args, body_hash, idempotency_key)

    @staticmethod
    def _outcome(prepared: _Prepared, existing: Any) -> Intake:
        if not existing:
            return Intake(prepared.submission_id, duplicate=False)
        index, stored = existing
        original_id, _, original_hash = stored.decode().partition("|")
        # only the Idempotency-Key promises "same key, same body"; a repeated
        # (source, external_id) simply answers the original
        if prepared.idempotency_key is not None and index == 1:
            if original_hash != prepared.body_hash:
                raise IdempotencyMismatch(original_id)
        return Intake(uuid.UUID(original_id), duplicate=True)

    async def accept_async(
        self,
        submission: Submission,
        idempotency_key: str | None,
        rate_limit: RateLimit | None = None,
        *,
        owner: str,
    ) -> Intake:
        """Claim (as ``owner``'s) and enqueue, after counting the request in
        ``rate_limit``'s window if given (one script, one round trip). Raises RateLimited
        over the limit, and redis errors when Redis is unreachable: the caller answers
        503, and nothing was accepted."""
        prepared = self._prepare(submission, idempotency_key, owner)
        async with redis_deadline(REDIS_DEADLINE_SECONDS):
            if rate_limit is None:
                existing = await self._accept_async(keys=prepared.keys, args=prepared.args)
            else:
                existing = await self._accept_limited_async(
                    keys=[*prepared.keys, rate_limit.key],
                    args=[*prepared.args, rate_limit.limit, rate_limit.window_ms],
                )
        if rate_limit is not None and existing and existing[0] == 0:
            raise RateLimited(retry_after_seconds(int(existing[1])))
        return self._outcome(prepared, existing)

    async def accept_many_async(self, submissions: list[Submission], *, owner: str) -> list[Intake]:
        """Claim and enqueue many in one pipelined round trip, ACCEPT_MANY_CHUNK a script
        call; each item is still atomic on its own (a batch is not all-or-nothing: a
        duplicate does not refuse the rest). Items carry no Idempotency-Key."""
        prepared = [self._prepare(submission, None, owner) for submission in submissions]
        chunks = max(1, math.ceil(len(prepared) / ACCEPT_MANY_CHUNK))
        async with (
            redis_deadline(REDIS_DEADLINE_SECONDS * chunks),  # each chunk its own deadline
            self.async_redis.pipeline(transaction=False) as pipe,
        ):
            for start in range(0, len(prepared), ACCEPT_MANY_CHUNK):
                chunk = prepared[start : start + ACCEPT_MANY_CHUNK]
                keys: list[str] = []
                values: list[Any] = []
                layout: list[str] = []
                for one in chunk:
                    claims = one.keys[:-2]
                    keys += [*claims, one.keys[-2]]  # its claims, its status key
                    values.append(one.args[0])
                    fetch = one.queue == self.settings.fetch_queue
                    layout.append(f"{len(claims)}:{len(one.args[2])}:{2 if fetch else 1},")
                keys += [
                    queue_key(self.settings, self.settings.queue),
                    queue_key(self.settings, self.settings.fetch_queue),
                ]
                args = [
                    self.settings.idempotency_ttl_seconds,
                    "".join(layout),
                    *values,
                    b"".join(one.args[2] for one in chunk),
                ]
                await self._accept_many_async(keys=keys, args=args, client=pipe)
            replies = await pipe.execute()
        outcomes = [existing for reply in replies for existing in reply]
        return [
            self._outcome(one, existing) for one, existing in zip(prepared, outcomes, strict=True)
        ]

    def accept(self, submission: Submission, idempotency_key: str | None, *, owner: str) -> Intake:
        prepared = self._prepare(submission, idempotency_key, owner)
        return self._outcome(prepared, self._accept(keys=prepared.keys, args=prepared.args))

    def enqueue(self, message: ProcessMessage, task_id: str) -> None:
        """Put one processing task on the queue (a replay)."""
        enqueue_submission(self.redis, self.settings, message, task_id)

    def is_queued(self, submission_id: uuid.UUID) -> bool:
        return bool(self.redis.exists(status_key(self.settings, submission_id)))
