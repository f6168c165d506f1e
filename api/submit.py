"""``POST /v1/articles``: one door. ``submit()`` answers it (authentication and scope,
the Idempotency-Key header, media type, body, validation, and the intake script, which
counts the rate limit in the same Redis round trip); SubmitFastPath calls it as plain
ASGI in front of FastAPI's routing (no dependency machinery, no thread hop), and the
FastAPI route, which declares the endpoint in the OpenAPI document, calls it too."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

import orjson
import redis
from fastapi import APIRouter, Header, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from starlette._utils import get_route_path  # the path routing matches, root_path removed
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send

from api.auth import BEARER, INTAKE_RESPONSES, AuthGate, bearer_credentials
from api.examples import example, openapi_example
from api.intake import (
    IdempotencyMismatch,
    NotReplicated,
    RateLimit,
    RateLimited,
    SubmissionIntake,
)
from api.limits import BodyTooLarge
from api.problems import (
    PROBLEM_JSON,
    RETRY_AFTER,
    Problem,
    ProblemError,
    validation_problem,
)
from newsflow import logs
from newsflow.contract import Accepted, Status, Submission, article_url
from newsflow.settings import Settings
from newsflow.store import submissions
from newsflow.store.db import get_engine

router = APIRouter(tags=["articles"])
SUBMIT_PATH = "/v1/articles"
MAX_IDEMPOTENCY_KEY = 255


@router.post(
    SUBMIT_PATH,
    status_code=202,
    response_model=Accepted,
    responses={
        200: {"model": Accepted, "description": "A repeat of an earlier submission"},
        202: {"content": {"application/json": {"example": example("accepted")}}},
        **INTAKE_RESPONSES,
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": Submission.model_json_schema(),
                    "examples": openapi_example("submission", "Plain text scraped from a page"),
                }
            },
        }
    },
    summary="Submit one article",
)
async def submit_article(
    request: Request,
    # declared for the OpenAPI document; submit() reads both from the request itself
    _: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)] = None,
    idempotency_key: Annotated[str | None, Header(max_length=MAX_IDEMPOTENCY_KEY)] = None,
) -> Response:
    """Where the router runs without SubmitFastPath: the same answer, from submit()."""
    return (await submit(request.app.state, request.scope, request.receive)).response()


@dataclass
class Answer:
    status: int
    content: bytes
    headers: dict[str, str] | None = None
    media_type: str = "application/json"

    def response(self) -> Response:
        return Response(self.content, self.status, self.headers, self.media_type)


def _problem_answer(error: ProblemError | Problem) -> Answer:
    problem = error if isinstance(error, Problem) else error.problem
    headers = None if isinstance(error, Problem) else error.headers
    return Answer(
        problem.status, orjson.dumps(problem.model_dump(exclude_none=True)), headers, PROBLEM_JSON
    )


async def submit(state: Any, scope: Scope, receive: Receive) -> Answer:
    """The answer to one ``POST /v1/articles``. A request refused before the intake script
    counts its rate-limit window on its own, and answers 429 when over it."""
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
        principal, identity = await gate.authorize(
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
        return await _accept(state, submission, idempotency_key, principal.owner, rate_limit)
    except RateLimited as exc:
        return _problem_answer(gate.limiter.problem(exc.retry_after))
    except ProblemError as exc:  # counted by the script (or Redis is unreachable)
        return _problem_answer(exc)


class SubmitFastPath:
    """``POST /v1/articles`` as plain ASGI, in front of FastAPI's routing: submit()'s
    answer without the dependency machinery and its thread hop. Sits inside
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
            answer = await submit(scope["app"].state, scope, receive)
        except ClientDisconnect:
            return  # nobody to answer
        await answer.response()(scope, receive, send)


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
    owner: str,
    rate_limit: RateLimit | None,
) -> Answer:
    """The intake script (counting ``rate_limit`` in it when given: RateLimited over it)
    and the answer."""
    intake: SubmissionIntake = state.intake
    try:
        result = await intake.accept_async(submission, idempotency_key, rate_limit, owner=owner)
    except IdempotencyMismatch as exc:
        raise ProblemError(
            422,
            "Idempotency-Key reused",
            f"Idempotency-Key was first used for submission {exc} with a different body",
        ) from exc
    except NotReplicated as exc:
        raise ProblemError(
            503,
            "Not replicated",
            f"{exc}; the submission may still be processed: send it again (a repeat "
            "answers the same id)",
            RETRY_AFTER,
        ) from exc
    except (redis.RedisError, OSError) as exc:
        raise ProblemError(
            503,
            "Queue unavailable",
            "cannot reach Redis; nothing was accepted, retry later",
            RETRY_AFTER,
        ) from exc

    logs.annotate(submission_id=str(result.id))  # for the request's access log line
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
            "version": result.version,
        }
    )  # what Accepted(...).model_dump(mode="json") gives, without building the model
    return Answer(200 if result.duplicate else 202, content, {"Location": link})


def _known_status(settings: Settings, submission_id: uuid.UUID) -> Status:
    """The status of an earlier submission, for answering its repeat. PostgreSQL is asked
    if it answers; intake does not depend on it."""
    try:
        with get_engine(settings.require_database_url()).connect() as connection:
            row = submissions.get_submission(connection, submission_id)
    except SQLAlchemyError:
        row = None
    return Status(row["status"]) if row else Status.queued
