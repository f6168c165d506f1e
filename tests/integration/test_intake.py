"""The HTTP contract: idempotent resubmission, problem+json for bad input, limits, health."""

from __future__ import annotations

import gzip
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from newsflow.embedded import free_port
from newsflow.settings import Settings
from tests.conftest import WorkerProcess, sql_row, wait_for_final

pytestmark = pytest.mark.integration

JSON = {"Content-Type": "application/json"}
ARTICLE = "Headline here\n\nFirst paragraph of the story, with a full sentence."


def _count_articles(database_url: str, source: str) -> int:
    (count,) = sql_row(
        database_url, "SELECT count(*) FROM newsflow.articles WHERE source = %s", (source,)
    )
    return int(count)


def test_same_idempotency_key_answers_the_original_id(
    client: TestClient, worker: WorkerProcess, database_url: str
) -> None:
    source = f"idem-{uuid.uuid4().hex[:8]}"
    body = {"source": source, "text": ARTICLE}
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    first = client.post("/v1/articles", json=body, headers=headers)
    assert first.status_code == 202
    wait_for_final(client, first.json()["id"])

    again = client.post("/v1/articles", json=body, headers=headers)

    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["duplicate"] is True
    assert again.json()["status"] == "done"
    assert _count_articles(database_url, source) == 1


def test_same_source_and_external_id_answers_the_original_id(
    client: TestClient, worker: WorkerProcess, database_url: str
) -> None:
    source = f"feed-{uuid.uuid4().hex[:8]}"
    body = {"source": source, "external_id": "story-42", "text": ARTICLE}
    first = client.post("/v1/articles", json=body)
    second = client.post("/v1/articles", json=body)
    other_source = client.post("/v1/articles", json={**body, "source": source + "-b"})

    assert first.status_code == 202
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert other_source.status_code == 202
    assert other_source.json()["id"] != first.json()["id"]
    wait_for_final(client, first.json()["id"])
    assert _count_articles(database_url, source) == 1


def test_idempotency_key_reused_with_another_body_is_refused(client: TestClient) -> None:
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    assert (
        client.post(
            "/v1/articles", json={"source": "a", "text": ARTICLE}, headers=headers
        ).status_code
        == 202
    )
    response = client.post(
        "/v1/articles", json={"source": "a", "text": ARTICLE + " More."}, headers=headers
    )
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json()["detail"]


def test_ids_are_time_ordered(client: TestClient) -> None:
    ids = [
        uuid.UUID(
            client.post("/v1/articles", json={"source": "order", "text": ARTICLE}).json()["id"]
        )
        for _ in range(5)
    ]
    assert all(i.version == 7 for i in ids)
    assert ids == sorted(ids)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"source": "s"}, None),  # neither text nor html
        ({"source": "s", "text": "a", "html": "<p>a</p>"}, None),
        ({"source": 5, "text": "a"}, "source"),
        ({"text": "a"}, "source"),
        ({"source": "s", "text": ["a"]}, "text"),
        ({"source": "s", "text": "a", "published_at": "yesterday"}, "published_at"),
        ({"source": "s", "text": "a", "url": "file:///etc/passwd"}, "url"),
        ({"source": "s", "text": "a", "titel": "typo"}, "titel"),
    ],
)
def test_bad_submissions_get_422_problem_naming_the_field(
    client: TestClient, body: dict, field: str | None
) -> None:
    response = client.post("/v1/articles", json=body)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422
    if field:
        assert problem["errors"][0]["field"] == field
        assert problem["detail"].startswith(field)
    else:
        assert "`text`" in problem["detail"]
        assert "`html`" in problem["detail"]


def test_malformed_json_gets_422(client: TestClient) -> None:
    response = client.post(
        "/v1/articles",
        content=b'{"source": "s", "text": ',
        headers=JSON,
    )
    assert response.status_code == 422
    assert "not valid JSON" in response.json()["detail"]


def test_deep_nesting_nul_and_lone_surrogates_never_reach_the_database(
    client: TestClient, worker: WorkerProcess
) -> None:
    deep = b'{"source":"s","text":"a","metadata":' + b'{"a":' * 500 + b"1" + b"}" * 501
    assert client.post("/v1/articles", content=deep, headers=JSON).status_code == 422

    dirty = (
        b'{"source":"s\\u0000","text":"Title\\n\\nBody with a NUL \\u0000 and a lone '
        b'surrogate \\ud800 in it.","metadata":{"k\\u0000":"v\\udfff"}}'
    )
    response = client.post("/v1/articles", content=dirty, headers=JSON)
    assert response.status_code == 202, response.text
    article = wait_for_final(client, response.json()["id"])
    assert article["status"] == "done", article["error"]
    assert "\x00" not in article["body"]
    assert "\ufffd" in article["body"]


def test_body_over_the_limit_is_refused_with_413(client: TestClient, settings: Settings) -> None:
    big = b"x" * (settings.max_body_bytes + 1)
    response = client.post("/v1/articles", content=big, headers=JSON)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


def test_chunked_body_over_the_limit_is_refused_while_streaming(
    client: TestClient, settings: Settings
) -> None:
    sent = 0

    def chunks() -> Iterator[bytes]:
        nonlocal sent
        for _ in range(settings.max_body_bytes // 65536 + 10):
            sent += 65536
            yield b"x" * 65536

    response = client.post("/v1/articles", content=chunks(), headers=JSON)
    assert response.status_code == 413


def test_compressed_bodies_are_refused(client: TestClient) -> None:
    response = client.post(
        "/v1/articles",
        content=gzip.compress(b'{"source":"s","text":"a"}'),
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert response.status_code == 415


def test_unknown_article_is_404_problem(client: TestClient) -> None:
    response = client.get(f"/v1/articles/{uuid.uuid4()}")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert client.get("/v1/articles/not-a-uuid").status_code == 422


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"redis": "ok", "postgres": "ok"}


def test_redis_down_gives_503_with_retry_after_never_500(settings: Settings) -> None:
    from api.app import create_app

    nothing_listens = f"redis://127.0.0.1:{free_port()}/0"
    app = create_app(settings.model_copy(update={"redis_url": nothing_listens}))
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/v1/articles", json={"source": "s", "text": ARTICLE})
        ready = client.get("/readyz")

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.headers["content-type"] == "application/problem+json"
    assert ready.status_code == 503
    assert ready.json()["checks"]["redis"].startswith("error")


def test_known_external_id_under_a_new_idempotency_key_answers_the_original(
    client: TestClient,
) -> None:
    """Found by the generated-requests test: a fresh Idempotency-Key must not turn a
    repeated (source, external_id) into an 'Idempotency-Key reused' error; with other
    content it is the article's next version (see test_revisions.py)."""
    body = {"source": "feed-x", "external_id": uuid.uuid4().hex, "text": ARTICLE}
    first = client.post("/v1/articles", json=body)
    updated = client.post(
        "/v1/articles",
        json={**body, "text": ARTICLE + " Updated."},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert updated.status_code == 202
    assert updated.json()["id"] == first.json()["id"]
    assert updated.json()["version"] == 2
