"""One submission through the pipeline: land raw -> parse -> enrich -> persist, and what
each kind of failure means. Free of Celery, so it runs in tests without a broker."""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import redis
from celery.exceptions import SoftTimeLimitExceeded
from pydantic import ValidationError
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from newsflow import redisconn
from newsflow.contract import FINAL_STATUSES, Status, Submission, canonical_hash, json_bytes
from newsflow.feeds import FEED
from newsflow.settings import Settings
from newsflow.store import articles, submissions
from newsflow.store.db import get_engine
from newsflow.taskmessage import ProcessMessage
from worker import metrics
from worker.fetch import FetchFailed, FetchPolicy, FetchRefused, fetch_url
from worker.persist import persist
from worker.pipeline.article import EnrichedArticle, ParseError, SubmissionInfo
from worker.pipeline.enrich import enrich
from worker.pipeline.parse import parse
from worker.pipeline.parse.html import decode_html

log = logging.getLogger("newsflow.worker")


class TransientError(Exception):
    """A fault that may pass (database down or restarting): retry with backoff."""


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, FetchFailed):
        return exc.transient
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def process(
    message: ProcessMessage, settings: Settings, delivery: str, fetch_failure: str | None = None
) -> Status:
    """Land the raw submission, then parse -> enrich -> persist. Returns the final state.

    Two transactions: the landing, committed before the pipeline runs so that a worker
    killed by this submission is counted; then the article with its final state. Both on
    one connection, checked out (and its liveness checked) once: a worker process runs one
    task at a time, so holding it through the pipeline keeps it from no one, and each
    checkout's ping is a round trip that waits on a busy PostgreSQL.

    ``fetch_failure``: the page of a `url` submission could not be had (fetch retries
    exhausted): build the article from the feed's content instead (see feed_fallback)."""
    database_url = settings.require_database_url()
    started = time.perf_counter()
    stages: dict[str, float] = {}  # milliseconds per stage, for the done line
    info = SubmissionInfo(
        id=uuid.UUID(message["id"]),
        source=str(message["submission"].get("source", "")),
        external_id=message["submission"].get("external_id"),
        received_at=datetime.fromisoformat(message["received_at"]),
    )
    claimed = _claimed(message, settings)
    with get_engine(database_url).connect() as connection:
        with _timed(stages, "land"), connection.begin():
            landing = submissions.land_raw_submission(
                connection,
                submission_id=info.id,
                source=info.source,
                external_id=info.external_id,
                idempotency_key=message.get("idempotency_key"),
                kind=next((k for k in ("text", "html") if k in message["submission"]), "url"),
                payload_json=json_bytes(message["submission"]).decode(),
                received_at=info.received_at,
                message=delivery,
                # no wait for the WAL flush: the message stays unacknowledged in Redis until
                # the article's own commit, which is flushed, and flushes this one with it
                wait_for_flush=False,
                owner=message.get("owner"),
                article_id=claimed[0],
                version=claimed[1],
                submission_hash=claimed[2] or None,
            )
        metrics.DELIVERED[landing.deliveries > 1].inc()
        if landing.status in FINAL_STATUSES:
            log.info(
                "submission %s already %s; delivery %s skipped", info.id, landing.status, delivery
            )
            return landing.status
        if landing.deliveries > settings.max_deliveries:
            reason = (
                f"the worker died {landing.deliveries - 1} times processing this submission "
                f"(limit {settings.max_deliveries})"
            )
            return _finish(connection, info.id, Status.dead, reason)

        outcome = _run_pipeline(message, settings, info, connection, stages, fetch_failure)
        if isinstance(outcome, Status):
            return outcome

        claim = articles.Claim(
            submission_id=info.id,
            owner=landing.owner,
            source=info.source,
            external_id=info.external_id,
            submission_hash=landing.submission_hash or _submission_hash(message),
            received_at=info.received_at,
            article_id=landing.article_id,
            version=landing.version,
        )
        try:
            with _timed(stages, "persist"), connection.begin():
                placed = persist(connection, info, outcome, claim)
        except articles.VersionNotReady as exc:
            raise TransientError(str(exc)) from exc
        except Exception as exc:
            if is_transient(exc):
                raise
            log.exception("submission %s could not be stored", info.id)
            return _finish(connection, info.id, Status.failed, f"cannot store: {exc}")
        timings = {
            "status": Status.done.value,
            "stages_ms": stages,
            "total_ms": round((time.perf_counter() - started) * 1000, 2),
        }
        if placed is None:
            log.info("submission %s was already final", info.id, extra=timings)
        else:
            log.info(
                "submission %s done: article %s version %s%s",
                info.id,
                placed.article_id,
                placed.version,
                " (the same content again)" if placed.repeat else "",
                extra=timings,
            )
        return Status.done


