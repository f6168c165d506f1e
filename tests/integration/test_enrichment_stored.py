"""The enrichment of the seed, end to end: who is mentioned, who said what, which outlet
was cited, which figures and dates — in the document and in SQL, as consumers ask."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import SEED, WorkerProcess, sql_row, wait_for_final

pytestmark = pytest.mark.integration


def test_seed_enrichment_in_the_document_and_in_sql(
    client: TestClient, worker: WorkerProcess, database_url: str
) -> None:
    response = client.post(
        "/v1/articles",
        json={"source": "seed", "text": SEED.read_text(), "published_at": "2023-11-24T09:00:00Z"},
    )
    article = wait_for_final(client, response.json()["id"])
    assert article["status"] == "done", article["error"]

    entities = {e["key"]: e for e in article["entities"]}
    for code in ("LT", "PL", "RU", "DE", "UA", "US"):
        assert entities[f"country:{code}"]["country_code"] == code
    people = [e for e in article["entities"] if e["type"] == "PER"]
    assert any(e["canonical"] == "Gabrielius Landsbergis" for e in people)
    orgs = {e["canonical"] for e in article["entities"] if e["type"] == "ORG"}
    assert {"NATO", "TVP World"} <= orgs

    said = {q["text"][:24]: q["speaker"] for q in article["quotes"]}
    assert "Landsbergis" in said["The time has come to con"]
    assert [s["name"] for s in article["cited_sources"]] == ["TVP World"]
    amounts = {(a["value"], a["unit"], a["of"]) for a in article["amounts"]}
    assert (4.0, "percent", "GDP") in amounts
    assert (5000.0, None, "soldiers") in amounts
    dates = [(d["text"], d["date"]) for d in article["dates_mentioned"]]
    assert ("November 22", "2023-11-22") in dates

    # a consumer's question in SQL: which articles mention Lithuania, in any language?
    (mentions,) = sql_row(
        database_url,
        "SELECT count(*) FROM newsflow.article_entities"
        " WHERE entity_key = 'country:LT' AND article_id = %s",
        (article["id"],),
    )
    (speaker,) = sql_row(
        database_url,
        "SELECT speaker FROM newsflow.article_quotes WHERE article_id = %s ORDER BY position",
        (article["id"],),
    )
    assert mentions == 1
    assert "Landsbergis" in speaker
