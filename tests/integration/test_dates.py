"""Dates: one out-of-range date must never poison the readers. Intake refuses dates outside
newsflow/dates.py's range (whatever the offset), feeds drop such a date and say so, and a
row that holds one anyway (written before the check, or by hand) is still read by every
reader: the list, one article, the change feed, the export, an entity's articles and the
CLI. Real API, Redis, PostgreSQL and worker."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from api.app import create_app
from cli.main import main as cli
from newsflow.feeds import UNUSABLE_DATE
from newsflow.settings import Settings
from tests.conftest import (
    Servers,
    WorkerProcess,
    api_over_http,
    own_database,
    sql_row,
    wait_for_final,
)
from tests.integration.test_consumers import insert_article
from tests.integration.test_submit_fast_path import _client

pytestmark = pytest.mark.integration

TEXT = "Headline here\n\nFirst paragraph of the story, with a full sentence."
# each with a year outside 1800 .. next year, or no four-digit-year ISO 8601 at all
OUT_OF_RANGE = [
    "9999-12-31T23:59:59-14:00",  # year 10000 in UTC: the report's value
    "0001-01-01T00:00:00+14:00",  # year 0 in UTC
    "9999-01-01T00:00:00Z",
    "0000-01-01T00:00:00Z",
    "-0001-01-01T00:00:00Z",
    "+10000-01-01T00:00:00Z",
    "10000-01-01T00:00:00Z",
    "1799-12-31T23:59:59Z",
    "2999-01-01T00:00:00Z",  # far in the future
]


@pytest.mark.parametrize("fast", [True, False], ids=["fast-path", "route"])
def test_out_of_range_published_at_is_refused_naming_the_field(
    settings: Settings, fast: bool
) -> None:
    with _client(settings, fast=fast) as client:
        for value in OUT_OF_RANGE:
            response = client.post(
                "/v1/articles", json={"source": "dates", "text": TEXT, "published_at": value}
            )
            assert response.status_code == 422, (value, response.text)
            assert response.headers["content-type"] == "application/problem+json"
            problem = response.json()
            assert problem["errors"][0]["field"] == "published_at", problem
            assert problem["detail"].startswith("published_at: "), problem
        # the edges of the range are dates like any other
        for value in ("1800-01-01T00:00:00Z", "1800-01-01T00:00:00+14:00"):
            response = client.post(
                "/v1/articles", json={"source": "dates", "text": TEXT, "published_at": value}
            )
            assert response.status_code == 202, (value, response.text)


def test_out_of_range_published_at_in_a_batch_is_refused_alone(client: TestClient) -> None:
    items = [
        {"source": "dates-batch", "text": TEXT, "published_at": OUT_OF_RANGE[0]},
        {"source": "dates-batch", "text": TEXT, "published_at": "2024-06-01T12:00:00Z"},
    ]
    result = client.post("/v1/articles/batch", json=items).json()
    assert (result["accepted"], result["rejected"]) == (1, 1)
    assert result["items"][0]["error"].startswith("published_at: "), result


def test_a_feed_item_with_an_unusable_date_is_accepted_without_it_and_says_so(
    client: TestClient, worker: WorkerProcess, database_url: str
) -> None:
    run = uuid.uuid4().hex[:8]
    rss = f"""<rss version="2.0"><channel><title>t</title>
    <item><guid>{run}-far</guid><title>Far date</title>
      <pubDate>Fri, 31 Dec 9999 23:59:59 -1400</pubDate>
      <description>{TEXT}</description></item>
    <item><guid>{run}-ok</guid><title>Good date</title>
      <pubDate>Fri, 24 Nov 2023 10:30:00 +0200</pubDate>
      <description>{TEXT}</description></item>
    </channel></rss>""".encode()
    atom = f"""<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
    <entry><id>{run}-atom</id><title>Atom far date</title>
      <updated>9999-12-31T23:59:59-14:00</updated><content>{TEXT}</content></entry>
    </feed>""".encode()

    results = []
    for feed, media in ((rss, "application/rss+xml"), (atom, "application/atom+xml")):
        response = client.post(
            "/v1/feeds", params={"source": f"dates-{run}"}, content=feed,
            headers={"Content-Type": media},
        )  # fmt: skip
        assert response.status_code == 202, response.text
        results += response.json()["items"]

    far, ok, atom_far = results
    assert ok["error"] is None
    assert ok["warning"] is None
    for item, raw in ((far, "Fri, 31 Dec 9999 23:59:59 -1400"), (atom_far, OUT_OF_RANGE[0])):
        assert item["error"] is None, item
        assert item["id"]
        assert item["warning"].startswith("published_at: "), item
        assert raw in item["warning"]
        article = wait_for_final(client, item["id"])
        assert article["status"] == "done"
        assert article["published_at"] is None
        (kept,) = sql_row(
            database_url,
            "SELECT payload->'metadata'->>%s FROM newsflow.submissions WHERE id = %s",
            (UNUSABLE_DATE, item["id"]),
        )
        assert kept == raw  # the feed's own value, kept as it came
    assert wait_for_final(client, ok["id"])["published_at"] == "2023-11-24T10:30:00+02:00"
    assert client.get("/v1/feed", params={"limit": 1000}).status_code == 200


@pytest.fixture
def own_settings(servers: Servers, settings: Settings) -> Iterator[Settings]:
    """A database of its own: the broken row must not reach other tests' readers."""
    with own_database(servers, settings, "newsflow_dates") as own:
        yield own


