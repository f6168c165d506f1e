"""The console's pages. Each reads through the same store code as the API (search,
related, entities, submissions) and the same replay path (api/submissions.py)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

import redis
from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from api import submissions as submission_routes
from api.auth import AuthGate
from api.console import highlight
from api.console.session import (
    CsrfDep,
    Session,
    Viewer,
    ViewerDep,
    client_host,
    read_session,
    safe_next,
    signed_in,
    write_session,
)
from api.deps import SettingsDep, database
from api.intake import SubmissionIntake
from api.problems import ProblemError
from newsflow import heartbeat
from newsflow.apikeys import hash_key
from newsflow.contract import Status, clean_text
from newsflow.settings import Settings
from newsflow.store import (
    articles,
    changes,
    duplicates,
    entities,
    overview,
    related,
    search,
    sources,
    submissions,
)
from newsflow.store.changes import BadCursor
from newsflow.taskmessage import queue_depths

HERE = Path(__file__).parent
STATIC = {path.name: path for path in (HERE / "static").iterdir()}
PAGE_SIZE = 20
# the article filters of GET /v1/articles, by the name the form and the query string use
LIST_FILTERS = ("language", "source", "entity", "cited_source")

# no framing (clickjacking on the replay buttons), nothing loaded from elsewhere, forms
# post here only; pages hold payloads, so no caching
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
    "frame-ancestors 'none'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=HERE / "templates")


def _when(value: datetime | date | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return value.isoformat()


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = max(0.0, float(seconds))
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


templates.env.filters["when"] = _when
templates.env.filters["age"] = _age
templates.env.filters["pretty"] = lambda value: json.dumps(
    value, ensure_ascii=False, indent=2, sort_keys=True, default=str
)


def page(
    request: Request, viewer: Viewer, name: str, context: dict[str, Any], status: int = 200
) -> HTMLResponse:
    response = templates.TemplateResponse(
        request, name, {"viewer": viewer, "csrf": viewer.session.csrf, **context}, status
    )
    response.headers.update(PAGE_HEADERS)
    if viewer.session.fresh:
        write_session(request, response, viewer.session)
    return response


def forbidden(request: Request, viewer: Viewer, what: str) -> HTMLResponse:
    return page(request, viewer, "error.html", {"title": "Forbidden", "message": what}, 403)


@router.get("/static/{name}")
def static(name: str) -> FileResponse:
    if name not in STATIC:
        raise HTTPException(404, f"no static file {name!r}")
    return FileResponse(STATIC[name], headers={"Cache-Control": "max-age=3600"})


# -- signing in ------------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str = "/") -> HTMLResponse:
    gate: AuthGate = request.app.state.auth
    session = read_session(request)
    viewer = Viewer(None, session, open=not gate.required)
    return page(request, viewer, "login.html", {"next": safe_next(next), "error": None})


@router.post("/login", response_model=None)
async def login(
    request: Request,
    session: CsrfDep,
    key: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    gate: AuthGate = request.app.state.auth
    key = key.strip()
    try:
        await gate.authorize(key, client_host(request), "read")
    except ProblemError as exc:
        viewer = Viewer(None, session, open=not gate.required)
        error = exc.problem.detail or exc.problem.title
        context = {"next": safe_next(next), "error": error}
        return page(request, viewer, "login.html", context, exc.problem.status)
    response = RedirectResponse(safe_next(next), status_code=303)
    write_session(request, response, signed_in(hash_key(key)))
    return response


@router.post("/logout")
async def logout(request: Request, _: CsrfDep) -> RedirectResponse:
    response = RedirectResponse("/login", status_code=303)
    write_session(request, response, Session.new())
    return response


# -- overview --------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def overview_page(request: Request, viewer: ViewerDep, settings: SettingsDep) -> HTMLResponse:
    intake: SubmissionIntake = request.app.state.intake
    with database(settings) as connection:
        counts = overview.status_counts(connection)
        throughput = overview.throughput_last_hour(connection)
        failures = overview.failure_reasons(connection)
        lag = changes.feed_lag(connection)
    redis_error = None
    queues: list[Any] = []
    in_flight = 0
    workers: list[heartbeat.WorkerBeat] = []
    try:
        queues, in_flight = queue_depths(intake.redis, settings)
        workers = heartbeat.recent_workers(intake.redis, settings)
    except redis.RedisError as exc:
        redis_error = f"Redis is unreachable ({type(exc).__name__})"
    now = datetime.now(UTC)
    context = {
        "counts": {
            status.value: counts.get(status.value, 0)
            for status in Status
            if status != Status.queued
        },
        "queued": sum(queue.depth for queue in queues),
        "throughput": throughput,
        "throughput_max": max([1, *(b["done"] + b["failed"] for b in throughput)]),
        "finished_last_hour": sum(b["done"] + b["failed"] for b in throughput),
        "queues": [
            {
                "name": queue.queue,
                "depth": queue.depth,
                "oldest_age": (now - queue.oldest_received_at).total_seconds()
                if queue.oldest_received_at
                else None,
            }
            for queue in queues
        ],
        "in_flight": in_flight,
        "workers": workers,
        "heartbeat_every": heartbeat.HEARTBEAT_SECONDS,
        "live_within": heartbeat.LIVE_WITHIN_SECONDS,
        "failures": failures,
        "lag": lag,
        "redis_error": redis_error,
    }
    return page(request, viewer, "overview.html", context)


# -- articles --------------------------------------------------------------------------


def _date(value: str, name: str, end: bool = False) -> datetime | None:
    """A date (2024-06-01: the day's start, or the next day's for an upper bound) or an
    ISO date-time; naive is UTC."""
    value = value.strip()
    if not value:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime.combine(day + timedelta(days=1) if end else day, time(), UTC)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name}: {value!r} is not a date (2024-06-01) or ISO date-time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@router.get("/articles", response_class=HTMLResponse)
def articles_page(request: Request, viewer: ViewerDep, settings: SettingsDep) -> HTMLResponse:
    params = request.query_params
    form = {
        name: clean_text(params.get(name, ""))
        for name in ("q", *LIST_FILTERS, "quoted", "published_after", "published_before", "status")
    }
    lists = {
        name: [clean_text(v).strip() for v in params.getlist(name) if v.strip()]
        for name in LIST_FILTERS
    }
    cursor = params.get("cursor") or None
    error = None
    rows: list[dict[str, Any]] = []
    next_cursor = None
    try:
        status = Status(form["status"] or "done")
        filters = search.ArticleFilters(
            sources=tuple(lists["source"]),
            languages=tuple(lists["language"]),
            status=status,
            published_after=_date(form["published_after"], "published after"),
            published_before=_date(form["published_before"], "published before", end=True),
            q=form["q"].strip() or None,
            extra=search.enrichment_conditions(
                entities=lists["entity"],
                cited_sources=lists["cited_source"],
                quoted=form["quoted"].strip() or None,
            ),
        )
        with database(settings, "q") as connection:
            rows, next_cursor = search.list_articles(connection, filters, PAGE_SIZE, cursor)
    except (ValueError, BadCursor) as exc:
        error = str(exc)
    except ProblemError as exc:
        error = exc.problem.detail or exc.problem.title
    next_query = None
    if next_cursor:
        kept = [(k, v) for k, v in params.multi_items() if k != "cursor" and v]
        next_query = urlencode([*kept, ("cursor", next_cursor)])
    context = {
        "form": form,
        "rows": rows,
        "error": error,
        "next_query": next_query,
        "statuses": [s.value for s in Status if s != Status.queued],
    }
    return page(request, viewer, "articles.html", context)


@router.get("/articles/{article_id}", response_class=HTMLResponse)
def article_page(
    request: Request, viewer: ViewerDep, settings: SettingsDep, article_id: uuid.UUID
) -> HTMLResponse:
    intake: SubmissionIntake = request.app.state.intake
    with database(settings) as connection:
        row = submissions.get_submission(connection, article_id)
        document = (
            articles.get_article_document(connection, article_id)
            if row and row["status"] == Status.done
            else None
        )
        duplicate_rows = translations = []
        if document is not None:
            duplicate_rows = duplicates.stored_duplicates(connection, article_id)
            translations = related.find_translations(connection, article_id)
    if row is None:
        try:
            queued = intake.is_queued(article_id)
        except redis.RedisError:
            queued = False
        if not queued:
            context: dict[str, Any] = {
                "title": "Not found",
                "message": f"No submission {article_id}.",
            }
            return page(request, viewer, "error.html", context, 404)
    context = {
        "id": article_id,
        "row": row,
        "status": row["status"] if row else "queued",
        "doc": document,
        "body": highlight.body_html(document) if document else None,
        "duplicates": duplicate_rows,
        "translations": translations,
        "metadata": _metadata(document) if document else [],
    }
    return page(request, viewer, "article.html", context)


METADATA_FIELDS = (
    "url",
    "language",
    "language_confidence",
    "published_at",
    "modified_at",
    "authors",
    "site",
    "byline",
    "dateline",
    "source_line",
    "tags",
    "alternates",
    "word_count",
    "content_hash",
    "source",
    "external_id",
    "received_at",
    "processed_at",
)


def _metadata(document: dict[str, Any]) -> list[tuple[str, Any, str]]:
    provenance = document.get("provenance") or {}
    return [
        (name, document.get(name), provenance.get(name, ""))
        for name in METADATA_FIELDS
        if document.get(name) not in (None, [], "")
    ]


# -- entities --------------------------------------------------------------------------


@router.get("/entities/{key:path}", response_class=HTMLResponse)
def entity_page(
    request: Request, viewer: ViewerDep, settings: SettingsDep, key: str, before: str = ""
) -> HTMLResponse:
    key = clean_text(key)
    try:
        before_id = uuid.UUID(before) if before else None
    except ValueError:
        before_id = None
    with database(settings) as connection:
        entity = entities.get_entity(connection, key)
        if entity is None:
            context: dict[str, Any] = {"title": "Not found", "message": f"No entity {key!r}."}
            return page(request, viewer, "error.html", context, 404)
        timeline = entities.entity_timeline(connection, key)
        seen_with = entities.co_entities(connection, key)
        items = entities.entity_articles(connection, key, PAGE_SIZE, before_id)
    context = {
        "entity": entity,
        "timeline": timeline,
        "timeline_max": max([1, *(t["articles"] for t in timeline)]),
        "seen_with": seen_with,
        "items": items,
        "next_before": items[-1]["id"] if len(items) == PAGE_SIZE else None,
    }
    return page(request, viewer, "entity.html", context)


# -- submissions -----------------------------------------------------------------------


@router.get("/submissions", response_class=HTMLResponse)
def submissions_page(
    request: Request,
    viewer: ViewerDep,
    settings: SettingsDep,
    status: str = "failed",
    after: str = "",
    notice: str = "",
) -> HTMLResponse:
    if not viewer.allows("admin"):
        return forbidden(
            request, viewer, "Failed submissions and their payloads need an admin key."
        )
    state = Status.dead if status == "dead" else Status.failed
    try:
        after_id = uuid.UUID(after) if after else None
    except ValueError:
        after_id = None
    with database(settings) as connection:
        # newest first: the failure an operator is looking into is usually the latest
        rows = submissions.list_submissions(
            connection, state, PAGE_SIZE, after_id, newest_first=True
        )
    context = {
        "state": state.value,
        "rows": rows,
        "next_after": rows[-1]["id"] if len(rows) == PAGE_SIZE else None,
        "notice": notice,
    }
    return page(request, viewer, "submissions.html", context)


def _run_again(
    request: Request, viewer: Viewer, settings: Settings, submission_id: uuid.UUID, how: str
) -> Response:
    if not viewer.allows("admin"):
        return forbidden(request, viewer, f"To {how} a submission needs an admin key.")
    intake: SubmissionIntake = request.app.state.intake
    action = (
        submission_routes.replay_submission
        if how == "replay"
        else submission_routes.reprocess_submission
    )
    try:
        action(settings, intake, submission_id)
    except ProblemError as exc:
        message = exc.problem.detail or exc.problem.title
        return RedirectResponse(f"/submissions?{urlencode({'notice': message})}", status_code=303)
    return RedirectResponse(f"/articles/{submission_id}", status_code=303)


@router.post("/submissions/{submission_id}/replay")
def replay(
    request: Request, viewer: ViewerDep, settings: SettingsDep, _: CsrfDep, submission_id: uuid.UUID
) -> Response:
    return _run_again(request, viewer, settings, submission_id, "replay")


@router.post("/submissions/{submission_id}/reprocess")
def reprocess(
    request: Request, viewer: ViewerDep, settings: SettingsDep, _: CsrfDep, submission_id: uuid.UUID
) -> Response:
    return _run_again(request, viewer, settings, submission_id, "reprocess")


@router.get("/sources", response_class=HTMLResponse)
def sources_page(request: Request, viewer: ViewerDep, settings: SettingsDep) -> HTMLResponse:
    """The feeds newsflow polls and each one's health, as `GET /v1/sources` (admin) gives."""
    if not viewer.allows("admin"):
        return forbidden(request, viewer, "Sources and their health need an admin key.")
    with database(settings) as connection:
        rows = sources.list_sources(connection)
    return page(request, viewer, "sources.html", {"rows": rows})
