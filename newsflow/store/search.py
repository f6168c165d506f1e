"""Listing, searching and exporting articles with filters that combine, for
``GET /v1/articles`` and ``GET /v1/export``.

Order and cursors (keyset pagination, stable under inserts):

* Without ``q``: newest received first, ``(received_at, id)`` descending. The cursor is
  the last row's ``(received_at, id)``; the next page is the rows strictly after it, so a
  row inserted while a client pages never shifts the pages: no row is repeated and no row
  that existed when paging started is skipped (new rows land before the cursor).
* With ``q``: by relevance, ``ts_rank(search, query)`` descending, then ``id`` descending;
  the cursor is the last row's ``(rank, id)``. The rank of a row depends only on the row
  and the query, so it is as stable as the row: a row re-processed while a client pages
  may move across the cursor (seen twice or not at all); others cannot.
  Only the newest ``RANK_CANDIDATES`` matches (by id: ids are UUIDv7, in order of
  arrival) are ranked and listed: ranking reads each row's tsvector (out of line,
  compressed), so ranking every match of a common word took most of a second at 100,000
  articles and grew with the table. A query with fewer matches is ranked exactly as
  before. While a client pages, new matches can push the
  oldest candidates out of the set. ``export_documents`` still ranks every match.

Full text: ``articles.search`` is a tsvector built with the configuration of the article's
language (``newsflow.search_config``: english for en, russian for ru, simple otherwise), so
"defence budgets" matches "defence budget" and "бюджета" matches "бюджет". The query is
parsed by ``websearch_to_tsquery`` ("quoted phrases", OR, -exclusion) with the configuration
of each requested language, or of all three ORed together when no language is given.

Filters are ANDed; a list filter (source, language) matches any of its values.
"""

from __future__ import annotations

import re
import struct
import uuid
from collections.abc import Generator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import text
from sqlalchemy.engine import Connection

from newsflow.contract import Status
from newsflow.store.changes import BadCursor

ALL_CONFIGS = ("english", "russian", "simple")
# how many of the newest matches a ranked list (``q``) ranks; see the module docstring
RANK_CANDIDATES = 1000


@dataclass(frozen=True)
class ArticleFilters:
    sources: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    status: Status = Status.done
    published_after: datetime | None = None
    published_before: datetime | None = None
    received_after: datetime | None = None
    received_before: datetime | None = None
    q: str | None = None
    # Hooks for the entity, cited-source and quoted-speaker tables, once they exist: each
    # becomes one EXISTS (...) condition in ``_conditions`` below (see its comment).
    extra: tuple[tuple[str, dict[str, Any]], ...] = field(default=())


class FilterParameters(BaseModel):
    """The filters of ``GET /v1/articles`` by their parameter names, as a value: what a
    webhook subscription stores (JSON) and the query parameters build. ``to_filters`` is the
    one translation into ``ArticleFilters``."""

    model_config = ConfigDict(extra="forbid")

    source: list[str] = Field(default_factory=list)
    language: list[str] = Field(default_factory=list)
    status: Status = Status.done
    published_after: datetime | None = None
    published_before: datetime | None = None
    received_after: datetime | None = None
    received_before: datetime | None = None
    q: str | None = Field(default=None, min_length=1, max_length=500)
    entity: list[str] = Field(default_factory=list)
    cited_source: list[str] = Field(default_factory=list)
    quoted: str | None = Field(default=None, max_length=200)

    def to_filters(self) -> ArticleFilters:
        return ArticleFilters(
            sources=tuple(self.source),
            languages=tuple(self.language),
            status=self.status,
            published_after=self.published_after,
            published_before=self.published_before,
            received_after=self.received_after,
            received_before=self.received_before,
            q=self.q,
            extra=enrichment_conditions(
                entities=self.entity, cited_sources=self.cited_source, quoted=self.quoted or None
            ),
        )


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FIRST = datetime(1, 1, 2, tzinfo=UTC)
LAST = datetime(9999, 12, 30, tzinfo=UTC)
CURSOR_PATTERN = "^[0-9a-f]{48}$"


