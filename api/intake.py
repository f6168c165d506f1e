"""Accepting a submission: the idempotency claim and the enqueue, in ONE atomic Redis
script (one round trip).

PostgreSQL is not on this path: a 202 means the task message is in Redis together with
its claims (with AOF `appendfsync always` in production), and the worker lands it in
PostgreSQL first. The message is Celery's own format (see newsflow/taskmessage.py)."""

from __future__ import annotations

import asyncio
import hashlib
import math
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis
import redis.asyncio

from api.metrics import count_redis_error
from newsflow.contract import Submission, canonical_hash
from newsflow.ids import new_submission_id
from newsflow.logs import message_headers
from newsflow.settings import Settings
from newsflow.taskmessage import (
    ProcessMessage,
    enqueue_submission,
    queue_for,
    queue_key,
    task_message,
)
from newsflow.taskqueue import PROCESS_SUBMISSION

# The claim value is "<article id>|<content hash>|<version>" (the canonical hash of the
# submission). An Idempotency-Key already taken is a plain repeat: answer {its index, its
# value} and change nothing. The (source, external_id) taken with the same content is a
# no-op (answered the same way); with other content this submission is the next version of
# that article. Else take every claim with the value, put it in the submission's status
# key too (the worker reads there which article and version it is), push the task message
# and answer {-1, value}, all or nothing. A value from before versions ("<id>|<hash>") is
# version 1.
_DECIDE = """
local function decide(first, claims, identity, id, hash)
  for i = 1, claims do
    if i ~= identity then
      local existing = redis.call('GET', KEYS[first + i - 1])
      if existing then return {i, existing} end
    end
  end
  if identity > 0 then
    local existing = redis.call('GET', KEYS[first + identity - 1])
    if existing then
      local article, known, version = string.match(existing, '^([^|]*)|([^|]*)|?(%d*)$')
      if known == hash then return {identity, existing} end
      return article .. '|' .. hash .. '|' .. ((tonumber(version) or 1) + 1)
    end
  end
  return id .. '|' .. hash .. '|1'
end
"""
# KEYS = claim keys..., status key, queue key; ARGV = "<id>|<hash>", ttl, message,
# index of the (source, external_id) claim among the claims (0: none).
_CLAIM_AND_PUSH = """
local id, hash = string.match(ARGV[1], '^([^|]*)|(.*)$')
local value = decide(1, claims, tonumber(ARGV[4]), id, hash)
if type(value) == 'table' then return value end
for i = 1, claims do
  redis.call('SET', KEYS[i], value, 'EX', ARGV[2])
end
redis.call('SET', KEYS[claims + 1], value, 'EX', ARGV[2])
redis.call('LPUSH', KEYS[claims + 2], ARGV[3])
return {-1, value}
"""
_ACCEPT = _DECIDE + "local claims = #KEYS - 2\n" + _CLAIM_AND_PUSH


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
    _DECIDE
    + count_in_window("KEYS[#KEYS]", "ARGV[6]")
    + """
if count > tonumber(ARGV[5]) then return {0, left} end
local claims = #KEYS - 3
"""
    + _CLAIM_AND_PUSH
)


