"""What downstream consumers read: filtered, searched, keyset-paged article lists; a change
feed that never skips a change whatever the commit order of concurrent writers; a streamed
NDJSON export in bounded memory; the CLI client; the stable views and the read-only role.
Real PostgreSQL, Redis, worker and API; nothing mocked."""

from __future__ import annotations

import json
import os
import random
import threading
import time
import tracemalloc
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from api.app import create_app
from cli.main import main as cli
from newsflow.embedded import free_port
from newsflow.ids import new_submission_id
from newsflow.settings import Settings
from tests.conftest import SEED, WorkerProcess, api_over_http

pytestmark = pytest.mark.integration

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def _source() -> str:
    return f"consumers-{uuid.uuid4().hex[:10]}"


def insert_article(
    connection: psycopg.Connection,
    *,
    source: str,
    title: str = "A title",
    body: str = "A body.",
    language: str | None = "en",
    published_at: datetime | None = None,
    received_at: datetime | None = None,
    status: str = "done",
    article_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """A submission and (unless it failed) its article, as the worker would write them."""
    article_id = article_id or new_submission_id()
    received_at = received_at or datetime.now(UTC)
    connection.execute(
        """
        INSERT INTO newsflow.submissions (id, source, kind, payload, received_at, status,
            attempts, landed_at, updated_at, finished_at, error)
        VALUES (%s, %s, 'text', '{}', %s, %s, 1, now(), now(), now(), %s)
        """,
        (article_id, source, received_at, status, "parse failed" if status != "done" else None),
    )
    if status == "done":
        upsert_article(connection, article_id, source, title, body, language, published_at)
    return article_id


def upsert_article(
    connection: psycopg.Connection,
    article_id: uuid.UUID,
    source: str,
    title: str,
    body: str,
    language: str | None,
    published_at: datetime | None = None,
) -> None:
    document = {
        "schema_version": 1,
        "id": str(article_id),
        "status": "done",
        "links": {"self": f"/v1/articles/{article_id}"},
        "source": source,
        "title": title,
        "body": body,
        "language": language,
        "published_at": published_at.isoformat() if published_at else None,
    }
    connection.execute(
        """
        INSERT INTO newsflow.articles AS a (id, source, title, body, language, published_at,
            authors, word_count, content_hash, document, processed_at)
        VALUES (%s, %s, %s, %s, %s, %s, '{}', %s, md5(%s), %s, now())
        ON CONFLICT (id) DO UPDATE SET title = EXCLUDED.title, body = EXCLUDED.body,
            document = EXCLUDED.document, processed_at = now()
        """,
        (
            article_id,
            source,
            title,
            body,
            language,
            published_at,
            len(body.split()),
            body,
            json.dumps(document),
        ),
    )


@pytest.fixture
def db(database_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(database_url, autocommit=True) as connection:
        yield connection


def _ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def test_filters_combine(client: TestClient, db: psycopg.Connection) -> None:
    source, other = _source(), _source()
    day = timedelta(days=1)
    en_old = insert_article(db, source=source, language="en", published_at=T0, received_at=T0 + day)
    en_new = insert_article(
        db, source=source, language="en", published_at=T0 + 5 * day, received_at=T0 + 6 * day
    )
    ru = insert_article(
        db, source=source, language="ru", published_at=T0 + 2 * day, received_at=T0 + 3 * day
    )
    uk_other = insert_article(
        db, source=other, language="uk", published_at=T0 + 2 * day, received_at=T0 + 2 * day
    )
    failed = insert_article(db, source=source, status="failed", received_at=T0 + 4 * day)

    def ids(**params: Any) -> list[str]:
        return _ids(client.get("/v1/articles", params=params))

    # newest received first; done only by default
    assert ids(source=source) == [str(en_new), str(ru), str(en_old)]
    assert ids(source=[source, other]) == [str(en_new), str(ru), str(uk_other), str(en_old)]
    assert ids(source=source, language="en") == [str(en_new), str(en_old)]
    assert ids(source=[source, other], language=["ru", "uk"]) == [str(ru), str(uk_other)]
    assert ids(source=source, published_after=(T0 + day).isoformat()) == [str(en_new), str(ru)]
    assert ids(source=source, language="en", published_before=(T0 + 3 * day).isoformat()) == [
        str(en_old)
    ]
    assert ids(
        source=[source, other],
        received_after=(T0 + 2 * day).isoformat(),
        received_before=(T0 + 6 * day).isoformat(),
    ) == [str(ru), str(uk_other)]
    assert ids(source=source, status="failed") == [str(failed)]
    failed_item = client.get("/v1/articles", params={"source": source, "status": "failed"})
    assert failed_item.json()["items"][0]["error"] == "parse failed"

    page = client.get("/v1/articles", params={"source": source, "limit": 2}).json()
    assert [i["id"] for i in page["items"]] == [str(en_new), str(ru)]
    assert page["items"][0]["links"]["self"] == f"http://testserver/v1/articles/{en_new}"
    rest = client.get(
        "/v1/articles", params={"source": source, "limit": 2, "cursor": page["next_cursor"]}
    ).json()
    assert [i["id"] for i in rest["items"]] == [str(en_old)]
    assert rest["next_cursor"] is None

    for bad in ({"limit": 0}, {"limit": 101}, {"cursor": "garbage"}, {"status": "nope"}):
        response = client.get("/v1/articles", params=bad)
        assert response.status_code == 422, bad
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["field"]


def _page_all(
    client: TestClient, params: dict[str, Any], during: Any = None
) -> tuple[list[str], int]:
    seen: list[str] = []
    pages = 0
    cursor = None
    while True:
        response = client.get(
            "/v1/articles", params={**params, **({"cursor": cursor} if cursor else {})}
        )
        seen.extend(_ids(response))
        pages += 1
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return seen, pages
        if during:
            during(pages)


def test_pagination_is_stable_while_articles_arrive(
    client: TestClient, db: psycopg.Connection
) -> None:
    source = _source()
    before = [
        insert_article(db, source=source, title=f"Grain exports {i}", body="grain " * (i + 1))
        for i in range(23)
    ]
    added: list[uuid.UUID] = []

    def insert_more(_: int) -> None:
        for _ in range(3):
            added.append(insert_article(db, source=source, title="Grain news", body="grain " * 7))

    for params in ({"source": source, "limit": 5}, {"source": source, "limit": 5, "q": "grain"}):
        seen, pages = _page_all(client, params, insert_more)
        assert pages >= 5
        assert len(seen) == len(set(seen)), "a row came twice"
        assert {str(i) for i in before} <= set(seen), "a row that existed was skipped"

    ranked = client.get("/v1/articles", params={"source": source, "q": "grain", "limit": 100})
    ranks = [item["rank"] for item in ranked.json()["items"]]
    assert ranks == sorted(ranks, reverse=True)
    assert all(rank > 0 for rank in ranks)


def test_search_stems_english_and_russian_and_ranks(
    client: TestClient, db: psycopg.Connection
) -> None:
    source = _source()
    strong = insert_article(
        db,
        source=source,
        title="Defence budget rises again",
        body="The defence budget for next year rises. The budget covers defence spending.",
    )
    weak = insert_article(
        db, source=source, title="Weather", body="Rain later; the defence of the budget came up."
    )
    unrelated = insert_article(db, source=source, title="Sport", body="Football results.")
    ru = insert_article(
        db,
        source=source,
        language="ru",
        title="Госдума приняла бюджет",
        body="Депутаты одобрили проект бюджета на следующий год.",
    )
    uk = insert_article(
        db,
        source=source,
        language="uk",
        title="Рада ухвалила бюджет",
        body="Депутати підтримали бюджет оборони.",
    )

    def search(q: str, **params: Any) -> list[dict[str, Any]]:
        response = client.get("/v1/articles", params={"source": source, "q": q, **params})
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    english = search("defence budgets")
    assert [item["id"] for item in english] == [str(strong), str(weak)]
    assert english[0]["rank"] > english[1]["rank"] > 0
    assert str(unrelated) not in [item["id"] for item in search("budget")]
    # russian stemming: the genitive finds the nominative, with or without a language filter
    assert [item["id"] for item in search("бюджета", language="ru")] == [str(ru)]
    assert str(ru) in [item["id"] for item in search("бюджета")]
    # ukrainian uses the simple configuration: exact words
    assert [item["id"] for item in search("бюджет", language="uk")] == [str(uk)]
    assert search('"budget rises"')[0]["id"] == str(strong)
    assert search("defence -weather")[0]["id"] == str(strong)


def _writer(
    database_url: str,
    source: str,
    count: int,
    seed: int,
    commits: list[tuple[uuid.UUID, int]],
    lock: threading.Lock,
    errors: list[BaseException],
) -> None:
    """Real transactions: take an xid (the submission), sleep, write the article (the
    trigger takes a feed position), sleep, commit; now and then re-process an earlier one."""
    rng = random.Random(seed)
    mine: list[uuid.UUID] = []
    try:
        with psycopg.connect(database_url) as connection:
            for _ in range(count):
                with connection.transaction():
                    if mine and rng.random() < 0.2:
                        article_id = rng.choice(mine)
                        connection.execute(
                            "SELECT 1 FROM newsflow.submissions WHERE id = %s FOR UPDATE",
                            (article_id,),
                        )
                        time.sleep(rng.uniform(0, 0.01))
                        upsert_article(connection, article_id, source, "again", "body", "en")
                    else:
                        article_id = new_submission_id()
                        connection.execute(
                            """
                            INSERT INTO newsflow.submissions (id, source, kind, payload,
                                received_at, status, landed_at, updated_at)
                            VALUES (%s, %s, 'text', '{}', now(), 'done', now(), now())
                            """,
                            (article_id, source),
                        )
                        time.sleep(rng.uniform(0, 0.01))
                        upsert_article(connection, article_id, source, "new", "body", "en")
                        mine.append(article_id)
                    # a second write of the row in the same transaction (as enrichment
                    # does) is the same change
                    connection.execute(
                        "UPDATE newsflow.articles SET site = 'bench' WHERE id = %s",
                        (article_id,),
                    )
                    row = connection.execute(
                        "SELECT max(position) FROM newsflow.feed WHERE article_id = %s",
                        (article_id,),
                    ).fetchone()
                    assert row is not None
                    time.sleep(rng.uniform(0, 0.01))
                with lock:
                    commits.append((article_id, row[0]))
    except BaseException as exc:  # reported by the test
        errors.append(exc)


def test_feed_never_skips_under_concurrent_writers(client: TestClient, database_url: str) -> None:
    source = _source()
    start = client.get("/v1/feed", params={"cursor": "now"}).json()["next_cursor"]
    commits: list[tuple[uuid.UUID, int]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    listener = psycopg.connect(database_url, autocommit=True)
    listener.execute("LISTEN newsflow_articles")
    writers = [
        threading.Thread(
            target=_writer, args=(database_url, source, 50, seed, commits, lock, errors)
        )
        for seed in range(8)
    ]
    for thread in writers:
        thread.start()

    seen: Counter[str] = Counter()
    cursor = start

    def all_ours_seen() -> bool:
        ours = Counter(str(article_id) for article_id, _ in commits)
        return all(seen[key] >= count for key, count in ours.items())

    # "caught up" means nothing more is visible yet: a writing transaction anywhere on the
    # server (another writer here, or the worker) holds later changes back, so read on
    # until every committed change of ours has come through, or time runs out
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        finished = not any(thread.is_alive() for thread in writers)
        page = client.get("/v1/feed", params={"cursor": cursor, "limit": 37}).json()
        for item in page["items"]:
            seen[item["id"]] += 1
        cursor = page["next_cursor"]
        if finished and page["caught_up"] and all_ours_seen():
            break
        if page["caught_up"]:
            time.sleep(0.005)
    assert errors == []

    expected = Counter(str(article_id) for article_id, _ in commits)
    seen = Counter({key: count for key, count in seen.items() if key in expected})
    assert len(commits) == 400
    assert seen == expected  # every change exactly once, re-processing included
    positions = [position for _, position in commits]  # in commit order
    out_of_order = sum(a > b for a, b in zip(positions, positions[1:], strict=False))
    assert out_of_order > 0, "the writers never committed out of position order"

    notified = set()
    for notify in listener.notifies(timeout=1):
        notified.add(notify.payload)
    listener.close()
    assert set(expected) <= notified

    # a re-processed article re-enters the feed, with its document on request
    reprocessed = next(key for key, count in expected.items() if count > 1)
    again = client.get(
        "/v1/feed", params={"cursor": start, "limit": 1000, "include": "document"}
    ).json()
    documents = [i for i in again["items"] if i["id"] == reprocessed]
    assert len(documents) == expected[reprocessed]
    assert documents[-1]["document"]["title"] == "again"
    assert client.get("/v1/feed", params={"cursor": "bogus"}).status_code == 422


@pytest.fixture
def api_url(settings: Settings) -> Iterator[str]:
    """The API over real HTTP (uvicorn in a thread of this process)."""
    with api_over_http(settings) as url:
        yield url


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_export_streams_10000_documents_in_bounded_memory(
    api_url: str, db: psycopg.Connection
) -> None:
    source = _source()
    # ~6 KB documents: 60 MB in all, more than the memory the export may use
    db.execute(
        """
        WITH ids AS (
            SELECT gen_random_uuid() AS id, n FROM generate_series(1, 10000) n
        ), subs AS (
            INSERT INTO newsflow.submissions (id, source, kind, payload, received_at, status,
                attempts, landed_at, updated_at)
            SELECT id, %(source)s, 'text', '{}', now() - n * interval '1 second', 'done', 1,
                   now(), now()
            FROM ids RETURNING id
        )
        INSERT INTO newsflow.articles (id, source, title, body, language, authors,
            word_count, content_hash, document, processed_at)
        SELECT id, %(source)s, 'Export ' || n, 'short body ' || n, 'en', '{}', 3, md5(n::text),
               jsonb_build_object('schema_version', 1, 'id', id, 'status', 'done',
                   'links', jsonb_build_object('self', '/v1/articles/' || id),
                   'title', 'Export ' || n, 'body', repeat(md5(n::text), 190)),
               now()
        FROM ids
        """,
        {"source": source},
    )
    tracemalloc.start()
    rss_before = _rss_bytes()
    rss_peak = rss_before
    count = 0
    total = 0
    try:
        with httpx.stream(
            "GET", f"{api_url}/v1/export", params={"source": source}, timeout=60
        ) as response:
            assert response.status_code == 200
            assert response.headers["content-type"] == "application/x-ndjson"
            for line in response.iter_lines():
                if not line:
                    continue
                if count == 0:
                    first = json.loads(line)
                    assert first["links"]["self"].startswith("http://testserver/v1/articles/")
                    assert first["attempts"] == 1
                count += 1
                total += len(line)
                if count % 500 == 0:
                    rss_peak = max(rss_peak, _rss_bytes())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 10_000
    assert total > 60_000_000
    assert peak < 50 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
    assert rss_peak - rss_before < 100 * 1024 * 1024, f"rss +{(rss_peak - rss_before) / 1e6} MB"


def test_cli_submits_follows_gets_searches_and_tails(
    api_url: str, worker: WorkerProcess, tmp_path: Path
) -> None:
    source = _source()
    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "seed.txt").write_text(SEED.read_text())
    (folder / "page.html").write_text(
        "<html><head><title>Harbour reopens</title></head><body><article>"
        "<h1>Harbour reopens</h1><p>The harbour reopened on Monday after the storm.</p>"
        "<p>Ships queued outside the breakwater for two days before the pilots returned.</p>"
        "<p>Port officials said cargo handling would be back to normal by Friday.</p>"
        "</article></body></html>"
    )
    (folder / "partner.json").write_text(
        json.dumps(
            {
                "source": source,
                "external_id": "p-1",
                "text": "Wheat harvest beats forecast\n\nFarmers reported a record wheat "
                "harvest this summer, well above the ministry's forecast.",
            }
        )
    )
    (folder / "menu.txt").write_text("ua en ru\n\nEN RU")  # fails: navigation only
    (folder / "notes.bin").write_text("ignored")
    runner = CliRunner()
    common = ["--api-url", api_url]
    caught_up = runner.invoke(cli, ["tail", "--once", "--json", *common])
    assert caught_up.exit_code == 0, caught_up.output
    assert caught_up.stdout == ""  # from now: nothing new yet
    cursor = caught_up.stderr.split("cursor: ")[1].strip()

    result = runner.invoke(
        cli, ["submit", str(folder), "--source", source, "--follow", "--json", *common]
    )
    assert result.exit_code == 1, result.output  # one failed
    submitted = json.loads(result.stdout)
    by_file = {Path(item["file"]).name: item for item in submitted}
    assert set(by_file) == {"seed.txt", "page.html", "partner.json", "menu.txt"}
    assert [by_file[name]["status"] for name in sorted(by_file)] == [
        "failed",
        "done",
        "done",
        "done",
    ]
    assert "3 done, 1 failed" in result.stderr

    stdin = runner.invoke(
        cli,
        ["submit", "-", "--source", source, "--follow", *common],
        input="Rain expected\n\nForecasters expect heavy rain across the region on Sunday.",
    )
    assert stdin.exit_code == 0, stdin.output

    seed_id = by_file["seed.txt"]["id"]
    got = runner.invoke(cli, ["get", seed_id, "--json", *common])
    assert got.exit_code == 0, got.output
    assert json.loads(got.stdout)["title"].startswith("Lithuania urges")
    shown = runner.invoke(cli, ["get", seed_id, *common])
    assert "Lithuania urges" in shown.stdout

    found = runner.invoke(cli, ["search", "--q", "harvests", "--source", source, "--json", *common])
    assert found.exit_code == 0, found.output
    assert [item["id"] for item in json.loads(found.stdout)] == [by_file["partner.json"]["id"]]
    listed = runner.invoke(cli, ["search", "--source", source, *common])
    assert listed.stdout.count("\n") == 4  # three files and stdin

    tailed = runner.invoke(cli, ["tail", "--once", "--cursor", cursor, "--json", *common])
    assert tailed.exit_code == 0, tailed.output
    ids = [json.loads(line)["id"] for line in tailed.stdout.splitlines()]
    done_ids = [by_file[name]["id"] for name in ("seed.txt", "page.html", "partner.json")]
    assert all(ids.count(done_id) == 1 for done_id in done_ids), ids
    assert by_file["menu.txt"]["id"] not in ids  # failed: not an article
    assert "cursor: " in tailed.stderr


def test_views_are_readable_by_the_reader_role_and_nothing_else(
    db: psycopg.Connection,
) -> None:
    source = _source()
    article_id = insert_article(db, source=source, title="Viewed", body="Seen through a view.")
    db.execute(
        "INSERT INTO newsflow.article_blocks VALUES (%s, 0, 'paragraph', 'Seen.', 0, 5)",
        (article_id,),
    )
    db.execute(
        "INSERT INTO newsflow.article_images (article_id, position, caption) "
        "VALUES (%s, 0, 'A caption')",
        (article_id,),
    )
    failed_id = insert_article(db, source=source, status="failed")
    with psycopg.connect(db.info.dsn, autocommit=True) as reader:
        reader.execute("SET ROLE newsflow_reader")
        row = reader.execute(
            "SELECT id, source, title, body, language, document->>'title' "
            "FROM newsflow.articles_v1 WHERE source = %s",
            (source,),
        ).fetchall()
        assert row == [(article_id, source, "Viewed", "Seen through a view.", "en", "Viewed")]
        assert reader.execute(
            "SELECT text FROM newsflow.article_blocks_v1 WHERE article_id = %s", (article_id,)
        ).fetchall() == [("Seen.",)]
        assert reader.execute(
            "SELECT caption FROM newsflow.article_images_v1 WHERE article_id = %s",
            (article_id,),
        ).fetchall() == [("A caption",)]
        feed_rows = reader.execute(
            "SELECT article_id FROM newsflow.article_feed WHERE article_id = %s",
            (article_id,),
        ).fetchall()
        assert feed_rows == [(article_id,)]
        assert reader.execute(
            "SELECT count(*) FROM newsflow.articles_v1 WHERE id = %s", (failed_id,)
        ).fetchone() == (0,)
        for statement in (
            "SELECT * FROM newsflow.articles LIMIT 1",
            "SELECT * FROM newsflow.submissions LIMIT 1",
            "SELECT * FROM newsflow.feed LIMIT 1",
            "SELECT * FROM newsflow.api_keys LIMIT 1",
            "DELETE FROM newsflow.articles",
            "UPDATE newsflow.submissions SET status = 'dead'",
            "INSERT INTO newsflow.feed (article_id) SELECT id FROM newsflow.articles_v1",
            "CREATE TABLE newsflow.mine (x int)",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                reader.execute(statement)
        for statement in (  # the views are not writable either
            "DELETE FROM newsflow.articles_v1",
            "UPDATE newsflow.article_blocks_v1 SET text = 'x'",
        ):
            with pytest.raises(psycopg.Error):
                reader.execute(statement)
    (can_login,) = db.execute(
        "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'newsflow_reader'"
    ).fetchone() or (None,)
    assert can_login is False


def test_routes_need_read_scope_and_are_documented(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"auth": "required", "auth_cache_seconds": 0}))
    with TestClient(app, raise_server_exceptions=False) as secured:
        for path in ("/v1/articles", "/v1/feed", "/v1/export"):
            response = secured.get(path)
            assert response.status_code == 401, path
            assert response.headers["content-type"] == "application/problem+json"
        spec = secured.get("/openapi.json").json()
        assert secured.get("/docs").status_code == 200
    for path, model in (
        ("/v1/articles", "ArticlePage"),
        ("/v1/feed", "FeedPage"),
        ("/v1/export", None),
    ):
        operation = spec["paths"][path]["get"]
        assert {"200", "401", "403", "422", "429", "503"} <= set(operation["responses"])
        assert operation["security"]
        content = operation["responses"]["200"]["content"]
        if model:
            assert content["application/json"]["schema"]["$ref"].endswith(model)
        else:
            assert "application/x-ndjson" in content
        for code in ("401", "422", "503"):
            error = operation["responses"][code]["content"]["application/problem+json"]
            assert error["schema"]["$ref"].endswith("Problem")


PATHOLOGICAL_QUERIES = [
    "-" * 60,  # PostgreSQL: "tsquery stack too small" (XX000)
    "a " + "- " * 40 + "b",
    "-(" * 60,
    "-" * 500,  # the longest q taken
]


@pytest.mark.parametrize("path", ["/v1/articles", "/v1/export"])
@pytest.mark.parametrize("q", PATHOLOGICAL_QUERIES)
def test_a_query_the_database_cannot_run_is_a_422_naming_q(
    client: TestClient, path: str, q: str
) -> None:
    """An error the query itself causes would happen again: not a 503 'retry later'."""
    response = client.get(path, params={"q": q, "source": _source()})

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "Retry-After" not in response.headers
    assert [error["field"] for error in response.json()["errors"]] == ["q"]


@pytest.mark.parametrize("path", ["/v1/articles", "/v1/export"])
def test_a_database_that_is_down_is_still_a_503(settings: Settings, path: str) -> None:
    down = settings.model_copy(
        update={"database_url": f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere"}
    )
    with TestClient(create_app(down), raise_server_exceptions=False) as client:
        response = client.get(path, params={"q": "-" * 60})

    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"]


def test_q_longer_than_500_characters_is_refused(client: TestClient) -> None:
    response = client.get("/v1/articles", params={"q": "a " * 251})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.q"  # as every query parameter
