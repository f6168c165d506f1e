"""The storage side of the capacity model (docs/scaling.md): what a million articles cost
in PostgreSQL and a million queued submissions in Redis, measured on this checkout.

    .venv/bin/python bench/capacity.py [--articles 300] [--queued 10000] [--json PATH]

* **PostgreSQL bytes per article**: the mixed en/uk/ru corpus of `bench/run.py`, landed
  and processed in this process (parse, enrich, persist: the worker's own code) into a
  database of this run's own; then every table of the ``newsflow`` schema measured
  (heap + TOAST, and indexes), after ``VACUUM ANALYZE``, divided by the articles.
* **Redis bytes per queued submission**: the API's own intake (``SubmissionIntake.accept``:
  the claim script, the status key, Celery's task message) for ``--queued`` submissions of
  the same corpus on a private Redis, nothing consuming; ``used_memory`` before and after.

Servers: NEWSFLOW_BENCH_DATABASE_URL if set, else an embedded PostgreSQL; always a private
Redis (it is filled)."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import redis  # noqa: E402
import redis.asyncio  # noqa: E402
from consumers import bench_database  # noqa: E402
from run import _time_stages, mixed_corpus, warm_up_in_process  # noqa: E402

from newsflow.contract import Submission  # noqa: E402
from newsflow.embedded import EmbeddedRedis  # noqa: E402
from newsflow.settings import Settings  # noqa: E402

MILLION = 1_000_000


def postgres_bytes(database_url: str, articles: int) -> dict[str, Any]:
    for _, text in mixed_corpus(articles):
        _time_stages(database_url, text)
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")
        rows = connection.execute(
            """
            SELECT c.relname,
                   pg_table_size(c.oid) AS table_bytes,
                   pg_indexes_size(c.oid) AS index_bytes
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'newsflow' AND c.relkind IN ('r', 'p')
            ORDER BY pg_total_relation_size(c.oid) DESC
            """
        ).fetchall()
        (stored,) = connection.execute("SELECT count(*) FROM newsflow.articles").fetchone() or (0,)
    tables = {
        name: {"table_per_article": t / stored, "indexes_per_article": i / stored}
        for name, t, i in rows
        if t + i > 0
    }
    table_total = sum(t for _, t, _ in rows) / stored
    index_total = sum(i for _, _, i in rows) / stored
    return {
        "articles": stored,
        "table_bytes_per_article": round(table_total),
        "index_bytes_per_article": round(index_total),
        "gb_per_million": round((table_total + index_total) * MILLION / 1e9, 2),
        "tables": {k: {m: round(v) for m, v in t.items()} for k, t in tables.items()},
    }


def redis_bytes(tmp: Path, queued: int) -> dict[str, Any]:
    from api.intake import SubmissionIntake

    server = EmbeddedRedis(tmp / "redis").start()
    try:
        settings = Settings(_env_file=None, redis_url=server.url)
        client = redis.Redis.from_url(server.url)
        intake = SubmissionIntake(settings, client, redis.asyncio.Redis.from_url(server.url))
        corpus = mixed_corpus(300)
        before = int(client.info("memory")["used_memory"])
        text_bytes = 0
        for n in range(queued):
            text = corpus[n % len(corpus)][1]
            text_bytes += len(text.encode())
            submission = Submission(source="capacity", external_id=f"c{n}", text=text)
            intake.accept(submission, None, owner="capacity")
        after = int(client.info("memory")["used_memory"])
        per = (after - before) / queued
        return {
            "queued": queued,
            "bytes_per_submission": round(per),
            "text_bytes_per_submission": round(text_bytes / queued),
            "gb_per_million": round(per * MILLION / 1e9, 2),
        }
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--queued", type=int, default=10_000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    warm_up_in_process()
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="newsflow-cap-")))
        results = {
            "postgres": postgres_bytes(bench_database(stack, "capacity"), args.articles),
            "redis": redis_bytes(tmp, args.queued),
        }
    pg, rd = results["postgres"], results["redis"]
    print(
        f"PostgreSQL: {pg['table_bytes_per_article']:,} B tables + "
        f"{pg['index_bytes_per_article']:,} B indexes per article "
        f"({pg['articles']} articles) = {pg['gb_per_million']} GB per million"
    )
    for name, sizes in pg["tables"].items():
        table, indexes = sizes["table_per_article"], sizes["indexes_per_article"]
        print(f"  {name:<28} {table:>8,} B + {indexes:>7,} B")
    print(
        f"Redis: {rd['bytes_per_submission']:,} B per queued submission "
        f"({rd['text_bytes_per_submission']:,} B of text; {rd['queued']:,} queued) "
        f"= {rd['gb_per_million']} GB per million queued"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