@contextmanager
def _timed(stages: dict[str, float], stage: str) -> Iterator[None]:
    """The stage's time, for the done line (``stages``) and its histogram (/metrics)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        seconds = time.perf_counter() - started
        stages[stage] = round(seconds * 1000, 2)
        metrics.STAGE[stage].observe(seconds)


def _claimed(
    message: ProcessMessage, settings: Settings
) -> tuple[uuid.UUID | None, int | None, str]:
    """Which article and version intake made this submission, and its content hash, from
    the submission's Redis status key (api/intake.py); nothing when the key is gone."""
    try:
        value = _redis(settings).get(f"{settings.redis_key_prefix}submission:{message['id']}")
    except redis.RedisError:
        log.warning("cannot read the claim of %s; reconciled by PostgreSQL", message["id"])
        return None, None, ""
    if not isinstance(value, bytes) or value.count(b"|") != 2:
        return None, None, ""
    article_id, content_hash, version = value.decode().split("|")
    return uuid.UUID(article_id), int(version), content_hash


_clients: dict[str, redis.Redis] = {}


def _redis(settings: Settings) -> redis.Redis:
    """One client per process (and Redis URL, plain or Sentinel: newsflow/redisconn.py)."""
    url = settings.require_redis_url()
    if url not in _clients:
        _clients[url] = redisconn.sync_client(settings, socket_timeout=5)
    return _clients[url]


def _submission_hash(message: ProcessMessage) -> str:
    try:
        return canonical_hash(Submission.model_validate(message["submission"]))
    except ValidationError:
        return ""  # it fails in the pipeline, with the reason


def _run_pipeline(
    message: ProcessMessage,
    settings: Settings,
    info: SubmissionInfo,
    connection: Connection,
    stages: dict[str, float],
    fetch_failure: str | None,
) -> EnrichedArticle | Status:
    """Fetch (for a `url` submission), parse and enrich; or the final state of a
    submission that cannot go through (recorded)."""
    fallback: Submission | None = None
    fallback_reason: str | None = None  # set when the article is the feed's content
    try:
        submission = Submission.model_validate(message["submission"])
        if submission.kind == "url":
            fallback = feed_fallback(submission)
            if fetch_failure is not None and fallback is not None:
                submission, fallback_reason = fallback, fetch_failure
            else:
                with _timed(stages, "fetch"):
                    submission = fetch_content(submission, settings)
    except ValidationError as exc:
        return _finish(connection, info.id, Status.failed, f"invalid submission: {exc}")
    except (FetchRefused, FetchFailed) as exc:
        if exc.transient:
            raise  # retried (worker/tasks.py); past the last retry, the feed's content
        reason = f"fetch {'refused' if isinstance(exc, FetchRefused) else 'failed'}: {exc.reason}"
        if fallback is None:
            return _finish(connection, info.id, Status.failed, reason)
        submission, fallback_reason = fallback, reason

    try:
        with _timed(stages, "parse"):
            article = parse(submission)
        if fallback_reason is not None:
            article.provenance["body"] = "feed"
            article.warnings.append(
                f"the page could not be had ({fallback_reason}): the article is the feed's "
                "own content for this item"
            )
        with _timed(stages, "enrich"):
            return enrich(article, observe=metrics.observe_enricher)
    except SoftTimeLimitExceeded:
        reason = f"processing took longer than {settings.task_soft_time_limit} s"
        return _finish(connection, info.id, Status.failed, reason)
    except ParseError as exc:
        return _finish(connection, info.id, Status.failed, parse_failure(exc))
    except Exception as exc:  # a bug on one input must not loop: fail it, keep the payload
        log.exception("submission %s failed in the pipeline", info.id)
        return _finish(connection, info.id, Status.failed, f"{type(exc).__name__}: {exc}")


