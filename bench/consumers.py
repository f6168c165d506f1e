"""Consumer-side speed: change-feed read throughput, search latency (p50/p99) and export
throughput over 100,000 stored articles, through the real API (uvicorn) and PostgreSQL;
each figure the median of NEWSFLOW_BENCH_RUNS (3) runs.

Server: NEWSFLOW_BENCH_DATABASE_URL (a server URL it may CREATE DATABASE on) or an
embedded PostgreSQL in a temporary folder (NEWSFLOW_BENCH_REDIS_URL, or an embedded Redis,
for the console). A fresh database per run of this script, dropped at the end. The
articles are synthetic rows inserted with SQL (60% en, 20% ru, 20% uk; 8-word titles and
250-word bodies drawn with Zipf's law from a 20,000-word vocabulary per language), so the
API's read paths are measured alone, not the pipeline; one submission is received and
finished per second (the newest 3,600 in the console's last hour). Search queries are one or two
words of frequency rank 100-5,000. The console's pages (api/console) are timed too, p50
and p99 of each: for its entity and failure pages, 1,000 entities are linked three to an
article and 1,000 failed or dead submissions added.

`--articles 1000000` (or NEWSFLOW_BENCH_ARTICLES) sets the size: rows go in by COPY and an
INSERT ... SELECT per 20,000 rows, and the articles table's indexes (the ones the migrations
made) are built after the load, in one pass each.

Prints one table and writes bench/results/consumers-<date>.json."""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from newsflow.embedded import EmbeddedPostgres, EmbeddedRedis, free_port  # noqa: E402
from newsflow.store.migrate import upgrade  # noqa: E402

RUNS = int(os.environ.get("NEWSFLOW_BENCH_RUNS", "3"))
ARTICLES = int(os.environ.get("NEWSFLOW_BENCH_ARTICLES", "100000"))
SEARCHES = 200
ENTITIES = 1000
FAILED = 1000
CONSOLE_REQUESTS = 50  # per console page and run
VOCABULARY = 20_000
WORD = re.compile(r"[^\W\d_]{4,}")


