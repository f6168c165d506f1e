"""How newsflow.client decides to wait: Retry-After in seconds or as an HTTP date, bounded
by Backoff; what it does against the API itself is in tests/integration/test_client.py."""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime, timedelta

import httpx

from newsflow.client import Backoff, retry_after_seconds


def _answer(status: int, retry_after: str | None = None) -> httpx.Response:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return httpx.Response(status, headers=headers)


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after_seconds("7") == 7
    in_a_minute = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=60), True)
    seconds = retry_after_seconds(in_a_minute)
    assert seconds is not None
    assert 55 <= seconds <= 60
    past = email.utils.format_datetime(datetime.now(UTC) - timedelta(hours=1), True)
    assert retry_after_seconds(past) == 0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_backoff_waits_what_the_api_asks_within_its_bounds() -> None:
    backoff = Backoff(attempts=3, max_wait=10, base=0.5)
    wait = backoff.delay(1, _answer(429, "4"))
    assert wait is not None
    assert 4 <= wait <= 4.4  # the Retry-After, with a little jitter
    # the bound is on what the API asks, so jitter never turns an allowed wait into a refusal
    at_the_bound = backoff.delay(1, _answer(503, "10"))
    assert at_the_bound is not None
    assert backoff.delay(1, _answer(429, "11")) is None  # longer than max_wait: raise now
    assert backoff.delay(3, _answer(429, "1")) is None  # the attempts are used up
    without = backoff.delay(2, _answer(503))
    assert without is not None
    assert 1 <= without <= 1.1  # exponential from base when the API does not say
    assert backoff.delay(1, _answer(500)) is None  # only 429 and 503 are retried
    assert backoff.delay(1, _answer(404)) is None
