"""A Python client of the newsflow HTTP API: ``Client`` (blocking) and ``AsyncClient``
(asyncio), over httpx, typed with the contract's models (newsflow/contract.py).

Lists are iterators that page for you (``cursor`` in, ``next_cursor`` out); the change
feed yields ``(cursor, change)`` so the caller can store the cursor once it has handled
the change, and resume from it. 429 and 503 are retried after their ``Retry-After``
(bounded: see ``Backoff``); every other failure is a typed exception carrying the
problem+json the API answered (``ApiError``), or ``ApiUnreachable`` when no answer came.

    with Client("http://127.0.0.1:8000", api_key=key) as client:
        accepted = client.submit({"source": "crawler", "text": text})
        for cursor, change in client.follow(cursor=saved_cursor):
            handle(change)
            save(cursor)
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from newsflow.contract import (
    Accepted,
    ArticleDocument,
    ArticlePage,
    ArticleSummary,
    BatchAccepted,
    Entity,
    EntityArticle,
    EntityArticlePage,
    EntityPage,
    FeedItem,
    FeedPage,
    ItemResult,
    Problem,
    Related,
    Submission,
)

__all__ = [
    "ApiError",
    "ApiUnreachable",
    "AsyncClient",
    "Backoff",
    "Client",
    "CursorTooOld",
    "ExportPage",
    "NewsflowError",
    "NotFound",
    "RateLimited",
    "Unavailable",
]

DEFAULT_URL = "http://127.0.0.1:8000"
BATCH_SIZE = 500  # items per POST /v1/articles/batch (the API takes up to 1,000)
M = TypeVar("M", bound=BaseModel)


class NewsflowError(Exception):
    """Anything this client raises."""


class ApiUnreachable(NewsflowError):
    """No answer from the API: nothing listens there, the connection broke, or it timed
    out."""

    def __init__(self, url: str, cause: Exception) -> None:
        reason = str(cause) or type(cause).__name__
        super().__init__(f"cannot reach the newsflow API at {url}: {reason}")
        self.url = url


class ApiError(NewsflowError):
    """The API answered with an error: ``problem`` is its problem+json (status, type,
    title, detail, and ``errors`` naming the fields)."""

    def __init__(self, problem: Problem, headers: httpx.Headers | None = None) -> None:
        text = f"{problem.status} {problem.title}"
        super().__init__(f"{text}: {problem.detail}" if problem.detail else text)
        self.problem = problem
        self.headers = headers or httpx.Headers()

    @property
    def status(self) -> int:
        return self.problem.status

    @property
    def type(self) -> str:
        return self.problem.type

    @property
    def title(self) -> str:
        return self.problem.title

    @property
    def detail(self) -> str | None:
        return self.problem.detail


class NotFound(ApiError):
    """404: no such article, entity or submission."""


class RetryLater(ApiError):
    """429 or 503: ``retry_after`` is how long the API asked to wait (seconds; None if it
    did not say). Raised once the client's ``Backoff`` gave up."""

    @property
    def retry_after(self) -> float | None:
        return retry_after_seconds(self.headers.get("Retry-After"))


class RateLimited(RetryLater):
    """429: over the key's rate limit."""


class Unavailable(RetryLater):
    """503: a dependency of the API (Redis, PostgreSQL) is down."""


class CursorTooOld(ApiError):
    """410 from the change feed: changes after the cursor were pruned; ``resume_after``
    is where the oldest change still kept follows."""

    @property
    def resume_after(self) -> str | None:
        value = (self.problem.model_extra or {}).get("resume_after")
        return str(value) if value is not None else None


class _AnyProblem(Problem, extra="allow"):
    """A problem with the fields some errors add (``resume_after``)."""


_ERRORS: dict[int, type[ApiError]] = {
    404: NotFound,
    410: CursorTooOld,
    429: RateLimited,
    503: Unavailable,
}


