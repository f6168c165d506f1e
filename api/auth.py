"""API keys and per-key rate limits, as a FastAPI dependency: ``require_scope("submit")``.

Where keys are checked: ``require_scope(scope)`` runs before the route. It answers 401
(no key, a malformed, unknown or revoked one; with ``WWW-Authenticate: Bearer``), 403 (a
valid key without the scope; ``admin`` implies every scope), 429 (over the rate limit,
with ``Retry-After``) or 503 (the key cannot be checked right now, with ``Retry-After``),
all as problem+json. Use it on a route (``dependencies=[Depends(require_scope("read"))]``)
or on a whole router, with ``responses=AUTH_RESPONSES`` for the OpenAPI document.

Intake needs only Redis, so checking a key does not need PostgreSQL:

1. The API process keeps each answer (valid key -> its principal, or unknown) for
   ``NEWSFLOW_AUTH_CACHE_SECONDS`` (30 s, the cache window; 0 = checked on every request).
2. Past that, the key's SHA-256 is looked up in the Redis mirror of active keys, which
   ``newsflow keys create`` / ``revoke`` / ``sync`` maintain (``newsflow/apikeys.py``),
   and then in PostgreSQL, the source of truth: so each API process asks PostgreSQL about
   a key at most once per cache window, and a revocation takes effect everywhere within
   one window even if the mirror missed it. PostgreSQL's answer wins: a key it says is
   revoked or unknown gets 401 and its mirror entry is deleted (the API never adds one, so
   a check racing a revocation cannot bring the key back).
3. PostgreSQL down: a key in the mirror is trusted for one more window (then asked again),
   so a PostgreSQL outage does not stop intake, even in an API process started during it;
   a key not in the mirror falls to 4.
4. When neither can answer (Redis and PostgreSQL both unreachable, or Redis has no entry
   and PostgreSQL is down) the last answer for that key is used however old it is; with
   none, the answer is 503 with ``Retry-After``, never 500.

Failed checks (a well-formed key that is unknown or revoked) are counted per client
address in a one-minute Redis window; past ``NEWSFLOW_AUTH_FAILURES_PER_MINUTE`` a key
not in the mirror gets 429 with ``Retry-After`` without any PostgreSQL query (a mirrored
key is still served), so guessing keys cannot load PostgreSQL.

The mode comes from ``NEWSFLOW_AUTH``: ``auto`` (default) requires keys unless
``NEWSFLOW_API_HOST`` is a loopback address; ``required`` always; ``off`` never, and the
API refuses to start when bound to any other address. Running open is logged loudly;
an open API ignores any Authorization header and treats every caller as ``admin``.

Rate limits: a fixed one-minute window per key (or per client IP when the API runs open)
in Redis, one atomic Lua call per request; a submission (``POST /v1/articles``) counts
it inside its intake script instead, in the same round trip. If Redis is unreachable the
limit is not enforced for that request (the submission itself then answers 503; reads do
not need Redis), so a Redis fault never becomes a 500.

Nothing here blocks the event loop: a key checked within the cache time is answered from
memory, a lookup runs in a worker thread, and the window is counted on the async client.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import math
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

import redis
import redis.asyncio
from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from api.intake import REDIS_DEADLINE_SECONDS, RateLimit, count_in_window, retry_after_seconds
from api.problems import PROBLEM_JSON, RETRY_AFTER, Problem, ProblemError, problem_responses
from newsflow.apikeys import (
    ANONYMOUS_OWNER,
    SCOPES,
    Principal,
    hash_key,
    looks_like_key,
    mirror_key,
    record_last_used,
    unmirror,
)
from newsflow.settings import Settings
from newsflow.store import api_keys
from newsflow.store.db import get_engine

logger = logging.getLogger("newsflow.api.auth")

REALM = 'Bearer realm="newsflow"'
WINDOW_MS = 60_000
CACHE_MAX_ENTRIES = 10_000

ANONYMOUS = Principal(
    id="anonymous",
    name="anonymous (the API runs open)",
    scopes=frozenset(SCOPES),
    owner=ANONYMOUS_OWNER,
)

BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="apiKey",
    bearerFormat="nf_<id>_<secret>",
    description="An API key from `newsflow keys create`: `Authorization: Bearer nf_…`.",
)


def _problem_response(description: str, headers: dict[str, str]) -> dict[str, Any]:
    return {
        "model": Problem,
        "description": description,
        "content": {PROBLEM_JSON: {}},
        "headers": {
            name: {"description": text, "schema": {"type": "string"}}
            for name, text in headers.items()
        },
    }


AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _problem_response(
        "No API key, or an unknown or revoked one",
        {"WWW-Authenticate": 'Bearer realm="newsflow" (error="invalid_token" for a bad key)'},
    ),
    403: _problem_response("The API key lacks the scope this endpoint needs", {}),
    429: _problem_response(
        "Over the rate limit", {"Retry-After": "Seconds until the window frees"}
    ),
    503: _problem_response(
        "A dependency is unreachable", {"Retry-After": "Seconds to wait before retrying"}
    ),
}
# what an endpoint that takes submissions can answer, besides its success
INTAKE_RESPONSES = {**problem_responses(413, 415, 422, 503), **AUTH_RESPONSES}


class AuthConfigError(RuntimeError):
    """The settings would expose an open API: the API refuses to start."""


class AuthUnavailable(Exception):
    """The key could not be checked and nothing is cached for it."""


class AuthThrottled(Exception):
    """Too many failed checks from this client address: not looked up."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry in {retry_after} s")
        self.retry_after = retry_after


