"""Ranked search (``q``) after its rewrite for speed: pages are exactly the full ranking of
every match (rank, then id, descending) when a query has no more matches than the bound,
and beyond the bound only the newest matches are ranked. Real PostgreSQL and API."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from newsflow.store import search
from newsflow.store.db import get_engine
from tests.integration.test_consumers import T0, _source, insert_article

pytestmark = pytest.mark.integration

WORDS = ["harbour", "ferry", "strike", "dock", "crane", "cargo", "weather", "council"]


def _corpus(connection: psycopg.Connection, source: str, count: int) -> None:
    """``count`` articles whose titles and bodies mix a few words in varied numbers and
    places (so ranks differ, and some tie), in three languages, plus a failed one."""
    rng = random.Random(7)
    for _ in range(count):
        language = rng.choice(["en", "en", "ru", "uk", None])
        title = " ".join(rng.choices(WORDS, k=rng.randint(1, 4)))
        body = " ".join(rng.choices([*WORDS, "the", "and", "port"], k=rng.randint(5, 60)))
        insert_article(
            connection,
            source=source,
            title=title,
            body=body,
            language=language,
            received_at=T0 + timedelta(minutes=rng.randint(0, 50)),
        )
    insert_article(connection, source=source, status="failed")


def _full_ranking(
    connection: psycopg.Connection, source: str, q: str, language: str | None
) -> list[tuple[str, float]]:
    """Every match ranked, as the list ranked them before the rewrite."""
    tsq = (
        "websearch_to_tsquery(newsflow.search_config(%(language)s), %(q)s)"
        if language
        else " || ".join(f"websearch_to_tsquery('{c}', %(q)s)" for c in search.ALL_CONFIGS)
    )
    rows = connection.execute(
        f"""
        SELECT s.id::text, ts_rank(a.search, query.tsq)::float8
        FROM newsflow.submissions s JOIN newsflow.articles a ON a.id = s.id
        CROSS JOIN (SELECT {tsq} AS tsq) query
        WHERE s.source = %(source)s AND s.status = 'done' AND a.search @@ query.tsq
          AND (%(language)s::text IS NULL OR a.language = %(language)s)
        ORDER BY 2 DESC, 1 DESC
        """,
        {"source": source, "q": q, "language": language},
    ).fetchall()
    return [(ident, rank) for ident, rank in rows]


def _pages(client: TestClient, params: dict[str, Any]) -> list[tuple[str, float]]:
    """Every page of ``GET /v1/articles`` with ``params``, following the cursor."""
    seen: list[tuple[str, float]] = []
    cursor = None
    while True:
        response = client.get(
            "/v1/articles", params={**params, **({"cursor": cursor} if cursor else {})}
        )
        assert response.status_code == 200, response.text
        page = response.json()
        seen += [(item["id"], item["rank"]) for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen


@pytest.mark.parametrize(
    ("q", "language"),
    [
        ("harbour", None),
        ("harbour", "en"),
        ("harbour ferry", None),
        ("harbour ferry", "en"),
        ("cargo", "uk"),
        ("crane or council", None),
        ('"ferry strike"', None),
        ("dock -weather", None),
        ("strike", "ru"),
    ],
)
def test_ranked_pages_are_every_match_in_rank_order(
    client: TestClient, database_url: str, q: str, language: str | None
) -> None:
    source = _source()
    with psycopg.connect(database_url, autocommit=True) as connection:
        _corpus(connection, source, 60)
        expected = _full_ranking(connection, source, q, language)
    assert 3 < len(expected) < search.RANK_CANDIDATES  # a real page sequence, under the bound
    params: dict[str, Any] = {"source": source, "q": q, "limit": 7}
    if language:
        params["language"] = language
    assert _pages(client, params) == expected


def test_only_the_newest_matches_are_ranked_beyond_the_bound(database_url: str) -> None:
    source = _source()
    with psycopg.connect(database_url, autocommit=True) as connection:
        # the oldest is the strongest match (in its title); the newer ones only in the body
        oldest = insert_article(
            connection, source=source, title="Harbour harbour", body="harbour", received_at=T0
        )
        newer = [
            insert_article(
                connection,
                source=source,
                title="News",
                body="harbour " * (n + 1),
                received_at=T0 + timedelta(minutes=n + 1),
            )
            for n in range(4)
        ]
    filters = search.ArticleFilters(sources=(source,), q="harbour")
    with get_engine(database_url).connect() as connection:
        everything, _ = search.list_articles(connection, filters, 10, rank_candidates=5)
        first, cursor = search.list_articles(connection, filters, 2, rank_candidates=3)
        assert cursor is not None
        rest, end = search.list_articles(connection, filters, 2, cursor, rank_candidates=3)
    # with the bound at or above the matches, the full ranking: the title match first
    assert [item["id"] for item in everything] == [oldest, *reversed(newer)]
    # with a bound of 3: the 3 newest, ranked (more harbour first), and nothing after them
    assert [item["id"] for item in first + rest] == [newer[3], newer[2], newer[1]]
    assert end is None


@pytest.mark.parametrize(("first_slab", "language"), [(1, None), (1, "en"), (1000, None)])
def test_slabs_of_the_newest_articles_find_the_newest_matches(
    database_url: str, monkeypatch: pytest.MonkeyPatch, first_slab: int, language: str | None
) -> None:
    """A query expected to match many rows is searched in slabs of the newest articles,
    each larger than the last until it holds the candidates: its pages are the ranking of
    the newest matches of the whole table, as searching it all at once gives."""
    source = _source()
    with psycopg.connect(database_url, autocommit=True) as connection:
        _corpus(connection, source, 60)
        connection.execute("ANALYZE newsflow.articles")  # slabs need the table's row count
        matches = _full_ranking(connection, source, "harbour", language)
    candidates = 7
    assert len(matches) > candidates
    newest = sorted(matches, reverse=True)[:candidates]
    expected = sorted(newest, key=lambda match: (match[1], match[0]), reverse=True)

    monkeypatch.setattr(search, "PROBE", 0)  # every query takes the slabs
    monkeypatch.setattr(search, "FIRST_SLAB", first_slab)
    filters = search.ArticleFilters(
        sources=(source,), languages=(language,) if language else (), q="harbour"
    )
    seen: list[tuple[str, float]] = []
    cursor = None
    with get_engine(database_url).connect() as connection:
        while True:
            page, cursor = search.list_articles(
                connection, filters, 3, cursor, rank_candidates=candidates
            )
            seen += [(str(item["id"]), item["rank"]) for item in page]
            if cursor is None:
                break
    assert seen == expected