def retry_after_seconds(value: str | None) -> float | None:
    """A ``Retry-After`` header's delay: seconds, or an HTTP date (RFC 9110)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _error(response: httpx.Response) -> ApiError:
    try:
        problem: Problem = _AnyProblem.model_validate(response.json())
    except ValueError:
        problem = _AnyProblem(
            title=response.reason_phrase or "Error",
            status=response.status_code,
            detail=response.text[:200] or None,
        )
    problem.status = response.status_code  # the status line is what happened
    return _ERRORS.get(response.status_code, ApiError)(problem, response.headers)


@dataclass(frozen=True)
class Backoff:
    """How 429 and 503 are retried: after the answer's ``Retry-After`` (or, without one,
    exponential backoff from ``base`` seconds, with jitter), at most ``attempts`` times
    in all, and never waiting longer than ``max_wait`` for one retry: an answer asking for
    more is raised at once (``RetryLater.retry_after`` says how long)."""

    attempts: int = 5
    max_wait: float = 65.0  # a rate-limit window is one minute
    base: float = 0.5

    def delay(self, attempt: int, response: httpx.Response) -> float | None:
        """Seconds to wait before retrying ``response`` (attempt ``attempt``, from 1), or
        None to give up."""
        if response.status_code not in (429, 503) or attempt >= self.attempts:
            return None
        asked = retry_after_seconds(response.headers.get("Retry-After"))
        wait = asked if asked is not None else self.base * 2 ** (attempt - 1)
        if wait > self.max_wait:
            return None
        return wait * random.uniform(1.0, 1.1)  # not every client back at the same instant


# called before each wait: (seconds, the answer that asked for it), e.g. to say so
OnWait = Callable[[float, httpx.Response], None]


@dataclass(frozen=True)
class _Request:
    method: str
    path: str
    params: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class ExportPage:
    """One page of ``export_pages``: the documents, and the cursor after them (None on
    the last page). Resume an export from ``next_cursor``."""

    documents: list[ArticleDocument]
    next_cursor: str | None


def _params(values: dict[str, Any]) -> dict[str, Any]:
    """Query parameters without the ones not given; sequences repeat the parameter."""
    return {
        name: list(value) if isinstance(value, tuple | list) else value
        for name, value in values.items()
        if value is not None and value != [] and value != ()
    }


def _filters(
    *,
    q: str | None = None,
    source: str | Sequence[str] | None = None,
    language: str | Sequence[str] | None = None,
    status: str | None = None,
    entity: str | Sequence[str] | None = None,
    cited_source: str | Sequence[str] | None = None,
    quoted: str | None = None,
    published_after: datetime | str | None = None,
    published_before: datetime | str | None = None,
    received_after: datetime | str | None = None,
    received_before: datetime | str | None = None,
) -> dict[str, Any]:
    """The filters GET /v1/articles and GET /v1/export take (see the README)."""
    values = dict(locals())
    return _params(
        {
            name: value.isoformat() if isinstance(value, datetime) else value
            for name, value in values.items()
        }
    )


def _submission_json(submission: Submission | dict[str, Any]) -> dict[str, Any]:
    if isinstance(submission, Submission):
        return submission.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    return submission


def _next_cursor(response: httpx.Response) -> str | None:
    """The ``cursor`` of the ``Link: <…>; rel="next"`` header, if there is a next page."""
    link = response.links.get("next")
    if not link or "url" not in link:
        return None
    return httpx.URL(link["url"]).params.get("cursor")


def _documents(response: httpx.Response) -> list[ArticleDocument]:
    return [ArticleDocument.model_validate_json(line) for line in response.text.splitlines()]


def _rebased(page: BatchAccepted, offset: int) -> list[ItemResult]:
    return [item.model_copy(update={"index": item.index + offset}) for item in page.items]


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class _Base:
    def __init__(
        self,
        base_url: str = DEFAULT_URL,
        *,
        api_key: str | None = None,
        timeout: float = 30.0,
        backoff: Backoff | None = None,
        on_wait: OnWait | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.backoff = backoff or Backoff()
        self.on_wait = on_wait
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._timeout = timeout

    def _answer(self, response: httpx.Response, attempt: int) -> float | None:
        """None when ``response`` is the answer (raising it if it is an error), else the
        seconds to wait before trying again."""
        if response.status_code < 400:
            return None
        wait = self.backoff.delay(attempt, response)
        if wait is None:
            raise _error(response)
        if self.on_wait is not None:
            self.on_wait(wait, response)
        return wait

    def _unreachable(self, exc: httpx.TransportError) -> ApiUnreachable:
        return ApiUnreachable(self.base_url, exc)


class Client(_Base):
    """The blocking client. Use it as a context manager, or call ``close()``.

    ``backoff`` says how 429 and 503 are retried; ``on_wait(seconds, response)`` is
    called before each such wait."""

    def __init__(self, base_url: str = DEFAULT_URL, **options: Any) -> None:
        transport = options.pop("transport", None)
        super().__init__(base_url, **options)
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=self._headers,
            timeout=self._timeout,
            transport=transport,
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _send(self, request: _Request) -> httpx.Response:
        attempt = 1
        while True:
            try:
                response = self._http.request(
                    request.method,
                    request.path,
                    params=request.params,
                    json=request.json,
                    headers=request.headers,
                )
            except httpx.TransportError as exc:
                raise self._unreachable(exc) from exc
            wait = self._answer(response, attempt)
            if wait is None:
                return response
            time.sleep(wait)
            attempt += 1

    def _model(self, model: type[M], request: _Request) -> M:
        return model.model_validate_json(self._send(request).content)

    def request(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None
    ) -> Any:
        """Any other endpoint (e.g. the admin ``/v1/submissions``): its JSON answer, with the
        same retries and typed errors."""
        response = self._send(_Request(method, path, _params(params or {}), json))
        return response.json() if response.content else None

    # -- submitting --

    def submit(
        self, submission: Submission | dict[str, Any], *, idempotency_key: str | None = None
    ) -> Accepted:
        """Submit one article (``POST /v1/articles``). Retries are safe: each call sends an
        ``Idempotency-Key`` (``idempotency_key``, or a new one), so a retried request
        answers the first one's id."""
        key = idempotency_key or str(uuid.uuid4())
        return self._model(
            Accepted,
            _Request(
                "POST",
                "/v1/articles",
                json=_submission_json(submission),
                headers={"Idempotency-Key": key},
            ),
        )

    def submit_many(
        self, submissions: Iterable[Submission | dict[str, Any]], *, batch_size: int = BATCH_SIZE
    ) -> Iterator[ItemResult]:
        """Submit many through ``POST /v1/articles/batch``, ``batch_size`` a request,
        yielding each item's result (``index``: its place in ``submissions``) as its batch
        is answered. An invalid item is refused alone (its ``error`` says why)."""
        offset = 0
        for chunk in _chunks(submissions, batch_size):
            body = [_submission_json(item) for item in chunk]
            page = self._model(BatchAccepted, _Request("POST", "/v1/articles/batch", json=body))
            yield from _rebased(page, offset)
            offset += len(chunk)

    # -- reading --

    def get(self, article_id: uuid.UUID | str) -> ArticleDocument:
        """One article: its status, and its document once done."""
        return self._model(ArticleDocument, _Request("GET", f"/v1/articles/{article_id}"))

    def related(self, article_id: uuid.UUID | str) -> Related:
        """An article's duplicates and translations."""
        return self._model(Related, _Request("GET", f"/v1/articles/{article_id}/related"))

    def search(self, *, page_size: int = 100, **filters: Any) -> Iterator[ArticleSummary]:
        """Every article matching the filters (``q``, ``source``, ``language``, ``status``,
        ``entity``, …; see the README), newest first or by relevance to ``q``."""
        params = {**_filters(**filters), "limit": page_size}
        while True:
            page = self._model(ArticlePage, _Request("GET", "/v1/articles", params))
            yield from page.items
            if page.next_cursor is None:
                return
            params["cursor"] = page.next_cursor

    def export_pages(
        self, *, cursor: str | None = None, page_size: int = 1000, **filters: Any
    ) -> Iterator[ExportPage]:
        """The documents of every matching article (``GET /v1/export``), a page at a
        time, from ``cursor`` (a page's ``next_cursor``) on."""
        params = {**_filters(**filters), "limit": page_size}
        while True:
            if cursor is not None:
                params["cursor"] = cursor
            response = self._send(_Request("GET", "/v1/export", params))
            cursor = _next_cursor(response)
            yield ExportPage(_documents(response), cursor)
            if cursor is None:
                return

    def export(self, *, page_size: int = 1000, **filters: Any) -> Iterator[ArticleDocument]:
        """The document of every matching article, in the order of ``search``."""
        for page in self.export_pages(page_size=page_size, **filters):
            yield from page.documents

    def feed_page(
        self, cursor: str | None = None, *, limit: int = 100, include_document: bool = False
    ) -> FeedPage:
        """One page of the change feed after ``cursor`` (None: the oldest change kept;
        ``"now"``: only changes from now on)."""
        params = _params(
            {"cursor": cursor, "limit": limit, "include": "document" if include_document else None}
        )
        return self._model(FeedPage, _Request("GET", "/v1/feed", params))

    def follow(
        self,
        cursor: str | None = "now",
        *,
        include_document: bool = False,
        poll_interval: float = 1.0,
        until_caught_up: bool = False,
        limit: int = 100,
    ) -> Iterator[tuple[str, FeedItem]]:
        """Every change after ``cursor``, for ever (or until caught up), as ``(cursor,
        change)``: store the cursor once the change is handled, and pass it back to resume
        without missing or repeating one. A cursor older than the feed's retention raises
        ``CursorTooOld`` (its ``resume_after`` continues from the oldest change kept)."""
        while True:
            page = self.feed_page(cursor, limit=limit, include_document=include_document)
            for item in page.items:
                yield item.cursor, item
            cursor = page.next_cursor
            if page.caught_up:
                if until_caught_up:
                    return
                time.sleep(poll_interval)

    def entities(
        self, q: str, *, type: str | None = None, page_size: int = 100
    ) -> Iterator[Entity]:
        """Entities whose name, in any language, starts with ``q``; most mentioned first."""
        params = _params({"q": q, "type": type, "limit": page_size})
        while True:
            page = self._model(EntityPage, _Request("GET", "/v1/entities", params))
            yield from page.items
            if page.next_cursor is None:
                return
            params["cursor"] = page.next_cursor

    def entity_articles(self, key: str, *, page_size: int = 100) -> Iterator[EntityArticle]:
        """The articles that mention an entity (by its key), newest first."""
        params: dict[str, Any] = {"limit": page_size}
        while True:
            page = self._model(
                EntityArticlePage, _Request("GET", f"/v1/entities/{key}/articles", params)
            )
            yield from page.items
            if page.next_cursor is None:
                return
            params["cursor"] = page.next_cursor


