"""One article by id: its status and document (``GET /v1/articles/{id}``), and the
articles related to it (duplicates and translations). Lists, search and export are in
api/consumers.py."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import redis
from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field, ValidationError

from api.auth import AUTH_RESPONSES, require_scope
from api.deps import IntakeDep, SettingsDep, database
from api.examples import example
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
from newsflow.store import articles, duplicates, related, submissions

router = APIRouter(tags=["articles"])


@router.get(
    "/v1/articles/{article_id}",
    response_model=ArticleDocument,
    response_model_exclude_none=False,
    responses={
        200: {"content": {"application/json": {"example": example("article")}}},
        **problem_responses(404, 422, 503),
        **AUTH_RESPONSES,
    },
    dependencies=[Depends(require_scope("read"))],
    summary="One article: its status, and the document once done",
)
def get_article(settings: SettingsDep, intake: IntakeDep, article_id: uuid.UUID) -> ArticleDocument:
    with database(settings) as connection:
        row = submissions.get_submission(connection, article_id)
        if row and row["status"] == Status.done and row["article_id"] not in (None, article_id):
            # it became a version of another article (or repeated one, recognised after its
            # Redis claim expired): that article is what it is now
            article_id = row["article_id"]
            row = submissions.get_submission(connection, article_id) or row
        document = (
            articles.get_article_document(connection, article_id)
            if row and row["status"] == Status.done
            else None
        )

    links = Links(self=article_url(settings.base_url, article_id))
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
                Duplicate(**row) for row in duplicates.stored_duplicates(connection, article_id)
            ],
            translations=[
                Translation(**{**row, "overlap": float(row["overlap"])})
                for row in related.find_translations(connection, article_id)
            ],
        )


class Version(BaseModel):
    version: int
    submission_id: uuid.UUID
    received_at: datetime
    content_hash: str
    title: str | None
    current: bool
    links: Links


class Versions(BaseModel):
    id: uuid.UUID
    version: int = Field(description="The current version.")
    items: list[Version]


@router.get(
    "/v1/articles/{article_id}/versions",
    response_model=Versions,
    responses={**problem_responses(404, 422, 503), **AUTH_RESPONSES},
    dependencies=[Depends(require_scope("read"))],
    summary="Every stored version of an article, oldest first",
)
def get_versions(settings: SettingsDep, article_id: uuid.UUID) -> Versions:
    with database(settings) as connection:
        rows = articles.list_versions(connection, article_id)
    if not rows:
        raise ProblemError(404, "Not found", f"no processed article {article_id}")
    base = article_url(settings.base_url, article_id)
    return Versions(
        id=article_id,
        version=next((row["version"] for row in rows if row["current"]), rows[-1]["version"]),
        items=[
            Version(**row, links=Links(self=f"{base}/versions/{row['version']}")) for row in rows
        ],
    )


@router.get(
    "/v1/articles/{article_id}/versions/{version}",
    response_model=ArticleDocument,
    response_model_exclude_none=False,
    responses={**problem_responses(404, 422, 503), **AUTH_RESPONSES},
    dependencies=[Depends(require_scope("read"))],
    summary="The document of one version of an article",
)
def get_version(
    settings: SettingsDep, article_id: uuid.UUID, version: Annotated[int, Path(ge=1)]
) -> ArticleDocument:
    with database(settings) as connection:
        document = articles.get_version_document(connection, article_id, version)
    if document is None:
        raise ProblemError(404, "Not found", f"no version {version} of article {article_id}")
    try:
        result = ArticleDocument.model_validate(document)
    except ValidationError as exc:
        raise ProblemError(500, "Stored document is invalid", str(exc)) from exc
    return result.model_copy(
        update={"links": Links(self=article_url(settings.base_url, article_id))}
    )
