"""`POST /v1/articles/batch`: many submissions in one request (a JSON array or NDJSON),
accepted item by item in one pipelined Redis round trip, with a result per item."""

from __future__ import annotations

import json
import uuid
from typing import Any

import orjson
import redis
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ValidationError

from api.auth import AUTH_RESPONSES, require_scope
from api.intake import SubmissionIntake
from api.problems import Problem, ProblemError, field_errors
from newsflow.contract import Submission, json_bytes
from newsflow.settings import Settings

router = APIRouter(tags=["articles"])
NDJSON = "application/x-ndjson"


class ItemResult(BaseModel):
    index: int
    external_id: str | None = None
    id: uuid.UUID | None = None
    duplicate: bool = False
    error: str | None = None


class BatchAccepted(BaseModel):
    accepted: int
    duplicates: int
    rejected: int
    items: list[ItemResult]


def summarise(results: list[ItemResult]) -> BatchAccepted:
    return BatchAccepted(
        accepted=sum(1 for r in results if r.id and not r.duplicate),
        duplicates=sum(1 for r in results if r.duplicate),
        rejected=sum(1 for r in results if r.error),
        items=results,
    )


def validate_item(index: int, item: Any) -> Submission | ItemResult:
    """The submission, or the result that says why this item was refused."""
    external_id = item.get("external_id") if isinstance(item, dict) else None
    try:
        return Submission.model_validate(item)
    except ValidationError as exc:
        first = field_errors(list(exc.errors()))[0]
        message = f"{first.field}: {first.message}" if first.field else first.message
        return ItemResult(
            index=index,
            external_id=external_id if isinstance(external_id, str) else None,
            error=message,
        )


def _loads(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        # lone surrogates and integers beyond 64 bits: the standard parser takes them
        return json.loads(raw)


def parse_batch(body: bytes, content_type: str, max_items: int) -> list[Any]:
    try:
        if content_type == NDJSON:
            items = [_loads(line) for line in body.splitlines() if line.strip()]
        else:
            items = _loads(body)
    except (ValueError, RecursionError) as exc:
        raise ProblemError(422, "Invalid request", f"the body is not valid JSON: {exc}") from exc
    if not isinstance(items, list):
        raise ProblemError(422, "Invalid request", "send a JSON array, or NDJSON")
    if not items:
        raise ProblemError(422, "Invalid request", "the batch is empty")
    if len(items) > max_items:
        raise ProblemError(
            413, "Batch too large", f"{len(items)} items; at most {max_items} per request"
        )
    return items


# inline (no $defs), so the OpenAPI document needs no extra components
_SCHEMA = {"type": "array", "items": Submission.model_json_schema(), "minItems": 1}


@router.post(
    "/v1/articles/batch",
    status_code=202,
    response_model=BatchAccepted,
    dependencies=[Depends(require_scope("submit"))],
    responses={
        **{
            code: {"model": Problem, "content": {"application/problem+json": {}}}
            for code in (413, 415, 422, 503)
        },
        **AUTH_RESPONSES,
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": _SCHEMA},
                NDJSON: {"schema": {"type": "string", "description": "one submission a line"}},
            },
        }
    },
    summary="Submit many articles: a JSON array or NDJSON, results per item",
)
async def submit_batch(request: Request) -> BatchAccepted:
    settings: Settings = request.app.state.settings
    content_type = request.headers.get("content-type", "application/json").split(";")[0].strip()
    if content_type not in ("application/json", NDJSON):
        raise ProblemError(415, "Unsupported media type", f"send application/json or {NDJSON}")
    items = parse_batch(await request.body(), content_type, settings.batch_max_items)
    results: list[ItemResult | None] = []
    valid: list[tuple[int, Submission, bytes]] = []
    for index, item in enumerate(items):
        checked = validate_item(index, item)
        if isinstance(checked, ItemResult):
            results.append(checked)
        else:
            results.append(None)
            valid.append((index, checked, json_bytes(item)))
    intake: SubmissionIntake = request.app.state.intake
    try:
        outcomes = await intake.accept_many_async([(s, raw) for _, s, raw in valid])
    except redis.RedisError as exc:
        # items accepted before the failure answer as duplicates when the batch is resent
        raise ProblemError(
            503, "Queue unavailable", "retry the batch later", {"Retry-After": "5"}
        ) from exc
    for (index, submission, _), outcome in zip(valid, outcomes, strict=True):
        results[index] = ItemResult(
            index=index,
            external_id=submission.external_id,
            id=outcome.id,
            duplicate=outcome.duplicate,
        )
    return summarise([r for r in results if r is not None])