class AsyncClient(_Base):
    """The asyncio client: the same methods as ``Client``, awaited; lists are async
    iterators. Use it as an async context manager, or call ``aclose()``."""

    def __init__(self, base_url: str = DEFAULT_URL, **options: Any) -> None:
        transport = options.pop("transport", None)
        super().__init__(base_url, **options)
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers=self._headers,
            timeout=self._timeout,
            transport=transport,
        )

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _send(self, request: _Request) -> httpx.Response:
        attempt = 1
        while True:
            try:
                response = await self._http.request(
                    request.method,
                    request.path,
                    params=request.params,
                    json=request.json,
                    headers=request.headers,
                )
            except httpx.TransportError as exc:
                raise self._unreachable(exc) from exc
            wait = self._answer(response, attempt)
            if wait is None:
                return response
            await asyncio.sleep(wait)
            attempt += 1

    async def _model(self, model: type[M], request: _Request) -> M:
        return model.model_validate_json((await self._send(request)).content)

    async def request(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None
    ) -> Any:
        """See ``Client.request``."""
        response = await self._send(_Request(method, path, _params(params or {}), json))
        return response.json() if response.content else None

    async def submit(
        self, submission: Submission | dict[str, Any], *, idempotency_key: str | None = None
    ) -> Accepted:
        """See ``Client.submit``."""
        key = idempotency_key or str(uuid.uuid4())
        return await self._model(
            Accepted,
            _Request(
                "POST",
                "/v1/articles",
                json=_submission_json(submission),
                headers={"Idempotency-Key": key},
            ),
        )

    async def submit_many(
        self, submissions: Iterable[Submission | dict[str, Any]], *, batch_size: int = BATCH_SIZE
    ) -> AsyncIterator[ItemResult]:
        """See ``Client.submit_many``."""
        offset = 0
        for chunk in _chunks(submissions, batch_size):
            body = [_submission_json(item) for item in chunk]
            request = _Request("POST", "/v1/articles/batch", json=body)
            for item in _rebased(await self._model(BatchAccepted, request), offset):
                yield item
            offset += len(chunk)

    async def get(self, article_id: uuid.UUID | str) -> ArticleDocument:
        return await self._model(ArticleDocument, _Request("GET", f"/v1/articles/{article_id}"))

    async def related(self, article_id: uuid.UUID | str) -> Related:
        return await self._model(Related, _Request("GET", f"/v1/articles/{article_id}/related"))

    async def search(
        self, *, page_size: int = 100, **filters: Any
    ) -> AsyncIterator[ArticleSummary]:
        """See ``Client.search``."""
        params = {**_filters(**filters), "limit": page_size}
        while True:
            page = await self._model(ArticlePage, _Request("GET", "/v1/articles", params))
            for item in page.items:
                yield item
            if page.next_cursor is None:
                return
            params["cursor"] = page.next_cursor

    async def export_pages(
        self, *, cursor: str | None = None, page_size: int = 1000, **filters: Any
    ) -> AsyncIterator[ExportPage]:
        """See ``Client.export_pages``."""
        params = {**_filters(**filters), "limit": page_size}
        while True:
            if cursor is not None:
                params["cursor"] = cursor
            response = await self._send(_Request("GET", "/v1/export", params))
            cursor = _next_cursor(response)
            yield ExportPage(_documents(response), cursor)
            if cursor is None:
                return

    async def export(
        self, *, page_size: int = 1000, **filters: Any
    ) -> AsyncIterator[ArticleDocument]:
        async for page in self.export_pages(page_size=page_size, **filters):
            for document in page.documents:
                yield document

    async def feed_page(
        self, cursor: str | None = None, *, limit: int = 100, include_document: bool = False
    ) -> FeedPage:
        params = _params(
            {"cursor": cursor, "limit": limit, "include": "document" if include_document else None}
        )
        return await self._model(FeedPage, _Request("GET", "/v1/feed", params))

    async def follow(
        self,
        cursor: str | None = "now",
        *,
        include_document: bool = False,
        poll_interval: float = 1.0,
        until_caught_up: bool = False,
        limit: int = 100,
    ) -> AsyncIterator[tuple[str, FeedItem]]:
        """See ``Client.follow``."""
        while True:
            page = await self.feed_page(cursor, limit=limit, include_document=include_document)
            for item in page.items:
                yield item.cursor, item
            cursor = page.next_cursor
            if page.caught_up:
                if until_caught_up:
                    return
                await asyncio.sleep(poll_interval)

    async def entities(
        self, q: str, *, type: str | None = None, page_size: int = 100
    ) -> AsyncIterator[Entity]:
        params = _params({"q": q, "type": type, "limit": page_size})
        while True:
            page = await self._model(EntityPage, _Request("GET", "/v1/entities", params))
            for item in page.items:
                yield item
            if page.next_cursor is None:
                return
            params["cursor"] = page.next_cursor

    async def entity_articles(
        self, key: str, *, page_size: int = 100
    ) -> AsyncIterator[EntityArticle]:
        params: dict[str, Any] = {"limit": page_size}
        while True:
            page = await self._model(
                EntityArticlePage, _Request("GET", f"/v1/entities/{key}/articles", params)
            )
            for item in page.items:
                yield item
            if page.next_cursor is None:
                return
            params["cursor"] = page.next_cursor
