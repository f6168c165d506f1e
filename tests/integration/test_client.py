"""newsflow.client against the real API over HTTP, with a real worker: submit one and many,
read, search, export and follow the change feed from a stored cursor; a real rate-limited
key's 429 waited out after its Retry-After; a real 503; the API down."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
import redis

from newsflow.client import (
    ApiError,
    ApiUnreachable,
    AsyncClient,
    Backoff,
    Client,
    NotFound,
    RateLimited,
    Unavailable,
)
from newsflow.contract import Status, Submission
from newsflow.embedded import free_port
from newsflow.settings import Settings
from newsflow.store.api_keys import create_api_key
from newsflow.store.db import transaction
from tests.conftest import SEED, WorkerProcess, api_over_http

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def api_url(settings: Settings) -> Iterator[str]:
    with api_over_http(settings) as url:
        yield url


def _wait_done(client: Client, ids: list[str], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    pending = set(ids)
    while pending and time.monotonic() < deadline:
        pending = {i for i in pending if client.get(i).status not in (Status.done, Status.failed)}
        time.sleep(0.1)
    assert not pending, f"not processed in {timeout} s: {pending}"


def _follow_until(
    client: Client, cursor: str, wanted: set[str], stop_after: int | None = None
) -> list[tuple[str, str]]:
    """(cursor, article id) of each change after ``cursor`` until every one of ``wanted``
    came (or ``stop_after`` changes did). A writing transaction anywhere on the server
    holds later changes back: "caught up" is not "all there", so read on for a while."""
    seen: list[tuple[str, str]] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for after, change in client.follow(cursor, until_caught_up=True, limit=2):
            seen.append((after, str(change.id)))
            if stop_after is not None and len(seen) == stop_after:
                return seen
        if wanted <= {change for _, change in seen}:
            return seen
        if seen:
            cursor = seen[-1][0]
        time.sleep(0.2)
    raise AssertionError(f"the feed never brought {wanted - {c for _, c in seen}}")


def test_submit_read_search_export_and_follow_from_a_stored_cursor(
    api_url: str, worker: WorkerProcess
) -> None:
    source = f"client-{uuid.uuid4().hex[:8]}"
    with Client(api_url) as client:
        stored = client.feed_page("now").next_cursor  # what a consumer persisted earlier
        one = client.submit(Submission(source=source, text=SEED.read_text()))
        assert one.status == Status.queued
        assert (
            client.submit({"source": source, "text": "x"}, idempotency_key="k1").duplicate is False
        )
        again = client.submit({"source": source, "text": "x"}, idempotency_key="k1")
        assert again.duplicate is True

        many = [
            {"source": source, "text": f"Port story {n}\n\nThe port reopened on day {n}."}
            for n in range(3)
        ]
        many.insert(1, {"source": source})  # no content: refused alone
        results = list(client.submit_many(many, batch_size=2))  # two batch requests
        assert [r.index for r in results] == [0, 1, 2, 3]
        assert results[1].error is not None
        assert results[1].id is None
        ids = [str(one.id), str(again.id), *(str(r.id) for r in results if r.id)]
        assert len(ids) == 5
        _wait_done(client, ids)

        seed = client.get(one.id)
        assert seed.title is not None
        assert seed.title.startswith("Lithuania urges")
        with pytest.raises(NotFound) as missing:
            client.get(uuid.uuid4())
        assert missing.value.status == 404
        assert missing.value.title == "Not found"

        found = list(client.search(source=source, page_size=2))  # three pages
        assert {str(item.id) for item in found} == set(ids)
        ranked = list(client.search(source=source, q="Lithuania"))
        assert [item.id for item in ranked] == [one.id]
        exported = list(client.export(source=source, page_size=2))
        assert [d.id for d in exported] == [item.id for item in found]
        assert exported[0].body

        lithuania = next(e for e in client.entities("Lithuan") if e.key == "country:LT")
        assert lithuania.articles >= 1
        assert one.id in {a.id for a in client.entity_articles("country:LT", page_size=1)}
        # earlier tests may have stored the seed too; none of this test's others is it
        duplicates = client.related(one.id).duplicates
        assert one.id not in {d.id for d in duplicates}
        assert all(d.source != source for d in duplicates), duplicates

        # follow the feed from the stored cursor; stop after two changes, store the cursor
        seen = _follow_until(client, stored, set(ids), stop_after=2)
        assert len(seen) == 2
        stored = seen[-1][0]
        # ... and resume from it: the rest, none repeated, none missed
        rest = _follow_until(client, stored, set(ids) - {change for _, change in seen})
        ours = [change for _, change in seen + rest if change in ids]
        assert sorted(ours) == sorted(ids)

        with pytest.raises(ApiError) as invalid:
            client.feed_page("not-a-cursor")
        assert invalid.value.status == 422
        assert invalid.value.problem.errors
        assert invalid.value.problem.errors[0].field == "query.cursor"


def test_async_client_submits_reads_and_pages(api_url: str, worker: WorkerProcess) -> None:
    source = f"client-async-{uuid.uuid4().hex[:8]}"

    async def scenario() -> None:
        async with AsyncClient(api_url) as client:
            start = (await client.feed_page("now")).next_cursor
            items = [
                {"source": source, "text": f"Story {n}\n\nA calm day number {n}."} for n in range(3)
            ]
            results = [r async for r in client.submit_many(items, batch_size=2)]
            ids = {str(r.id) for r in results}
            assert len(ids) == 3
            changed: set[str] = set()
            deadline = time.monotonic() + 90
            while not ids <= changed and time.monotonic() < deadline:
                async for cursor, change in client.follow(start, until_caught_up=True):
                    changed.add(str(change.id))
                    start = cursor
                await asyncio.sleep(0.1)
            assert ids <= changed
            found = {str(a.id) async for a in client.search(source=source, page_size=1)}
            assert found == ids
            documents = [d async for d in client.export(source=source, page_size=2)]
            assert {str(d.id) for d in documents} == ids
            with pytest.raises(NotFound):
                await client.get(uuid.uuid4())

    asyncio.run(scenario())


def test_a_rate_limited_key_is_waited_out_after_retry_after(settings: Settings) -> None:
    limited = settings.model_copy(update={"auth": "required", "rate_limit_per_minute": 2})
    with transaction(settings.require_database_url()) as connection:
        key = create_api_key(connection, name="client-limited", scopes=["read"])
    waits: list[tuple[float, int]] = []
    with api_over_http(limited) as url:
        missing = uuid.uuid4()
        impatient = Client(url, api_key=key.key, backoff=Backoff(max_wait=0.5))
        for _ in range(2):
            with pytest.raises(NotFound):
                impatient.get(missing)
        with pytest.raises(RateLimited) as refused:  # asks for more than 0.5 s: raised
            impatient.get(missing)
        assert refused.value.status == 429
        assert refused.value.retry_after is not None
        assert 1 <= refused.value.retry_after <= 60
        impatient.close()

        # end the key's window soon (it would last the rest of the minute), so waiting
        # out the Retry-After takes seconds
        with redis.Redis.from_url(settings.require_redis_url()) as r:
            assert r.pexpire(f"{settings.redis_key_prefix}rate-limit:key:{key.id}", 1500)
        patient = Client(
            url, api_key=key.key, on_wait=lambda s, r: waits.append((s, r.status_code))
        )
        with pytest.raises(NotFound):  # answered, after waiting
            patient.get(missing)
        patient.close()
    assert waits
    assert all(status == 429 for _, status in waits)
    assert 1 <= waits[0][0] <= 3  # the Retry-After the API gave, not a guess


def test_a_503_is_a_typed_error_carrying_retry_after(settings: Settings) -> None:
    no_redis = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    with api_over_http(no_redis) as url, Client(url, backoff=Backoff(max_wait=1)) as client:
        with pytest.raises(Unavailable) as down:
            client.submit({"source": "client", "text": "Queue down\n\nNothing can be queued."})
    assert down.value.status == 503
    assert down.value.retry_after == 5
    assert down.value.title == "Queue unavailable"


def test_the_api_down_is_a_clean_typed_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with Client(url) as client, pytest.raises(ApiUnreachable) as down:
        client.get(uuid.uuid4())
    assert url in str(down.value)
    assert isinstance(down.value.__cause__, httpx.ConnectError)

    async def scenario() -> None:
        async with AsyncClient(url) as client:
            with pytest.raises(ApiUnreachable):
                [a async for a in client.search()]

    asyncio.run(scenario())
