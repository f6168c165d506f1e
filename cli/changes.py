"""`newsflow feed prune`: delete change-feed entries older than the retention
(NEWSFLOW_FEED_RETENTION_DAYS). The worker does the same on its own, hourly; this is for
doing it now, or with a shorter retention once. Needs NEWSFLOW_DATABASE_URL."""

from __future__ import annotations

import click

from newsflow.settings import Settings
from newsflow.store import changes
from newsflow.store.db import get_engine


@click.group()
def feed() -> None:
    """The change feed (GET /v1/feed): retention."""


@feed.command()
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=None,
    help="keep this many days  [default: NEWSFLOW_FEED_RETENTION_DAYS]",
)
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=1000, show_default=True)
def prune(days: int | None, batch_size: int) -> None:
    """Delete feed entries older than the retention, in batches. A consumer whose cursor
    is older then gets 410 from GET /v1/feed, naming where to resume."""
    settings = Settings()  # the environment as the user set it, not a cached copy
    if not settings.database_url:
        raise click.ClickException("NEWSFLOW_DATABASE_URL is not set")
    days = days or settings.feed_retention_days
    if days == 0:
        click.echo("feed retention is off (NEWSFLOW_FEED_RETENTION_DAYS=0): nothing pruned")
        return
    engine = get_engine(settings.database_url)
    result = changes.prune_feed(engine, days, batch_size=batch_size)
    if result.busy:
        click.echo(
            f"another prune is running: this one deleted {result.deleted} entries "
            "and leaves the rest to it"
        )
        return
    with engine.connect() as connection:
        through = changes.pruned_through(connection)
    entries = "entry" if result.deleted == 1 else "entries"
    click.echo(f"pruned {result.deleted} feed {entries} older than {days} days")
    if through is not None:
        click.echo(f"the feed now starts after cursor {changes.encode_cursor(*through)}")
