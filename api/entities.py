"""`GET /v1/entities`: the people, organisations and places articles mention, one entry
per real-world entity whatever the language, with the articles that mention them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.exc import SQLAlchemyError

from api.auth import AUTH_RESPONSES, require_scope
from api.problems import Problem, ProblemError, database_error
from newsflow.settings import Settings
from newsflow.store import entities
from newsflow.store.db import get_engine

router = APIRouter(
    prefix="/v1/entities",
    tags=["entities"],
    dependencies=[Depends(require_scope("read"))],
    responses={
        **AUTH_RESPONSES,
        **{
            code: {"model": Problem, "content": {"application/problem+json": {}}}
            for code in (404, 422, 503)
        },
    },
)


class Entity(BaseModel):
    key: str = Field(description="Stable across languages, e.g. `country:LT`.")
    type: str
    canonical: str = Field(description="The name as first seen.")
    country_code: str | None
    names: list[str] = Field(description="Its canonical names in every language seen.")
    articles: int = Field(description="Articles that mention it.")


class EntityPage(BaseModel):
    items: list[Entity]


class EntityArticle(BaseModel):
    id: uuid.UUID
    title: str | None
    language: str | None
    source: str
    published_at: datetime | None
    canonical: str = Field(description="The entity's name in this article's language.")
    mentions: int


class EntityArticlePage(BaseModel):
    entity: Entity
    items: list[EntityArticle]
    next_before: uuid.UUID | None = Field(description="Pass as `before` for the next page.")


def _database_url(request: Request) -> str:
    settings: Settings = request.app.state.settings
    return settings.require_database_url()


@router.get("", response_model=EntityPage, summary="Search entities by name, in any language")
def search_entities(
    request: Request,
    q: Annotated[str, Query(min_length=1, max_length=200, description="Name prefix.")],
    type: Annotated[str | None, Query(max_length=20, description="PER, ORG, LOC, …")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> EntityPage:
    try:
        with get_engine(_database_url(request)).connect() as connection:
            rows = entities.search_entities(connection, q, type, limit)
    except SQLAlchemyError as exc:
        raise database_error(exc) from exc
    return EntityPage(items=[Entity(**row) for row in rows])


@router.get(
    "/{key}/articles",
    response_model=EntityArticlePage,
    summary="Articles that mention an entity, newest first",
)
def entity_articles(
    request: Request,
    key: str,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    before: uuid.UUID | None = None,
) -> EntityArticlePage:
    try:
        with get_engine(_database_url(request)).connect() as connection:
            entity: dict[str, Any] | None = entities.get_entity(connection, key)
            if entity is None:
                raise ProblemError(404, "Not found", f"no entity {key!r}")
            rows = entities.entity_articles(connection, key, limit, before)
    except SQLAlchemyError as exc:
        raise database_error(exc) from exc
    items = [EntityArticle(**row) for row in rows]
    return EntityArticlePage(
        entity=Entity(**entity),
        items=items,
        next_before=items[-1].id if len(items) == limit else None,
    )
