"""RFC 9457 problem+json for every error, so clients get one shape that names the field."""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from pydantic import ValidationError, model_validator
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, ProgrammingError, SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from newsflow import contract
from newsflow.contract import FieldError

PROBLEM_JSON = "application/problem+json"
# what a 503 tells the client: the seconds to wait before retrying
RETRY_AFTER = {"Retry-After": "5"}

log = logging.getLogger("newsflow.api")


@dataclass(frozen=True)
class ProblemType:
    """What one kind of error means and what to do about it: the page its ``type`` names."""

    title: str  # the problem's title, which picks its type
    statuses: tuple[int, ...]
    meaning: str
    remedy: str

    @property
    def slug(self) -> str:
        return "-".join(self.title.lower().replace("-", " ").split())

    @property
    def uri(self) -> str:
        return f"{PROBLEM_TYPES_PATH}/{self.slug}"


# Absolute-path references (RFC 9457 3.1.1): they resolve against the API's own URL, to
# a page this API serves, whatever host or proxy it is reached through.
PROBLEM_TYPES_PATH = "/problems"
PROBLEM_TYPES = {
    problem_type.title: problem_type
    for problem_type in (
        ProblemType(
            "Invalid request",
            (422,),
            "A parameter, a header or the body is not what the endpoint takes; `errors` "
            "names each field (`body.published_at`, `cursor`, `q`) and what is wrong with it.",
            "Fix the named field and send again; sending the same request again fails the "
            "same way.",
        ),
        ProblemType(
            "Idempotency-Key reused",
            (422,),
            "This Idempotency-Key was first sent with a different body: a key names one "
            "submission, and this is not it.",
            "Use a new key for a new submission; resend the first body to get its answer.",
        ),
        ProblemType(
            "Not a feed",
            (422,),
            "The body of `POST /v1/feeds` is not an RSS or Atom document newsflow can read "
            "(or it is over the limits on size, items or entity expansion).",
            "Send the feed document itself, as `application/rss+xml` or `application/atom+xml`.",
        ),
        ProblemType(
            "Unsupported media type",
            (415,),
            "The Content-Type is not one this endpoint takes.",
            "Send `application/json` (or what the detail lists).",
        ),
        ProblemType(
            "Unsupported Content-Encoding",
            (415,),
            "Compressed bodies are refused, so a small compressed body cannot expand into a "
            "large one behind the size limit.",
            "Send the body uncompressed.",
        ),
        ProblemType(
            "Request body too large",
            (413,),
            "The body is over the limit (`NEWSFLOW_MAX_BODY_BYTES`, larger for batches and "
            "feeds); it was refused while streaming in, before it was held.",
            "Send less: split a batch, or shorten the article.",
        ),
        ProblemType(
            "Batch too large",
            (413,),
            "The batch has more items than one request takes.",
            "Split it into batches of at most the number the detail gives.",
        ),
        ProblemType(
            "Unauthorized",
            (401,),
            "No API key was sent, or the key is unknown or revoked.",
            "Send `Authorization: Bearer <key>` with a valid key (`newsflow keys create`).",
        ),
        ProblemType(
            "Forbidden",
            (403,),
            "The API key is valid but lacks the scope this endpoint needs (`submit`, `read` "
            "or `admin`).",
            "Use a key with that scope.",
        ),
        ProblemType(
            "Not found",
            (404,),
            "No such article, submission, entity or path.",
            "Check the id; a submission just accepted is found as soon as its 202 is sent.",
        ),
        ProblemType(
            "Method not allowed",
            (405,),
            "The path exists but does not take this HTTP method.",
            "See the `Allow` header and the OpenAPI document at `/openapi.json`.",
        ),
        ProblemType(
            "Not replayable",
            (409,),
            "Only failed or dead submissions can be replayed.",
            "Read its status; use reprocess for one that is done.",
        ),
        ProblemType(
            "In progress",
            (409,),
            "The submission is queued or being processed; it cannot be reopened now.",
            "Wait for it to end, then reprocess it.",
        ),
        ProblemType(
            "Name taken",
            (409,),
            "A source of this name exists already (a source's name is its identity).",
            "Pick another name, or change the existing source with PATCH.",
        ),
        ProblemType(
            "Disabled",
            (409,),
            "The source is disabled, so it is not polled.",
            "Enable it first (PATCH `enabled: true`), then ask for a poll.",
        ),
        ProblemType(
            "Cursor too old",
            (410,),
            "The change-feed cursor points before the oldest change kept (the feed keeps "
            "`NEWSFLOW_FEED_RETENTION_DAYS` days).",
            "Resume from `resume_after`, and re-read what you may have missed by `GET /v1/export`.",
        ),
        ProblemType(
            "Too many requests",
            (429,),
            "The API key is over its rate limit.",
            "Wait the seconds `Retry-After` gives, then send again.",
        ),
        ProblemType(
            "Too many failed authentications",
            (429,),
            "Too many unknown or revoked API keys were sent from this address.",
            "Wait the seconds `Retry-After` gives, and send a valid key.",
        ),
        ProblemType(
            "Queue unavailable",
            (503,),
            "Redis, which holds the queue, cannot be reached; nothing was accepted.",
            "Retry after `Retry-After` seconds: the same request (with its Idempotency-Key) "
            "is safe to send again.",
        ),
        ProblemType(
            "Not replicated",
            (503,),
            "The submission reached the Redis primary, but not the number of replicas "
            "`NEWSFLOW_REDIS_MIN_REPLICAS` asks for within `NEWSFLOW_REDIS_WAIT_TIMEOUT_MS`: "
            "a failover now could lose it, so it is not confirmed.",
            "Send it again after `Retry-After` seconds: a repeat answers the same id and is "
            "never a second article.",
        ),
        ProblemType(
            "Database unavailable",
            (503,),
            "PostgreSQL cannot be reached or is failing.",
            "Retry after `Retry-After` seconds.",
        ),
        ProblemType(
            "Cannot check the API key",
            (503,),
            "Neither Redis nor PostgreSQL can confirm the API key right now.",
            "Retry after `Retry-After` seconds.",
        ),
        ProblemType(
            "Database error",
            (500,),
            "PostgreSQL refused a statement or a stored value, whoever sent the request.",
            "Retrying will not help: report it with the detail and the request.",
        ),
        ProblemType(
            "Stored document is invalid",
            (500,),
            "The stored document does not match the contract of this version.",
            "Reprocess the article (`newsflow reprocess ID`) and report it.",
        ),
        ProblemType(
            "Internal error",
            (500,),
            "An unexpected error in newsflow.",
            "Report it with the request; the server's log has the traceback.",
        ),
    )
}


