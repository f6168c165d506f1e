"""Change-feed retention: `newsflow feed prune` and the worker delete changes older than
NEWSFLOW_FEED_RETENTION_DAYS, in batches, without ever moving a consumer's cursor past a
change it has yet to see; a cursor from before the pruned changes gets 410 naming where to
resume. Real PostgreSQL, Redis, worker and API; each test has a database of its own, since
pruning works on the oldest end of the whole feed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from api.app import create_app
from cli.main import main as cli
from newsflow.settings import Settings
from tests.conftest import Servers, WorkerProcess, own_database, settings_env
from tests.integration.test_consumers import insert_article

pytestmark = pytest.mark.integration


@pytest.fixture
def own_settings(servers: Servers, settings: Settings) -> Iterator[Settings]:
    with own_database(servers, settings, "newsflow_feed") as own:
        yield own


@pytest.fixture
def db(own_settings: Settings) -> Iterator[psycopg.Connection]:
    assert own_settings.database_url
    with psycopg.connect(own_settings.database_url, autocommit=True) as connection:
        yield connection


@pytest.fixture
def client(own_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(own_settings), raise_server_exceptions=False) as test_client:
        yield test_client


def _changes(db: psycopg.Connection, count: int) -> list[str]:
    """``count`` new articles, each written in a transaction of its own: one feed change
    each, in this order."""
    return [str(insert_article(db, source="retention", title=f"t{i}")) for i in range(count)]


def _age(db: psycopg.Connection, article_ids: list[str], days: int = 40) -> None:
    db.execute(
        "UPDATE newsflow.feed SET changed_at = now() - make_interval(days => %s) "
        "WHERE article_id = ANY(%s::uuid[])",
        (days, article_ids),
    )


def _feed(client: TestClient, after: str | None = None) -> list[dict]:
    params = {"limit": 1000, **({"cursor": after} if after else {})}
    response = client.get("/v1/feed", params=params)
    assert response.status_code == 200, response.text
    items: list[dict] = response.json()["items"]
    return items


def _ids(client: TestClient, after: str | None = None) -> list[str]:
    return [item["id"] for item in _feed(client, after)]


def _prune(settings: Settings, *args: str, **env: str) -> str:
    assert settings.database_url
    result = CliRunner().invoke(
        cli, ["feed", "prune", *args], env={"NEWSFLOW_DATABASE_URL": settings.database_url, **env}
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_prune_deletes_the_old_end_of_the_feed_and_old_cursors_get_410(
    own_settings: Settings, db: psycopg.Connection, client: TestClient
) -> None:
    before = client.get("/v1/feed", params={"cursor": "now"}).json()["next_cursor"]
    old = _changes(db, 5)
    young, late_old, newest = _changes(db, 3)
    cursors = {item["id"]: item["cursor"] for item in _feed(client)}
    assert list(cursors) == [*old, young, late_old, newest]
    # late_old is old too but comes after a change that is not: deleting it would put
    # "resume after" past `young`, and a consumer told to resume there would skip it
    _age(db, [*old, late_old])

    output = _prune(own_settings, "--batch-size", "2")  # three batches
    assert "pruned 5 feed entries older than 30 days" in output
    assert f"the feed now starts after cursor {cursors[old[-1]]}" in output

    # a consumer that had read the last pruned change carries on, missing nothing
    assert _ids(client, after=cursors[old[-1]]) == [young, late_old, newest]
    # one that had not: told so, and where the oldest change kept follows
    gone = client.get("/v1/feed", params={"cursor": before})
    assert gone.status_code == 410, gone.text
    assert gone.headers["content-type"] == "application/problem+json"
    problem = gone.json()
    assert problem["resume_after"] == cursors[old[-1]]
    assert problem["errors"][0]["field"] == "cursor"
    assert cursors[old[-1]] in problem["detail"]
    assert _ids(client, after=problem["resume_after"]) == [young, late_old, newest]
    assert client.get("/v1/feed", params={"cursor": cursors[old[1]]}).status_code == 410
    # without a cursor: from the oldest change kept
    assert _ids(client) == [young, late_old, newest]

    # once `young` ages too, the old end reaches `late_old`
    _age(db, [young])
    assert "pruned 2 feed entries" in _prune(own_settings)
    assert _ids(client) == [newest]
    assert (
        client.get("/v1/feed", params={"cursor": cursors[young]}).json()["resume_after"]
        == (cursors[late_old])
    )
    # nothing more to do; and a retention of 0 keeps everything
    assert "pruned 0 feed entries" in _prune(own_settings)
    _age(db, [newest])
    assert "nothing pruned" in _prune(own_settings, NEWSFLOW_FEED_RETENTION_DAYS="0")
    assert _ids(client) == [newest]
    assert "pruned 1 feed entry" in _prune(own_settings, "--days", "39")


def test_prune_never_passes_a_change_still_being_written(
    own_settings: Settings, db: psycopg.Connection, client: TestClient
) -> None:
    """A writer's change is exposed only once every older writing transaction has ended
    (see newsflow/store/changes.py). Pruning must stay below that line too: the old change
    committed after an open writer took its xid sorts after the open writer's change, and
    pruning it would put `resume_after` past a change no reader has seen yet."""
    before = client.get("/v1/feed", params={"cursor": "now"}).json()["next_cursor"]
    (first,) = _changes(db, 1)
    assert own_settings.database_url
    with psycopg.connect(own_settings.database_url) as writer:  # a transaction, left open
        in_flight = str(insert_article(writer, source="retention", title="in flight"))
        (after_it,) = _changes(db, 1)
        _age(db, [first, after_it])
        assert "pruned 1 feed entry" in _prune(own_settings)
        assert _feed(client) == []  # nothing exposed yet: the writer is still open
        writer.commit()
    gone = client.get("/v1/feed", params={"cursor": before})
    assert gone.status_code == 410, gone.text
    assert _ids(client, gone.json()["resume_after"]) == [in_flight, after_it]


def test_the_worker_prunes_the_feed_on_its_own(
    own_settings: Settings, db: psycopg.Connection, tmp_path: Path
) -> None:
    old = _changes(db, 3)
    (young,) = _changes(db, 1)
    _age(db, old)
    worker = WorkerProcess(settings_env(own_settings), tmp_path / "worker.log", concurrency=1)
    try:
        worker.wait_ready()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            (left,) = db.execute("SELECT count(*) FROM newsflow.feed").fetchone() or (0,)
            if left == 1:
                break
            time.sleep(0.1)
    finally:
        worker.stop()
    kept = db.execute("SELECT article_id::text FROM newsflow.feed").fetchall()
    assert kept == [(young,)]
    assert "pruned 3 change-feed entries older than 30 days" in worker.log_path.read_text()
