"""`GET /v1/entities`: the people, organisations and places articles mention, one entry
per real-world entity whatever the language, with the articles that mention them."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from api.auth import AUTH_RESPONSES, require_scope
from api.deps import SettingsDep, database
from api.paging import chosen_cursor, link_next
from api.problems import ProblemError, field_problem, problem_responses
from newsflow.contract import Entity, EntityArticle, EntityArticlePage, EntityPage, clean_text
from newsflow.store import entities

router = APIRouter(
    prefix="/v1/entities",
    tags=["entities"],
    dependencies=[Depends(require_scope("read"))],
    responses={
        **AUTH_RESPONSES,
        **problem_responses(404, 422, 503),
    },
)


@router.get(
    "",
    response_model=EntityPage,
    summary="Search entities by name, in any language; most mentioned first",
)
def search_entities(
    request: Request,
    response: Response,
    settings: SettingsDep,
    q: Annotated[str, Query(min_length=1, max_length=200, description="Name prefix.")],
    type: Annotated[str | None, Query(max_length=20, description="PER, ORG, LOC, …")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[
        str | None,
        Query(pattern=entities.CURSOR_PATTERN, description="`next_cursor` of the previous page."),
    ] = None,
) -> EntityPage:
    try:
        after = entities.decode_cursor(cursor) if cursor else None
    except ValueError as exc:
        raise field_problem("cursor", str(exc)) from exc
    with database(settings, "q", replica=True) as connection:
        rows = entities.search_entities(
            connection, clean_text(q), clean_text(type) if type else None, limit, after
        )
    items = [Entity(**row) for row in rows]
    next_cursor = (
        entities.encode_cursor(items[-1].articles, items[-1].key) if len(items) == limit else None
    )
    link_next(request, response, next_cursor)
    return EntityPage(items=items, next_cursor=next_cursor)


@router.get(
    "/{key}/articles",
    response_model=EntityArticlePage,
    summary="Articles that mention an entity, newest first",
)
def entity_articles(
    request: Request,
    response: Response,
    settings: SettingsDep,
    key: str,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[
        uuid.UUID | None, Query(description="`next_cursor` of the previous page.")
    ] = None,
    before: Annotated[
        uuid.UUID | None, Query(deprecated=True, description="The old name of `cursor`.")
    ] = None,
) -> EntityArticlePage:
    key = clean_text(key)
    before = chosen_cursor(request, response, cursor, "before", before)
    with database(settings, replica=True) as connection:
        entity: dict[str, Any] | None = entities.get_entity(connection, key)
        if entity is None:
            raise ProblemError(404, "Not found", f"no entity {key!r}")
        rows = entities.entity_articles(connection, key, limit, before)
    items = [EntityArticle(**row) for row in rows]
    last = items[-1].id if len(items) == limit else None
    link_next(request, response, last.hex if last else None, "before")
    return EntityArticlePage(
        entity=Entity(**entity),
        items=items,
        next_cursor=last.hex if last else None,
        next_before=last,  # the old name, for clients of the last version
    )
