"""`newsflow reprocess`: process stored submissions again from their raw payloads — after
an enricher changed, say. Each keeps its id; its article and child rows are replaced, and
the document records the new enricher versions. Runs where the worker code is installed
(it needs to know the current versions) with the database and Redis settings."""

from __future__ import annotations

import uuid

import click
import redis

from newsflow import redisconn
from newsflow.settings import Settings
from newsflow.store import submissions
from newsflow.store.db import transaction
from newsflow.taskmessage import enqueue_submission

REPROCESSABLE = ("done", "failed", "dead")


def reprocess_one(settings: Settings, client: redis.Redis, submission_id: uuid.UUID) -> bool:
    """Reopen and enqueue in one transaction: if Redis refuses, nothing changed."""
    with transaction(settings.require_database_url()) as connection:
        row = submissions.reopen(connection, submission_id, REPROCESSABLE)
        if row is None:
            return False
        enqueue_submission(client, settings, submissions.reprocess_message(row), str(uuid.uuid4()))
    return True


@click.command()
@click.argument("submission_ids", nargs=-1)
@click.option("--stale", is_flag=True, help="every done article enriched by older enrichers")
@click.option("--limit", type=click.IntRange(1), default=1000, show_default=True)
@click.option("--dry-run", is_flag=True, help="list what would be reprocessed")
def reprocess(submission_ids: tuple[str, ...], stale: bool, limit: int, dry_run: bool) -> None:
    """Process stored submissions again (ids, or --stale)."""
    settings = Settings()
    try:
        targets = [uuid.UUID(value) for value in submission_ids]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="SUBMISSION_IDS") from None
    if stale:
        from worker.pipeline.enrich import current_enrichers

        versions, always = current_enrichers()
        with transaction(settings.require_database_url()) as connection:
            targets += submissions.stale_article_ids(connection, versions, always, limit)
    if not targets:
        click.echo("nothing to reprocess")
        return
    if dry_run:
        for target in targets:
            click.echo(str(target))
        click.echo(f"{len(targets)} would be reprocessed")
        return
    client = redisconn.sync_client(settings)
    try:
        queued = sum(reprocess_one(settings, client, target) for target in targets)
    finally:
        client.close()
    click.echo(
        f"{queued} queued for reprocessing, {len(targets) - queued} skipped "
        "(unknown or still in progress)"
    )
