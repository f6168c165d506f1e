"""Webhooks end to end: the real API over HTTP, a real worker (whose parent delivers),
PostgreSQL and Redis, and receivers that are real HTTP servers in this process. A
subscription gets the matching articles only, signed, in feed order; a receiver that is
down for a while gets everything once it is back, in order, with the retries recorded; one
that never comes back ends in the dead letters, and replay delivers them."""

from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from newsflow.embedded import free_port
from newsflow.settings import Settings
from tests.conftest import SEED, Servers, WorkerProcess, api_over_http, own_database, settings_env

pytestmark = pytest.mark.integration

SECRET = "a-test-secret-of-some-length"
MAX_ATTEMPTS = 6


class Receiver:
    """A webhook receiver on 127.0.0.1:``port``: records what it is sent; ``failing`` more
    requests answer 500; ``stop()`` closes the socket, so deliveries are refused."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.failing = 0
        self.server: http.server.ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> None:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.failing > 0:
                    receiver.failing -= 1
                    self.send_response(500)
                else:
                    receiver.received.append((dict(self.headers), body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def changes(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.received]


@pytest.fixture(scope="module")
def ports() -> list[int]:
    return [free_port() for _ in range(4)]


@pytest.fixture(scope="module")
def own_settings(servers: Servers, settings: Settings, ports: list[int]) -> Iterator[Settings]:
    with own_database(servers, settings, "newsflow_webhooks") as own:
        yield own.model_copy(
            update={
                # loopback only because the tests say so (it is refused by default)
                "webhook_allowed_networks": ["127.0.0.1/32"],
                "webhook_allowed_ports": ports,
                "webhook_max_attempts": MAX_ATTEMPTS,
                "webhook_retry_backoff_base": 0.5,
                "webhook_retry_backoff_max": 2.0,
                "webhook_timeout_seconds": 5.0,
            }
        )


@pytest.fixture(scope="module")
def api(own_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    worker = WorkerProcess(
        settings_env(own_settings), tmp_path_factory.mktemp("w") / "worker.log", concurrency=1
    )
    try:
        worker.wait_ready()
        with api_over_http(own_settings) as base_url, httpx.Client(base_url=base_url) as client:
            yield client
    finally:
        worker.stop()


def wait_until(condition: Callable[[], Any], what: str, timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def submit(api: httpx.Client, source: str, n: int) -> str:
    text = SEED.read_text()
    response = api.post(
        "/v1/articles", json={"source": source, "external_id": f"{source}-{n}", "text": text}
    )
    assert response.status_code == 202, response.text
    article_id: str = response.json()["id"]
    return article_id


def wait_done(api: httpx.Client, article_ids: list[str]) -> None:
    def done() -> bool:
        states = [api.get(f"/v1/articles/{i}").json()["status"] for i in article_ids]
        assert not {"failed", "dead"} & set(states), states
        return all(state == "done" for state in states)

    wait_until(done, "the articles to be processed")


def feed_order(api: httpx.Client, article_ids: list[str]) -> list[str]:
    items = api.get("/v1/feed", params={"limit": 1000}).json()["items"]
    return [item["id"] for item in items if item["id"] in article_ids]


def subscribe(api: httpx.Client, url: str, **fields: Any) -> dict[str, Any]:
    response = api.post("/v1/webhooks", json={"url": url, "secret": SECRET, **fields})
    assert response.status_code == 201, response.text
    webhook: dict[str, Any] = response.json()
    return webhook


def verifies(headers: dict[str, str], body: bytes) -> bool:
    """What a receiver does, as the README says: HMAC-SHA256 over ``t.body``."""
    fields = dict(part.split("=", 1) for part in headers["Newsflow-Signature"].split(","))
    expected = hmac.new(SECRET.encode(), f"{fields['t']}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), fields["v1"]) and (
        abs(time.time() - int(fields["t"])) < 300
    )


def test_a_subscription_gets_the_matching_articles_signed_in_feed_order(
    api: httpx.Client, ports: list[int]
) -> None:
    receiver = Receiver(ports[0])
    receiver.start()
    try:
        webhook = subscribe(api, receiver.url, filters={"source": ["wanted"]})
        assert "secret" not in api.get(f"/v1/webhooks/{webhook['id']}").json()
        wanted, other = [], []
        for n in range(3):
            wanted.append(submit(api, "wanted", n))
            other.append(submit(api, "other", n))
        wait_done(api, wanted + other)
        wait_until(lambda: len(receiver.received) >= 3, "three deliveries")
        time.sleep(1)  # a late extra delivery would show now
        received = receiver.changes()
        assert [change["id"] for change in received] == feed_order(api, wanted)
        assert all(verifies(headers, body) for headers, body in receiver.received)
        tampered = receiver.received[0][1].replace(b'"done"', b'"dead"')
        assert not verifies(receiver.received[0][0], tampered)
        # each body is the change as the feed has it
        feed = {item["id"]: item for item in api.get("/v1/feed").json()["items"]}
        for change in received:
            assert change["cursor"] == feed[change["id"]]["cursor"]
            assert change["status"] == "done"
            assert change["links"] == feed[change["id"]]["links"]
        shown = api.get(f"/v1/webhooks/{webhook['id']}").json()
        assert shown["delivery"]["attempts"] == 0
        assert shown["delivery"]["last_error"] is None
        assert shown["cursor"] >= received[-1]["cursor"]
    finally:
        receiver.stop()
        api.delete(f"/v1/webhooks/{webhook['id']}")


def attempts(api: httpx.Client, webhook_id: str) -> list[dict[str, Any]]:
    response = api.get(f"/v1/webhooks/{webhook_id}/attempts", params={"limit": 1000})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items[::-1]  # oldest first


def test_a_receiver_down_for_a_while_gets_everything_in_order_with_retries_recorded(
    api: httpx.Client, ports: list[int]
) -> None:
    receiver = Receiver(ports[1])  # not started: connections are refused
    webhook = subscribe(api, receiver.url, filters={"source": ["outage"]})
    try:
        sent = [submit(api, "outage", n) for n in range(3)]
        wait_done(api, sent)
        wait_until(
            lambda: len([a for a in attempts(api, webhook["id"]) if a["error"]]) >= 2,
            "two refused attempts",
        )
        receiver.failing = 2  # back, but answering 500 twice
        receiver.start()
        wait_until(lambda: len(receiver.received) == 3, "every delivery after the outage")
        assert [change["id"] for change in receiver.changes()] == feed_order(api, sent)
        log = attempts(api, webhook["id"])
        first = [a for a in log if a["article_id"] == receiver.changes()[0]["id"]]
        refused = [a for a in first if a["status_code"] is None]
        failed = [a for a in first if a["status_code"] == 500]
        assert len(refused) >= 2
        assert refused[0]["error"]
        assert len(failed) == 2
        assert first[-1]["status_code"] == 204
        assert first[-1]["error"] is None
        assert [a["attempt"] for a in first] == list(range(1, len(first) + 1))
        assert len(first) <= MAX_ATTEMPTS
        # the later ones waited behind the first, then went through at once
        for change in receiver.changes()[1:]:
            assert [a["attempt"] for a in log if a["article_id"] == change["id"]] == [1]
        assert api.get(f"/v1/webhooks/{webhook['id']}/dead").json()["items"] == []
        shown = api.get(f"/v1/webhooks/{webhook['id']}").json()
        assert shown["delivery"]["attempts"] == 0
        assert shown["delivery"]["pending"] is None
        assert shown["delivery"]["last_error"] == "HTTP 500"
    finally:
        receiver.stop()
        api.delete(f"/v1/webhooks/{webhook['id']}")


def test_a_receiver_that_never_comes_back_ends_in_the_dead_letters_and_replay_delivers(
    api: httpx.Client, ports: list[int]
) -> None:
    receiver = Receiver(ports[2])  # never started until the replay
    webhook = subscribe(api, receiver.url, filters={"source": ["gone"]})
    try:
        sent = [submit(api, "gone", n) for n in range(2)]
        wait_done(api, sent)
        dead_url = f"/v1/webhooks/{webhook['id']}/dead"
        dead = wait_until(
            lambda: len(items := api.get(dead_url).json()["items"]) == 2 and items,
            "both changes dead-lettered",
            timeout=120,
        )
        assert [d["change"]["id"] for d in dead] == feed_order(api, sent)
        assert all(d["attempts"] == MAX_ATTEMPTS and d["last_error"] for d in dead)
        assert api.get(f"/v1/webhooks/{webhook['id']}").json()["dead"] == 2
        receiver.start()
        response = api.post(f"/v1/webhooks/{webhook['id']}/replay")
        assert response.status_code == 202, response.text
        assert response.json() == {"replaying": 2}
        wait_until(lambda: len(receiver.received) == 2, "the replayed deliveries")
        assert [change["id"] for change in receiver.changes()] == feed_order(api, sent)
        assert all(verifies(headers, body) for headers, body in receiver.received)
        wait_until(lambda: api.get(dead_url).json()["items"] == [], "the dead letters to go")
        replays = [a for a in attempts(api, webhook["id"]) if a["replay"]]
        assert [a["status_code"] for a in replays] == [204, 204]
    finally:
        receiver.stop()
        api.delete(f"/v1/webhooks/{webhook['id']}")


def test_webhook_urls_are_checked_like_fetches(api: httpx.Client, ports: list[int]) -> None:
    for url, why in (
        ("http://169.254.169.254/latest", "metadata"),
        ("http://127.0.0.1:1/hook", "port 1"),
        ("ftp://127.0.0.1/hook", "scheme"),
        (f"http://localhost:{ports[3]}/hook", "localhost"),
    ):
        response = api.post("/v1/webhooks", json={"url": url})
        assert response.status_code == 422, (why, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["field"] == "url"
    url = f"http://127.0.0.1:{ports[3]}/hook"
    response = api.post("/v1/webhooks", json={"url": url, "filters": {"nope": 1}})
    assert response.status_code == 422
    response = api.post("/v1/webhooks", json={"url": url, "filters": {"q": "-" * 60}})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "filters.q"
    assert api.get("/v1/webhooks").json()["items"] == []


def test_a_subscription_is_shown_updated_and_deleted(api: httpx.Client, ports: list[int]) -> None:
    url = f"http://127.0.0.1:{ports[3]}/hook"
    created = subscribe(api, url, filters={"language": ["uk"], "q": "бюджет"})
    assert created["secret"] == SECRET
    assert created["filters"]["language"] == ["uk"]
    webhook_id = created["id"]
    assert [w["id"] for w in api.get("/v1/webhooks").json()["items"]] == [webhook_id]
    response = api.patch(f"/v1/webhooks/{webhook_id}", json={"active": False, "description": "x"})
    assert response.status_code == 200, response.text
    assert response.json()["active"] is False
    assert response.json()["filters"]["q"] == "бюджет"  # untouched
    assert (
        api.patch(f"/v1/webhooks/{webhook_id}", json={"url": "http://10.0.0.1/"}).status_code == 422
    )
    assert api.delete(f"/v1/webhooks/{webhook_id}").status_code == 204
    assert api.get(f"/v1/webhooks/{webhook_id}").status_code == 404
    assert api.delete(f"/v1/webhooks/{webhook_id}").status_code == 404


def test_webhooks_need_the_admin_scope(own_settings: Settings) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from newsflow.store.api_keys import create_api_key
    from newsflow.store.db import transaction

    with transaction(own_settings.require_database_url()) as connection:
        reader = create_api_key(connection, name="reader", scopes=("read",))
        admin = create_api_key(connection, name="admin", scopes=("admin",))
    app = create_app(own_settings.model_copy(update={"auth": "required"}))
    with TestClient(app) as client:
        assert client.get("/v1/webhooks").status_code == 401
        as_reader = {"Authorization": f"Bearer {reader.key}"}
        assert client.get("/v1/webhooks", headers=as_reader).status_code == 403
        response = client.post("/v1/webhooks", headers=as_reader, json={"url": "http://x/"})
        assert response.status_code == 403
        as_admin = {"Authorization": f"Bearer {admin.key}"}
        assert client.get("/v1/webhooks", headers=as_admin).status_code == 200


def test_a_subscription_behind_the_feed_retention_says_so_and_carries_on(
    api: httpx.Client, own_settings: Settings, ports: list[int]
) -> None:
    import psycopg

    assert own_settings.database_url
    with psycopg.connect(own_settings.database_url, autocommit=True) as db:
        db.execute(  # as if pruning had deleted changes up to (1, 0)
            "INSERT INTO newsflow.feed_pruned (singleton, xid, position) VALUES (true, '1', 0) "
            "ON CONFLICT (singleton) DO NOTHING"
        )
    receiver = Receiver(ports[3])
    receiver.start()
    webhook = subscribe(api, receiver.url, filters={"source": ["late"]}, cursor="0" * 32)
    try:
        late = submit(api, "late", 0)
        wait_done(api, [late])
        wait_until(lambda: len(receiver.received) == 1, "the change after the pruned ones")
        assert receiver.changes()[0]["id"] == late
        shown = api.get(f"/v1/webhooks/{webhook['id']}").json()
        assert "pruned" in shown["delivery"]["last_error"]
    finally:
        receiver.stop()
        api.delete(f"/v1/webhooks/{webhook['id']}")