@dataclass(frozen=True)
class Cursor:
    """Where a page ends: ``key`` is received_at (by time) or the rank (with ``q``).

    Encoded as 48 hex digits: the key's 64 bits (microseconds since 1970, or the rank's
    IEEE 754 double) and the id's 128. Every string of that form decodes, so a cursor that
    matches the documented pattern is never refused; one used with other filters than the
    ones that produced it gives a meaningless page (documented), not an error."""

    key: datetime | float
    id: uuid.UUID

    def encode(self) -> str:
        if isinstance(self.key, datetime):
            micros = (self.key - EPOCH) // timedelta(microseconds=1)
            bits = micros.to_bytes(8, "big", signed=True)
        else:
            bits = struct.pack(">d", self.key)
        return bits.hex() + self.id.hex

    @classmethod
    def decode(cls, cursor: str, ranked: bool) -> Cursor:
        if not re.fullmatch(CURSOR_PATTERN, cursor):
            raise BadCursor(f"not an article cursor: {cursor!r}")
        bits, ident = bytes.fromhex(cursor[:16]), uuid.UUID(cursor[16:])
        if ranked:
            return cls(struct.unpack(">d", bits)[0], ident)
        micros = int.from_bytes(bits, "big", signed=True)
        try:
            when = EPOCH + timedelta(microseconds=micros)
        except OverflowError:
            when = FIRST if micros < 0 else LAST
        return cls(min(max(when, FIRST), LAST), ident)


def _conditions(filters: ArticleFilters) -> tuple[list[str], dict[str, Any]]:
    # a done submission that became a version of another article is listed as that article
    where = ["s.status = :status", "(a.id IS NOT NULL OR s.status <> 'done')"]
    params: dict[str, Any] = {"status": filters.status.value}
    if filters.sources:
        where.append("s.source = ANY(:sources)")
        params["sources"] = list(filters.sources)
    if filters.languages:
        where.append("a.language = ANY(:languages)")
        params["languages"] = list(filters.languages)
    for name, column, op in (
        ("published_after", "a.published_at", ">="),
        ("published_before", "a.published_at", "<"),
        ("received_after", "s.received_at", ">="),
        ("received_before", "s.received_at", "<"),
    ):
        value = getattr(filters, name)
        if value is not None:
            where.append(f"{column} {op} :{name}")
            params[name] = value
    if filters.q:
        where.append("a.search @@ query.tsq")
    # Entity / cited-source / quoted-speaker filters go here as EXISTS subqueries on their
    # tables, e.g. ("EXISTS (SELECT 1 FROM newsflow.article_entities e WHERE e.article_id =
    # s.id AND e.name = ANY(:entities))", {"entities": [...]}), passed in ``extra``.
    for condition, extra_params in filters.extra:
        where.append(condition)
        params.update(extra_params)
    return where, params


_SOURCE = "newsflow.submissions s LEFT JOIN newsflow.articles a ON a.id = s.id"


def _query_source(filters: ArticleFilters, params: dict[str, Any]) -> str:
    """The FROM clause; with ``q``, the parsed query joins as ``query.tsq``."""
    if not filters.q:
        return _SOURCE
    return f"{_SOURCE} CROSS JOIN (SELECT {_tsquery(filters, params)} AS tsq) query"


def _tsquery(filters: ArticleFilters, params: dict[str, Any]) -> str:
    """``q`` parsed with the configuration of each requested language (or all), ORed."""
    params["q"] = filters.q
    if filters.languages:
        parts = []
        for index, language in enumerate(filters.languages):
            params[f"q_language_{index}"] = language
            parts.append(f"websearch_to_tsquery(newsflow.search_config(:q_language_{index}), :q)")
    else:
        parts = [f"websearch_to_tsquery('{config}', :q)" for config in ALL_CONFIGS]
    return " || ".join(parts)


