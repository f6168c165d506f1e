"""Input is kept as sent or refused with a 422 that says why, never changed silently:
non-finite numbers, dates that are not ISO 8601, a re-indented body under the same
Idempotency-Key, an unreadable NDJSON line, entity references in RSS, NUL in parameters.
Real API, Redis, PostgreSQL and worker."""

from __future__ import annotations

import json
import uuid

import orjson
import pytest
from fastapi.testclient import TestClient

from newsflow.settings import Settings
from tests.conftest import WorkerProcess, wait_for_final
from tests.integration.test_submit_fast_path import _client

pytestmark = pytest.mark.integration

TEXT = "Headline here\n\nFirst paragraph of the story, with a full sentence."
JSON = {"Content-Type": "application/json"}
BOTH = pytest.mark.parametrize("fast", [True, False], ids=["fast-path", "route"])


@BOTH
def test_nan_and_infinity_are_refused_with_their_path(settings: Settings, fast: bool) -> None:
    with _client(settings, fast=fast) as client:
        for number in ("NaN", "Infinity", "-Infinity", "1e400"):
            metadata = f'{{"a": {{"b": [1, {number}]}}}}'
            body = f'{{"source": "s", "text": "{TEXT[:8]}", "metadata": {metadata}}}'
            response = client.post("/v1/articles", content=body.encode(), headers=JSON)
            assert response.status_code == 422, (number, response.text)
            problem = response.json()
            assert problem["errors"][0]["field"] == "metadata"
            assert "metadata.a.b[1]" in problem["detail"], problem
        batch = client.post(
            "/v1/articles/batch",
            content=b'[{"source": "s", "text": "t", "metadata": {"x": NaN}}, '
            b'{"source": "s", "text": "t"}]',
            headers=JSON,
        ).json()
        assert (batch["accepted"], batch["rejected"]) == (1, 1)
        assert "metadata.x" in batch["items"][0]["error"]


@BOTH
def test_published_at_is_iso_8601_text_only(settings: Settings, fast: bool) -> None:
    with _client(settings, fast=fast) as client:
        # numbers (seconds or milliseconds since 1970?) and text that is no ISO 8601 date
        values: list[object] = [20240601, 1717243200, 1717243200000, 1.5, True]
        for value in [*values, "yesterday", "1717243200", "2024-13-01"]:
            response = client.post(
                "/v1/articles", json={"source": "s", "text": TEXT, "published_at": value}
            )
            assert response.status_code == 422, (value, response.text)
            assert response.json()["errors"][0]["field"] == "published_at"


def test_compact_iso_date_is_read_as_that_date(client: TestClient, worker: WorkerProcess) -> None:
    response = client.post(
        "/v1/articles", json={"source": "compact", "text": TEXT, "published_at": "20240601"}
    )
    assert response.status_code == 202, response.text
    document = wait_for_final(client, response.json()["id"])
    assert document["published_at"] == "2024-06-01T00:00:00Z"  # not 1970-08-23


@BOTH
def test_same_body_reformatted_under_one_idempotency_key_is_a_repeat(
    settings: Settings, fast: bool
) -> None:
    article = {"source": f"idem-{uuid.uuid4().hex[:8]}", "text": TEXT, "metadata": {"a": 1, "b": 2}}
    headers = {"Idempotency-Key": uuid.uuid4().hex, **JSON}
    with _client(settings, fast=fast) as client:
        first = client.post("/v1/articles", content=json.dumps(article), headers=headers)
        assert first.status_code == 202
        reindented = json.dumps(
            {"metadata": {"b": 2, "a": 1}, "text": TEXT, "source": article["source"]}, indent=4
        )
        escaped = json.dumps(article, ensure_ascii=True).replace("H", "\\u0048")
        for body in (reindented, escaped):
            again = client.post("/v1/articles", content=body, headers=headers)
            assert again.status_code == 200, again.text
            assert again.json()["id"] == first.json()["id"]
        other = client.post(
            "/v1/articles", json={**article, "text": TEXT + " More."}, headers=headers
        )
        assert other.status_code == 422
        assert "Idempotency-Key" in other.json()["detail"]


def test_an_ndjson_line_that_is_not_utf8_or_json_is_refused_alone(client: TestClient) -> None:
    source = f"ndjson-{uuid.uuid4().hex[:8]}"
    lines = [
        orjson.dumps({"source": source, "external_id": "0", "text": TEXT}),
        b'{"source": "' + source.encode() + b'", "text": "caf\xe9"}',  # Latin-1, not UTF-8
        b'{"source": "s", "text": ',
        orjson.dumps({"source": source, "external_id": "3", "text": TEXT}),
    ]
    response = client.post(
        "/v1/articles/batch",
        content=b"\n".join(lines),
        headers={"Content-Type": "application/x-ndjson"},
    )
    assert response.status_code == 202, response.text
    result = response.json()
    assert (result["accepted"], result["rejected"]) == (2, 2)
    items = result["items"]
    assert [item["index"] for item in items] == [0, 1, 2, 3]
    assert items[0]["id"]
    assert items[3]["id"]
    assert "not valid JSON" in items[1]["error"]
    assert "utf-8" in items[1]["error"].lower()
    assert "not valid JSON" in items[2]["error"]


def test_rss_text_after_an_entity_reference_is_kept(
    client: TestClient, worker: WorkerProcess
) -> None:
    run = uuid.uuid4().hex[:8]
    rss = f"""<?xml version="1.0"?>
    <!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"
      "http://my.netscape.com/publish/formats/rss-0.91.dtd">
    <rss version="0.91"><channel><title>t</title>
    <item><guid>{run}</guid><title>Tom &amp; Jerry &#38; caf&eacute; win&nbsp;again</title>
      <description>Tom &amp; Jerry won the caf&eacute; cup on Sunday, the club said.
      It was their first win of the season.</description></item>
    </channel></rss>""".encode()
    response = client.post(
        "/v1/feeds",
        params={"source": f"entities-{run}"},
        content=rss,
        headers={"Content-Type": "application/rss+xml"},
    )
    assert response.status_code == 202, response.text
    document = wait_for_final(client, response.json()["items"][0]["id"])
    assert document["title"] == "Tom & Jerry & café win\xa0again"
    assert "café cup on Sunday" in document["body"]
    assert "first win of the season" in document["body"]


def test_nul_in_any_parameter_is_refused_naming_it(client: TestClient) -> None:
    for path, name in (
        ("/v1/articles", "quoted"),
        ("/v1/articles", "source"),
        ("/v1/articles", "q"),
        ("/v1/export", "entity"),
        ("/v1/entities", "q"),
        ("/v1/entities", "type"),
        ("/v1/submissions", "source"),
        ("/v1/feed", "include"),
    ):
        response = client.get(path, params={"q": "x", name: "Lands\x00bergis"})
        assert response.status_code == 422, (path, name, response.text)
        problem = response.json()
        assert problem["errors"][0]["field"] == name, (path, problem)
        assert "NUL" in problem["detail"]
    in_path = client.get("/v1/entities/country:L%00T/articles")
    assert in_path.status_code == 422
    assert in_path.json()["errors"][0]["field"] == "key"
