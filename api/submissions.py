"""Submissions that did not become articles: list them with their reason and raw payload,
and replay them once the cause is fixed."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import redis
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError

from api.auth import AUTH_RESPONSES, require_scope
from api.intake import SubmissionIntake
from api.problems import Problem, ProblemError, database_error
from newsflow.contract import Status
from newsflow.settings import Settings
from newsflow.store import submissions
from newsflow.store.db import get_engine

# failed payloads and replays are for operators: every route here needs the admin scope
router = APIRouter(
    prefix="/v1/submissions",
    tags=["submissions"],
    dependencies=[Depends(require_scope("admin"))],
    responses=AUTH_RESPONSES,
)
RETRY_AFTER = {"Retry-After": "5"}
_PROBLEMS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "content": {"application/problem+json": {}}}
    for code in (404, 409, 422, 503)
}


class SubmissionRecord(BaseModel):
    id: uuid.UUID
    source: str
    external_id: str | None
    status: Status
    attempts: int
    error: str | None
    received_at: datetime
    finished_at: datetime | None
    payload: dict[str, Any]


class SubmissionPage(BaseModel):
    items: list[SubmissionRecord]
    next_after: uuid.UUID | None


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _record(row: dict[str, Any]) -> SubmissionRecord:
    return SubmissionRecord.model_validate(row)


@router.get(
    "",
    response_model=SubmissionPage,
    responses=_PROBLEMS,
    summary="Failed or dead submissions, with reason, attempts and raw payload",
)
def list_submissions(
    request: Request,
    status: Literal["failed", "dead"],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    after: uuid.UUID | None = None,
) -> SubmissionPage:
    try:
        with get_engine(_settings(request).require_database_url()).connect() as connection:
            rows = submissions.list_submissions(connection, Status(status), limit, after)
    except SQLAlchemyError as exc:
        raise database_error(exc) from exc
    items = [_record(row) for row in rows]
    return SubmissionPage(items=items, next_after=items[-1].id if len(items) == limit else None)


@router.get(
    "/{submission_id}",
    response_model=SubmissionRecord,
    responses=_PROBLEMS,
    summary="One submission's state and raw payload",
)
def get_submission(request: Request, submission_id: uuid.UUID) -> SubmissionRecord:
    try:
        with get_engine(_settings(request).require_database_url()).connect() as connection:
            row = submissions.get_submission(connection, submission_id)
    except SQLAlchemyError as exc:
        raise database_error(exc) from exc
    if row is None:
        raise ProblemError(404, "Not found", f"no submission {submission_id} in the database")
    return _record(row)


def _reopen_and_enqueue(
    request: Request,
    submission_id: uuid.UUID,
    from_statuses: tuple[str, ...],
    refusal: tuple[str, str],
    verb: str,
) -> SubmissionRecord:
    """Reopen a final submission and enqueue it from its raw payload, in one transaction:
    if Redis refuses, the state rolls back. ``refusal`` is the 409's title and detail."""
    intake: SubmissionIntake = request.app.state.intake
    try:
        with get_engine(_settings(request).require_database_url()).begin() as connection:
            row = submissions.reopen(connection, submission_id, from_statuses)
            if row is None:
                current = submissions.get_submission(connection, submission_id)
                if current is None:
                    raise ProblemError(404, "Not found", f"no submission {submission_id}")
                title, detail = refusal
                raise ProblemError(
                    409, title, detail.format(id=submission_id, status=current["status"])
                )
            intake.enqueue(submissions.reprocess_message(row), task_id=str(uuid.uuid4()))
    except redis.RedisError as exc:
        raise ProblemError(
            503, "Queue unavailable", f"nothing was {verb}; retry later", RETRY_AFTER
        ) from exc
    except SQLAlchemyError as exc:
        raise database_error(exc) from exc
    return _record(row)


@router.post(
    "/{submission_id}/replay",
    status_code=202,
    response_model=SubmissionRecord,
    responses=_PROBLEMS,
    summary="Process a failed or dead submission again",
)
def replay_submission(request: Request, submission_id: uuid.UUID) -> SubmissionRecord:
    refusal = (
        "Not replayable",
        "submission {id} is {status}; only failed or dead submissions can be replayed",
    )
    return _reopen_and_enqueue(request, submission_id, ("failed", "dead"), refusal, "replayed")


@router.post(
    "/{submission_id}/reprocess",
    status_code=202,
    response_model=SubmissionRecord,
    responses=_PROBLEMS,
    summary="Process a stored submission again (after an enricher changed)",
)
def reprocess_submission(request: Request, submission_id: uuid.UUID) -> SubmissionRecord:
    refusal = ("In progress", "submission {id} is being processed")
    return _reopen_and_enqueue(
        request, submission_id, ("done", "failed", "dead"), refusal, "reprocessed"
    )
