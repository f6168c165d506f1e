"""What a route asks for, declared once: the settings, the intake, and a database
connection whose failures become the right problem (422 when the request's own value made
the query fail, else 503 with Retry-After)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from api.intake import SubmissionIntake
from api.problems import database_problem
from newsflow.settings import Settings
from newsflow.store.db import get_engine


def app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def app_intake(request: Request) -> SubmissionIntake:
    intake: SubmissionIntake = request.app.state.intake
    return intake


SettingsDep = Annotated[Settings, Depends(app_settings)]
IntakeDep = Annotated[SubmissionIntake, Depends(app_intake)]


@contextmanager
def database(
    settings: Settings,
    field: str | None = None,
    *,
    transaction: bool = False,
    replica: bool = False,
) -> Iterator[Connection]:
    """A connection (in one transaction when ``transaction``) for a route's queries; to the
    read replica when ``replica`` and one is configured (consumers' reads, which can lag a
    little). ``field`` names the parameter whose value a failing query blames (a ``q``)."""
    try:
        url = settings.reader_database_url() if replica else settings.require_database_url()
        engine = get_engine(url)
        with engine.begin() if transaction else engine.connect() as connection:
            yield connection
    except SQLAlchemyError as exc:
        raise database_problem(exc, field) from exc
