"""Submissions that did not become articles: list them with their reason and raw payload,
and replay them once the cause is fixed."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import redis
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from api.auth import AUTH_RESPONSES, require_scope
from api.deps import IntakeDep, SettingsDep, database
from api.intake import SubmissionIntake
from api.paging import chosen_cursor, link_next
from api.problems import RETRY_AFTER, ProblemError, problem_responses
from newsflow.contract import Status
from newsflow.settings import Settings
from newsflow.store import submissions

# failed payloads and replays are for operators: every route here needs the admin scope
router = APIRouter(
    prefix="/v1/submissions",
    tags=["submissions"],
    dependencies=[Depends(require_scope("admin"))],
    responses=AUTH_RESPONSES,
)
_PROBLEMS = problem_responses(404, 409, 422, 503)


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
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )
    next_after: uuid.UUID | None = Field(
        description="Deprecated (one version): the same as `next_cursor`.",
        json_schema_extra={"deprecated": True},
    )


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
    response: Response,
    settings: SettingsDep,
    status: Literal["failed", "dead"],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[
        uuid.UUID | None, Query(description="`next_cursor` of the previous page.")
    ] = None,
    after: Annotated[
        uuid.UUID | None, Query(deprecated=True, description="The old name of `cursor`.")
    ] = None,
) -> SubmissionPage:
    after = chosen_cursor(request, response, cursor, "after", after)
    with database(settings) as connection:
        rows = submissions.list_submissions(connection, Status(status), limit, after)
    items = [_record(row) for row in rows]
    last = items[-1].id if len(items) == limit else None
    link_next(request, response, last.hex if last else None, "after")
    return SubmissionPage(
        items=items,
        next_cursor=last.hex if last else None,
        next_after=last,  # the old name, for clients of the last version
    )


@router.get(
    "/{submission_id}",
    response_model=SubmissionRecord,
    responses=_PROBLEMS,
    summary="One submission's state and raw payload",
)
def get_submission(settings: SettingsDep, submission_id: uuid.UUID) -> SubmissionRecord:
    with database(settings) as connection:
        row = submissions.get_submission(connection, submission_id)
    if row is None:
        raise ProblemError(404, "Not found", f"no submission {submission_id} in the database")
    return _record(row)


def _reopen_and_enqueue(
    settings: Settings,
    intake: SubmissionIntake,
    submission_id: uuid.UUID,
    from_statuses: tuple[str, ...],
    refusal: tuple[str, str],
    verb: str,
) -> SubmissionRecord:
    """Reopen a final submission and enqueue it from its raw payload, in one transaction:
    if Redis refuses, the state rolls back. ``refusal`` is the 409's title and detail."""
    try:
        with database(settings, transaction=True) as connection:
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
    return _record(row)


@router.post(
    "/{submission_id}/replay",
    status_code=202,
    response_model=SubmissionRecord,
    responses=_PROBLEMS,
    summary="Process a failed or dead submission again",
)
def replay_submission(
    settings: SettingsDep, intake: IntakeDep, submission_id: uuid.UUID
) -> SubmissionRecord:
    refusal = (
        "Not replayable",
        "submission {id} is {status}; only failed or dead submissions can be replayed",
    )
    return _reopen_and_enqueue(
        settings, intake, submission_id, ("failed", "dead"), refusal, "replayed"
    )


@router.post(
    "/{submission_id}/reprocess",
    status_code=202,
    response_model=SubmissionRecord,
    responses=_PROBLEMS,
    summary="Process a stored submission again (after an enricher changed)",
)
def reprocess_submission(
    settings: SettingsDep, intake: IntakeDep, submission_id: uuid.UUID
) -> SubmissionRecord:
    refusal = ("In progress", "submission {id} is being processed")
    return _reopen_and_enqueue(
        settings, intake, submission_id, ("done", "failed", "dead"), refusal, "reprocessed"
    )
