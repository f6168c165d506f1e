"""Revisions, durable identity and duplicates at ingest, over real HTTP with a real
worker: a resent (source, external_id) with other content is the next version of the same
article, the same content is a no-op, and PostgreSQL still recognises it once its Redis
claim is gone; a version landing after a later one never overwrites it."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from typing import Any

import httpx
import pytest
import redis

from newsflow.contract import Status
from newsflow.settings import Settings
from newsflow.taskmessage import ProcessMessage, queue_key
from tests.conftest import SEED, Servers, WorkerProcess, api_over_http, own_database, sql_row

pytestmark = pytest.mark.integration
V1 = "Council approves budget\n\nThe city council approved the new budget on Tuesday."
V2 = "Council approves amended budget\n\nThe city council approved an amended budget."
V3 = "Council budget vetoed\n\nThe mayor vetoed the amended budget on Wednesday."


def _wait(http: httpx.Client, article_id: str, version: int = 1) -> dict[str, Any]:
    # the session's worker may first work through other tests' backlog
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        document = http.get(f"/v1/articles/{article_id}").json()
        if document["status"] == "done" and (document.get("version") or 0) >= version:
            return document
        assert document["status"] in ("queued", "processing", "done"), document
        time.sleep(0.1)
    raise AssertionError(f"{article_id} never reached version {version}: {document}")


def _articles(settings: Settings, source: str) -> int:
    (count,) = sql_row(
        settings.require_database_url(),
        "SELECT count(*) FROM newsflow.articles WHERE source = %s",
        (source,),
    )
    return int(count)


def _delete_claim(settings: Settings, source: str, external_id: str) -> None:
    """Forget the Redis claim, as its 30-day expiry would."""
    digest = hashlib.sha256(f"{source}\0{external_id}".encode()).hexdigest()
    client = redis.Redis.from_url(settings.require_redis_url())
    try:
        assert client.delete(f"{settings.redis_key_prefix}external-id:anonymous:{digest}") == 1
    finally:
        client.close()


def test_changed_content_is_the_next_version_and_the_same_content_a_no_op(
    settings: Settings, worker: WorkerProcess
) -> None:
    source = f"rev-{uuid.uuid4().hex[:8]}"
    body = {"source": source, "external_id": "story-1", "text": V1}
    with api_over_http(settings) as url, httpx.Client(base_url=url) as http:
        key = {"Idempotency-Key": f"k1-{source}"}
        first = http.post("/v1/articles", json=body, headers=key)
        assert first.status_code == 202
        article_id = first.json()["id"]
        assert _wait(http, article_id)["version"] == 1

        plain_repeat = http.post("/v1/articles", json=body, headers=key)
        same_content = http.post("/v1/articles", json=body)
        changed = http.post("/v1/articles", json={**body, "text": V2})

        assert (plain_repeat.status_code, plain_repeat.json()["id"]) == (200, article_id)
        assert plain_repeat.json()["duplicate"] is True
        assert (same_content.status_code, same_content.json()["id"]) == (200, article_id)
        assert same_content.json()["version"] == 1
        assert (changed.status_code, changed.json()["id"]) == (202, article_id)
        assert changed.json()["version"] == 2

        document = _wait(http, article_id, version=2)
        assert document["title"] == "Council approves amended budget"
        assert _articles(settings, source) == 1
        versions = http.get(f"/v1/articles/{article_id}/versions").json()
        assert [(v["version"], v["current"]) for v in versions["items"]] == [
            (1, False),
            (2, True),
        ]
        assert versions["items"][0]["title"] == "Council approves budget"
        past = http.get(f"/v1/articles/{article_id}/versions/1").json()
        assert (past["version"], past["title"]) == (1, "Council approves budget")
        assert http.get(f"/v1/articles/{article_id}/versions/3").status_code == 404

    # the change feed: version 1, then version 2, one change each (read from its table:
    # GET /v1/feed exposes a change only once every older transaction on the server has
    # ended, which a shared test server's long transactions can hold back for minutes)
    (changes,) = sql_row(
        settings.require_database_url(),
        "SELECT count(*) FROM newsflow.feed WHERE article_id = %s",
        (article_id,),
    )
    assert changes == 2
    (view_count,) = sql_row(
        settings.require_database_url(),
        "SELECT count(*) FROM newsflow.article_versions_v1 WHERE article_id = %s",
        (article_id,),
    )
    assert view_count == 2


def test_a_resend_after_its_redis_claim_expired_is_still_recognised(
    settings: Settings, worker: WorkerProcess
) -> None:
    source = f"durable-{uuid.uuid4().hex[:8]}"
    body = {"source": source, "external_id": "story-9", "text": V1}
    with api_over_http(settings) as url, httpx.Client(base_url=url) as http:
        article_id = http.post("/v1/articles", json=body).json()["id"]
        _wait(http, article_id)

        _delete_claim(settings, source, "story-9")
        same = http.post("/v1/articles", json=body)
        assert same.status_code == 202  # Redis no longer knows it ...
        assert same.json()["id"] != article_id
        # ... PostgreSQL does: the same article, still version 1, no second one
        resolved = _wait(http, same.json()["id"])
        assert (resolved["id"], resolved["version"]) == (article_id, 1)
        assert _articles(settings, source) == 1

        _delete_claim(settings, source, "story-9")
        changed = http.post("/v1/articles", json={**body, "text": V2})
        resolved = _wait(http, changed.json()["id"], version=2)
        assert (resolved["id"], resolved["version"]) == (article_id, 2)
        assert _wait(http, article_id, version=2)["title"] == "Council approves amended budget"
        assert _articles(settings, source) == 1


def _take_messages(settings: Settings) -> list[ProcessMessage]:
    """The task messages waiting in the queue, oldest first (no worker consumes it)."""
    client = redis.Redis.from_url(settings.require_redis_url())
    messages = []
    try:
        while raw := client.rpop(queue_key(settings, settings.queue)):
            assert isinstance(raw, bytes)
            body = json.loads(base64.b64decode(json.loads(raw)["body"]))
            messages.append(body[0][0])
    finally:
        client.close()
    return messages


def test_an_earlier_version_landing_late_never_overwrites_a_later_one(
    servers: Servers, settings: Settings
) -> None:
    from worker.process import process

    with own_database(servers, settings, "revisions") as own:
        body = {"source": "late", "external_id": "story-3", "text": V1}
        with api_over_http(own) as url, httpx.Client(base_url=url) as http:
            article_id = http.post("/v1/articles", json=body).json()["id"]
            (first,) = _take_messages(own)
            assert process(first, own, "late-1:0") == Status.done
            assert http.post("/v1/articles", json={**body, "text": V2}).json()["version"] == 2
            assert http.post("/v1/articles", json={**body, "text": V3}).json()["version"] == 3
            second, third = _take_messages(own)

            # version 3 lands first, then version 2 late
            assert process(third, own, "late-3:0") == Status.done
            assert process(second, own, "late-2:0") == Status.done

            document = http.get(f"/v1/articles/{article_id}").json()
            assert (document["version"], document["title"]) == (3, "Council budget vetoed")
            versions = http.get(f"/v1/articles/{article_id}/versions").json()
            assert versions["version"] == 3
            assert [(v["version"], v["current"]) for v in versions["items"]] == [
                (1, False),
                (2, False),
                (3, True),
            ]
            past = http.get(f"/v1/articles/{article_id}/versions/2").json()
            assert past["title"] == "Council approves amended budget"
            assert _articles(own, "late") == 1


def test_exact_near_and_same_url_duplicates_are_marked_at_ingest(
    settings: Settings, worker: WorkerProcess
) -> None:
    seed = SEED.read_text()
    tag = uuid.uuid4().hex[:8]
    page = f"https://news.example.com/{tag}/story?id=7"
    with api_over_http(settings) as url, httpx.Client(base_url=url) as http:

        def submit(source: str, text: str, **extra: str) -> dict[str, Any]:
            response = http.post("/v1/articles", json={"source": source, "text": text, **extra})
            assert response.status_code == 202, response.text
            return _wait(http, response.json()["id"])

        original = submit(f"dup-{tag}", seed + f"\n\nRef {tag}.")
        exact = submit(f"dup-copy-{tag}", seed + f"\n\nRef {tag}.")
        near = submit(
            f"dup-edit-{tag}", seed.replace("Experts suggest", "Experts say") + f"\n\nRef {tag}."
        )
        first_url = submit(
            f"url-{tag}", f"{V1} Ref {tag}.", url=f"{page}&utm_source=newsletter#top"
        )
        same_url = submit(f"url-b-{tag}", f"{V3} Ref {tag}.", url=f"{page}&utm_campaign=x&fbclid=y")

    assert original["duplicate_of"] is None
    assert exact["duplicate_of"] == original["id"]
    assert near["duplicate_of"] is None
    assert original["id"] in {d["id"] for d in near["near_duplicates"]}
    assert all(d["distance"] <= 3 for d in near["near_duplicates"])
    assert same_url["canonical_url"] == page
    assert same_url["duplicate_of"] == first_url["id"]
    with api_over_http(settings) as url, httpx.Client(base_url=url) as http:
        related = http.get(f"/v1/articles/{original['id']}/related").json()["duplicates"]
    kinds = {d["id"]: d["kind"] for d in related}
    assert kinds[exact["id"]] == "exact"
    assert kinds[near["id"]] == "near"
