"""Duplicate detection at ingest: what the band lookup (newsflow/store/duplicates.py)
costs per article over 100,000 stored articles, against the same search done by scanning
every article of the language (the baseline: what a lookup without the band indexes
does), in the same run; each figure the median of NEWSFLOW_BENCH_RUNS (3) runs.

The articles are bench/consumers.py's (synthetic Zipf texts), with their real SimHash and
a canonical URL each. Probes: 200 new articles, half of them a stored article with a few
words changed (their near duplicate must be found by both).

Server: NEWSFLOW_BENCH_DATABASE_URL or an embedded PostgreSQL, a fresh database dropped at
the end. Prints one table and writes bench/results/duplicates-<date>.json."""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
import uuid
from collections.abc import Sequence
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from consumers import ARTICLES, RUNS, bench_database, populate, vocabulary  # noqa: E402

from newsflow.store.duplicates import NEAR_BITS, find_at_ingest  # noqa: E402
from worker.pipeline.enrich.duplicates import hamming, normalised_body_hash, simhash  # noqa: E402

PROBES = 200

# the baseline: the same candidates without the band indexes (language, then distance)
SCAN = f"""
    SELECT a.id FROM newsflow.articles a
    WHERE a.id <> %(id)s
      AND (a.content_hash = %(content_hash)s
           OR a.canonical_url = %(canonical_url)s
           OR (a.language IS NOT DISTINCT FROM %(language)s
               AND bit_count(CAST(a.simhash # %(simhash)s AS bit(64))) <= {NEAR_BITS}))
"""


def fingerprint_all(database_url: str) -> None:
    """Give every stored article its SimHash and a canonical URL."""
    with psycopg.connect(database_url) as connection:
        rows = connection.execute("SELECT id, body FROM newsflow.articles").fetchall()
        connection.execute("CREATE TEMP TABLE prints (id uuid, simhash bigint)")
        with connection.cursor().copy("COPY prints FROM STDIN") as copy:
            for article_id, body in rows:
                copy.write_row((article_id, simhash(body)))
        connection.execute(
            """
            UPDATE newsflow.articles a SET simhash = p.simhash,
                canonical_url = 'https://bench.example/' || a.id
            FROM prints p WHERE p.id = a.id
            """
        )
        connection.commit()
        connection.autocommit = True
        connection.execute("VACUUM ANALYZE newsflow.articles")


def probes(database_url: str, seed: int) -> list[tuple[str, str, bool]]:
    """(language, body, has a near duplicate stored) for each probe: half a stored
    article with one word changed, half one with its words shuffled."""
    rng = random.Random(seed)
    with psycopg.connect(database_url) as connection:
        stored = connection.execute(
            "SELECT language, body FROM newsflow.articles ORDER BY random() LIMIT %s",
            (PROBES,),
        ).fetchall()
    result = []
    for n, (language, body) in enumerate(stored):
        words = body.split()
        if n % 2:  # one word changed: near the stored one when within NEAR_BITS bits
            words[rng.randrange(len(words))] = "zzzchanged"
            changed = " ".join(words)
            near = hamming(simhash(body), simhash(changed)) <= NEAR_BITS
            result.append((language, changed, near))
        else:  # the words shuffled: nothing near it
            rng.shuffle(words)
            result.append((language, " ".join(words), False))
    return result


def per_article_ms(database_url: str, sample: list[tuple[str, str, bool]], banded: bool) -> float:
    found_near = 0
    # what the worker has at hand when it writes: fingerprints are not part of the lookup
    prepared = [
        (language, simhash(body), normalised_body_hash(body), near)
        for language, body, near in sample
    ]
    with psycopg.connect(database_url) as connection, connection.cursor() as cursor:
        started = time.perf_counter()
        for language, fingerprint, content_hash, near in prepared:
            article_id = uuid.uuid4()
            hits: Sequence[object]
            if banded:
                hits = list(
                    find_at_ingest(cursor, article_id, content_hash, None, fingerprint, language)
                )
            else:
                hits = cursor.execute(
                    SCAN,
                    {
                        "id": article_id,
                        "content_hash": content_hash,
                        "canonical_url": None,
                        "language": language,
                        "simhash": fingerprint,
                    },
                ).fetchall()
            found_near += near and bool(hits)
        elapsed = time.perf_counter() - started
    planted = sum(near for _, _, near in sample)
    assert found_near == planted, f"found {found_near} of {planted} near duplicates"
    assert planted > 0
    return elapsed / len(sample) * 1000


def main() -> None:
    words = vocabulary()
    with ExitStack() as stack:
        database_url = bench_database(stack, "duplicates")
        populate(database_url, words, ARTICLES)
        fingerprint_all(database_url)
        banded_runs, scan_runs = [], []
        for run in range(RUNS):
            sample = probes(database_url, seed=run)
            banded_runs.append(per_article_ms(database_url, sample, banded=True))
            scan_runs.append(per_article_ms(database_url, sample, banded=False))

    banded, scan = statistics.median(banded_runs), statistics.median(scan_runs)
    results = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "articles": ARTICLES,
        "runs": RUNS,
        "band_lookup_ms_per_article": round(banded, 3),
        "scan_ms_per_article": round(scan, 2),
        "band_lookup_vs_scan": round(banded / scan, 4),
    }
    width = max(len(key) for key in results)
    for key, value in results.items():
        print(f"{key:<{width}}  {value}")
    out = ROOT / "bench" / "results" / f"duplicates-{datetime.now(UTC).date()}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
