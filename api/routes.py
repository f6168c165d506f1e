"""The endpoints."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import orjson
import redis
from fastapi import APIRouter, Depends, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette._utils import get_route_path  # the path routing matches, root_path removed
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send

from api.auth import AUTH_RESPONSES, AuthGate, bearer_credentials, require_scope
from api.intake import IdempotencyMismatch, RateLimit, RateLimited, SubmissionIntake
from api.limits import BodyTooLarge
from api.problems import PROBLEM_JSON, Problem, ProblemError, database_error, validation_problem
from newsflow.contract import Accepted, ArticleDocument, Links, Status, Submission, article_url
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
    return Links(self=article_url(_settings(request).base_url, submission_id))


SUBMIT_PATH = "/v1/articles"
MAX_IDEMPOTENCY_KEY = 255


@router.post(
    SUBMIT_PATH,
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
    idempotency_key: Annotated[str | None, Header(max_length=MAX_IDEMPOTENCY_KEY)] = None,
) -> Response:
    """Declares the endpoint (OpenAPI) and serves it where this router runs without
    SubmitFastPath; create_app's app answers it in SubmitFastPath, with the same checks
    (the dependency above has counted the rate limit here)."""
    submission = await _read_submission(request.headers.get("content-type"), request.body)
    answer = await _accept(request.app.state, submission, idempotency_key, None)
    return Response(answer.content, answer.status, answer.headers, answer.media_type)


@dataclass
class _Answer:
    status: int
    content: bytes
    headers: dict[str, str] | None = None
    media_type: str = "application/json"


def _problem_answer(error: ProblemError | Problem) -> _Answer:
    problem = error if isinstance(error, Problem) else error.problem
    headers = None if isinstance(error, Problem) else error.headers
    return _Answer(
        problem.status, orjson.dumps(problem.model_dump(exclude_none=True)), headers, PROBLEM_JSON
    )


async def _read_submission(
    content_type: str | None, read_body: Callable[[], Awaitable[bytes]]
) -> Submission:
    """The media type, the body and its validation: 415, 413 (while streaming) or 422."""
    content_type = (content_type or "application/json").split(";")[0].strip()
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise ProblemError(415, "Unsupported media type", "send application/json")
    body = await read_body()
    return Submission.from_json(body)  # ValidationError -> 422 problem


async def _accept(
    state: Any,
    submission: Submission,
    idempotency_key: str | None,
    rate_limit: RateLimit | None,
) -> _Answer:
    """The intake script (counting ``rate_limit`` in it when given: RateLimited over it)
    and the answer."""
    intake: SubmissionIntake = state.intake
    try:
        result = await intake.accept_async(submission, idempotency_key, rate_limit)
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
        status = await run_in_threadpool(_known_status, state.settings, result.id)
    link = article_url(state.settings.base_url, result.id)
    content = orjson.dumps(
        {
            "id": str(result.id),
            "status": status.value,
            "links": {"self": link},
            "duplicate": result.duplicate,
        }
    )  # what Accepted(...).model_dump(mode="json") gives, without building the model
    return _Answer(200 if result.duplicate else 202, content, {"Location": link})


class SubmitFastPath:
    """``POST /v1/articles`` as plain ASGI, in front of FastAPI's routing: the same
    answers as the route above (authentication and scope, the Idempotency-Key header,
    media type, body, validation, intake), without the dependency machinery and its
    thread hop, and with the rate limit counted inside the intake script (one Redis round
    trip). A request refused before the script counts its window on its own, as the
    route's dependency would have, and answers 429 when over it. Sits inside
    BodyLimitMiddleware (413/415 before the body is read)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or get_route_path(scope) != SUBMIT_PATH
        ):
            await self.app(scope, receive, send)
            return
        try:
            answer = await self._answer(scope["app"].state, scope, receive)
        except ClientDisconnect:
            return  # nobody to answer
        response = Response(answer.content, answer.status, answer.headers, answer.media_type)
        await response(scope, receive, send)

    async def _answer(self, state: Any, scope: Scope, receive: Receive) -> _Answer:
        content_type = authorization = idempotency_key = None
        for name, value in scope["headers"]:  # the first of each, as Starlette's get()
            if name == b"content-type" and content_type is None:
                content_type = value.decode("latin-1")
            elif name == b"authorization" and authorization is None:
                authorization = value.decode("latin-1")
            elif name == b"idempotency-key" and idempotency_key is None:
                idempotency_key = value.decode("latin-1")
        gate: AuthGate = state.auth
        client = scope.get("client")
        try:
            _, identity = await gate.authorize(
                bearer_credentials(authorization), client[0] if client else None, "submit"
            )
        except ProblemError as exc:
            return _problem_answer(exc)
        rate_limit = gate.limiter.rate_limit(identity)
        try:
            if idempotency_key is not None and len(idempotency_key) > MAX_IDEMPOTENCY_KEY:
                raise RequestValidationError(
                    [
                        {
                            "type": "string_too_long",
                            "loc": ("header", "idempotency-key"),
                            "msg": f"String should have at most {MAX_IDEMPOTENCY_KEY} characters",
                            "input": idempotency_key,
                            "ctx": {"max_length": MAX_IDEMPOTENCY_KEY},
                        }
                    ]
                )
            submission = await _read_submission(content_type, Request(scope, receive).body)
        except (ProblemError, ValidationError, RequestValidationError, BodyTooLarge) as exc:
            # refused before the intake script could count the request: count it here
            if rate_limit is not None:
                retry_after = await gate.limiter.retry_after_async(identity)
                if retry_after is not None:
                    return _problem_answer(gate.limiter.problem(retry_after))
            if isinstance(exc, BodyTooLarge):
                raise  # BodyLimitMiddleware answers 413
            if isinstance(exc, ProblemError):
                return _problem_answer(exc)
            return _problem_answer(validation_problem(list(exc.errors())))
        try:
            return await _accept(state, submission, idempotency_key, rate_limit)
        except RateLimited as exc:
            return _problem_answer(gate.limiter.problem(exc.retry_after))
        except ProblemError as exc:  # counted by the script (or Redis is unreachable)
            return _problem_answer(exc)


def _known_status(settings: Settings, submission_id: uuid.UUID) -> Status:
    """The status of an earlier submission, for answering its repeat. PostgreSQL is asked
    if it answers; intake does not depend on it."""
    try:
        with get_engine(settings.require_database_url()).connect() as connection:
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
        raise database_error(exc) from exc

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
        raise database_error(exc) from exc


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