def parse_failure(exc: ParseError) -> str:
    """The reason of a submission that cannot be parsed, naming what the page said of
    itself (its title and date), so an operator can tell which story it was."""
    reason = f"cannot parse: {exc}"
    page = exc.page
    if page is None or not (page.title or page.published_at):
        return reason
    said = [f"title {page.title!r}"] if page.title else []
    if page.published_at:
        said.append(f"published {page.published_at.isoformat()}")
    return f"{reason} (the page's {', '.join(said)})"


def feed_fallback(submission: Submission) -> Submission | None:
    """A feed item's own content (newsflow/feeds.py keeps it in metadata.feed.content) as
    the submission's, for when its page cannot be fetched; None if it has none."""
    kept = submission.metadata.get(FEED, {})
    content = kept.get("content") if isinstance(kept, dict) else None
    if not isinstance(content, dict) or not content.keys() & {"text", "html"}:
        return None
    try:
        return Submission.model_validate({**submission.model_dump(exclude_unset=True), **content})
    except ValidationError:
        return None


def fetch_content(submission: Submission, settings: Settings) -> Submission:
    """A `url` submission with the page fetched (safely: see fetch.py) as its content."""
    policy = FetchPolicy(
        max_bytes=settings.fetch_max_bytes,
        deadline=settings.fetch_deadline_seconds,
        allowed_networks=tuple(settings.fetch_allowed_networks),
        allowed_ports=frozenset(settings.fetch_allowed_ports),
    )
    page = fetch_url(submission.url or "", policy)
    if page.content_type == "text/plain":
        content = {"text": page.body.decode(page.charset or "utf-8", errors="replace")}
    else:
        content = {"html": _decode_page(page.body, page.charset)}
    return submission.model_copy(update={**content, "url": page.final_url})


def _decode_page(body: bytes, charset: str | None) -> str:
    # a header charset is trusted when the bytes agree with it; ISO-8859-1 is HTTP's default
    # and decodes anything, so it proves nothing and the page itself is asked instead
    if charset and charset not in ("iso-8859-1", "latin-1"):
        try:
            return body.decode(charset)
        except (LookupError, UnicodeDecodeError):
            pass
    return decode_html(body)


def give_up(message: ProcessMessage, settings: Settings, reason: str) -> bool:
    """Retries of a transient fault are exhausted: record the submission as failed, with
    the reason, so it can be replayed. False when that cannot be recorded either (the
    database is what is down): the caller must then keep the message, not drop it."""
    try:
        with get_engine(settings.require_database_url()).connect() as connection:
            _finish(connection, uuid.UUID(message["id"]), Status.failed, reason)
    except Exception:
        log.exception("could not record that %s failed: %s", message.get("id"), reason)
        return False
    return True


def _finish(
    connection: Connection, submission_id: uuid.UUID, status: Status, reason: str
) -> Status:
    with connection.begin():
        submissions.finish(connection, submission_id, status, reason[:2000])
    log.warning("submission %s %s: %s", submission_id, status, reason)
    return status


def backoff_seconds(retries: int, cap: float, base: float = 1.0, jitter: float = 1.0) -> float:
    """Jittered exponential backoff: a random share ``jitter`` of min(cap, base * 2^retries)
    is taken off (all of it by default, "full jitter": spreads retries of many tasks after
    an outage; half for fetches, so a site that is down is not asked again at once)."""
    top = min(cap, base * 2.0**retries)
    return top * (1 - jitter * random.random())


def has_feed_fallback(message: ProcessMessage) -> bool:
    try:
        return feed_fallback(Submission.model_validate(message["submission"])) is not None
    except ValidationError:
        return False
