"""Webhook subscriptions (``admin`` scope): create, list, show, update, delete, their
attempts, dead letters and replay. Delivery is the worker's (``worker/webhooks.py``); the
SQL is in ``newsflow/store/webhooks.py``.

A URL is checked like a fetch (``worker.fetch``, a module without the pipeline: no private,
loopback or metadata address unless ``NEWSFLOW_WEBHOOK_ALLOWED_NETWORKS`` lists it, ports
from ``NEWSFLOW_WEBHOOK_ALLOWED_PORTS``), here for a 422 at once, and again at every
delivery, since what a name resolves to can change."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Response
from pydantic import BaseModel, Field, model_validator
from starlette.concurrency import run_in_threadpool

from api.auth import AUTH_RESPONSES, require_scope
from api.deps import SettingsDep, database
from api.problems import ProblemError, field_problem, problem_responses
from newsflow.settings import Settings
from newsflow.store import changes, search
from newsflow.store import webhooks as store
from newsflow.store.changes import BadCursor
from newsflow.store.search import FilterParameters
from newsflow.webhooks import new_secret
from worker.fetch import FetchError, check_url, webhook_policy

router = APIRouter(
    prefix="/v1/webhooks",
    tags=["webhooks"],
    dependencies=[Depends(require_scope("admin"))],
    responses={**AUTH_RESPONSES, **problem_responses(404, 422)},
)

START = "beginning"
START_DESCRIPTION = (
    "Where delivery starts: `now` (changes from now on), `beginning` (the oldest change the "
    "feed keeps) or a feed cursor (the changes after it)."
)
START_PATTERN = f"^(now|{START})$|{changes.CURSOR_PATTERN}"
# ids are bigints: 18 digits always fit
PAGE_CURSOR = Query(pattern="^[0-9]{1,18}$", description="`next_cursor` of the previous page.")


class _Body(BaseModel):
    """A request body PostgreSQL can store: no NUL in any string (text and jsonb refuse it)."""

    @model_validator(mode="after")
    def _no_nul(self) -> _Body:
        if "\\u0000" in self.model_dump_json():
            raise ValueError("a value contains a NUL character (\\u0000)")
        return self


class WebhookLinks(BaseModel):
    self: str
    attempts: str
    dead: str


class Delivery(BaseModel):
    pending: str | None = Field(
        description="The feed cursor of the change being retried; nothing after it is sent "
        "until it is delivered or dead-lettered."
    )
    attempts: int = Field(description="Failed attempts of the pending change.")
    next_attempt_at: datetime | None
    last_error: str | None = Field(
        description="The most recent failure (or skip of pruned changes), kept after later "
        "successes."
    )
    delivered_at: datetime | None = Field(description="The last successful delivery.")


class Webhook(BaseModel):
    id: uuid.UUID
    url: str
    filters: FilterParameters
    include_document: bool
    active: bool
    description: str | None
    cursor: str = Field(description="Every change up to this feed cursor is done with.")
    delivery: Delivery
    dead: int = Field(description="Dead letters not being replayed.")
    created_at: datetime
    updated_at: datetime
    links: WebhookLinks


class WebhookCreated(Webhook):
    secret: str = Field(description="Signs every delivery; shown once (set a new one by PATCH).")


class WebhookList(BaseModel):
    items: list[Webhook]


class WebhookCreate(_Body):
    url: str = Field(max_length=2048, description="Where changes are POSTed.")
    secret: str | None = Field(
        default=None,
        min_length=16,
        max_length=200,
        description="HMAC-SHA256 key of the signatures; generated when omitted.",
    )
    filters: FilterParameters = Field(
        default_factory=FilterParameters,
        description="The filters of `GET /v1/articles`, by parameter name.",
    )
    include_document: bool = Field(default=False, description="Send each article's document.")
    active: bool = True
    description: str | None = Field(default=None, max_length=500)
    cursor: str = Field(default="now", pattern=START_PATTERN, description=START_DESCRIPTION)


class WebhookUpdate(_Body):
    """Only the fields sent change (null leaves one as it is; `description: null` clears
    it). A new `cursor` restarts delivery after it."""

    url: str | None = Field(default=None, max_length=2048)
    secret: str | None = Field(default=None, min_length=16, max_length=200)
    filters: FilterParameters | None = None
    include_document: bool | None = None
    active: bool | None = None
    description: str | None = Field(default=None, max_length=500)
    cursor: str | None = Field(default=None, pattern=START_PATTERN, description=START_DESCRIPTION)


class DeadLetter(BaseModel):
    id: str
    cursor: str = Field(description="The change's feed cursor.")
    change: dict[str, Any] = Field(description="The body that was sent.")
    attempts: int
    last_error: str | None
    dead_at: datetime
    replay_requested_at: datetime | None


class DeadLetterPage(BaseModel):
    items: list[DeadLetter]
    next_cursor: str | None


class Attempt(BaseModel):
    id: str
    article_id: uuid.UUID
    cursor: str
    attempt: int = Field(description="1 for the first try of this change, 2 for its retry…")
    replay: bool
    status_code: int | None
    error: str | None = Field(description="Null for a delivered (2xx) attempt.")
    attempted_at: datetime


class AttemptPage(BaseModel):
    items: list[Attempt]
    next_cursor: str | None


class Replay(_Body):
    ids: list[str] | None = Field(
        default=None, description="Dead letters to replay; all of them when omitted."
    )


class Replaying(BaseModel):
    replaying: int = Field(description="Dead letters marked to be delivered again.")


def _out(settings: Settings, webhook: store.Webhook) -> dict[str, Any]:
    base = f"{settings.base_url}/v1/webhooks/{webhook.id}"
    return {
        "id": webhook.id,
        "url": webhook.url,
        "filters": webhook.filters,
        "include_document": webhook.include_document,
        "active": webhook.active,
        "description": webhook.description,
        "cursor": changes.encode_cursor(*webhook.cursor),
        "delivery": Delivery(
            pending=changes.encode_cursor(*webhook.pending) if webhook.pending else None,
            attempts=webhook.attempts,
            next_attempt_at=webhook.next_attempt_at,
            last_error=webhook.last_error,
            delivered_at=webhook.delivered_at,
        ),
        "dead": webhook.dead,
        "created_at": webhook.created_at,
        "updated_at": webhook.updated_at,
        "links": WebhookLinks(self=base, attempts=f"{base}/attempts", dead=f"{base}/dead"),
    }


async def _checked_url(settings: Settings, url: str) -> str:
    try:  # resolves the host: in a thread
        await run_in_threadpool(check_url, url, webhook_policy(settings))
    except FetchError as exc:
        raise field_problem("url", exc.reason) from exc
    return url


def _check_filters(settings: Settings, filters: FilterParameters) -> None:
    """Run the filters once, so a `q` PostgreSQL cannot parse is a 422 now, not a
    subscription that fails at every delivery."""
    with database(settings, "filters.q" if filters.q else None) as connection:
        search.check_query(connection, filters.to_filters())


def _start(connection: Any, cursor: str) -> tuple[int, int]:
    if cursor == "now":
        return changes.current_end(connection)
    if cursor == START:
        return changes.oldest_cursor(connection)
    try:
        return changes.decode_cursor(cursor)
    except BadCursor as exc:
        raise field_problem("cursor", str(exc)) from exc


def _found(webhook: store.Webhook | None) -> store.Webhook:
    if webhook is None:
        raise ProblemError(404, "Not found", "no such webhook")
    return webhook


WebhookId = Annotated[uuid.UUID, Path(description="The subscription's id.")]


@router.post(
    "", status_code=201, response_model=WebhookCreated, summary="Subscribe a URL to changes"
)
async def create_webhook(settings: SettingsDep, body: WebhookCreate) -> dict[str, Any]:
    url = await _checked_url(settings, body.url)
    await run_in_threadpool(_check_filters, settings, body.filters)
    secret = body.secret or new_secret()
    with database(settings, transaction=True) as connection:
        webhook = store.create(
            connection,
            url=url,
            secret=secret,
            filters=body.filters.model_dump(mode="json", exclude_defaults=True),
            include_document=body.include_document,
            active=body.active,
            description=body.description,
            cursor=_start(connection, body.cursor),
        )
    return {**_out(settings, webhook), "secret": secret}


@router.get("", response_model=WebhookList, summary="Every webhook subscription")
def list_webhooks(settings: SettingsDep) -> dict[str, Any]:
    with database(settings) as connection:
        found = store.list_webhooks(connection)
    return {"items": [_out(settings, webhook) for webhook in found]}


@router.get("/{webhook_id}", response_model=Webhook, summary="A subscription and its delivery")
def show_webhook(settings: SettingsDep, webhook_id: WebhookId) -> dict[str, Any]:
    with database(settings) as connection:
        return _out(settings, _found(store.get(connection, webhook_id)))


@router.patch("/{webhook_id}", response_model=Webhook, summary="Change a subscription")
async def update_webhook(
    settings: SettingsDep, webhook_id: WebhookId, body: WebhookUpdate
) -> dict[str, Any]:
    # null leaves a field as it is, but for description, which it clears
    sent = {
        name: getattr(body, name)
        for name in body.model_fields_set
        if getattr(body, name) is not None or name == "description"
    }
    if "url" in sent:
        await _checked_url(settings, sent["url"])
    if body.filters is not None:
        await run_in_threadpool(_check_filters, settings, body.filters)
        sent["filters"] = body.filters.model_dump(mode="json", exclude_defaults=True)
    with database(settings, transaction=True) as connection:
        if "cursor" in sent:
            sent["cursor"] = _start(connection, sent["cursor"])
        _found(store.get(connection, webhook_id))
        store.update(connection, webhook_id, sent)
        return _out(settings, _found(store.get(connection, webhook_id)))


@router.delete("/{webhook_id}", status_code=204, summary="Unsubscribe")
def delete_webhook(settings: SettingsDep, webhook_id: WebhookId) -> Response:
    with database(settings, transaction=True) as connection:
        if not store.delete(connection, webhook_id):
            raise ProblemError(404, "Not found", "no such webhook")
    return Response(status_code=204)


@router.get(
    "/{webhook_id}/attempts",
    response_model=AttemptPage,
    summary="Delivery attempts, newest first (retries included)",
)
def list_attempts(
    settings: SettingsDep,
    webhook_id: WebhookId,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, PAGE_CURSOR] = None,
) -> dict[str, Any]:
    with database(settings) as connection:
        _found(store.get(connection, webhook_id))
        found = store.list_attempts(connection, webhook_id, limit, int(cursor) if cursor else None)
    items = [
        {**vars(a), "id": str(a.id), "cursor": changes.encode_cursor(*a.cursor)} for a in found
    ]
    return {"items": items, "next_cursor": items[-1]["id"] if len(items) == limit else None}


@router.get(
    "/{webhook_id}/dead",
    response_model=DeadLetterPage,
    summary="Changes given up on after the last attempt, oldest first",
)
def list_dead(
    settings: SettingsDep,
    webhook_id: WebhookId,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, PAGE_CURSOR] = None,
) -> dict[str, Any]:
    with database(settings) as connection:
        _found(store.get(connection, webhook_id))
        found = store.list_dead(connection, webhook_id, limit, int(cursor) if cursor else 0)
    items = [
        {**vars(d), "id": str(d.id), "cursor": changes.encode_cursor(*d.cursor)} for d in found
    ]
    return {"items": items, "next_cursor": items[-1]["id"] if len(items) == limit else None}


@router.post(
    "/{webhook_id}/replay",
    status_code=202,
    response_model=Replaying,
    summary="Deliver dead letters again (before any later change)",
)
def replay_dead(
    settings: SettingsDep,
    webhook_id: WebhookId,
    body: Annotated[Replay | None, Body()] = None,
) -> Replaying:
    ids = None
    if body is not None and body.ids is not None:
        if not all(i.isascii() and i.isdigit() and len(i) <= 18 for i in body.ids):
            raise field_problem("ids", "dead-letter ids are the `id`s of GET …/dead")
        ids = [int(i) for i in body.ids]
    with database(settings, transaction=True) as connection:
        _found(store.get(connection, webhook_id))
        return Replaying(replaying=store.request_replay(connection, webhook_id, ids))
