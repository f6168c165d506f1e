"""`POST /v1/articles/batch`: many submissions in one request (a JSON array or NDJSON),
accepted item by item in one pipelined Redis round trip, with a result per item."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

import orjson
import redis
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import ValidationError

from api.auth import INTAKE_RESPONSES, require_scope
from api.examples import example
from api.intake import SubmissionIntake
from api.metrics import count_items
from api.problems import ProblemError, field_errors
from newsflow.apikeys import Principal
from newsflow.contract import CLEAN_JSON, BatchAccepted, ItemResult, Submission
from newsflow.settings import Settings

router = APIRouter(tags=["articles"])
NDJSON = "application/x-ndjson"


def summarise(results: list[ItemResult]) -> BatchAccepted:
    return BatchAccepted(
        accepted=sum(1 for r in results if r.id and not r.duplicate),
        duplicates=sum(1 for r in results if r.duplicate),
        rejected=sum(1 for r in results if r.error),
        items=results,
    )


def validate_item(
    index: int, item: Any, context: dict[str, Any] | None = None
) -> Submission | ItemResult:
    """The submission, or the result that says why this item was refused."""
    external_id = item.get("external_id") if isinstance(item, dict) else None
    if isinstance(item, Unreadable):
        return ItemResult(index=index, error=str(item))
    try:
        return Submission.model_validate(item, context=context)
    except ValidationError as exc:
        first = field_errors(list(exc.errors()))[0]
        message = f"{first.field}: {first.message}" if first.field else first.message
        return ItemResult(
            index=index,
            external_id=external_id if isinstance(external_id, str) else None,
            error=message,
        )


def _loads(raw: bytes, fallbacks: list[bytes]) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        # lone surrogates and integers beyond 64 bits: the standard parser takes them
        fallbacks.append(raw)
        return json.loads(raw)


class Unreadable(ValueError):
    """An NDJSON line that is not JSON (or not UTF-8): refused alone, like an invalid item."""


def _line(line: bytes, fallbacks: list[bytes]) -> Any:
    try:
        return _loads(line, fallbacks)
    except (ValueError, RecursionError) as exc:
        return Unreadable(f"the line is not valid JSON: {exc}")


def parse_batch(
    body: bytes, content_type: str, max_items: int
) -> tuple[list[Any], dict[str, Any] | None]:
    """The items (an NDJSON line that cannot be read is an ``Unreadable`` in its place),
    and the validation context they need: CLEAN_JSON when orjson parsed them all from a
    body without an escaped NUL, so they hold nothing to clean (orjson refuses lone
    surrogates, as pydantic does: see Submission.from_json)."""
    fallbacks: list[bytes] = []
    if content_type == NDJSON:
        items = [_line(line, fallbacks) for line in body.splitlines() if line.strip()]
    else:
        try:
            items = _loads(body, fallbacks)
        except (ValueError, RecursionError) as exc:
            detail = f"the body is not valid JSON: {exc}"
            raise ProblemError(422, "Invalid request", detail) from exc
    if not isinstance(items, list):
        raise ProblemError(422, "Invalid request", "send a JSON array, or NDJSON")
    if not items:
        raise ProblemError(422, "Invalid request", "the batch is empty")
    if len(items) > max_items:
        raise ProblemError(
            413, "Batch too large", f"{len(items)} items; at most {max_items} per request"
        )
    clean = not fallbacks and b"\\u0000" not in body
    return items, CLEAN_JSON if clean else None


# inline (no $defs), so the OpenAPI document needs no extra components
_SCHEMA = {"type": "array", "items": Submission.model_json_schema(), "minItems": 1}


def many_submissions_route(
    router: APIRouter, path: str, content: dict[str, Any], summary: str
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The route of an endpoint that takes many submissions in one body (``content``: its
    media types and their schemas) and answers each item's result."""
    return router.post(
        path,
        status_code=202,
        response_model=BatchAccepted,
        responses=INTAKE_RESPONSES,
        openapi_extra={"requestBody": {"required": True, "content": content}},
        summary=summary,
    )


@many_submissions_route(
    router,
    "/v1/articles/batch",
    {
        "application/json": {"schema": _SCHEMA, "example": [example("submission")]},
        NDJSON: {"schema": {"type": "string", "description": "one submission a line"}},
    },
    "Submit many articles: a JSON array or NDJSON, results per item",
)
async def submit_batch(
    request: Request, principal: Annotated[Principal, Depends(require_scope("submit"))]
) -> Response:
    settings: Settings = request.app.state.settings
    content_type = request.headers.get("content-type", "application/json").split(";")[0].strip()
    if content_type not in ("application/json", NDJSON):
        raise ProblemError(415, "Unsupported media type", f"send application/json or {NDJSON}")
    body = await request.body()
    items, context = parse_batch(body, content_type, settings.batch_max_items)
    results: list[dict[str, Any]] = []
    valid: list[tuple[int, Submission]] = []
    for index, item in enumerate(items):
        checked = validate_item(index, item, context)
        if isinstance(checked, ItemResult):
            results.append(checked.model_dump(mode="json"))
        else:
            results.append({})
            valid.append((index, checked))
    intake: SubmissionIntake = request.app.state.intake
    try:
        outcomes = await intake.accept_many_async(
            [submission for _, submission in valid], owner=principal.owner
        )
    except (redis.RedisError, OSError) as exc:
        # items accepted before the failure answer as duplicates when the batch is resent
        raise ProblemError(
            503, "Queue unavailable", "retry the batch later", {"Retry-After": "5"}
        ) from exc
    accepted = duplicates = 0
    for (index, submission), outcome in zip(valid, outcomes, strict=True):
        results[index] = {
            "index": index,
            "external_id": submission.external_id,
            "id": str(outcome.id),
            "duplicate": outcome.duplicate,
            "version": outcome.version,
            "error": None,
            "warning": None,
        }  # ItemResult(...).model_dump(mode="json"), without building a model per item
        duplicates += outcome.duplicate
        accepted += not outcome.duplicate
    count_items("batch", accepted, duplicates, len(results) - len(valid))
    content = {
        "accepted": accepted,
        "duplicates": duplicates,
        "rejected": len(results) - len(valid),
        "items": results,
    }  # what summarise() gives, as BatchAccepted serialises it
    return Response(orjson.dumps(content), status_code=202, media_type="application/json")
