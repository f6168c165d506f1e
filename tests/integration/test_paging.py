"""One paging convention for every list: `cursor` in, `next_cursor` out, a `Link: <…>;
rel="next"` header while there is a next page; the old names (after, before; next,
next_after, next_before) still answered, with a Deprecation header. Real PostgreSQL, in a
database of the test's own so the lists hold only its rows."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from newsflow.settings import Settings
from tests.conftest import Servers, own_database
from tests.integration.test_consumers import insert_article

pytestmark = pytest.mark.integration

ENTITY = "country:ZZ"


@pytest.fixture(scope="module")
def lists(servers: Servers, settings: Settings) -> Iterator[tuple[TestClient, dict[str, Any]]]:
    """A client of an API over a database holding 5 done articles that mention ENTITY, 4
    more entities named "Zeta…" (in 4, 3, 2 and 1 of them), and 3 failed submissions."""
    with own_database(servers, settings, "paging") as own:
        with psycopg.connect(own.require_database_url(), autocommit=True) as db:
            done = [insert_article(db, source="paging") for _ in range(5)]
            failed = [insert_article(db, source="paging", status="failed") for _ in range(3)]
            keys = [ENTITY, *(f"per:zeta-{n}" for n in range(4))]
            for key in keys:
                db.execute(
                    "INSERT INTO newsflow.entities (key, type, canonical) VALUES (%s, 'LOC', %s)",
                    (key, f"Zeta {key}"),
                )
            for index, article_id in enumerate(done):
                # ENTITY in all 5 articles, per:zeta-n in 4 - n of them
                for key in keys[: index + 1]:
                    db.execute(
                        "INSERT INTO newsflow.article_entities (article_id, entity_key, "
                        "canonical, surfaces, mentions, first_offset) "
                        "VALUES (%s, %s, %s, '{}', 1, 0)",
                        (article_id, key, f"Zeta {key}"),
                    )
        with TestClient(create_app(own), raise_server_exceptions=False) as client:
            yield (
                client,
                {
                    "done": {str(i) for i in done},
                    "failed": {str(i) for i in failed},
                },
            )


def _wait_for_the_feed(client: TestClient, changes: int) -> None:
    """Until the feed shows the changes: a writing transaction anywhere on the server (other
    tests' too) holds later changes back until it ends."""
    deadline = time.monotonic() + 240
    while len(client.get("/v1/feed", params={"limit": 1000}).json()["items"]) < changes:
        assert time.monotonic() < deadline, "the feed never showed the changes"
        time.sleep(0.5)


def _follow(client: TestClient, path: str, params: dict[str, Any]) -> list[httpx.Response]:
    """Every page of a list, each next one read from the Link header alone."""
    pages = [client.get(path, params=params)]
    while "next" in pages[-1].links:
        assert len(pages) < 20, "the Link header never ends"
        url = httpx.URL(pages[-1].links["next"]["url"])
        assert url.host == "testserver"  # NEWSFLOW_PUBLIC_URL, as in links.self
        pages.append(client.get(url.raw_path.decode()))
    for page in pages:
        assert page.status_code == 200, page.text
        assert "Deprecation" not in page.headers
    return pages


def _json_pages(
    client: TestClient, path: str, params: dict[str, Any], key: str = "id"
) -> list[list[str]]:
    pages = _follow(client, path, params)
    for page in pages[:-1]:  # the Link names the body's next_cursor
        url = httpx.URL(page.links["next"]["url"])
        assert url.params["cursor"] == page.json()["next_cursor"]
    return [[str(item[key]) for item in page.json()["items"]] for page in pages]


def _flat(pages: list[list[str]]) -> list[str]:
    return [item for page in pages for item in page]


def test_every_list_pages_with_cursor_and_link(lists: tuple[TestClient, dict[str, Any]]) -> None:
    client, rows = lists
    articles = _json_pages(client, "/v1/articles", {"limit": 2})
    assert [len(page) for page in articles] == [2, 2, 1]
    assert set(_flat(articles)) == rows["done"]

    submissions = _json_pages(client, "/v1/submissions", {"status": "failed", "limit": 2})
    assert sorted(_flat(submissions)) == sorted(rows["failed"])  # no repeat
    assert set(_flat(submissions)) == rows["failed"]

    mentioning = _json_pages(client, f"/v1/entities/{ENTITY}/articles", {"limit": 2})
    assert sorted(_flat(mentioning)) == sorted(rows["done"])

    entities = _json_pages(client, "/v1/entities", {"q": "zeta", "limit": 2}, key="key")
    assert _flat(entities) == [ENTITY, *(f"per:zeta-{n}" for n in range(4))]  # most mentioned
    assert [len(page) for page in entities] == [2, 2, 1]

    exported = _follow(client, "/v1/export", {"limit": 2, "status": "done"})
    lines = [[json.loads(line)["id"] for line in page.text.splitlines()] for page in exported]
    assert lines == articles  # the same pages, as documents
    unpaged = client.get("/v1/export")
    assert "Link" not in unpaged.headers
    assert len(unpaged.text.splitlines()) == 5


def test_the_feed_pages_the_same_way(lists: tuple[TestClient, dict[str, Any]]) -> None:
    client, rows = lists
    _wait_for_the_feed(client, len(rows["done"]))
    feed = _follow(client, "/v1/feed", {"limit": 2})
    assert set(_flat([[i["id"] for i in page.json()["items"]] for page in feed])) == rows["done"]
    assert feed[-1].json()["caught_up"]
    now = client.get("/v1/feed", params={"cursor": "now"})
    assert now.json()["items"] == []
    assert "next" not in now.links


def test_old_names_still_work_and_say_they_are_deprecated(
    lists: tuple[TestClient, dict[str, Any]],
) -> None:
    client, rows = lists
    _wait_for_the_feed(client, len(rows["done"]))

    def deprecated(response: httpx.Response) -> dict[str, Any]:
        assert response.status_code == 200, response.text
        assert response.headers["Deprecation"].startswith("@")  # RFC 9745: a date
        assert response.links["deprecation"]["url"] == "http://testserver/docs"
        body: dict[str, Any] = response.json()
        return body

    first = client.get("/v1/feed", params={"limit": 2}).json()
    assert first["next"] == first["next_cursor"]  # the old field, for old clients
    old = deprecated(client.get("/v1/feed", params={"after": first["next"], "limit": 2}))
    new = client.get("/v1/feed", params={"cursor": first["next_cursor"], "limit": 2}).json()
    assert old == new
    # the next link of an old-style request uses the new name only
    next_url = httpx.URL(
        client.get("/v1/feed", params={"after": first["next"], "limit": 2}).links["next"]["url"]
    )
    assert "after" not in next_url.params
    assert next_url.params["cursor"] == new["next_cursor"]

    page = client.get(f"/v1/entities/{ENTITY}/articles", params={"limit": 2}).json()
    assert page["next_before"] == str(uuid.UUID(page["next_cursor"]))
    old = deprecated(
        client.get(
            f"/v1/entities/{ENTITY}/articles", params={"before": page["next_before"], "limit": 2}
        )
    )
    new = client.get(
        f"/v1/entities/{ENTITY}/articles", params={"cursor": page["next_cursor"], "limit": 2}
    ).json()
    assert old == new
    assert old["items"] != page["items"]

    listed = client.get("/v1/submissions", params={"status": "failed", "limit": 2}).json()
    old = deprecated(
        client.get(
            "/v1/submissions",
            params={"status": "failed", "limit": 2, "after": listed["next_after"]},
        )
    )
    assert [i["id"] for i in old["items"]] == [
        i["id"]
        for i in client.get(
            "/v1/submissions",
            params={"status": "failed", "limit": 2, "cursor": listed["next_cursor"]},
        ).json()["items"]
    ]

    both = client.get("/v1/feed", params={"after": first["next"], "cursor": "now", "limit": 2})
    assert deprecated(both)["items"] == []  # `cursor` wins
    assert client.get("/v1/entities", params={"q": "zeta", "cursor": "zz"}).status_code == 422
