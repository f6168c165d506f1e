"""Consumers read a streaming replica (NEWSFLOW_READ_DATABASE_URL): lists, search and the
change feed come from it while workers write to the primary. The feed followed on the
replica, while workers commit concurrently, is the primary's feed exactly: no change
skipped, none repeated, in the same order. And it says how far behind it is."""

from __future__ import annotations

import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest

from newsflow.embedded import EmbeddedPostgres
from newsflow.store import changes
from newsflow.store.db import get_engine
from tests.faults.conftest import FaultStack, StreamingReplica, seed_submission

pytestmark = pytest.mark.faults
ARTICLES = 60


def test_consumers_read_the_replica_and_its_feed_skips_nothing(tmp_path: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="newsflow-replica-") as folder:
        primary = EmbeddedPostgres(Path(folder) / "primary").start()
        stack = FaultStack(primary, tmp_path)
        replica: StreamingReplica | None = None
        try:
            replica = StreamingReplica(primary, Path(folder) / "replica")
            name = urlsplit(stack.settings.require_database_url()).path.lstrip("/")
            replica_url = replica.database_url(name)
            stack.settings = stack.settings.model_copy(update={"read_database_url": replica_url})
            stack.start_worker()
            with stack.client() as client:
                followed, lags = _follow_while_submitting(stack, client)
                _lag_is_reported_and_reads_come_from_the_replica(stack, client, replica_url)
            with get_engine(stack.settings.require_database_url()).connect() as connection:
                feed = changes.read_feed(connection, changes.START, 10_000)
            on_primary = [row.cursor for row in feed]
        finally:
            stack.close()
            if replica is not None:
                replica.stop()
            primary.stop()

    assert followed == on_primary[: len(followed)]  # the same changes, in the same order
    assert len(set(followed)) == len(followed) == ARTICLES
    assert all(isinstance(lag, float) and lag >= 0 for lag in lags), lags


def _follow_while_submitting(stack: FaultStack, client: Any) -> tuple[list[str], list[Any]]:
    followed: list[str] = []
    lags: list[Any] = []
    cursor: str | None = None

    def read_once() -> None:
        nonlocal cursor
        page = client.get("/v1/feed", params={"cursor": cursor} if cursor else {})
        assert page.status_code == 200, page.text
        body = page.json()
        followed.extend(item["cursor"] for item in body["items"])
        lags.append(body["replica_lag_seconds"])
        cursor = body["next_cursor"]

    for batch in range(ARTICLES // 10):  # the feed is read while workers commit
        for n in range(10):
            accepted = client.post("/v1/articles", json=seed_submission(f"r{batch}-{n}"))
            assert accepted.status_code == 202, accepted.text
        read_once()
    deadline = time.monotonic() + 240
    while len(followed) < ARTICLES and time.monotonic() < deadline:
        read_once()
        time.sleep(0.2)
    assert len(followed) == ARTICLES, f"followed {len(followed)} of {ARTICLES} changes"
    return followed, lags


def _lag_is_reported_and_reads_come_from_the_replica(
    stack: FaultStack, client: Any, replica_url: str
) -> None:
    end = client.get("/v1/feed", params={"cursor": "now"}).json()["next_cursor"]
    with psycopg.connect(replica_url, autocommit=True) as replica:
        replica.execute("SELECT pg_wal_replay_pause()")
        try:
            late = {**seed_submission(), "source": f"late-{uuid.uuid4().hex[:6]}"}
            late_id = client.post("/v1/articles", json=late).json()["id"]
            stack.wait_until(
                "the late article on the primary",
                lambda: client.get(f"/v1/articles/{late_id}").json()["status"] == "done",
                120,
            )  # a submission's own status is read on the primary: no lag for its sender
            time.sleep(1.0)  # the replica has received the commit, and not replayed it
            behind = client.get("/v1/feed", params={"cursor": end}).json()
            assert behind["items"] == []
            assert behind["replica_lag_seconds"] > 0
            listed = client.get("/v1/articles", params={"source": late["source"]}).json()
            assert listed["items"] == []  # lists come from the replica too
        finally:
            replica.execute("SELECT pg_wal_replay_resume()")

    def caught_up() -> bool:
        page = client.get("/v1/feed", params={"cursor": end}).json()
        return [item["id"] for item in page["items"]] == [late_id] and (
            page["replica_lag_seconds"] == 0
        )

    stack.wait_until("the replica to catch up", caught_up, 60)
    listed = client.get("/v1/articles", params={"source": late["source"]}).json()
    assert [item["id"] for item in listed["items"]] == [late_id]
