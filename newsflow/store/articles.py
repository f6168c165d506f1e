"""SQL for articles: the idempotent write of one processed article, and reading it back.

An article is written as a whole, in bulk: the row (with its document) by one upsert, then
every child row (blocks, images, entities, quotes, cited sources, amounts, dates) by one
multi-row ``INSERT … SELECT`` per table that reads the rows out of the document just
stored. The statements go in one pipeline (one network round trip), so the cost no longer
grows with the number of rows or tables, and the child rows are, by construction, what the
stored document says."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import Connection

from newsflow.contract import FINAL_STATUSES, Status, Submission, canonical_hash
from newsflow.store import duplicates, enrichment, submissions
from newsflow.store.db import driver_connection
from newsflow.store.enrichment import from_document

_ARTICLE_COLUMNS = (
    "id",
    "source",
    "external_id",
    "url",
    "title",
    "lead",
    "body",
    "language",
    "language_confidence",
    "published_at",
    "authors",
    "site",
    "word_count",
    "content_hash",
    "simhash",
    "document",
    "processed_at",
    "keywords",
    "topics",
    "owner",
    "version",
    "canonical_url",
)
_CASTS = {
    "document": "::jsonb",
    "authors": "::text[]",
    "keywords": "::text[]",
    "topics": "::text[]",
}

UPSERT_ARTICLE = (
    "INSERT INTO newsflow.articles ({columns}) VALUES ({values}) "
    "ON CONFLICT (id) DO UPDATE SET {updates}".format(
        columns=", ".join(_ARTICLE_COLUMNS),
        values=", ".join(f"%({c})s{_CASTS.get(c, '')}" for c in _ARTICLE_COLUMNS),
        updates=", ".join(f"{c} = EXCLUDED.{c}" for c in _ARTICLE_COLUMNS if c != "id"),
    )
)

CHILD_TABLES = ("article_blocks", "article_images", "article_duplicates", *enrichment.TABLES)

# one statement for every child table (different tables: no ordering between them)
DELETE_CHILDREN = (
    "WITH "
    + ", ".join(
        f"d{n} AS (DELETE FROM newsflow.{table} WHERE article_id = %(id)s)"
        for n, table in enumerate(CHILD_TABLES[:-1])
    )
    + f" DELETE FROM newsflow.{CHILD_TABLES[-1]} WHERE article_id = %(id)s"
)

INSERT_BLOCKS_AND_IMAGES = (
    from_document(
        "article_blocks",
        "kind, text, start_offset, end_offset",
        "blocks",
        'kind text, text text, "start" int, "end" int',
        'r.kind, r.text, r."start", r."end"',
    ),
    from_document(
        "article_images",
        "url, caption, credit, people, role",
        "images",
        "url text, caption text, credit text, people text[], role text",
        "r.url, r.caption, r.credit, coalesce(r.people, '{}'), r.role",
    ),
)


def write_article(
    cursor: psycopg.Cursor[Any], row: dict[str, Any], found: Sequence[duplicates.Found] = ()
) -> None:
    """Queue the write of one article and all its child rows on ``cursor`` (in pipeline
    mode: sent together, checked at the caller's sync). Keyed on the submission id, so a
    redelivered task replaces the article and its children instead of adding to them;
    the caller holds the submission's row lock, so two writers never interleave.
    ``row["document"]`` is the document as JSON text."""
    missing = set(_ARTICLE_COLUMNS) - row.keys()
    if missing:
        raise ValueError(f"article row without {sorted(missing)}")
    key = {"id": row["id"]}
    cursor.execute(UPSERT_ARTICLE, row)
    cursor.execute(DELETE_CHILDREN, key)
    for statement in (*INSERT_BLOCKS_AND_IMAGES, *enrichment.INSERTS):
        cursor.execute(statement, key)
    if found:
        cursor.execute(
            duplicates.INSERT_PAIRS,
            {
                **key,
                "ids": [f.id for f in found],
                "kinds": [f.kind for f in found],
                "distances": [f.distance for f in found],
            },
        )


@dataclass(frozen=True)
class Claim:
    """What a submission is, as far as intake knew: whose, which (source, external_id),
    with what content, and which article and version its Redis claim made it (None when
    Redis did not say: a message from before versions, or one that outlived its claim)."""

    submission_id: uuid.UUID
    owner: str | None
    source: str
    external_id: str | None
    submission_hash: str
    received_at: datetime
    article_id: uuid.UUID | None = None
    version: int | None = None


@dataclass(frozen=True)
class Placement:
    """Where a processed submission goes: ``article_id``'s version ``version``, which
    becomes the article's current one (``current``), or is kept as a past version only
    (a version that lands after a later one), or ``repeat``: the same content as the
    current version, nothing to write."""

    article_id: uuid.UUID
    version: int
    current: bool
    repeat: bool = False
    replaces: int | None = None  # the current version it supersedes, kept with its document


class VersionNotReady(Exception):
    """A later version arrived before the article's first version was stored: retry it."""


_IDENTITY_LOCK = """
    SELECT pg_advisory_xact_lock(hashtextextended(json_build_array(
        CAST(%(owner)s AS text), CAST(%(source)s AS text), CAST(%(external_id)s AS text)
    )::text, 11))
"""
_TARGET = """
    SELECT a.id, a.version, v.submission_id, v.submission_hash, s.payload
    FROM newsflow.articles a
    LEFT JOIN newsflow.article_versions v ON v.article_id = a.id AND v.version = a.version
    LEFT JOIN newsflow.submissions s ON s.id = v.submission_id
    WHERE {where}
    FOR UPDATE OF a
"""
_BY_ID = _TARGET.format(where="a.id = %(article_id)s")
_BY_IDENTITY = _TARGET.format(
    where="a.owner = %(owner)s AND a.source = %(source)s AND a.external_id = %(external_id)s"
)
_ARCHIVE = """
    UPDATE newsflow.article_versions v SET document = a.document
    FROM newsflow.articles a
    WHERE a.id = %(article_id)s AND v.article_id = a.id AND v.version = %(replaces)s
"""
_VERSION = """
    INSERT INTO newsflow.article_versions AS v
        (article_id, version, submission_id, received_at, content_hash, submission_hash,
         title, document)
    VALUES (%(article_id)s, %(version)s, %(submission_id)s, %(received_at)s,
            %(content_hash)s, %(submission_hash)s, %(title)s, %(document)s::jsonb)
    ON CONFLICT (article_id, version) DO UPDATE SET
        content_hash = EXCLUDED.content_hash, title = EXCLUDED.title,
        document = EXCLUDED.document
"""
_BECAME = """
    UPDATE newsflow.submissions
    SET owner = %(owner)s, article_id = %(article_id)s, version = %(version)s,
        submission_hash = %(submission_hash)s
    WHERE id = %(submission_id)s
"""


def place_version(connection: Connection, claim: Claim) -> Placement | None:
    """Lock the submission and the article it belongs to, and decide where it goes; None
    when another delivery already finished the submission.

    The article is the one the Redis claim named, else the one PostgreSQL holds for the
    same (owner, source, external_id) (unique: a resubmission after the claim expired is
    still recognised), else a new one. The version number is the claim's when the claim
    named this article, so two versions in flight land in the order intake numbered them,
    whichever lands first: one numbered below the current version is kept as a past
    version and never overwrites it. Without the claim's word, the same content as the
    current version is a repeat, other content the next version."""
    pg = driver_connection(connection)
    params = {
        "submission_id": claim.submission_id,
        "article_id": claim.article_id,
        "owner": claim.owner,
        "source": claim.source,
        "external_id": claim.external_id,
    }
    with pg.cursor() as cursor:
        locked = cursor.execute(submissions.LOCK_STATUS, {"id": claim.submission_id}).fetchone()
        if locked is None:
            raise LookupError(f"submission {claim.submission_id} was never landed")
        if Status(locked[0]) in FINAL_STATUSES:
            return None
        target = None
        later_version = claim.article_id not in (None, claim.submission_id)
        if later_version:
            target = cursor.execute(_BY_ID, params).fetchone()
        if target is None and claim.external_id is not None and claim.owner is not None:
            cursor.execute(_IDENTITY_LOCK, params)  # two first versions: one article
            target = cursor.execute(_BY_IDENTITY, params).fetchone()
        if target is None:
            if later_version:
                first = cursor.execute(
                    "SELECT status FROM newsflow.submissions WHERE id = %(article_id)s", params
                ).fetchone()
                if first is None or Status(first[0]) not in FINAL_STATUSES:
                    raise VersionNotReady(f"version 1 ({claim.article_id}) is not stored yet")
            # the first version (or a later one whose first failed): a new article
            return Placement(claim.submission_id, claim.version or 1, current=True)
    article_id, current, current_submission, current_hash, current_payload = target
    if current_submission == claim.submission_id:  # processed again: rewrite it
        return Placement(article_id, current, current=True)
    if current_hash is None and current_payload is not None:  # stored before 0011
        current_hash = canonical_hash(Submission.model_validate(current_payload))
    claimed = claim.version if claim.article_id == article_id else None
    same = claim.submission_hash == current_hash
    if claimed is None and same or claimed == current + 1 and same:
        # the claim did not know this article (expired), or knew no hash (before 0011)
        return Placement(article_id, current, current=False, repeat=True)
    number = claimed if claimed is not None else current + 1
    if number == current:
        return Placement(article_id, current, current=False, repeat=True)
    if number < current:
        return Placement(article_id, number, current=False)
    return Placement(article_id, number, current=True, replaces=current)


def write_version(
    connection: Connection,
    claim: Claim,
    placement: Placement,
    row: dict[str, Any] | None,
    found: Sequence[duplicates.Found] = (),
) -> None:
    """Store what ``place_version`` decided, in the same transaction, and mark the
    submission done: the article row and its children for a current version (the one it
    replaces keeps its document in article_versions), the version's row, which article and
    version the submission became. ``row`` is None for a repeat. One pipeline."""
    pg = driver_connection(connection)
    became = {
        "submission_id": claim.submission_id,
        "owner": claim.owner,
        "article_id": placement.article_id,
        "version": placement.version,
        "submission_hash": claim.submission_hash,
    }
    with pg.pipeline(), pg.cursor() as cursor:
        if row is not None:
            if placement.replaces is not None:
                cursor.execute(_ARCHIVE, {**became, "replaces": placement.replaces})
            if placement.current:
                write_article(cursor, row, found)
            cursor.execute(
                _VERSION,
                {
                    **became,
                    "received_at": claim.received_at,
                    "content_hash": row["content_hash"],
                    "title": row["title"],
                    "document": None if placement.current else row["document"],
                },
            )
        cursor.execute(_BECAME, became)
        cursor.execute(
            submissions.FINISH, {"id": claim.submission_id, "status": "done", "error": None}
        )


def store_processed_article(
    connection: Connection,
    claim: Claim,
    build_row: Callable[[Placement, Sequence[duplicates.Found]], dict[str, Any]],
    find: Callable[[psycopg.Cursor[Any], uuid.UUID], list[duplicates.Found]],
) -> Placement | None:
    """The worker's write of one processed submission: place it (locks), find its
    duplicates, build the row for where it goes, write. None, writing nothing, when another
    delivery already finished the submission."""
    placement = place_version(connection, claim)
    if placement is None:
        return None
    row = None
    if not placement.repeat:
        found: list[duplicates.Found] = []
        if placement.current:
            with driver_connection(connection).cursor() as cursor:
                found = find(cursor, placement.article_id)
        row = build_row(placement, found)
    else:
        found = []
    write_version(connection, claim, placement, row, found)
    return placement


def get_article_document(connection: Connection, article_id: uuid.UUID) -> dict[str, Any] | None:
    document = connection.execute(
        text("SELECT document FROM newsflow.articles WHERE id = :id"), {"id": article_id}
    ).scalar_one_or_none()
    return dict(document) if document is not None else None


def list_versions(connection: Connection, article_id: uuid.UUID) -> list[dict[str, Any]]:
    """The versions of a done article, oldest first (the view newsflow.article_versions_v1)."""
    rows = connection.execute(
        text(
            """
            SELECT version, submission_id, received_at, content_hash, title, current
            FROM newsflow.article_versions_v1 WHERE article_id = :id ORDER BY version
            """
        ),
        {"id": article_id},
    )
    return [dict(row._mapping) for row in rows]


def get_version_document(
    connection: Connection, article_id: uuid.UUID, version: int
) -> dict[str, Any] | None:
    document = connection.execute(
        text(
            "SELECT document FROM newsflow.article_versions_v1 "
            "WHERE article_id = :id AND version = :version"
        ),
        {"id": article_id, "version": version},
    ).scalar_one_or_none()
    return dict(document) if document is not None else None
