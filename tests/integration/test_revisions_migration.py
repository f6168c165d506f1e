"""Migration 0011 on a database that already holds two articles with one
(source, external_id) (e.g. of two owners): both stay, each becomes its own version 1, and
the new unique identity holds for every article stored from then on."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from newsflow.store.migrate import downgrade, upgrade
from tests.conftest import Servers, _with_database

pytestmark = pytest.mark.integration


def _insert_article(connection: psycopg.Connection, article_id: uuid.UUID) -> None:
    connection.execute(
        """
        INSERT INTO newsflow.submissions (id, source, external_id, kind, payload, received_at,
            status, landed_at, updated_at)
        VALUES (%s, 'legacy', 'story-1', 'text', '{"source": "legacy", "text": "x"}', now(),
            'done', now(), now())
        """,
        (article_id,),
    )
    connection.execute(
        """
        INSERT INTO newsflow.articles (id, source, external_id, body, word_count,
            content_hash, document, processed_at)
        VALUES (%s, 'legacy', 'story-1', 'x', 1, 'h', '{}', now())
        """,
        (article_id,),
    )


def test_existing_duplicate_identities_are_kept_and_new_ones_are_unique(
    servers: Servers,
) -> None:
    name = f"newsflow_test_m0011_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(servers.postgres_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = _with_database(servers.postgres_url, name)
    try:
        upgrade(url, "0007")
        first, second = uuid.uuid4(), uuid.uuid4()
        with psycopg.connect(url) as connection:
            _insert_article(connection, first)
            _insert_article(connection, second)

        upgrade(url)

        with psycopg.connect(url) as connection:
            rows = connection.execute(
                "SELECT id, owner, version FROM newsflow.articles ORDER BY id"
            ).fetchall()
            assert sorted(rows) == sorted([(first, None, 1), (second, None, 1)])
            versions = connection.execute(
                "SELECT article_id, version, submission_id FROM newsflow.article_versions"
            ).fetchall()
            assert sorted(versions) == sorted([(first, 1, first), (second, 1, second)])
            # from now on one owner's (source, external_id) is one article
            connection.execute(
                "UPDATE newsflow.articles SET owner = 'partner' WHERE id = %s", (first,)
            )
            with pytest.raises(psycopg.errors.UniqueViolation):
                connection.execute(
                    "UPDATE newsflow.articles SET owner = 'partner' WHERE id = %s", (second,)
                )
        downgrade(url, "0007")  # and back: nothing of it left behind to trip over
        upgrade(url)
    finally:
        with psycopg.connect(servers.postgres_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
