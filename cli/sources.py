"""`newsflow sources`: feeds newsflow polls itself, and their health, through the API (URL
and an admin key from options or NEWSFLOW_API_URL / NEWSFLOW_API_KEY)."""

from __future__ import annotations

import json
import time
from typing import Any

import click

from cli.client import api_client, api_url_option
from cli.submissions import api_key_option

json_option = click.option("--json", "as_json", is_flag=True, help="print the raw JSON")


def _line(source: dict[str, Any]) -> str:
    health = source["health"]
    state = "enabled" if source["enabled"] else "disabled"
    status = health["last_status"] or "never polled"
    if health["last_http_status"]:
        status += f" ({health['last_http_status']})"
    return (
        f"{source['name']:<24} {state:<8} {status:<20} seen={health['items_seen']} "
        f"new={health['items_new']} errors={health['error_streak']} "
        f"next={health['next_poll_at']}  {source['url']}"
    )


def _show(source: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(source, indent=2, ensure_ascii=False))
        return
    click.echo(_line(source))
    health = source["health"]
    for key in ("last_fetch_at", "last_error", "last_problem"):
        if health[key]:
            click.echo(f"  {key}: {health[key]}")


@click.group()
def sources() -> None:
    """Feeds newsflow polls itself: add, list, show, disable, poll now."""


@sources.command("list")
@json_option
@api_url_option
@api_key_option
def list_command(as_json: bool, api_url: str, api_key: str | None) -> None:
    """Every source with its health: last poll, items seen and new, error streak."""
    with api_client(api_url, api_key) as client:
        page = client.request("GET", "/v1/sources")
    if as_json:
        click.echo(json.dumps(page, indent=2, ensure_ascii=False))
        return
    for source in page["items"]:
        click.echo(_line(source))
    if not page["items"]:
        click.echo("no sources (add one with `newsflow sources add NAME URL`)")


@sources.command("add")
@click.argument("name")
@click.argument("url")
@click.option("--interval", type=int, default=900, show_default=True, help="seconds")
@click.option("--language", default=None, help="language hint for its items (ISO 639)")
@json_option
@api_url_option
@api_key_option
def add_command(
    name: str,
    url: str,
    interval: int,
    language: str | None,
    as_json: bool,
    api_url: str,
    api_key: str | None,
) -> None:
    """Poll the feed at URL every --interval seconds, its items' source being NAME."""
    body = {"name": name, "url": url, "poll_interval_seconds": interval, "language": language}
    with api_client(api_url, api_key) as client:
        _show(client.request("POST", "/v1/sources", json=body), as_json)


@sources.command("show")
@click.argument("name")
@json_option
@api_url_option
@api_key_option
def show_command(name: str, as_json: bool, api_url: str, api_key: str | None) -> None:
    """One source and its health."""
    with api_client(api_url, api_key) as client:
        _show(client.request("GET", f"/v1/sources/{name}"), as_json)


@sources.command("disable")
@click.argument("name")
@api_url_option
@api_key_option
def disable_command(name: str, api_url: str, api_key: str | None) -> None:
    """Stop polling a source (kept, with its health)."""
    with api_client(api_url, api_key) as client:
        _show(client.request("POST", f"/v1/sources/{name}/disable"), False)


@sources.command("poll")
@click.argument("name")
@click.option("--wait/--no-wait", default=True, show_default=True, help="until it is polled")
@click.option("--timeout", default=120.0, show_default=True, help="seconds --wait waits")
@json_option
@api_url_option
@api_key_option
def poll_command(
    name: str, wait: bool, timeout: float, as_json: bool, api_url: str, api_key: str | None
) -> None:
    """Poll a source now (a worker does it), and show what it found."""
    with api_client(api_url, api_key) as client:
        before = client.request("POST", f"/v1/sources/{name}/poll")
        source = before
        deadline = time.monotonic() + timeout
        while wait and source["health"]["last_fetch_at"] == before["health"]["last_fetch_at"]:
            if time.monotonic() > deadline:
                raise click.ClickException(f"{name} was not polled within {timeout:.0f} s")
            time.sleep(0.5)
            source = client.request("GET", f"/v1/sources/{name}")
    _show(source, as_json)
    if source["health"]["last_status"] in ("error", "robots_disallowed") and wait:
        raise SystemExit(1)
