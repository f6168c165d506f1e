"""The endpoints."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

import redis
from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from api.auth import AUTH_RESPONSES, require_scope
from api.intake import IdempotencyMismatch, SubmissionIntake
from api.problems import Problem, ProblemError
from newsflow.contract import Accepted, ArticleDocument, Links, Status, Submission
from newsflow.settings import Settings
from newsflow.store import articles, related, submissions
from newsflow.store.db import get_engine

router = APIRouter()
RETRY_AFTER = {"Retry-After": "5"}

_PROBLEMS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "content": {"application/problem+json": {}}}
    for code in (404, 413, 415, 422, 503)
}


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _intake(request: Request) -> SubmissionIntake:
    intake: SubmissionIntake = request.app.state.intake
    return intake


def _self_link(request: Request, submission_id: uuid.UUID) -> Links:
    return Links(self=f"{_settings(request).base_url}/v1/articles/{submission_id}")


@router.post(
    "/v1/articles",
    status_code=202,
    response_model=Accepted,
    responses={
        200: {"model": Accepted, "description": "A repeat of an earlier submission"},
        **_PROBLEMS,
        **AUTH_RESPONSES,
    },
    dependencies=[Depends(require_scope("submit"))],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": Submission.model_json_schema()}},
        }
    },
    summary="Submit one article",
)
async def submit_article(
    request: Request,
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
) -> JSONResponse:
    content_type = request.headers.get("content-type", "application/json").split(";")[0].strip()
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise ProblemError(415, "Unsupported media type", "send application/json")
    body = await request.body()
    submission = Submission.from_json(body)  # ValidationError -> 422 problem
    intake = _intake(request)
    try:
        result = await intake.accept_async(submission, body, idempotency_key)
    except IdempotencyMismatch as exc:
        raise ProblemError(
            422,
            "Idempotency-Key reused",
            f"Idempotency-Key was first used for submission {exc} with a different body",
        ) from exc
    except (redis.RedisError, OSError) as exc:
        raise ProblemError(
            503,
            "Queue unavailable",
            "cannot reach Redis; nothing was accepted, retry later",
            RETRY_AFTER,
        ) from exc

    status = Status.queued
    if result.duplicate:
        status = await run_in_threadpool(_known_status, request, result.id)
    accepted = Accepted(
        id=result.id,
        status=status,
        links=_self_link(request, result.id),
        duplicate=result.duplicate,
    )
    return JSONResponse(
        accepted.model_dump(mode="json"),
        status_code=200 if result.duplicate else 202,
        headers={"Location": accepted.links.self},
    )


def _known_status(request: Request, submission_id: uuid.UUID) -> Status:
    """The status of an earlier submission, for answering its repeat. PostgreSQL is asked
    if it answers; intake does not depend on it."""
    try:
        with get_engine(_settings(request).require_database_url()).connect() as connection:
            row = submissions.get_submission(connection, submission_id)
    except SQLAlchemyError:
        row = None
    return Status(row["status"]) if row else Status.queued


@router.get(
    "/v1/articles/{article_id}",
    response_model=ArticleDocument,
    response_model_exclude_none=False,
    responses={**_PROBLEMS, **AUTH_RESPONSES},
    dependencies=[Depends(require_scope("read"))],
    summary="One article: its status, and the document once done",
)
def get_article(request: Request, article_id: uuid.UUID) -> ArticleDocument:
    settings = _settings(request)
    links = _self_link(request, article_id)
    try:
        with get_engine(settings.require_database_url()).connect() as connection:
            row = submissions.get_submission(connection, article_id)
            document = (
                articles.get_article_document(connection, article_id)
                if row and row["status"] == Status.done
                else None
            )
    except SQLAlchemyError as exc:
        raise ProblemError(503, "Database unavailable", "retry later", RETRY_AFTER) from exc

    if row is None:
        try:
            queued = _intake(request).is_queued(article_id)
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


class RelatedArticle(BaseModel):
    id: uuid.UUID
    title: str | None
    language: str | None
    source: str


class Duplicate(RelatedArticle):
    kind: Literal["exact", "near"]
    distance: int = Field(description="SimHash bits that differ (0 for an exact duplicate).")


class Translation(RelatedArticle):
    shared_entities: int
    shared_amounts: int
    overlap: float = Field(description="Shared entities / entities of the smaller article.")


class Related(BaseModel):
    duplicates: list[Duplicate]
    translations: list[Translation]


@router.get(
    "/v1/articles/{article_id}/related",
    response_model=Related,
    responses={**_PROBLEMS, **AUTH_RESPONSES},
    dependencies=[Depends(require_scope("read"))],
    summary="Duplicates (exact and near) and translations of an article",
)
def get_related(request: Request, article_id: uuid.UUID) -> Related:
    try:
        with get_engine(_settings(request).require_database_url()).connect() as connection:
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
    except SQLAlchemyError as exc:
        raise ProblemError(503, "Database unavailable", "retry later", RETRY_AFTER) from exc


@router.get("/healthz", summary="The process is up")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Redis and PostgreSQL are reachable",
    responses={503: {"description": "A dependency is unreachable"}},
)
def readyz(request: Request) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        _intake(request).redis.ping()
        checks["redis"] = "ok"
    except redis.RedisError as exc:
        checks["redis"] = f"error: {type(exc).__name__}"
    try:
        with get_engine(_settings(request).require_database_url()).connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["postgres"] = "ok"
    except SQLAlchemyError as exc:
        checks["postgres"] = f"error: {type(exc).__name__}"
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
    )
