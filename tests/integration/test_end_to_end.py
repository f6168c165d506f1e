"""Submit over HTTP -> Redis -> a real Celery worker -> PostgreSQL -> read back."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import SEED, WorkerProcess, sql_row, wait_for_final

pytestmark = pytest.mark.integration


def test_seed_article_is_parsed_enriched_and_stored(
    client: TestClient, worker: WorkerProcess, database_url: str
) -> None:
    seed_text = SEED.read_text()
    response = client.post("/v1/articles", json={"source": "seed", "text": seed_text})
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["status"] == "queued"
    assert accepted["links"]["self"].endswith(f"/v1/articles/{accepted['id']}")

    article = wait_for_final(client, accepted["id"])

    assert article["status"] == "done", article.get("error")
    assert article["title"] == (
        "Lithuania urges stronger military alliance with Poland amid Russian threat"
    )
    assert article["language"] == "en"
    paragraphs = [b["text"] for b in article["blocks"] if b["kind"] == "paragraph"]
    assert len(paragraphs) >= 8
    assert "ua en ru" not in paragraphs
    assert all("ua en ru" not in block["text"] for block in article["blocks"])
    assert article["alternates"] == ["uk", "en", "ru"]
    body = article["body"]
    for block in article["blocks"]:
        assert body[block["start"] : block["end"]] == block["text"]

    payload, status = sql_row(
        database_url,
        "SELECT payload, status FROM newsflow.submissions WHERE id = %s",
        (accepted["id"],),
    )
    (paragraph_rows,) = sql_row(
        database_url,
        "SELECT count(*) FROM newsflow.article_blocks WHERE article_id = %s AND kind = 'paragraph'",
        (accepted["id"],),
    )
    caption, credit, people = sql_row(
        database_url,
        "SELECT caption, credit, people FROM newsflow.article_images WHERE article_id = %s",
        (accepted["id"],),
    )
    assert caption == "Gabrielius Landsbergis, Minister of Foreign Affairs of Lithuania"
    assert credit == "Getty Images"
    assert people == ["Gabrielius Landsbergis"]
    assert payload["text"] == seed_text
    assert status == "done"
    assert paragraph_rows == len(paragraphs)


def test_html_submission_goes_through_trafilatura(
    client: TestClient, worker: WorkerProcess
) -> None:
    paragraphs = [
        "The city council approved the new budget on Tuesday after a long debate.",
        "Council members argued for hours over the transport and housing lines.",
        "The mayor said the budget keeps taxes flat while funding two new schools.",
    ]
    html = (
        "<html><head><title>Council approves budget | City News</title>"
        '<meta property="og:title" content="Council approves budget">'
        '<meta name="author" content="Jane Doe">'
        '<meta property="article:published_time" content="2024-03-05T10:00:00Z">'
        "</head><body><nav>Home | World | Sport</nav><article><h1>Council approves budget</h1>"
        + "".join(f"<p>{p}</p>" for p in paragraphs)
        + "</article><footer>Copyright City News</footer></body></html>"
    )
    response = client.post(
        "/v1/articles", json={"source": "crawler", "html": html, "url": "https://news.example/a"}
    )
    assert response.status_code == 202, response.text

    article = wait_for_final(client, response.json()["id"])

    assert article["status"] == "done", article.get("error")
    assert article["title"] == "Council approves budget"
    assert article["authors"] == ["Jane Doe"]
    assert article["published_at"].startswith("2024-03-05")
    texts = [b["text"] for b in article["blocks"]]
    for paragraph in paragraphs:
        assert paragraph in texts
    assert not any("Copyright" in t or "Home | World" in t for t in texts)


def test_unparseable_submission_fails_with_reason_and_keeps_payload(
    client: TestClient, worker: WorkerProcess, database_url: str
) -> None:
    response = client.post("/v1/articles", json={"source": "scraper", "text": "ua en ru\n\nEN RU"})
    assert response.status_code == 202

    article = wait_for_final(client, response.json()["id"])

    assert article["status"] == "failed"
    assert "only site navigation" in article["error"]
    (payload,) = sql_row(
        database_url, "SELECT payload FROM newsflow.submissions WHERE id = %s", (article["id"],)
    )
    assert payload == {"source": "scraper", "text": "ua en ru\n\nEN RU"}
