"""Remake the examples from the seed: ``NEWSFLOW_DATABASE_URL=… python -m
api.examples.regenerate`` (a scratch database: it is migrated, and the seed article is
written to it) runs the real pipeline on submission.json and writes accepted.json and
article.json, the documents the API answers for it."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from api.examples import _FOLDER, SEED_ID, example
from newsflow.contract import Accepted, ArticleDocument, Links, Status, article_url
from newsflow.settings import Settings
from newsflow.store import articles, migrate
from newsflow.store.db import get_engine
from newsflow.taskmessage import ProcessMessage
from worker.process import process

BASE_URL = "http://127.0.0.1:8000"


def main() -> None:
    settings = Settings()
    database_url = settings.require_database_url()
    migrate.upgrade(database_url)
    article_id = uuid.UUID(SEED_ID)
    message: ProcessMessage = {
        "id": SEED_ID,
        "received_at": datetime(2025, 3, 18, 9, 30, tzinfo=UTC).isoformat(),
        "idempotency_key": None,
        "submission": example("submission"),
    }
    status = process(message, settings, delivery="example")
    if status != Status.done:
        raise SystemExit(f"the seed ended {status}, not done")
    with get_engine(database_url).connect() as connection:
        stored = articles.get_article_document(connection, article_id)
    links = Links(self=article_url(BASE_URL, article_id))
    document = ArticleDocument.model_validate(stored).model_copy(
        update={"links": links, "attempts": 1}
    )
    accepted = Accepted(id=article_id, status=Status.queued, links=links)
    for name, model in (("accepted", accepted), ("article", document)):
        text = json.dumps(model.model_dump(mode="json"), ensure_ascii=False, indent=2)
        (_FOLDER / f"{name}.json").write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