def is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def keys_required(settings: Settings) -> bool:
    """Whether the API needs keys; raises AuthConfigError for ``off`` on a non-loopback
    bind."""
    loopback = is_loopback(settings.api_host)
    if settings.auth == "required":
        return True
    if settings.auth == "off":
        if not loopback:
            raise AuthConfigError(
                f"NEWSFLOW_AUTH=off but NEWSFLOW_API_HOST={settings.api_host} is not a loopback "
                "address: refusing to serve an open API. Use NEWSFLOW_AUTH=auto or required "
                "and create a key with `newsflow keys create`."
            )
        return False
    return not loopback


class _Miss:
    """Not in the cache (or too old): the key must be looked up."""


MISS = _Miss()


@dataclass(frozen=True)
class _Entry:
    principal: Principal | None
    checked_at: float


# One atomic call: count this request in the current window, and answer the count and
# the milliseconds left in the window.
_WINDOW = count_in_window("KEYS[1]", "ARGV[1]") + "return {count, left}\n"


class KeyVerifier:
    """Checks a key against the in-process cache, then the Redis mirror and PostgreSQL
    (see the module docstring)."""

    def __init__(self, settings: Settings, redis_client: redis.Redis) -> None:
        self.settings = settings
        self.redis = redis_client
        self.ttl = settings.auth_cache_seconds
        self.failure_limit = settings.auth_failures_per_minute
        self._count = redis_client.register_script(_WINDOW)
        self._cache: dict[str, _Entry] = {}
        self._checking: set[str] = set()  # key hashes being looked up right now
        self._lock = threading.Lock()
        self._warned_at = -math.inf

    def cached(self, key: str) -> Principal | None | _Miss:
        """What ``verify`` would answer without a lookup, or MISS when it needs one."""
        if not looks_like_key(key):
            return None
        return self.cached_hash(hash_key(key))

    def cached_hash(self, key_hash: str) -> Principal | None | _Miss:
        """``cached`` for a key known by its SHA-256 (a console session keeps only that)."""
        entry = self._cache.get(key_hash)
        if entry is not None and time.monotonic() - entry.checked_at < self.ttl:
            return entry.principal
        return MISS

    def verify(self, key: str, client_host: str | None = None) -> Principal | None:
        """The key's principal, None for an unknown or revoked key; raises AuthUnavailable
        when neither Redis nor PostgreSQL can answer and nothing is cached, AuthThrottled
        when ``client_host`` failed too often and the key is not in the mirror."""
        if not looks_like_key(key):
            return None
        return self.verify_hash(hash_key(key), client_host)

    def verify_hash(self, key_hash: str, client_host: str | None = None) -> Principal | None:
        """``verify`` for a key known by its SHA-256."""
        hit = self.cached_hash(key_hash)
        if not isinstance(hit, _Miss):
            return hit
        now = time.monotonic()
        with self._lock:
            entry = self._cache.get(key_hash)
            if entry is not None and (
                now - entry.checked_at < self.ttl or key_hash in self._checking
            ):
                return entry.principal  # just checked, or being checked by another request
            self._checking.add(key_hash)
        try:
            principal = self._lookup(key_hash, client_host)
        except AuthUnavailable:
            if entry is None:
                raise
            self._warn("cannot check API keys; using the last answer for this key")
            return entry.principal
        finally:
            with self._lock:
                self._checking.discard(key_hash)
        self._remember(key_hash, _Entry(principal, now))
        if principal is not None:
            try:
                record_last_used(self.redis, self.settings, principal.id)
            except redis.RedisError:
                pass  # informational only
        return principal

    def _failures_key(self, client_host: str | None) -> str:
        address = client_host or "unknown"
        return f"{self.settings.redis_key_prefix}rate-limit:auth-failures:{address}"

    def _lookup(self, key_hash: str, client_host: str | None) -> Principal | None:
        failures = self._failures_key(client_host)
        try:
            # the mirror entry and the address's failures, in one round trip
            pipe = self.redis.pipeline(transaction=False)
            pipe.get(mirror_key(self.settings, key_hash))
            pipe.get(failures)
            pipe.pttl(failures)
            raw, failed, left_ms = pipe.execute()
        except redis.RedisError:
            raw = failed = None  # PostgreSQL answers alone; failures are not limited
        mirrored = None if raw is None else Principal.from_json(raw)
        if (
            mirrored is None
            and self.failure_limit > 0
            and failed is not None
            and int(failed) >= self.failure_limit
            and int(left_ms) > 0
        ):
            raise AuthThrottled(retry_after_seconds(int(left_ms)))
        try:
            database_url = self.settings.require_database_url()
            with get_engine(database_url).connect() as connection:
                found = api_keys.find_active_key(connection, key_hash)
        except (SQLAlchemyError, RuntimeError) as exc:
            if mirrored is None:
                raise AuthUnavailable(str(exc)) from exc
            self._warn(f"PostgreSQL is unreachable; trusting the Redis mirror of API keys ({exc})")
            return mirrored  # for one window, then PostgreSQL is asked again
        if found is None:
            try:
                if mirrored is not None:  # revoked (or unknown) but the mirror missed it
                    unmirror(self.redis, self.settings, key_hash)
                if self.failure_limit > 0:
                    self._count(keys=[failures], args=[WINDOW_MS])
            except redis.RedisError:
                pass  # the next check tries again
        return found

    def _warn(self, message: str) -> None:
        if time.monotonic() - self._warned_at > 60:
            self._warned_at = time.monotonic()
            logger.warning(message)

    def _remember(self, key_hash: str, entry: _Entry) -> None:
        with self._lock:
            self._cache.pop(key_hash, None)
            while len(self._cache) >= CACHE_MAX_ENTRIES:
                self._cache.pop(next(iter(self._cache)))  # the oldest
            self._cache[key_hash] = entry