def check_query(connection: Connection, filters: ArticleFilters) -> None:
    """Parse ``filters.q`` as a search would, so a query PostgreSQL refuses fails now (for
    filters that are stored, such as a webhook's), whatever rows there are."""
    if filters.q:
        params: dict[str, Any] = {}
        connection.execute(text(f"SELECT ({_tsquery(filters, params)})::text"), params)


_COLUMNS = """
    s.id, s.status, s.source, s.external_id, s.received_at, s.finished_at, s.error,
    s.attempts, a.url, a.title, a.lead, a.language, a.published_at, a.processed_at,
    a.word_count, a.authors, a.site
"""


def list_articles(
    connection: Connection,
    filters: ArticleFilters,
    limit: int,
    after: str | None = None,
    rank_candidates: int = RANK_CANDIDATES,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of matching articles, and the cursor of the next page (None at the end)."""
    if filters.q:
        return _ranked_page(connection, filters, limit, after, rank_candidates)
    where, params = _conditions(filters)
    source = _query_source(filters, params)
    if after:
        cursor = Cursor.decode(after, ranked=False)
        params.update(cursor_key=cursor.key, cursor_id=cursor.id)
        where.append("(s.received_at, s.id) < (:cursor_key, :cursor_id)")
    params["limit"] = limit
    rows = connection.execute(
        text(
            f"""
            SELECT {_COLUMNS}, NULL::float8 AS rank
            FROM {source}
            WHERE {" AND ".join(where)}
            ORDER BY s.received_at DESC, s.id DESC
            LIMIT :limit
            """
        ),
        params,
    )
    items = [dict(row._mapping) for row in rows]
    next_cursor = None
    if len(items) == limit:
        last = items[-1]
        next_cursor = Cursor(last["received_at"], last["id"]).encode()
    return items, next_cursor


def _ranked_page(
    connection: Connection,
    filters: ArticleFilters,
    limit: int,
    after: str | None,
    rank_candidates: int,
) -> tuple[list[dict[str, Any]], str | None]:
    """A page by relevance: the newest ``rank_candidates`` matches (``_candidates``) ranked,
    and only the page's rows read whole."""
    # The planner prices `search @@ query` on a sequential scan as cheap, but each test
    # decompresses an out-of-line tsvector: for a common word it chose a scan of the whole
    # table (seconds). JIT compilation (on for large estimates) only adds its own time.
    connection.execute(text("SET LOCAL enable_seqscan = off"))
    connection.execute(text("SET LOCAL jit = off"))
    candidates = _candidates(connection, filters, rank_candidates)
    params: dict[str, Any] = {"candidates": candidates, "limit": limit}
    tsquery = _tsquery(filters, params)
    outer = ""
    if after:
        cursor = Cursor.decode(after, ranked=True)
        params.update(cursor_key=cursor.key, cursor_id=cursor.id)
        outer = "WHERE (rank, id) < (:cursor_key, :cursor_id)"
    rows = connection.execute(
        text(
            f"""
            WITH query AS MATERIALIZED (
                SELECT {tsquery} AS tsq
            ), ranked AS (
                SELECT a.id, ts_rank(a.search, query.tsq)::float8 AS rank
                FROM newsflow.articles a CROSS JOIN query
                WHERE a.id = ANY(CAST(:candidates AS uuid[]))
            ), page AS MATERIALIZED (
                SELECT * FROM ranked {outer} ORDER BY rank DESC, id DESC LIMIT :limit
            )
            SELECT {_COLUMNS}, page.rank
            FROM page
            JOIN newsflow.submissions s ON s.id = page.id
            JOIN newsflow.articles a ON a.id = page.id
            ORDER BY page.rank DESC, page.id DESC
            """
        ),
        params,
    )
    items = [dict(row._mapping) for row in rows]
    next_cursor = None
    if len(items) == limit:
        last = items[-1]
        next_cursor = Cursor(last["rank"], last["id"]).encode()
    return items, next_cursor


# from how many matches (as the planner estimates them) ``_candidates`` bounds the search
# to slabs of the newest articles, and the first slab's size, both in ranked candidates
PROBE = 2
FIRST_SLAB = 8


def _candidates(
    connection: Connection, filters: ArticleFilters, rank_candidates: int
) -> list[uuid.UUID]:
    """The ids of the newest ``rank_candidates`` matches that pass the filters, newest
    first. The matches come from the GIN index alone (a fenced subquery, so the planner
    cannot instead walk an index testing every row's tsvector), but every match found costs
    a read of its row for its id, and a common word matches most of the table. So a query
    expected to match more than ``PROBE`` times ``rank_candidates`` rows is bounded to a slab of the
    newest articles (ids are time-ordered; the slab's lowest id is read from the primary key
    and given as a value, so the planner ANDs the id range with the GIN bitmap). When the
    slab holds too few passing matches, the next is as large as its density says is needed
    (twice over), or the whole table when that is most of it. The ids are the same as
    searching the whole table: nothing outside a slab is newer than what is in it."""
    # the language filter is tested with the match (on the row the index found), the
    # others on the submission
    where, params = _conditions(replace(filters, q=None, languages=()))
    tsquery = _tsquery(filters, params)
    language = ""
    if filters.languages:
        language = "AND m.language = ANY(:languages)"
        params["languages"] = list(filters.languages)
    params["rank_candidates"] = rank_candidates

    def newest_passing(matches: str, **values: Any) -> list[uuid.UUID]:
        return list(
            connection.execute(
                text(
                    f"""
                    WITH query AS MATERIALIZED (SELECT {tsquery} AS tsq)
                    SELECT matches.id FROM ({matches}) matches
                    WHERE EXISTS (
                        SELECT 1 FROM {_SOURCE} WHERE s.id = matches.id AND {" AND ".join(where)}
                    )
                    ORDER BY matches.id DESC
                    LIMIT :rank_candidates
                    """
                ),
                {**params, **values},
            ).scalars()
        )

    # the planner's estimate of the matches (from the tsvector's element statistics)
    # chooses the plan only, never the result
    plan = connection.execute(
        text(
            f"""EXPLAIN (FORMAT JSON) SELECT 1 FROM newsflow.articles m
                WHERE m.search @@ ({tsquery}) {language}"""
        ),
        params,
    ).scalar_one()
    if plan[0]["Plan"]["Plan Rows"] <= rank_candidates * PROBE:
        return newest_passing(
            f"""SELECT m.id FROM newsflow.articles m, query
                WHERE m.search @@ query.tsq {language} ORDER BY m.id DESC OFFSET 0"""
        )

    # the planner's row count (-1 before the first ANALYZE: then no slabs)
    articles = connection.execute(
        text("SELECT reltuples FROM pg_class WHERE oid = 'newsflow.articles'::regclass")
    ).scalar_one()
    slab = rank_candidates * FIRST_SLAB
    while True:
        lowest = None
        if slab < articles / 2:
            lowest = connection.execute(
                text("SELECT id FROM newsflow.articles ORDER BY id DESC OFFSET :skip LIMIT 1"),
                {"skip": slab - 1},
            ).scalar()
        bound = "AND m.id >= :lowest" if lowest is not None else ""
        ids = newest_passing(
            f"""SELECT m.id FROM newsflow.articles m, query
                WHERE m.search @@ query.tsq {language} {bound}
                ORDER BY m.id DESC OFFSET 0""",
            lowest=lowest,
        )
        if lowest is None or len(ids) == rank_candidates:
            return ids
        slab = slab * 2 * rank_candidates // max(len(ids), 1)


def matching_ids(
    connection: Connection, filters: ArticleFilters, ids: list[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of ``ids`` match ``filters`` now (a webhook's filter over a page of the change
    feed): the same conditions as ``list_articles``, restricted to these ids."""
    if not ids:
        return set()
    where, params = _conditions(filters)
    source = _query_source(filters, params)
    where.append("s.id = ANY(:ids)")
    params["ids"] = ids
    rows = connection.execute(
        text(f"SELECT s.id FROM {source} WHERE {' AND '.join(where)}"), params
    )
    return {row.id for row in rows}


def export_documents(
    connection: Connection,
    filters: ArticleFilters,
    base_url: str,
    batch: int = 500,
    ids: list[uuid.UUID] | None = None,
) -> Generator[str, None, None]:
    """Every matching article's document as one JSON text each, read through a server-side
    cursor ``batch`` rows at a time: memory stays flat whatever the number of rows. Done
    articles give their stored document (with links and attempts filled in like
    ``GET /v1/articles/{id}``); others the status-only document. ``ids``: only these (a
    page that ``list_articles`` found), in the same order."""
    where, params = _conditions(filters)
    if ids is not None:
        where.append("s.id = ANY(:ids)")
        params["ids"] = ids
    source = _query_source(filters, params)
    params["base_url"] = base_url
    order = (
        "ts_rank(a.search, query.tsq) DESC, s.id DESC"
        if filters.q
        else "s.received_at DESC, s.id DESC"
    )
    result = connection.execution_options(stream_results=True, yield_per=batch).execute(
        text(
            f"""
            SELECT CASE WHEN a.id IS NOT NULL AND s.status = 'done' THEN
                jsonb_set(a.document || jsonb_build_object('attempts', s.attempts), '{{links}}',
                          jsonb_build_object('self', :base_url || '/v1/articles/' || s.id))
            ELSE jsonb_build_object(
                'schema_version', 1, 'id', s.id, 'status', s.status,
                'links', jsonb_build_object('self', :base_url || '/v1/articles/' || s.id),
                'source', s.source, 'external_id', s.external_id,
                'received_at', s.received_at, 'processed_at', s.finished_at,
                'error', s.error, 'attempts', s.attempts)
            END::text AS document
            FROM {source}
            WHERE {" AND ".join(where)}
            ORDER BY {order}
            """
        ),
        params,
    )
    try:
        for (document,) in result:
            yield document
    finally:
        result.close()


def enrichment_conditions(
    entities: list[str], cited_sources: list[str], quoted: str | None
) -> tuple[tuple[str, dict[str, Any]], ...]:
    """Filters on what enrichment found, as EXISTS conditions for ``ArticleFilters.extra``.
    An entity name matches in any language: the name finds entity keys (through any
    article's canonical form; ``newsflow.entity_keys``, migration 0014), and the keys find
    every article that mentions them."""
    conditions: list[tuple[str, dict[str, Any]]] = []
    if entities:
        conditions.append(
            (
                """EXISTS (SELECT 1 FROM newsflow.article_entities fe
                   WHERE fe.article_id = s.id AND fe.entity_key = ANY(
                       newsflow.entity_keys(:entity_values, :entity_names)))""",
                {"entity_values": entities, "entity_names": [e.lower() for e in entities]},
            )
        )
    if cited_sources:
        conditions.append(
            (
                """EXISTS (SELECT 1 FROM newsflow.article_cited_sources fc
                   WHERE fc.article_id = s.id AND lower(fc.name) = ANY(:cited_names))""",
                {"cited_names": [name.lower() for name in cited_sources]},
            )
        )
    if quoted:
        escaped = escape_like(quoted.lower())
        conditions.append(
            (
                """EXISTS (SELECT 1 FROM newsflow.article_quotes fq
                   WHERE fq.article_id = s.id AND lower(fq.speaker) LIKE :speaker_pattern)""",
                {"speaker_pattern": f"%{escaped}%"},
            )
        )
    return tuple(conditions)


def escape_like(value: str) -> str:
    """``value`` taken literally inside a LIKE pattern."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