# Many submissions in one call, each all-or-nothing on its own as in _ACCEPT (a duplicate
# does not refuse the rest). KEYS = for each item its claim keys then its status key, and
# the queue keys last (articles, then fetch: see taskmessage.queue_for); ARGV = ttl, the
# layout ("<claims>:<message length>:<1 articles | 2 fetch>:<identity index>," per item),
# each item's "<id>|<hash>", and all the task messages end to end in ONE argument. Redis
# reads an argument of 32 KB or more in one go, where it reads other commands 16 KB at a
# time, and with `appendfsync always` it fsyncs after each read that ran a write: messages
# sent one by one (14 KB each) cost an fsync apiece, a chunk of them in one argument costs
# one. Answers per item what _ACCEPT answers.
_ACCEPT_MANY = (
    _DECIDE
    + """
local ttl = ARGV[1]
local blob = ARGV[#ARGV]
local queues = {KEYS[#KEYS - 1], KEYS[#KEYS]}
local results = {}
local key, arg, offset, n = 1, 3, 1, 0
for claims, length, queue, identity in string.gmatch(ARGV[2], '(%d+):(%d+):(%d):(%d+),') do
  claims = tonumber(claims)
  length = tonumber(length)
  n = n + 1
  local id, hash = string.match(ARGV[arg], '^([^|]*)|(.*)$')
  local value = decide(key, claims, tonumber(identity), id, hash)
  if type(value) == 'table' then
    results[n] = value
  else
    for i = 0, claims - 1 do
      redis.call('SET', KEYS[key + i], value, 'EX', ttl)
    end
    redis.call('SET', KEYS[key + claims], value, 'EX', ttl)
    redis.call('LPUSH', queues[tonumber(queue)], string.sub(blob, offset, offset + length - 1))
    results[n] = {-1, value}
  end
  key = key + claims + 1
  arg = arg + 1
  offset = offset + length
end
return results
"""
)
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
    id: uuid.UUID  # the article's
    duplicate: bool  # a plain repeat, or the same content again: nothing was queued
    version: int = 1  # the article's version this submission is (or repeats)


def parse_claim(value: bytes | str) -> tuple[uuid.UUID, str, int]:
    """A claim (or status key) value: the article's id, the content hash, the version."""
    text = value.decode() if isinstance(value, bytes) else value
    article_id, _, rest = text.partition("|")
    content_hash, _, version = rest.partition("|")
    return uuid.UUID(article_id), content_hash, int(version or 1)


def status_key(settings: Settings, submission_id: uuid.UUID | str) -> str:
    return f"{settings.redis_key_prefix}submission:{submission_id}"


def _claim_keys(
    settings: Settings, owner: str, submission: Submission, idempotency_key: str | None
) -> tuple[list[str], int]:
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
    return keys, len(keys) if submission.external_id else 0


@dataclass(frozen=True)
class _Prepared:
    submission_id: uuid.UUID
    queue: str
    keys: list[str]
    args: list[Any]
    identity: int  # index of the (source, external_id) claim among the keys, 0 if none
    body_hash: str
    idempotency_key: str | None


