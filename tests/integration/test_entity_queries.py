"""Which articles mention Lithuania, in any language? Who quoted Landsbergis? Which cite
TVP World? Asked of the seed in English, Ukrainian and Russian."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import SEED, WorkerProcess, sql_row, wait_for_final

pytestmark = pytest.mark.integration
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "enrich"


def test_entity_source_and_speaker_filters_work_across_languages(
    client: TestClient, worker: WorkerProcess, database_url: str
) -> None:
    source = f"entity-queries-{uuid.uuid4().hex[:8]}"
    texts = [
        SEED.read_text(),
        *((FIXTURES / f"seed_{lang}.txt").read_text() for lang in ("uk", "ru")),
    ]
    ids = set()
    for text in texts:
        response = client.post("/v1/articles", json={"source": source, "text": text})
        document = wait_for_final(client, response.json()["id"])
        assert document["status"] == "done", document["error"]
        ids.add(document["id"])
    other = client.post(
        "/v1/articles",
        json={
            "source": source,
            "text": "Council approves budget\n\nThe Leeds council approved a budget on Tuesday.",
        },
    ).json()["id"]
    wait_for_final(client, other)

    def listed(**params: str) -> set[str]:
        response = client.get("/v1/articles", params={"source": source, "limit": 50, **params})
        assert response.status_code == 200, response.text
        return {item["id"] for item in response.json()["items"]}

    assert listed(entity="Lithuania") == ids
    assert listed(entity="Литва") == ids  # the Ukrainian/Russian name finds the English too
    assert listed(entity="country:LT") == ids
    assert listed(cited_source="TVP World") == ids
    quoting = listed(quoted="landsbergis") | listed(quoted="ландсберг")
    assert quoting == ids
    assert other not in quoting

    found = client.get("/v1/entities", params={"q": "Lithuan"}).json()["items"]
    lithuania = next(e for e in found if e["key"] == "country:LT")
    assert {"Lithuania", "Литва"} <= set(lithuania["names"])
    assert lithuania["articles"] >= 3
    mentioning = client.get("/v1/entities/country:LT/articles", params={"limit": 100}).json()
    assert ids <= {item["id"] for item in mentioning["items"]}
    assert client.get("/v1/entities/nope:nothing/articles").status_code == 404

    (in_view,) = sql_row(
        database_url,
        "SELECT count(DISTINCT article_id) FROM newsflow.article_entities_v1"
        " WHERE entity_key = 'country:LT' AND article_id = ANY(%s)",
        ([uuid.UUID(i) for i in ids],),
    )
    assert in_view == 3