def problem_type_uri(title: str) -> str:
    """The ``type`` of a problem with this title: its page, or about:blank for a title
    that has none (tests/unit/api/test_problem_types.py finds those)."""
    problem_type = PROBLEM_TYPES.get(title)
    return problem_type.uri if problem_type else "about:blank"


class Problem(contract.Problem):
    """The API's problems: ``type`` names the page of the problem's title."""

    @model_validator(mode="after")
    def _type_from_title(self) -> Problem:
        if self.type == "about:blank":
            self.type = problem_type_uri(self.title)
        return self


class ProblemError(Exception):
    """Raise from a route to answer with a problem."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.problem = Problem(title=title, status=status, detail=detail)
        self.headers = headers


# SQLSTATE classes of the errors a request's own values make a query raise: 22 data
# exception, 42 syntax error or access rule violation, 54 program limit exceeded
_REQUEST_SQLSTATE_CLASSES = ("22", "42", "54")
# ...and limits PostgreSQL reports as internal errors (elog: XX000, never translated):
# websearch_to_tsquery of 32 '-' in a row
_REQUEST_INTERNAL_ERRORS = ("tsquery stack too small",)


def database_problem(exc: SQLAlchemyError, field: str | None = None) -> ProblemError:
    """The answer to a failed query: 422 naming ``field`` when the request's value made
    it fail (it would fail again: a retry is no use), else 503 with Retry-After (the
    database is unreachable or failing), or 500 for a value or statement PostgreSQL
    refuses whoever sent it. One place, for every route that queries."""
    # by SQLSTATE, not by exception class: psycopg raises class 54 as an OperationalError,
    # like a lost connection (class 08, or none)
    original = getattr(exc, "orig", None)
    sqlstate = str(getattr(original, "sqlstate", None) or "")
    caused_by_request = (
        field is not None
        and isinstance(exc, DBAPIError)
        and not exc.connection_invalidated
        and (
            sqlstate[:2] in _REQUEST_SQLSTATE_CLASSES
            or (sqlstate == "XX000" and str(original).startswith(_REQUEST_INTERNAL_ERRORS))
        )
    )
    if not caused_by_request:
        log.warning("database query failed (%s): %s", sqlstate or "no SQLSTATE", original or exc)
        # a value or statement PostgreSQL refuses fails the same way on every retry: 500,
        # so clients do not retry it for ever; 503 only for what can pass
        if isinstance(exc, DataError | IntegrityError | ProgrammingError):
            return ProblemError(500, "Database error", type(exc.orig or exc).__name__)
        return ProblemError(503, "Database unavailable", "retry later", RETRY_AFTER)
    assert field is not None
    return field_problem(
        field, f"the database cannot run this query: {str(original).splitlines()[0]}"
    )


def field_problem(field: str, message: str) -> ProblemError:
    """A 422 naming the field (a parameter or a cursor)."""
    error = ProblemError(422, "Invalid request", f"{field}: {message}")
    error.problem.errors = [FieldError(field=field, message=message)]
    return error


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of a route that can answer these problem statuses."""
    return {status: {"model": Problem, "content": {PROBLEM_JSON: {}}} for status in statuses}