class RateLimiter:
    """A fixed one-minute window per identity (``key:<id>`` or ``ip:<address>``). A
    submission counts its window inside the intake script instead (``rate_limit``), in
    the same Redis round trip."""

    def __init__(self, settings: Settings, async_redis: redis.asyncio.Redis) -> None:
        self.settings = settings
        self.limit = settings.rate_limit_per_minute
        self._script = async_redis.register_script(_WINDOW)
        self._warned_at = -math.inf

    def key(self, identity: str) -> str:
        return f"{self.settings.redis_key_prefix}rate-limit:{identity}"

    def rate_limit(self, identity: str) -> RateLimit | None:
        """What the intake script needs to count a submission; None when limits are off."""
        if self.limit <= 0:
            return None
        return RateLimit(self.key(identity), self.limit, WINDOW_MS)

    async def retry_after_async(self, identity: str) -> int | None:
        """Counts the request: None if it may go ahead, else the seconds until the window
        frees."""
        if self.limit <= 0:
            return None
        try:
            async with asyncio.timeout(REDIS_DEADLINE_SECONDS):
                count, ttl_ms = await self._script(keys=[self.key(identity)], args=[WINDOW_MS])
        except (redis.RedisError, OSError) as exc:
            self._unenforced(exc)
            return None
        if int(count) <= self.limit:
            return None
        return retry_after_seconds(int(ttl_ms))

    def _unenforced(self, exc: Exception) -> None:
        if time.monotonic() - self._warned_at > 60:
            self._warned_at = time.monotonic()
            logger.warning("rate limits not enforced: Redis is unreachable (%s)", exc)

    def problem(self, retry_after: int) -> ProblemError:
        return ProblemError(
            429,
            "Too many requests",
            f"over {self.limit} requests per minute; retry in {retry_after} s",
            {"Retry-After": str(retry_after)},
        )


