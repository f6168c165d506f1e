"""`newsflow submissions`: list failed or dead submissions and replay them, through the API
(URL and key from options or NEWSFLOW_API_URL / NEWSFLOW_API_KEY)."""

from __future__ import annotations

import json

import click

from cli.client import api_client, api_url_option

api_key_option = click.option(
    "--api-key",
    envvar="NEWSFLOW_API_KEY",
    default=None,
    help="an admin key (not needed when the API runs open)",
)


@click.group()
def submissions() -> None:
    """Failed and dead submissions: what went wrong, and replay."""


@submissions.command("list")
@click.option(
    "--status", type=click.Choice(["failed", "dead"]), default="failed", show_default=True
)
@click.option("--limit", type=click.IntRange(1, 100), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="print the raw JSON")
@api_url_option
@api_key_option
def list_command(status: str, limit: int, as_json: bool, api_url: str, api_key: str | None) -> None:
    """List submissions in one state, with their reason."""
    with api_client(api_url, api_key) as client:
        page = client.request("GET", "/v1/submissions", params={"status": status, "limit": limit})
    if as_json:
        click.echo(json.dumps(page, indent=2, ensure_ascii=False))
        return
    for item in page["items"]:
        click.echo(
            f"{item['id']}  {item['status']:<6}  attempts={item['attempts']}  "
            f"{item['source']}  {item['error']}"
        )
    if not page["items"]:
        click.echo(f"no {status} submissions")


@submissions.command("replay")
@click.argument("submission_ids", nargs=-1, required=True)
@api_url_option
@api_key_option
def replay_command(submission_ids: tuple[str, ...], api_url: str, api_key: str | None) -> None:
    """Process failed or dead submissions again (after the cause is fixed)."""
    with api_client(api_url, api_key) as client:
        for submission_id in submission_ids:
            record = client.request("POST", f"/v1/submissions/{submission_id}/replay")
            click.echo(f"{record['id']}  replayed ({record['status']})")
