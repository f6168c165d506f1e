"""Is this the same story we already have, or its translation? Asked of the seed in
English, Ukrainian and Russian, plus a lightly edited copy and an unrelated story."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import SEED, WorkerProcess, wait_for_final

pytestmark = pytest.mark.integration
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "enrich"
PUBLISHED = "2023-11-24T09:00:00Z"


def _submit(client: TestClient, source: str, text: str, published_at: str = PUBLISHED) -> str:
    response = client.post(
        "/v1/articles", json={"source": source, "text": text, "published_at": published_at}
    )
    assert response.status_code == 202, response.text
    document = wait_for_final(client, response.json()["id"])
    assert document["status"] == "done", document["error"]
    return str(document["id"])


def test_duplicates_and_translations_of_the_seed(client: TestClient, worker: WorkerProcess) -> None:
    seed = SEED.read_text()
    english = _submit(client, "related-en", seed)
    exact = _submit(client, "related-copy", seed)
    edited = _submit(client, "related-edit", seed.replace("Experts suggest", "Experts say"))
    ukrainian = _submit(client, "related-uk", (FIXTURES / "seed_uk.txt").read_text())
    russian = _submit(client, "related-ru", (FIXTURES / "seed_ru.txt").read_text())
    much_later = _submit(
        client, "related-later", (FIXTURES / "seed_uk.txt").read_text(), "2024-06-01T09:00:00Z"
    )
    unrelated = _submit(
        client,
        "related-other",
        "Council approves budget\n\nThe city council approved the new budget on Tuesday "
        "after a long debate about transport, housing and two new schools.",
    )

    related = client.get(f"/v1/articles/{english}/related").json()

    duplicates = {d["id"]: d for d in related["duplicates"]}
    assert duplicates[exact]["kind"] == "exact"
    assert duplicates[edited]["kind"] == "near"
    assert unrelated not in duplicates
    translations = {t["id"]: t for t in related["translations"]}
    assert {translations[ukrainian]["language"], translations[russian]["language"]} == {"uk", "ru"}
    assert much_later not in translations  # outside the time window
    assert unrelated not in translations
    assert english in {
        t["id"] for t in client.get(f"/v1/articles/{ukrainian}/related").json()["translations"]
    }
