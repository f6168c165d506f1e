"""`newsflow submit | get | search | tail`: a client of the HTTP API (URL and key from
``--api-url`` / ``--api-key`` or NEWSFLOW_API_URL / NEWSFLOW_API_KEY)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import click
import httpx

from cli.submissions import _checked, _client, api_url_option

FINAL = ("done", "failed", "dead")
TEXT_SUFFIXES = (".txt", ".text", ".md")
HTML_SUFFIXES = (".html", ".htm")
SUFFIXES = (*TEXT_SUFFIXES, *HTML_SUFFIXES, ".json")

api_key_option = click.option(
    "--api-key",
    envvar="NEWSFLOW_API_KEY",
    default=None,
    help="a key with the scope the command needs (not needed when the API runs open)",
)
json_option = click.option("--json", "as_json", is_flag=True, help="print JSON")


def _echo_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


def _files(target: str) -> list[Path]:
    if target == "-":
        return [Path("-")]
    path = Path(target)
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
    if path.is_file():
        return [path]
    raise click.BadParameter(f"no such file or directory: {target}", param_hint="TARGET")


def _body(path: Path, source: str) -> dict[str, Any]:
    """A submission for one file: .json as is (with ``source`` if it has none), .html as
    ``html``, anything else (and ``-``, stdin) as scraped ``text``."""
    if str(path) == "-":
        return {"source": source, "text": sys.stdin.read()}
    content = path.read_text(encoding="utf-8", errors="replace")
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            body = json.loads(content)
        except ValueError as exc:
            raise click.ClickException(f"{path}: not JSON ({exc})") from exc
        if not isinstance(body, dict):
            raise click.ClickException(f"{path}: a submission is a JSON object")
        body.setdefault("source", source)
        return body
    if suffix in HTML_SUFFIXES:
        return {"source": source, "html": content}
    return {"source": source, "text": content}


def _error_detail(response: httpx.Response) -> str:
    try:
        problem = response.json()
        return str(problem.get("detail") or problem.get("title"))
    except ValueError:
        return response.text[:200]


@click.command()
@click.argument("target", metavar="FILE|DIR|-")
@click.option("--source", default="cli", show_default=True, help="`source` of text/HTML files")
@click.option("--follow", is_flag=True, help="wait until each is done or failed; summarise")
@click.option("--timeout", default=300.0, show_default=True, help="seconds --follow waits")
@json_option
@api_url_option
@api_key_option
def submit(
    target: str,
    source: str,
    follow: bool,
    timeout: float,
    as_json: bool,
    api_url: str,
    api_key: str | None,
) -> None:
    """Submit articles: a file, every .txt/.html/.json file under a directory, or stdin
    (-). Text files become {"source", "text"}, .html {"source", "html"}, .json is sent as
    is. With --follow, waits for each and exits 1 if any failed."""
    paths = _files(target)
    results: list[dict[str, Any]] = []
    with _client(api_url, api_key) as client:
        with click.progressbar(
            paths, label="submitting", file=sys.stderr, hidden=len(paths) < 2 or as_json
        ) as bar:
            for path in bar:
                response = client.post("/v1/articles", json=_body(path, source))
                if response.status_code >= 400:
                    results.append(
                        {"file": str(path), "status": "refused", "error": _error_detail(response)}
                    )
                    continue
                accepted = response.json()
                results.append(
                    {"file": str(path), "id": accepted["id"], "status": accepted["status"]}
                )
        if follow:
            _follow(client, results, timeout)
    if as_json:
        _echo_json(results)
    else:
        for item in results:
            extra = f"  {item['error']}" if item.get("error") else ""
            click.echo(f"{item.get('id', '-'):<36}  {item['status']:<10}  {item['file']}{extra}")
    statuses = [r["status"] for r in results]
    click.echo(", ".join(f"{statuses.count(s)} {s}" for s in sorted(set(statuses))), err=True)
    if "refused" in statuses or (follow and any(s != "done" for s in statuses)):
        sys.exit(1)


def _follow(client: httpx.Client, results: list[dict[str, Any]], timeout: float) -> None:
    pending = [r for r in results if "id" in r and r["status"] not in FINAL]
    deadline = time.monotonic() + timeout
    with click.progressbar(
        length=len(pending), label="processing", file=sys.stderr, hidden=len(pending) < 2
    ) as bar:
        while pending and time.monotonic() < deadline:
            still = []
            for item in pending:
                document = _checked(client.get(f"/v1/articles/{item['id']}"))
                item["status"] = document["status"]
                if document["status"] in FINAL:
                    item["title"] = document.get("title")
                    if document.get("error"):
                        item["error"] = document["error"]
                    bar.update(1)
                else:
                    still.append(item)
            pending = still
            if pending:
                time.sleep(0.2)
    for item in pending:
        item["error"] = f"not finished after {timeout:g} s"


@click.command()
@click.argument("article_id")
@json_option
@api_url_option
@api_key_option
def get(article_id: str, as_json: bool, api_url: str, api_key: str | None) -> None:
    """Show one article (needs the read scope)."""
    with _client(api_url, api_key) as client:
        document = _checked(client.get(f"/v1/articles/{article_id}"))
    if as_json:
        _echo_json(document)
        return
    click.echo(f"{document['id']}  {document['status']}")
    for name in ("title", "source", "language", "published_at", "url", "error"):
        if document.get(name):
            click.echo(f"{name}: {document[name]}")
    if document.get("body"):
        click.echo("")
        click.echo(document["body"])


def _line(item: dict[str, Any]) -> str:
    when = (item.get("published_at") or item.get("received_at") or "")[:10]
    return (
        f"{item['id']}  {item.get('language') or '--':<3} {when:<10}  "
        f"{item.get('title') or '(untitled)'}"
    )


@click.command()
@click.option("--q", "query", help="full text (websearch syntax)")
@click.option("--language", multiple=True, help="ISO 639 code (repeatable)")
@click.option("--source", multiple=True, help="sender (repeatable)")
@click.option(
    "--status",
    type=click.Choice(["done", "processing", "failed", "dead"]),
    default="done",
    show_default=True,
)
@click.option("--published-after", help="ISO 8601 date-time")
@click.option("--published-before", help="ISO 8601 date-time")
@click.option("--limit", type=click.IntRange(1, 100), default=20, show_default=True)
@click.option("--pages", type=click.IntRange(1), default=1, show_default=True)
@json_option
@api_url_option
@api_key_option
def search(
    query: str | None,
    language: tuple[str, ...],
    source: tuple[str, ...],
    status: str,
    published_after: str | None,
    published_before: str | None,
    limit: int,
    pages: int,
    as_json: bool,
    api_url: str,
    api_key: str | None,
) -> None:
    """Find articles: newest first, or by relevance with --q."""
    params: dict[str, Any] = {"status": status, "limit": limit}
    optional = {
        "q": query,
        "language": list(language),
        "source": list(source),
        "published_after": published_after,
        "published_before": published_before,
    }
    params.update({k: v for k, v in optional.items() if v})
    items: list[dict[str, Any]] = []
    with _client(api_url, api_key) as client:
        for _ in range(pages):
            page = _checked(client.get("/v1/articles", params=params))
            items.extend(page["items"])
            if not page["next_cursor"]:
                break
            params["cursor"] = page["next_cursor"]
    if as_json:
        _echo_json(items)
        return
    for item in items:
        click.echo(_line(item))
    if not items:
        click.echo("no articles match", err=True)


@click.command()
@click.option("--after", help="a cursor printed by an earlier tail")
@click.option("--from-start", is_flag=True, help="from the first change, not from now")
@click.option("--once", is_flag=True, help="stop when caught up")
@click.option("--interval", default=1.0, show_default=True, help="seconds between polls")
@click.option("--document", is_flag=True, help="with --json, include each full document")
@json_option
@api_url_option
@api_key_option
def tail(
    after: str | None,
    from_start: bool,
    once: bool,
    interval: float,
    document: bool,
    as_json: bool,
    api_url: str,
    api_key: str | None,
) -> None:
    """Follow the change feed, printing each new or re-processed article (one JSON object
    per line with --json). Prints the cursor to resume from on stderr when it stops."""
    cursor = after or (None if from_start else "now")
    params: dict[str, Any] = {"limit": 100}
    if document:
        params["include"] = "document"
    try:
        with _client(api_url, api_key) as client:
            while True:
                if cursor is not None:
                    params["after"] = cursor
                page = _checked(client.get("/v1/feed", params=params))
                for item in page["items"]:
                    if as_json:
                        click.echo(json.dumps(item, ensure_ascii=False))
                    else:
                        click.echo(_line(item))
                cursor = page["next"]
                if page["caught_up"]:
                    if once:
                        break
                    time.sleep(interval)
    except KeyboardInterrupt:
        pass
    finally:
        if cursor:
            click.echo(f"cursor: {cursor}", err=True)


COMMANDS = (submit, get, search, tail)
