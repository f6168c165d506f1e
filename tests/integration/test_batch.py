"""Many submissions in one request: each accepted or refused on its own, once."""

from __future__ import annotations

import uuid

import orjson
import pytest
from fastapi.testclient import TestClient

from newsflow.settings import Settings
from tests.conftest import WorkerProcess, wait_for_final

pytestmark = pytest.mark.integration
TEXT = "Headline\n\nA paragraph of the story, long enough to be an article body."


def test_json_array_batch_with_a_bad_item_and_a_duplicate(
    client: TestClient, worker: WorkerProcess
) -> None:
    source = f"batch-{uuid.uuid4().hex[:8]}"
    items = [
        {"source": source, "external_id": "a", "text": TEXT},
        {"source": source, "text": ""},  # refused on its own
        {"source": source, "external_id": "a", "text": TEXT},  # repeats the first
        {"source": source, "external_id": "b", "html": f"<article><p>{TEXT}</p></article>"},
    ]
    response = client.post("/v1/articles/batch", json=items)

    assert response.status_code == 202, response.text
    result = response.json()
    assert (result["accepted"], result["duplicates"], result["rejected"]) == (2, 1, 1)
    first, bad, repeat, html = result["items"]
    assert bad["error"].startswith("`text` is empty") or "text" in bad["error"]
    assert repeat["id"] == first["id"]
    assert repeat["duplicate"] is True
    assert wait_for_final(client, first["id"])["status"] == "done"
    assert wait_for_final(client, html["id"])["status"] in ("done", "failed")


def test_ndjson_batch(client: TestClient) -> None:
    source = f"ndjson-{uuid.uuid4().hex[:8]}"
    lines = b"\n".join(
        orjson.dumps({"source": source, "external_id": str(n), "text": TEXT}) for n in range(50)
    )
    response = client.post(
        "/v1/articles/batch", content=lines, headers={"Content-Type": "application/x-ndjson"}
    )
    assert response.status_code == 202
    assert response.json()["accepted"] == 50
    ids = [item["id"] for item in response.json()["items"]]
    assert len(set(ids)) == 50
    assert ids == sorted(ids)  # time-ordered, in the order sent


def test_batch_limits(client: TestClient, settings: Settings) -> None:
    too_many = [{"source": "s", "text": TEXT}] * (settings.batch_max_items + 1)
    assert client.post("/v1/articles/batch", json=too_many).status_code == 413
    assert client.post("/v1/articles/batch", json=[]).status_code == 422
    assert client.post("/v1/articles/batch", json={"source": "s"}).status_code == 422
    big_single = {"source": "s", "text": "x" * (settings.max_body_bytes + 10)}
    # a single article stays under the single limit even though batches may be larger
    assert client.post("/v1/articles", json=big_single).status_code == 413
    assert client.post("/v1/articles/batch", json=[big_single]).status_code == 202
