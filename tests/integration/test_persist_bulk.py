"""The article and its child rows are written in bulk (one pipeline of multi-row INSERT …
SELECT statements from the stored document). What a user checks: a replayed or
re-processed article never doubles a row, and every child table says exactly what the
article's document says. Real PostgreSQL, no broker."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from newsflow.contract import Status, Submission
from newsflow.settings import Settings
from newsflow.store import submissions
from newsflow.store.db import transaction
from newsflow.taskmessage import ProcessMessage
from tests.conftest import ROOT, SEED
from worker.persist import persist
from worker.pipeline.article import EnrichedArticle, SubmissionInfo
from worker.pipeline.enrich import enrich
from worker.pipeline.parse import parse
from worker.process import process

pytestmark = pytest.mark.integration

CHILD_TABLES = (
    "article_blocks",
    "article_images",
    "article_entities",
    "article_quotes",
    "article_cited_sources",
    "article_amounts",
    "article_dates",
)
UK_SEED = ROOT / "tests" / "fixtures" / "enrich" / "seed_uk.txt"


def _message(text: str) -> ProcessMessage:
    return {
        "id": str(uuid.uuid4()),
        "received_at": datetime.now(UTC).isoformat(),
        "idempotency_key": None,
        "submission": {"source": "bulk-test", "text": text},
    }


def _counts(database_url: str, article_id: str) -> dict[str, int]:
    """Rows per child table, article rows, and changes in the feed, for one article."""
    counted = dict.fromkeys(CHILD_TABLES, "article_id") | {
        "articles": "id",
        "feed": "article_id",
    }
    with psycopg.connect(database_url) as connection:
        return {
            table: connection.execute(
                f"SELECT count(*) FROM newsflow.{table} WHERE {column} = %s".encode(),
                (article_id,),
            ).fetchone()[0]  # type: ignore[index]
            for table, column in counted.items()
        }


def _rows(connection: psycopg.Connection[Any], sql: str, article_id: str) -> list[tuple[Any, ...]]:
    return connection.execute(sql.encode(), (article_id,)).fetchall()


def _reopen(database_url: str, article_id: str) -> None:
    with transaction(database_url) as connection:
        assert submissions.reopen(connection, uuid.UUID(article_id), ("done",)) is not None


@pytest.mark.parametrize("seed", [SEED, UK_SEED], ids=["en", "uk"])
def test_child_rows_are_what_the_document_says(
    settings: Settings, database_url: str, seed: Any
) -> None:
    message = _message(seed.read_text())
    assert process(message, settings, "bulk-1:0") == Status.done
    article_id = message["id"]

    with psycopg.connect(database_url) as connection:
        (document,) = connection.execute(
            "SELECT document FROM newsflow.articles WHERE id = %s", (article_id,)
        ).fetchone()  # type: ignore[misc]
        assert document["entities"]
        assert document["quotes"]
        assert document["blocks"]

        blocks = _rows(
            connection,
            "SELECT kind, text, start_offset, end_offset FROM newsflow.article_blocks "
            "WHERE article_id = %s ORDER BY position",
            article_id,
        )
        assert blocks == [(b["kind"], b["text"], b["start"], b["end"]) for b in document["blocks"]]

        images = _rows(
            connection,
            "SELECT url, caption, credit, people, role FROM newsflow.article_images "
            "WHERE article_id = %s ORDER BY position",
            article_id,
        )
        assert images == [
            (i["url"], i["caption"], i["credit"], i["people"], i["role"])
            for i in document["images"]
        ]

        entities = _rows(
            connection,
            "SELECT entity_key, canonical, surfaces, mentions, first_offset "
            "FROM newsflow.article_entities WHERE article_id = %s ORDER BY entity_key",
            article_id,
        )
        assert sorted(entities) == sorted(
            (
                e["key"],
                e["canonical"],
                sorted({m["text"] for m in e["mentions"]}),
                len(e["mentions"]),
                # where it is first named in the body; 0 when the title names it
                min(
                    (0 if m.get("field") == "title" else m["start"] for m in e["mentions"]),
                    default=0,
                ),
            )
            for e in document["entities"]
        )
        shared = _rows(
            connection,
            "SELECT e.key, e.type FROM newsflow.entities e JOIN newsflow.article_entities ae "
            "ON ae.entity_key = e.key WHERE ae.article_id = %s",
            article_id,
        )
        assert sorted(shared) == sorted((e["key"], e["type"]) for e in document["entities"])

        quotes = _rows(
            connection,
            "SELECT text, speaker, speaker_role, start_offset, end_offset "
            "FROM newsflow.article_quotes WHERE article_id = %s ORDER BY position",
            article_id,
        )
        assert quotes == [
            (q["text"], q["speaker"], q["speaker_role"], q["start"], q["end"])
            for q in document["quotes"]
        ]

        cited = _rows(
            connection,
            "SELECT name, cue, start_offset, end_offset FROM newsflow.article_cited_sources "
            "WHERE article_id = %s ORDER BY position",
            article_id,
        )
        assert cited == [
            (c["name"], c["cue"], c["start"], c["end"]) for c in document["cited_sources"]
        ]

        amounts = _rows(
            connection,
            "SELECT value, unit, of_what, text, start_offset, end_offset "
            "FROM newsflow.article_amounts WHERE article_id = %s ORDER BY position",
            article_id,
        )
        assert amounts == [
            (a["value"], a["unit"], a["of"], a["text"], a["start"], a["end"])
            for a in document["amounts"]
        ]

        dates = _rows(
            connection,
            "SELECT text, to_char(date, 'YYYY-MM-DD'), resolved, start_offset, end_offset "
            "FROM newsflow.article_dates WHERE article_id = %s ORDER BY position",
            article_id,
        )
        assert dates == [
            (d["text"], d["date"], d["resolved"], d["start"], d["end"])
            for d in document["dates_mentioned"]
        ]

        keywords, topics = connection.execute(
            "SELECT keywords, topics FROM newsflow.articles WHERE id = %s", (article_id,)
        ).fetchone()  # type: ignore[misc]
        assert keywords == [k["text"] for k in document["keywords"]]
        assert topics == document["topics"]


def test_replayed_and_reprocessed_article_never_doubles_a_row(
    settings: Settings, database_url: str
) -> None:
    message = _message(SEED.read_text())
    assert process(message, settings, "bulk-2:0") == Status.done
    first = _counts(database_url, message["id"])
    assert all(first[table] > 0 for table in ("article_blocks", "article_entities"))

    # a redelivery of the same message, and a later copy of it: nothing written
    assert process(message, settings, "bulk-2:0") == Status.done
    assert process(message, settings, "bulk-2:1") == Status.done
    assert _counts(database_url, message["id"]) == first

    # a reprocess writes everything again: the same rows, one more change in the feed
    for n in range(2):
        _reopen(database_url, message["id"])
        assert process(message, settings, f"bulk-2-again-{n}:0") == Status.done
        again = _counts(database_url, message["id"])
        assert again == {**first, "feed": first["feed"] + n + 1}


def _land(database_url: str, info: SubmissionInfo) -> None:
    with transaction(database_url) as connection:
        submissions.land_raw_submission(
            connection,
            submission_id=info.id,
            source=info.source,
            external_id=None,
            idempotency_key=None,
            kind="text",
            payload_json='{"source": "bulk-test", "text": "x"}',
            received_at=info.received_at,
            message="bulk-3:0",
        )


def test_reprocessing_with_fewer_results_removes_the_rows_that_went(
    settings: Settings, database_url: str
) -> None:
    enriched = enrich(parse(Submission(source="bulk-test", text=SEED.read_text())))
    assert len(enriched.quotes) >= 2
    assert len(enriched.entities) >= 2
    info = SubmissionInfo(uuid.uuid4(), "bulk-test", None, datetime.now(UTC))
    _land(database_url, info)
    with transaction(database_url) as connection:
        assert persist(connection, info, enriched)
    # once done, a second persist of the same submission writes nothing
    with transaction(database_url) as connection:
        assert not persist(connection, info, enriched)

    fewer: EnrichedArticle = dataclasses.replace(
        enriched, quotes=enriched.quotes[:1], entities=enriched.entities[:1], amounts=[]
    )
    _reopen(database_url, str(info.id))
    with transaction(database_url) as connection:
        assert persist(connection, info, fewer)

    counts = _counts(database_url, str(info.id))
    assert counts["article_quotes"] == 1
    assert counts["article_entities"] == 1
    assert counts["article_amounts"] == 0
    with psycopg.connect(database_url) as connection:
        (document,) = connection.execute(
            "SELECT document FROM newsflow.articles WHERE id = %s", (str(info.id),)
        ).fetchone()  # type: ignore[misc]
    assert len(document["quotes"]) == 1
    assert document["amounts"] == []
