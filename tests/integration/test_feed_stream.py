"""``GET /v1/feed/stream`` over real HTTP, read with httpx as a client would: changes arrive
as they are committed, and a client that disconnects and resumes with Last-Event-ID gets
exactly the changes it missed; the stream sends heartbeats while idle and ends by itself
after NEWSFLOW_STREAM_MAX_SECONDS. The changes are written straight into PostgreSQL (as the
worker writes them) in a database of this test's own."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest

from newsflow.settings import Settings
from tests.conftest import Servers, api_over_http, own_database
from tests.integration.test_consumers import insert_article

pytestmark = pytest.mark.integration

WAIT = 60  # seconds a test waits for an event before it fails


@pytest.fixture
def own_settings(servers: Servers, settings: Settings) -> Iterator[Settings]:
    with own_database(servers, settings, "newsflow_stream") as own:
        yield own.model_copy(update={"stream_heartbeat_seconds": 0.5, "stream_max_seconds": 8})


@pytest.fixture
def db(own_settings: Settings) -> Iterator[psycopg.Connection]:
    assert own_settings.database_url
    with psycopg.connect(own_settings.database_url, autocommit=True) as connection:
        yield connection


class Stream:
    """Reads one event stream in a thread: each event (``{"id", "data"}``) or heartbeat
    (``"heartbeat"``) goes on ``lines``; ``None`` when the server ends the stream."""

    def __init__(self, base_url: str, **request: Any) -> None:
        self.lines: queue.Queue[dict[str, Any] | str | None] = queue.Queue()
        self.client = httpx.Client(base_url=base_url, timeout=httpx.Timeout(5, read=30))
        self.response = self.client.send(
            self.client.build_request("GET", "/v1/feed/stream", **request), stream=True
        )
        assert self.response.status_code == 200, self.response.read()
        assert self.response.headers["content-type"].startswith("text/event-stream")
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        event: dict[str, Any] = {}
        try:
            for line in self.response.iter_lines():
                if line.startswith(":"):
                    self.lines.put("heartbeat")
                elif line.startswith("id: "):
                    event["id"] = line[4:]
                elif line.startswith("data: "):
                    event["data"] = json.loads(line[6:])
                elif line == "" and event:
                    self.lines.put(event)
                    event = {}
        except httpx.HTTPError:
            pass  # closed by us
        self.lines.put(None)

    def next_event(self) -> dict[str, Any]:
        while True:
            item = self.lines.get(timeout=WAIT)
            if isinstance(item, dict):
                return item
            assert item is not None, "the stream ended"

    def until_heartbeat(self) -> list[dict[str, Any]]:
        """Every event before the next heartbeat: what was ready when the stream began."""
        events = []
        while (item := self.lines.get(timeout=WAIT)) != "heartbeat":
            assert isinstance(item, dict), item
            events.append(item)
        return events

    def close(self) -> None:
        self.response.close()
        self.client.close()


def exposed(base_url: str, article_id: object) -> list[dict[str, Any]]:
    """The feed, once it shows ``article_id``."""
    with httpx.Client(base_url=base_url) as client:
        for _ in range(WAIT * 10):
            items: list[dict[str, Any]] = client.get("/v1/feed", params={"limit": 1000}).json()[
                "items"
            ]
            if str(article_id) in {item["id"] for item in items}:
                return items
            threading.Event().wait(0.1)
    raise AssertionError(f"{article_id} never reached the feed")


def test_changes_arrive_as_they_happen_and_a_resumed_stream_gets_exactly_the_rest(
    own_settings: Settings, db: psycopg.Connection
) -> None:
    before = insert_article(db, source="stream", title="before")
    with api_over_http(own_settings) as base_url:
        stream = Stream(base_url, params={"cursor": "now"})
        try:
            seen = []
            for n in range(3):  # each read before the next is written: they come live
                article_id = insert_article(db, source="stream", title=f"live {n}")
                event = stream.next_event()
                assert event["data"]["id"] == str(article_id)
                assert event["data"]["title"] == f"live {n}"
                assert event["id"] == event["data"]["cursor"]
                seen.append(event)
            assert stream.lines.get(timeout=WAIT) == "heartbeat"  # idle: kept alive
        finally:
            stream.close()
        missed = [insert_article(db, source="stream", title=f"missed {n}") for n in range(2)]
        exposed(base_url, missed[-1])  # (the feed shows a change once older transactions end)
        resumed = Stream(base_url, headers={"Last-Event-ID": seen[-1]["id"]})
        try:
            assert [e["data"]["id"] for e in resumed.until_heartbeat()] == list(map(str, missed))
            later = insert_article(db, source="stream", title="later")
            assert resumed.next_event()["data"]["id"] == str(later)
            # bounded: the server ends the stream (the client would reconnect)
            while (item := resumed.lines.get(timeout=WAIT)) is not None:
                assert not isinstance(item, dict), item
        finally:
            resumed.close()
        # the same changes, and in the same order, as GET /v1/feed
        feed = exposed(base_url, later)
        streamed = [e["data"] for e in seen]
        by_id = {item["id"]: item for item in feed}
        assert [item["id"] for item in feed][0] == str(before)
        for change in streamed:
            assert change["cursor"] == by_id[change["id"]]["cursor"]
            assert change["links"] == by_id[change["id"]]["links"]
        # a resumed stream from the beginning replays the whole feed in its order
        everything = Stream(base_url)
        try:
            assert [e["data"]["id"] for e in everything.until_heartbeat()] == [
                item["id"] for item in feed
            ]
        finally:
            everything.close()


def test_a_bad_or_pruned_cursor_is_refused_before_the_stream_starts(
    own_settings: Settings, db: psycopg.Connection
) -> None:
    with api_over_http(own_settings) as base_url, httpx.Client(base_url=base_url) as client:
        response = client.get("/v1/feed/stream", headers={"Last-Event-ID": "nope"})
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["field"].lower() == "header.last-event-id"
        db.execute(
            "INSERT INTO newsflow.feed_pruned (singleton, xid, position) "
            "VALUES (true, '100'::xid8, 5)"
        )
        response = client.get("/v1/feed/stream", params={"cursor": "0" * 32})
        assert response.status_code == 410, response.text
