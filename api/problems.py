"""RFC 9457 problem+json for every error, so clients get one shape that names the field."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, ProgrammingError, SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from newsflow.contract import FieldError, Problem

PROBLEM_JSON = "application/problem+json"
# what a 503 tells the client: the seconds to wait before retrying
RETRY_AFTER = {"Retry-After": "5"}


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
