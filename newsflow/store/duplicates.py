"""Duplicates found when an article is written, by indexed lookups that never scan.

- exact: the same normalised body (content hash, indexed);
- url: the same canonical URL (tracking parameters, default port and fragment removed);
- near: SimHash fingerprints within ``NEAR_BITS`` bits, same language. The 64 bits are cut
  into four 16-bit bands, each indexed (migration 0011): two fingerprints that differ in at
  most 3 bits leave at least one band untouched (pigeonhole), so every such pair shares a
  band, and only articles sharing one are compared.

The pairs are kept in ``newsflow.article_duplicates`` (the later article and an earlier
one), read by ``/related`` in both directions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import Connection

BANDS = 4
BAND_BITS = 16
NEAR_BITS = BANDS - 1  # the most bits the bands guarantee to find
_MASK = (1 << BAND_BITS) - 1
# the expressions the band indexes are built on (migration 0011), in band order
BAND_SQL = tuple(
    f"((a.simhash >> {BAND_BITS * n}) & {_MASK})" if n else f"(a.simhash & {_MASK})"
    for n in range(BANDS)
)


def bands(fingerprint: int) -> tuple[int, ...]:
    """The four 16-bit bands of a signed 64-bit SimHash, as PostgreSQL computes them."""
    return tuple((fingerprint >> (BAND_BITS * n)) & _MASK for n in range(BANDS))


@dataclass(frozen=True)
class Found:
    id: uuid.UUID
    kind: str  # exact | url | near
    distance: int


_CANDIDATES = (
    "SELECT a.id FROM newsflow.articles a WHERE a.content_hash = %(content_hash)s "
    "UNION SELECT a.id FROM newsflow.articles a WHERE a.canonical_url = %(canonical_url)s "
    + " ".join(
        f"UNION SELECT a.id FROM newsflow.articles a WHERE {band} = %(band{n})s"
        for n, band in enumerate(BAND_SQL)
    )
)

FIND = f"""
    SELECT a.id,
           CASE WHEN a.content_hash = %(content_hash)s THEN 'exact'
                WHEN a.canonical_url = %(canonical_url)s THEN 'url'
                ELSE 'near' END AS kind,
           coalesce(bit_count(CAST(a.simhash # %(simhash)s AS bit(64))), 64) AS distance
    FROM ({_CANDIDATES}) c JOIN newsflow.articles a ON a.id = c.id
    WHERE a.id <> %(id)s
      AND (a.content_hash = %(content_hash)s
           OR a.canonical_url = %(canonical_url)s
           OR (a.language IS NOT DISTINCT FROM %(language)s
               AND bit_count(CAST(a.simhash # %(simhash)s AS bit(64))) <= {NEAR_BITS}))
    ORDER BY distance, a.id
    LIMIT 50
"""


def find_at_ingest(
    cursor: psycopg.Cursor[Any],
    article_id: uuid.UUID,
    content_hash: str,
    canonical_url: str | None,
    simhash: int,
    language: str | None,
) -> list[Found]:
    """Earlier articles this one duplicates (exact, same canonical URL, or near)."""
    params: dict[str, Any] = {
        "id": article_id,
        "content_hash": content_hash,
        "canonical_url": canonical_url,
        "simhash": simhash,
        "language": language,
    }
    params.update({f"band{n}": band for n, band in enumerate(bands(simhash))})
    rows = cursor.execute(FIND, params).fetchall()
    return [Found(row[0], row[1], row[2]) for row in rows]


# the pairs this article found, rewritten with it (see articles.write_article)
INSERT_PAIRS = """
    INSERT INTO newsflow.article_duplicates (article_id, original_id, kind, distance)
    SELECT %(id)s, unnest(CAST(%(ids)s AS uuid[])), unnest(CAST(%(kinds)s AS text[])),
           unnest(CAST(%(distances)s AS int[]))
    ON CONFLICT DO NOTHING
"""

_RELATED = text(
    """
    SELECT a.id, a.title, a.language, a.source, d.kind, d.distance
    FROM newsflow.article_duplicates d JOIN newsflow.articles a ON a.id = d.original_id
    WHERE d.article_id = :id
    UNION
    SELECT a.id, a.title, a.language, a.source, d.kind, d.distance
    FROM newsflow.article_duplicates d JOIN newsflow.articles a ON a.id = d.article_id
    WHERE d.original_id = :id
    ORDER BY distance, id
    LIMIT 50
    """
)


def stored_duplicates(connection: Connection, article_id: uuid.UUID) -> list[dict[str, Any]]:
    """The duplicates found when this article, or a later one, was written."""
    return [dict(row._mapping) for row in connection.execute(_RELATED, {"id": article_id})]