def vocabulary(size: int = VOCABULARY) -> dict[str, list[str]]:
    """``size`` words per language, most frequent first: the words of the seed and the test
    fixtures by frequency, then made-up words of the same script (joined halves of real
    ones), so that word frequencies can follow Zipf's law as in real text."""
    counts: dict[str, Counter[str]] = {"en": Counter(), "ru": Counter(), "uk": Counter()}
    paths = [*(ROOT / "tests" / "fixtures" / "text").glob("*.txt"), *(ROOT / "seeds").glob("*")]
    for path in sorted(paths):
        language = path.name[:2] if path.name[:2] in counts else "en"
        counts[language].update(WORD.findall(path.read_text(encoding="utf-8").lower()))
    vocabulary = {}
    rng = random.Random(0)
    for language, counter in counts.items():
        words = [word for word, _ in counter.most_common()]
        known = set(words)
        while len(words) < size:
            left, right = rng.choice(words), rng.choice(words)
            word = left[: len(left) // 2 + 1] + right[len(right) // 2 :]
            if word not in known:
                known.add(word)
                words.append(word)
        vocabulary[language] = words[:size]
    return vocabulary


def populate(database_url: str, words: dict[str, list[str]], count: int) -> float:
    """Insert ``count`` done articles (with their feed rows, through the trigger): texts
    made here with Zipf-distributed words, copied in, then moved into the tables by SQL,
    ``CHUNK`` rows a transaction (no transaction long enough to hold back other readers of
    the server's change feeds)."""
    started = time.perf_counter()
    rng = numpy.random.default_rng(1)
    arrays = {
        language: numpy.array(vocabulary, dtype=object) for language, vocabulary in words.items()
    }
    cumulative = {
        language: numpy.cumsum(1 / numpy.arange(1, len(vocabulary) + 1))
        for language, vocabulary in words.items()
    }
    with psycopg.connect(database_url) as connection:
        # the articles' indexes (not its primary key) are dropped and built again after the
        # load, from their own definitions: the same schema, built in one pass each
        indexes = connection.execute(
            """SELECT indexname, indexdef FROM pg_indexes i
               WHERE schemaname = 'newsflow' AND tablename = 'articles' AND NOT EXISTS (
                   SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"""
        ).fetchall()
        for index, _ in indexes:
            connection.execute(f"DROP INDEX newsflow.{index}")
        connection.execute(
            "CREATE TEMP TABLE staging (n int, language text, title text, body text)"
        )
        connection.commit()
        for first in range(0, count, CHUNK):
            with connection.cursor().copy("COPY staging FROM STDIN") as copy:
                for n in range(first, min(first + CHUNK, count)):
                    language = "en" if n % 5 < 3 else ("ru" if n % 5 == 3 else "uk")
                    cum = cumulative[language]
                    drawn = arrays[language][numpy.searchsorted(cum, rng.random(258) * cum[-1])]
                    copy.write_row((n, language, " ".join(drawn[:8]), " ".join(drawn[8:])))
            connection.execute(INSERT_STAGED)
            connection.execute("TRUNCATE staging")
            connection.commit()
        connection.execute("SET maintenance_work_mem = '512MB'")
        for _, definition in indexes:
            connection.execute(definition)
        # for the console's entity and failure pages: ENTITIES people, three per article,
        # and FAILED submissions that failed (no article), a fifth of them dead
        connection.execute(
            """
            INSERT INTO newsflow.entities (key, type, canonical)
            SELECT 'per:bench-' || k, 'PER', 'Bench Person ' || k
            FROM generate_series(0, %(entities)s - 1) AS k
            """,
            {"entities": ENTITIES},
        )
        connection.execute(
            """
            INSERT INTO newsflow.article_entities
                (article_id, entity_key, canonical, surfaces, mentions, first_offset)
            SELECT a.id, 'per:bench-' || k, 'Bench Person ' || k, '{}', 1, 0
            FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM newsflow.articles) a,
                 LATERAL (SELECT DISTINCT (a.n * m) %% %(entities)s AS k
                          FROM unnest(ARRAY[1, 7, 13]) AS m) keys
            """,
            {"entities": ENTITIES},
        )
        connection.execute(
            """
            INSERT INTO newsflow.submissions (id, source, kind, payload, received_at, status,
                attempts, error, landed_at, updated_at, finished_at)
            SELECT gen_random_uuid(), 'bench-failed', 'url',
                   jsonb_build_object('source', 'bench-failed',
                                      'url', 'https://bench.invalid/' || n),
                   now() - n * interval '1 second',
                   CASE WHEN n %% 5 = 0 THEN 'dead' ELSE 'failed' END,
                   1, 'fetch failed: HTTP 404 for https://bench.invalid/' || n, now(), now(),
                   now() - n * interval '1 second'
            FROM generate_series(1, %(failed)s) AS n
            """,
            {"failed": FAILED},
        )
        connection.commit()
        connection.autocommit = True
        for table in ("articles", "submissions", "feed", "entities", "article_entities"):
            connection.execute(f"VACUUM ANALYZE newsflow.{table}")
    return time.perf_counter() - started


CHUNK = 20_000
INSERT_STAGED = """
    WITH texts AS (
        SELECT gen_random_uuid() AS id, * FROM staging
    ), subs AS (
        INSERT INTO newsflow.submissions (id, source, kind, payload, received_at,
            status, attempts, landed_at, updated_at, finished_at)
        SELECT id, 'bench-' || (n % 10), 'text', '{}',
               now() - n * interval '1 second', 'done', 1, now(), now(),
               now() - n * interval '1 second'
        FROM texts RETURNING id
    )
    INSERT INTO newsflow.articles (id, source, title, lead, body, language,
        published_at, authors, word_count, content_hash, document, processed_at)
    SELECT id, 'bench-' || (n % 10), title, NULL, body, language,
           now() - n * interval '1 minute', '{}', 250, md5(body),
           jsonb_build_object('schema_version', 1, 'id', id, 'status', 'done',
               'links', jsonb_build_object('self', '/v1/articles/' || id),
               'source', 'bench-' || (n % 10), 'title', title, 'body', body,
               'language', language),
           now()
    FROM texts
"""


def feed_throughput(client: httpx.Client) -> float:
    """Articles per second reading the whole feed, 1000 per page."""
    started = time.perf_counter()
    seen = 0
    params: dict[str, Any] = {"limit": 1000}
    while True:
        page = client.get("/v1/feed", params=params).json()
        seen += len(page["items"])
        params["cursor"] = page["next_cursor"]
        if page["caught_up"]:
            break
    return seen / (time.perf_counter() - started)


def search_queries(words: dict[str, list[str]], seed: int) -> list[tuple[str, dict[str, Any]]]:
    """The searches of one run, each with its kind: one or two words, with or without a
    language filter."""
    rng = random.Random(seed)
    queries = []
    for _ in range(SEARCHES):
        language = rng.choice(["en", "en", "en", "ru", "uk"])
        # content words: neither the commonest (ranks < 100) nor the rarest
        query = " ".join(rng.sample(words[language][100:5000], rng.choice([1, 2])))
        params: dict[str, Any] = {"q": query, "limit": 20}
        if rng.random() < 0.5:
            params["language"] = language
        kind = f"{len(query.split())}w" + ("_language" if "language" in params else "")
        queries.append((kind, params))
    return queries


def percentiles(timings: list[float]) -> dict[str, float]:
    ordered = sorted(timings)
    return {
        "p50_ms": ordered[len(ordered) // 2],
        "p99_ms": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
    }


def search_latencies(
    client: httpx.Client, words: dict[str, list[str]], seed: int
) -> dict[str, dict[str, float]]:
    """Milliseconds per search (the first page of 20, ranked), over all searches ("all")
    and per kind."""
    timings: dict[str, list[float]] = {"all": []}
    for kind, params in search_queries(words, seed):
        started = time.perf_counter()
        response = client.get("/v1/articles", params=params)
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, response.text
        timings["all"].append(elapsed)
        timings.setdefault(kind, []).append(elapsed)
    return {kind: percentiles(values) for kind, values in sorted(timings.items())}


def console_latencies(client: httpx.Client, seed: int) -> dict[str, dict[str, float]]:
    """Milliseconds per console page (HTML, rendered by the API), over loopback HTTP: the
    server's time plus a local round trip. The API runs open here, so no login."""
    rng = random.Random(seed)
    ids = [item["id"] for item in client.get("/v1/articles", params={"limit": 100}).json()["items"]]
    pages = {
        "overview": lambda: "/",
        "articles": lambda: "/articles",
        "articles?q": lambda: f"/articles?q={rng.choice(['market', 'minister', 'budget'])}",
        "articles?entity": lambda: f"/articles?entity=Bench Person {rng.randrange(ENTITIES)}",
        "article": lambda: f"/articles/{rng.choice(ids)}",
        "entity": lambda: f"/entities/per:bench-{rng.randrange(ENTITIES)}",
        "submissions": lambda: f"/submissions?status={rng.choice(['failed', 'dead'])}",
    }
    results = {}
    for name, path in pages.items():
        timings = []
        for _ in range(CONSOLE_REQUESTS):
            started = time.perf_counter()
            response = client.get(path())
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (name, response.text[:300])
        ordered = sorted(timings)
        results[name] = {
            "p50_ms": ordered[len(ordered) // 2],
            "p99_ms": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
        }
    return results


def export_throughput(client: httpx.Client) -> dict[str, float]:
    started = time.perf_counter()
    count = size = 0
    with client.stream("GET", "/v1/export", timeout=600) as response:
        for line in response.iter_lines():
            if line:
                count += 1
                size += len(line)
    elapsed = time.perf_counter() - started
    return {"articles_per_s": count / elapsed, "mb_per_s": size / elapsed / 1e6, "count": count}


def serve(database_url: str, redis_url: str) -> tuple[str, Any]:
    import uvicorn

    from api.app import create_app
    from newsflow.settings import Settings

    settings = Settings(
        _env_file=None,
        database_url=database_url,
        # reads never touch Redis with rate limits off and the API open on loopback; the
        # console's overview does (queue depths, worker heartbeats)
        redis_url=redis_url,
        rate_limit_per_minute=0,
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="error")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server


def bench_database(stack: ExitStack, purpose: str) -> str:
    """A migrated database of this run's own, dropped when ``stack`` closes: on
    NEWSFLOW_BENCH_DATABASE_URL's server, or an embedded PostgreSQL in a temporary folder."""
    server_url = os.environ.get("NEWSFLOW_BENCH_DATABASE_URL")
    if not server_url:
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        postgres = EmbeddedPostgres(Path(tmp) / "postgres").start()
        stack.callback(postgres.stop)
        server_url = postgres.server_url
    name = f"newsflow_bench_{purpose}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        from newsflow.store.db import dispose_engines

        dispose_engines()
        with psycopg.connect(server_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    stack.callback(drop)
    base, rest = server_url.split("?", 1) if "?" in server_url else (server_url, "")
    database_url = base.rsplit("/", 1)[0] + f"/{name}" + (f"?{rest}" if rest else "")
    upgrade(database_url)
    return database_url


def main() -> None:
    import logging

    parser = argparse.ArgumentParser(description="Consumer-side speed: feed, search, export.")
    parser.add_argument("--articles", type=int, default=ARTICLES, help="articles to load")
    articles = parser.parse_args().articles

    logging.getLogger("newsflow").setLevel(logging.ERROR)
    words = vocabulary()
    with ExitStack() as stack:
        database_url = bench_database(stack, "consumers")
        insert_s = populate(database_url, words, articles)
        redis_url = os.environ.get("NEWSFLOW_BENCH_REDIS_URL")
        if not redis_url:
            redis_dir = stack.enter_context(tempfile.TemporaryDirectory())
            redis_server = EmbeddedRedis(Path(redis_dir), appendfsync="no").start()
            stack.callback(redis_server.stop)
            redis_url = redis_server.url
        api_url, server = serve(database_url, redis_url)
        stack.callback(lambda: setattr(server, "should_exit", True))
        client = stack.enter_context(httpx.Client(base_url=api_url, timeout=60))
        client.get("/v1/articles", params={"q": "warm"})  # connections, plans

        feed_runs, export_runs, export_mb = [], [], []
        latency_runs: dict[str, list[float]] = {}
        console_runs: list[dict[str, dict[str, float]]] = []
        for run in range(RUNS):
            console_runs.append(console_latencies(client, seed=run))
            feed_runs.append(feed_throughput(client))
            for kind, figures in search_latencies(client, words, seed=run).items():
                for name, value in figures.items():
                    latency_runs.setdefault(f"search_{kind}_{name}", []).append(value)
            export = export_throughput(client)
            export_runs.append(export["articles_per_s"])
            export_mb.append(export["mb_per_s"])
            assert export["count"] == articles, export

    results = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "articles": articles,
        "runs": RUNS,
        "insert_s": round(insert_s, 1),
        "feed_articles_per_s": round(statistics.median(feed_runs)),
        "search_p50_ms": round(statistics.median(latency_runs.pop("search_all_p50_ms")), 2),
        "search_p99_ms": round(statistics.median(latency_runs.pop("search_all_p99_ms")), 2),
        **{key: round(statistics.median(values), 2) for key, values in latency_runs.items()},
        "export_articles_per_s": round(statistics.median(export_runs)),
        "export_mb_per_s": round(statistics.median(export_mb), 1),
    }
    for page in console_runs[0]:
        for figure in ("p50_ms", "p99_ms"):
            values = [run[page][figure] for run in console_runs]
            results[f"console {page} {figure}"] = round(statistics.median(values), 1)
    width = max(len(key) for key in results)
    for key, value in results.items():
        print(f"{key:<{width}}  {value}")
    out = ROOT / "bench" / "results" / f"consumers-{datetime.now(UTC).date()}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