@pytest.fixture
def own_api_url(own_settings: Settings) -> Iterator[str]:
    with api_over_http(own_settings) as url:
        yield url


def test_a_stored_out_of_range_date_breaks_no_reader(
    own_settings: Settings, own_api_url: str
) -> None:
    assert own_settings.database_url
    source = "dates-stored"
    with psycopg.connect(own_settings.database_url, autocommit=True) as db:
        good = insert_article(db, source=source, title="Good")
        bad = insert_article(db, source=source, title="Far")
        # what a year-10000 date left in PostgreSQL before intake checked it (the column is
        # beyond Python's datetime, the document keeps the date as sent)
        db.execute(
            """
            UPDATE newsflow.articles
            SET published_at = '9999-12-31T23:59:59-14:00',
                document = jsonb_set(document, '{published_at}', '"9999-12-31T23:59:59-14:00"')
            WHERE id = %s
            """,
            (bad,),
        )
        db.execute(
            "INSERT INTO newsflow.entities (key, type, canonical) VALUES ('country:LT', 'LOC', "
            "'Lithuania')"
        )
        db.execute(
            """
            INSERT INTO newsflow.article_entities
                (article_id, entity_key, canonical, surfaces, mentions, first_offset)
            VALUES (%s, 'country:LT', 'Lithuania', '{Lithuania}', 1, 0)
            """,
            (bad,),
        )
    far = "9999-12-31T23:59:59.999999Z"  # read as the latest date Python has

    with TestClient(create_app(own_settings), raise_server_exceptions=False) as client:
        listed = client.get("/v1/articles", params={"source": source})
        assert listed.status_code == 200, listed.text
        by_id = {item["id"]: item for item in listed.json()["items"]}
        assert set(by_id) == {str(good), str(bad)}
        assert by_id[str(bad)]["published_at"] == far

        # a change is exposed once every transaction older than it has ended, on the whole
        # (shared) server: wait for it
        deadline = time.monotonic() + 60
        while True:
            page = client.get("/v1/feed")
            assert page.status_code == 200, page.text
            if str(bad) in [item["id"] for item in page.json()["items"]]:
                break
            assert time.monotonic() < deadline, page.json()
            time.sleep(0.1)
        assert [i["published_at"] for i in page.json()["items"] if i["id"] == str(bad)][-1] == far
        with_documents = client.get("/v1/feed", params={"include": "document"})
        assert with_documents.status_code == 200, with_documents.text

        one = client.get(f"/v1/articles/{bad}")
        assert one.status_code == 200, one.text
        assert one.json()["published_at"] == "9999-12-31T23:59:59-14:00"  # as stored

        export = client.get("/v1/export", params={"source": source})
        assert export.status_code == 200
        assert len(export.text.splitlines()) == 2

        mentioned = client.get("/v1/entities/country:LT/articles")
        assert mentioned.status_code == 200, mentioned.text
        assert mentioned.json()["items"][0]["published_at"] == far

    runner = CliRunner()
    common = ["--api-url", own_api_url, "--json"]
    tailed = runner.invoke(cli, ["tail", "--once", "--from-start", "--document", *common])
    assert tailed.exit_code == 0, tailed.output
    assert str(bad) in [json.loads(line)["id"] for line in tailed.stdout.splitlines()]
    found = runner.invoke(cli, ["search", "--source", source, *common])
    assert found.exit_code == 0, found.output
    assert {item["id"] for item in json.loads(found.stdout)} == {str(good), str(bad)}