class NotReplicated(redis.RedisError):
    """The submission reached the Redis primary but not NEWSFLOW_REDIS_MIN_REPLICAS
    replicas in time: a failover now could lose it, so it is not confirmed (503)."""

    def __init__(self, acknowledged: int, wanted: int) -> None:
        super().__init__(f"{acknowledged} of {wanted} Redis replicas confirmed the write")


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
        self.min_replicas = settings.redis_min_replicas
        self.wait_timeout_ms = settings.redis_wait_timeout_ms

    def _prepare(
        self, submission: Submission, idempotency_key: str | None, owner: str
    ) -> _Prepared:
        submission_id = new_submission_id()
        task_id = str(submission_id)
        claims, identity = _claim_keys(self.settings, owner, submission, idempotency_key)
        # the body as parsed, so indentation, key order or escapes do not make it another
        # one: the same Idempotency-Key must come with it (see _outcome), and the same
        # (source, external_id) with it is a no-op, with another a new version
        body_hash = canonical_hash(submission) if claims else ""
        payload = submission.model_dump(mode="json", exclude_unset=True)
        message: ProcessMessage = {
            "id": task_id,
            "received_at": datetime.now(UTC).isoformat(),
            "idempotency_key": idempotency_key,
            "submission": payload,
            "owner": owner,
        }
        queue = queue_for(self.settings, payload)
        keys = [*claims, status_key(self.settings, task_id), queue_key(self.settings, queue)]
        args = [
            f"{task_id}|{body_hash}",
            self.settings.idempotency_ttl_seconds,
            # the request's traceparent and id: one dict lookup each (api/requestlog.py)
            task_message(PROCESS_SUBMISSION, task_id, [message], queue, message_headers()),
            identity,
        ]
        return _Prepared(submission_id, queue, keys, args, identity, body_hash, idempotency_key)

    @staticmethod
    def _outcome(prepared: _Prepared, existing: Any) -> Intake:
        index, stored = existing
        article_id, known_hash, version = parse_claim(stored)
        if index == -1:  # accepted: a new article, or a new version of one
            return Intake(article_id, duplicate=False, version=version)
        # only the Idempotency-Key promises "same key, same body"; a repeated
        # (source, external_id) with the same content answers the original
        if prepared.idempotency_key is not None and index == 1:
            if known_hash != prepared.body_hash:
                raise IdempotencyMismatch(str(article_id))
        return Intake(article_id, duplicate=True, version=version)

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
            if self.min_replicas:
                async with self.async_redis.pipeline(transaction=False) as pipe:
                    await self._accept_script(pipe, prepared, rate_limit)
                    existing = self._replicated(await self._wait(pipe).execute())[0]
            else:
                existing = await self._accept_script(self.async_redis, prepared, rate_limit)
        if rate_limit is not None and existing and existing[0] == 0:
            raise RateLimited(retry_after_seconds(int(existing[1])))
        return self._outcome(prepared, existing)

    async def _accept_script(
        self, client: Any, prepared: _Prepared, rate_limit: RateLimit | None
    ) -> Any:
        if rate_limit is None:
            return await self._accept_async(keys=prepared.keys, args=prepared.args, client=client)
        return await self._accept_limited_async(
            keys=[*prepared.keys, rate_limit.key],
            args=[*prepared.args, rate_limit.limit, rate_limit.window_ms],
            client=client,
        )

    def _wait(self, pipe: Any) -> Any:
        """WAIT at the end of ``pipe``: its connection is the one that wrote, which is
        the write WAIT counts the replicas of (another connection's WAIT would not)."""
        return pipe.execute_command("WAIT", self.min_replicas, self.wait_timeout_ms)

    def _replicated(self, replies: list[Any]) -> list[Any]:
        """The replies before WAIT's, once WAIT says enough replicas have the writes."""
        *replies, acknowledged = replies
        if int(acknowledged) < self.min_replicas:
            raise NotReplicated(int(acknowledged), self.min_replicas)
        return replies

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
                    layout.append(
                        f"{len(claims)}:{len(one.args[2])}:{2 if fetch else 1}:{one.identity},"
                    )
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
            if self.min_replicas:
                replies = self._replicated(await self._wait(pipe).execute())
            else:
                replies = await pipe.execute()
        outcomes = [existing for reply in replies for existing in reply]
        return [
            self._outcome(one, existing) for one, existing in zip(prepared, outcomes, strict=True)
        ]

    def accept(self, submission: Submission, idempotency_key: str | None, *, owner: str) -> Intake:
        prepared = self._prepare(submission, idempotency_key, owner)
        if not self.min_replicas:
            return self._outcome(prepared, self._accept(keys=prepared.keys, args=prepared.args))
        with self.redis.pipeline(transaction=False) as pipe:
            self._accept(keys=prepared.keys, args=prepared.args, client=pipe)
            return self._outcome(prepared, self._replicated(self._wait(pipe).execute())[0])

    def enqueue(self, message: ProcessMessage, task_id: str) -> None:
        """Put one processing task on the queue (a replay)."""
        if not self.min_replicas:
            enqueue_submission(self.redis, self.settings, message, task_id)
            return
        with self.redis.pipeline(transaction=False) as pipe:
            enqueue_submission(pipe, self.settings, message, task_id)
            self._replicated(self._wait(pipe).execute())

    def is_queued(self, submission_id: uuid.UUID) -> bool:
        return bool(self.redis.exists(status_key(self.settings, submission_id)))
