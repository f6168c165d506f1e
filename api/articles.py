"""One article by id: its status and document (``GET /v1/articles/{id}``), and the
articles related to it (duplicates and translations). Lists, search and export are in
api/consumers.py."""

from __future__ import annotations

import uuid

import redis
from fastapi import APIRouter, Depends
from pydantic import ValidationError

from api.auth import AUTH_RESPONSES, require_scope
from api.deps import IntakeDep, SettingsDep, database
from api.problems import RETRY_AFTER, ProblemError, problem_responses
from newsflow.contract import (
    ArticleDocument,
    Duplicate,
    Links,
    Related,
    Status,
    Translation,
    article_url,
)
from newsflow.store import articles, related, submissions

router = APIRouter(tags=["articles"])


@router.get(
    "/v1/articles/{article_id}",
    response_model=ArticleDocument,
    response_model_exclude_none=False,
    responses={**problem_responses(404, 422, 503), **AUTH_RESPONSES},
    dependencies=[Depends(require_scope("read"))],
    summary="One article: its status, and the document once done",
)
def get_article(settings: SettingsDep, intake: IntakeDep, article_id: uuid.UUID) -> ArticleDocument:
    links = Links(self=article_url(settings.base_url, article_id))
    with database(settings) as connection:
        row = submissions.get_submission(connection, article_id)
        document = (
            articles.get_article_document(connection, article_id)
            if row and row["status"] == Status.done
            else None
        )

    if row is None:
        try:
            queued = intake.is_queued(article_id)
        except redis.RedisError as exc:
            raise ProblemError(503, "Queue unavailable", "retry later", RETRY_AFTER) from exc
        if not queued:
            raise ProblemError(404, "Not found", f"no submission {article_id}")
        return ArticleDocument(id=article_id, status=Status.queued, links=links)

    if document is not None:
        try:
            result = ArticleDocument.model_validate(document)
        except ValidationError as exc:
            raise ProblemError(500, "Stored document is invalid", str(exc)) from exc
        return result.model_copy(update={"links": links, "attempts": row["attempts"]})
    return ArticleDocument(
        id=article_id,
        status=Status(row["status"]),
        links=links,
        source=row["source"],
        external_id=row["external_id"],
        received_at=row["received_at"],
        processed_at=row["finished_at"],
        error=row["error"],
        attempts=row["attempts"],
    )


@router.get(
    "/v1/articles/{article_id}/related",
    response_model=Related,
    responses={**problem_responses(404, 422, 503), **AUTH_RESPONSES},
    dependencies=[Depends(require_scope("read"))],
    summary="Duplicates (exact and near) and translations of an article",
)
def get_related(settings: SettingsDep, article_id: uuid.UUID) -> Related:
    with database(settings) as connection:
        if articles.get_article_document(connection, article_id) is None:
            raise ProblemError(404, "Not found", f"no processed article {article_id}")
        return Related(
            duplicates=[
                Duplicate(**row) for row in related.find_duplicates(connection, article_id)
            ],
            translations=[
                Translation(**{**row, "overlap": float(row["overlap"])})
                for row in related.find_translations(connection, article_id)
            ],
        )