def no_nul_parameters(request: Request) -> None:
    """A dependency of every route: a NUL (%00) in a query or path parameter is refused,
    naming it. No text PostgreSQL holds contains one, and dropping it would answer for
    another value than the one asked."""
    parameters = [*request.query_params.multi_items(), *request.path_params.items()]
    for name, value in parameters:
        if "\x00" in name or "\x00" in str(value):
            raise field_problem(name.replace("\x00", ""), "contains a NUL character (%00)")


def document_no_nul_parameters(app: FastAPI) -> None:
    """Say in the OpenAPI document what ``no_nul_parameters`` enforces: each string
    parameter without a pattern, format or enum of its own gets one without NUL."""

    def forbid_nul(schema: dict[str, Any]) -> None:
        for inner in (*schema.get("anyOf", ()), schema.get("items")):
            if isinstance(inner, dict):
                forbid_nul(inner)
        if schema.get("type") == "string" and not {"pattern", "format", "enum"} & set(schema):
            schema["pattern"] = "^[^\\u0000]*$"

    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = build()  # which FastAPI keeps as app.openapi_schema
        for path in document["paths"].values():
            for operation in path.values():
                for parameter in operation.get("parameters", ()):
                    forbid_nul(parameter.get("schema", {}))
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def problem_response(problem: Problem, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        problem.model_dump(exclude_none=True),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def field_errors(errors: list[Any]) -> list[FieldError]:
    result = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ()) if part not in ("body",)]
        message = str(error.get("msg", "invalid"))
        if error.get("type") == "json_invalid":
            message = f"the body is not valid JSON: {error.get('ctx', {}).get('error', message)}"
        result.append(FieldError(field=".".join(location) or None, message=message))
    return result


def validation_problem(errors: list[Any]) -> Problem:
    fields = field_errors(errors)
    first = fields[0] if fields else FieldError(field=None, message="invalid request")
    detail = f"{first.field}: {first.message}" if first.field else first.message
    return Problem(title="Invalid request", status=422, detail=detail, errors=fields)


def install(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(_: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(exc.problem, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _request_validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(validation_problem(list(exc.errors())))

    @app.exception_handler(ValidationError)
    async def _validation(_: Request, exc: ValidationError) -> JSONResponse:
        return problem_response(validation_problem(list(exc.errors())))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "Error")
        return problem_response(
            Problem(title=title, status=exc.status_code, detail=str(exc.detail)),
            dict(exc.headers or {}),
        )

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        return problem_response(
            Problem(title="Internal error", status=500, detail=type(exc).__name__)
        )


router = APIRouter(tags=["problems"])

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}}
code{{background:#f3f3f3;padding:0 .2em}}</style></head>
<body>{body}</body></html>"""


@router.get(
    f"{PROBLEM_TYPES_PATH}/{{slug}}",
    response_class=HTMLResponse,
    responses=problem_responses(404),
    summary="The page a problem's `type` names: what the error means and what to do",
)
def problem_type_page(slug: str) -> HTMLResponse:
    for problem_type in PROBLEM_TYPES.values():
        if problem_type.slug == slug:
            statuses = ", ".join(str(status) for status in problem_type.statuses)
            body = (
                f"<h1>{html.escape(problem_type.title)}</h1>"
                f"<p>HTTP status: {statuses}</p>"
                f"<h2>What it means</h2><p>{_inline_code(problem_type.meaning)}</p>"
                f"<h2>What to do</h2><p>{_inline_code(problem_type.remedy)}</p>"
                f'<p><a href="{PROBLEM_TYPES_PATH}">Every problem type</a></p>'
            )
            return HTMLResponse(_PAGE.format(title=html.escape(problem_type.title), body=body))
    raise ProblemError(404, "Not found", f"no problem type {slug!r}")


@router.get(
    PROBLEM_TYPES_PATH,
    response_class=HTMLResponse,
    summary="Every problem type newsflow answers with",
)
def problem_type_index() -> HTMLResponse:
    items = "".join(
        f'<li><a href="{problem_type.uri}">{html.escape(problem_type.title)}</a> '
        f"({', '.join(map(str, problem_type.statuses))})</li>"
        for problem_type in PROBLEM_TYPES.values()
    )
    body = f"<h1>newsflow problem types</h1><ul>{items}</ul>"
    return HTMLResponse(_PAGE.format(title="newsflow problem types", body=body))


def _inline_code(text: str) -> str:
    """Markdown-ish `code` spans of the registry's prose, escaped."""
    parts = html.escape(text).split("`")
    return "".join(f"<code>{part}</code>" if i % 2 else part for i, part in enumerate(parts))