class AuthGate:
    """What ``require_scope`` asks; one per app, at ``app.state.auth``. ``authorize``
    answers who the caller is (or raises the 401/403/503 problem); the rate limit is
    counted by ``check`` (other endpoints) or by the intake script (submissions)."""

    def __init__(
        self, settings: Settings, redis_client: redis.Redis, async_redis: redis.asyncio.Redis
    ) -> None:
        self.required = keys_required(settings)
        self.verifier = KeyVerifier(settings, redis_client)
        self.limiter = RateLimiter(settings, async_redis)
        if not self.required:
            logger.warning(
                "\n%s\nnewsflow API runs OPEN, WITHOUT API KEYS (NEWSFLOW_AUTH=%s, bound to "
                "loopback %s): anyone on this machine can submit and read. Do not expose it; "
                "set NEWSFLOW_AUTH=required to require keys.\n%s",
                "!" * 78,
                settings.auth,
                settings.api_host,
                "!" * 78,
            )

    async def check(
        self, request: Request, credentials: HTTPAuthorizationCredentials | None, scope: str
    ) -> Principal:
        client_host = request.client.host if request.client else None
        principal, identity = await self.authorize(
            credentials.credentials if credentials else None, client_host, scope
        )
        retry_after = await self.limiter.retry_after_async(identity)
        if retry_after is not None:
            raise self.limiter.problem(retry_after)
        request.state.principal = principal
        return principal

    async def authorize(
        self, key: str | None, client_host: str | None, scope: str
    ) -> tuple[Principal, str]:
        """The caller (``key``: the bearer credentials, if any) and the identity its rate
        limit counts under. A key checked recently is answered from the cache, on the
        event loop; a lookup runs in a worker thread."""
        if not self.required:
            principal = ANONYMOUS
            identity = f"ip:{client_host or 'unknown'}"
        else:
            if not key:
                raise ProblemError(
                    401,
                    "Unauthorized",
                    "send an API key: Authorization: Bearer <key>",
                    {"WWW-Authenticate": REALM},
                )
            found = self.verifier.cached(key)
            if isinstance(found, _Miss):
                found = await run_in_threadpool(self._verify, key, client_host)
            if found is None:
                raise ProblemError(
                    401,
                    "Unauthorized",
                    "the API key is unknown or revoked",
                    {"WWW-Authenticate": f'{REALM}, error="invalid_token"'},
                )
            principal = found
            identity = f"key:{principal.id}"
        if not principal.allows(scope):
            raise ProblemError(
                403,
                "Forbidden",
                f"API key {principal.id} lacks the `{scope}` scope",
                {"WWW-Authenticate": f'{REALM}, error="insufficient_scope", scope="{scope}"'},
            )
        return principal, identity

    async def principal_for_hash(self, key_hash: str, client_host: str | None) -> Principal | None:
        """Who a console session is (it keeps the key's SHA-256, never the key): ANONYMOUS
        while the API runs open, None for a key revoked since; raises the 429/503 problem
        like ``authorize``."""
        if not self.required:
            return ANONYMOUS
        found = self.verifier.cached_hash(key_hash)
        if isinstance(found, _Miss):
            found = await run_in_threadpool(
                self._checked, self.verifier.verify_hash, key_hash, client_host
            )
        return found

    def _verify(self, key: str, client_host: str | None) -> Principal | None:
        return self._checked(self.verifier.verify, key, client_host)

    def _checked(
        self,
        verify: Callable[[str, str | None], Principal | None],
        key: str,
        client_host: str | None,
    ) -> Principal | None:
        try:
            return verify(key, client_host)
        except AuthThrottled as exc:
            raise ProblemError(
                429,
                "Too many failed authentications",
                f"over {self.verifier.failure_limit} unknown or revoked API keys per minute "
                f"from this address; retry in {exc.retry_after} s",
                {"Retry-After": str(exc.retry_after)},
            ) from exc
        except AuthUnavailable as exc:
            raise ProblemError(
                503,
                "Cannot check the API key",
                "neither Redis nor PostgreSQL can confirm this key right now; retry later",
                RETRY_AFTER,
            ) from exc


def bearer_credentials(authorization: str | None) -> str | None:
    """The key in an ``Authorization: Bearer <key>`` header, as FastAPI's HTTPBearer
    (``auto_error=False``) reads it; None for none or another scheme."""
    if not authorization:
        return None
    scheme, _, credentials = authorization.partition(" ")
    credentials = credentials.strip()
    if not (scheme and credentials) or scheme.lower() != "bearer":
        return None
    return credentials


def require_scope(scope: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency that lets the request through only with a key holding ``scope`` (or
    ``admin``), within its rate limit; it returns the caller's Principal."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}; one of {SCOPES}")

    async def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)],
    ) -> Principal:
        gate: AuthGate = request.app.state.auth
        return await gate.check(request, credentials, scope)

    dependency.__name__ = f"require_scope_{scope}"
    return dependency
