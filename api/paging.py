"""One paging convention for every list: ``cursor`` in, ``next_cursor`` out, and an RFC 8288
``Link: <…>; rel="next"`` header when there is a next page.

The names lists used before (``after`` / ``before`` in, ``next`` / ``next_after`` /
``next_before`` out) keep working for one version: a request that uses one is answered
as before, with an RFC 9745 ``Deprecation`` header and a ``rel="deprecation"`` link."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TypeVar

from fastapi import Request, Response

C = TypeVar("C")

# when the old names were deprecated (RFC 9745: a structured-field date, "@" epoch seconds)
DEPRECATED_SINCE = int(datetime(2026, 12, 3, tzinfo=UTC).timestamp())


def _add_link(response: Response, link: str) -> None:
    existing = response.headers.get("Link")
    response.headers["Link"] = f"{existing}, {link}" if existing else link


def chosen_cursor(
    request: Request, response: Response, cursor: C | None, old_name: str, old: C | None
) -> C | None:
    """The cursor a request gives, as ``cursor`` or (deprecated) as ``old_name``; given
    both, ``cursor`` wins (each is valid alone, so neither can be refused). The old name
    marks the response deprecated."""
    if old is None:
        return cursor
    response.headers["Deprecation"] = f"@{DEPRECATED_SINCE}"
    docs = f"{request.app.state.settings.base_url}/docs"
    _add_link(response, f'<{docs}>; rel="deprecation"')
    return cursor if cursor is not None else old


def link_next(
    request: Request, response: Response, next_cursor: str | None, old_name: str | None = None
) -> None:
    """``Link: <this request with cursor=next_cursor>; rel="next"``, when there is a next
    page; an ``old_name`` parameter is replaced by ``cursor`` in it."""
    if next_cursor is None:
        return
    url = request.url
    if old_name is not None:
        url = url.remove_query_params(old_name)
    url = url.include_query_params(cursor=next_cursor)
    base_url = request.app.state.settings.base_url
    _add_link(response, f'<{base_url}{url.path}?{url.query}>; rel="next"')
