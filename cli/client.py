"""`newsflow submit | get | search | export | tail`: a client of the HTTP API, on
newsflow.client (URL and key from ``--api-url`` / ``--api-key`` or NEWSFLOW_API_URL /
NEWSFLOW_API_KEY). Failures end in one line and an exit status: cli/errors.py."""

from __future__ import annotations

import itertools
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import click
import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cli.errors import EXIT_PARTIAL
from newsflow.client import Backoff, Client, NewsflowError, OnWait
from newsflow.contract import ArticleSummary, FeedItem

FINAL = ("done", "failed", "dead")
TEXT_SUFFIXES = (".txt", ".text", ".md")
HTML_SUFFIXES = (".html", ".htm")
SUFFIXES = (*TEXT_SUFFIXES, *HTML_SUFFIXES, ".json")

api_url_option = click.option(
    "--api-url", envvar="NEWSFLOW_API_URL", default="http://127.0.0.1:8000", show_default=True
)
api_key_option = click.option(
    "--api-key",
    envvar="NEWSFLOW_API_KEY",
    default=None,
    help="a key with the scope the command needs (not needed when the API runs open)",
)
json_option = click.option("--json", "as_json", is_flag=True, help="print JSON")
max_wait_option = click.option(
    "--max-wait",
    type=click.FloatRange(min=0),
    default=Backoff.max_wait,
    show_default=True,
    help="longest Retry-After (s) of a 429 or 503 to wait out; a longer one ends the command",
)


def api_client(
    api_url: str, api_key: str | None, on_wait: OnWait | None = None, max_wait: float | None = None
) -> Client:
    backoff = Backoff() if max_wait is None else Backoff(max_wait=max_wait)
    return Client(api_url, api_key=api_key, on_wait=on_wait, backoff=backoff)


@contextmanager
def _progress(hidden: bool, *columns: Any) -> Iterator[Progress]:
    """A progress bar on stderr (none when ``hidden``, or when stderr is not a terminal)."""
    console = Console(stderr=True)
    with Progress(
        TextColumn("{task.description}"),
        *columns,
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=hidden or not console.is_terminal,
    ) as progress:
        yield progress


def _waiting(progress: Progress, task: Any, label: str) -> OnWait:
    """What the client calls before it waits out a 429 or 503: say so on the bar."""

    def on_wait(seconds: float, response: httpx.Response) -> None:
        progress.update(
            task,
            description=f"{label}: waiting {seconds:.0f} s (the API answered "
            f"{response.status_code}, Retry-After)",
        )

    return on_wait


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


@click.command()
@click.argument("target", metavar="FILE|DIR|-")
@click.option("--source", default="cli", show_default=True, help="`source` of text/HTML files")
@click.option("--follow", is_flag=True, help="wait until each is done or failed; summarise")
@click.option("--timeout", default=300.0, show_default=True, help="seconds --follow waits")
@click.option(
    "--batch-size",
    type=click.IntRange(1, 1000),
    default=500,
    show_default=True,
    help="articles per POST /v1/articles/batch",
)
@max_wait_option
@json_option
@api_url_option
@api_key_option
def submit(
    target: str,
    source: str,
    follow: bool,
    timeout: float,
    batch_size: int,
    max_wait: float,
    as_json: bool,
    api_url: str,
    api_key: str | None,
) -> None:
    """Submit articles: a file, every .txt/.html/.json file under a directory, or stdin
    (-), through the batch endpoint. Text files become {"source", "text"}, .html
    {"source", "html"}, .json is sent as is. A 429 or 503 is waited out (its Retry-After)
    and retried. With --follow, waits for each; exits 1 if any was refused or failed."""
    paths = _files(target)
    results: list[dict[str, Any]] = [{"file": str(path)} for path in paths]
    with _progress(as_json or len(paths) < 2, BarColumn(), MofNCompleteColumn()) as progress:
        task = progress.add_task("submitting", total=len(paths))
        on_wait = _waiting(progress, task, "submitting")
        with api_client(api_url, api_key, on_wait, max_wait) as client:
            try:
                bodies = (_body(path, source) for path in paths)
                for item in client.submit_many(bodies, batch_size=batch_size):
                    entry = results[item.index]
                    if item.error is not None:
                        entry.update(status="refused", error=item.error)
                    else:
                        entry.update(id=str(item.id), status="queued", duplicate=item.duplicate)
                    progress.update(task, advance=1, description="submitting")
            except NewsflowError:
                _print_submitted([r for r in results if "status" in r], as_json)
                raise
            progress.remove_task(task)
            if follow:
                _follow(client, progress, results, timeout)
    _print_submitted(results, as_json)
    statuses = [r["status"] for r in results]
    click.echo(", ".join(f"{statuses.count(s)} {s}" for s in sorted(set(statuses))), err=True)
    if "refused" in statuses or (follow and any(s != "done" for s in statuses)):
        sys.exit(EXIT_PARTIAL)


def _print_submitted(results: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        _echo_json(results)
        return
    for item in results:
        extra = f"  {item['error']}" if item.get("error") else ""
        click.echo(f"{item.get('id', '-'):<36}  {item['status']:<10}  {item['file']}{extra}")


def _follow(
    client: Client, progress: Progress, results: list[dict[str, Any]], timeout: float
) -> None:
    pending = [r for r in results if "id" in r and r["status"] not in FINAL]
    deadline = time.monotonic() + timeout
    task = progress.add_task("processing", total=len(pending))
    while pending and time.monotonic() < deadline:
        still = []
        for item in pending:
            document = client.get(item["id"])
            item["status"] = document.status.value
            if document.status in FINAL:
                item["title"] = document.title
                if document.error:
                    item["error"] = document.error
                progress.update(task, advance=1)
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
    with api_client(api_url, api_key) as client:
        document = client.get(article_id)
    if as_json:
        _echo_json(document.model_dump(mode="json"))
        return
    click.echo(f"{document.id}  {document.status}")
    for name in ("title", "source", "language", "published_at", "url", "error"):
        value = getattr(document, name)
        if value:
            click.echo(f"{name}: {value}")
    if document.body:
        click.echo("")
        click.echo(document.body)


def _line(item: ArticleSummary | FeedItem) -> str:
    when = item.published_at or getattr(item, "received_at", None)
    day = when.date().isoformat() if when else ""
    return f"{item.id}  {item.language or '--':<3} {day:<10}  {item.title or '(untitled)'}"


def filter_options(command: Any) -> Any:
    """The filters of GET /v1/articles and GET /v1/export, as options."""
    options = [
        click.option("--q", "query", help="full text (websearch syntax)"),
        click.option("--language", multiple=True, help="ISO 639 code (repeatable)"),
        click.option("--source", multiple=True, help="sender (repeatable)"),
        click.option("--entity", multiple=True, help="entity key or name (repeatable)"),
        click.option(
            "--status",
            type=click.Choice(["done", "processing", "failed", "dead"]),
            default="done",
            show_default=True,
        ),
        click.option("--published-after", help="ISO 8601 date-time"),
        click.option("--published-before", help="ISO 8601 date-time"),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _filters(filters: dict[str, Any]) -> dict[str, Any]:
    return {"q": filters.pop("query"), **filters}


@click.command()
@filter_options
@click.option("--limit", type=click.IntRange(1, 100), default=20, show_default=True)
@click.option("--pages", type=click.IntRange(1), default=1, show_default=True)
@json_option
@api_url_option
@api_key_option
def search(
    limit: int, pages: int, as_json: bool, api_url: str, api_key: str | None, **filters: Any
) -> None:
    """Find articles: newest first, or by relevance with --q."""
    with api_client(api_url, api_key) as client:
        found = client.search(page_size=limit, **_filters(filters))
        items = list(itertools.islice(found, limit * pages))
    if as_json:
        _echo_json([item.model_dump(mode="json") for item in items])
        return
    for item in items:
        click.echo(_line(item))
    if not items:
        click.echo("no articles match", err=True)


def _load_state(path: Path) -> dict[str, Any]:
    try:
        state: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        raise click.UsageError(f"no saved cursor in {path}: nothing to resume") from None
    except ValueError as exc:
        raise click.UsageError(f"{path} is not a cursor file of newsflow export: {exc}") from None
    return state


def _save_state(path: Path, state: dict[str, Any]) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(state))
    os.replace(temporary, path)  # a crash leaves the old state or the new, never half


@click.command()
@filter_options
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="the NDJSON file  [default: stdout]",
)
@click.option("--resume", is_flag=True, help="continue from the cursor the last run saved")
@click.option(
    "--cursor-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="where the cursor is saved after each page  [default: OUTPUT.cursor]",
)
@click.option("--page-size", type=click.IntRange(1, 10_000), default=1000, show_default=True)
@max_wait_option
@api_url_option
@api_key_option
def export(
    output: Path | None,
    resume: bool,
    cursor_file: Path | None,
    page_size: int,
    max_wait: float,
    api_url: str,
    api_key: str | None,
    **filters: Any,
) -> None:
    """Export every matching article's document as NDJSON (one per line), page by page.
    After each page the cursor to continue from is saved (with the file's length), so an
    interrupted export continues with --resume, without a line lost or repeated."""
    if cursor_file is None and output is not None:
        cursor_file = output.with_name(output.name + ".cursor")
    if resume and cursor_file is None:
        raise click.UsageError("--resume needs --output or --cursor-file")
    state: dict[str, Any] = {"cursor": None, "bytes": 0, "documents": 0, "done": False}
    if resume:
        assert cursor_file is not None
        state = _load_state(cursor_file)
        if state.get("done"):
            click.echo(f"the export in {cursor_file} is complete: nothing to resume", err=True)
            return
    with _open_output(output, state["bytes"] if resume else None) as sink:
        with _progress(False) as progress:
            task = progress.add_task(f"exported {state['documents']}", total=None)
            on_wait = _waiting(progress, task, "exporting")
            with api_client(api_url, api_key, on_wait, max_wait) as client:
                pages = client.export_pages(
                    cursor=state["cursor"], page_size=page_size, **_filters(filters)
                )
                for page in pages:
                    data = b"".join(
                        document.model_dump_json().encode() + b"\n" for document in page.documents
                    )
                    sink.write(data)
                    sink.flush()
                    state.update(
                        cursor=page.next_cursor,
                        bytes=state["bytes"] + len(data),
                        documents=state["documents"] + len(page.documents),
                        done=page.next_cursor is None,
                    )
                    if cursor_file is not None:
                        if output is not None:
                            os.fsync(sink.fileno())  # the lines before the cursor saying so
                        _save_state(cursor_file, state)
                    progress.update(task, description=f"exported {state['documents']}")
    click.echo(f"exported {state['documents']} documents", err=True)


@contextmanager
def _open_output(output: Path | None, resume_at: int | None) -> Iterator[BinaryIO]:
    """The NDJSON sink: stdout, a new file, or (resuming) the file cut back to what the
    saved cursor covers."""
    if output is None:
        yield sys.stdout.buffer
        sys.stdout.flush()
        return
    if resume_at is None:
        with output.open("wb") as sink:
            yield sink
        return
    with output.open("r+b" if output.exists() else "wb") as sink:
        sink.truncate(resume_at)
        sink.seek(resume_at)
        yield sink


@click.command()
@click.option("--cursor", help="a cursor printed by an earlier tail")
@click.option("--after", "old_after", hidden=True, help="the old name of --cursor")
@click.option("--from-start", is_flag=True, help="from the first change, not from now")
@click.option("--once", is_flag=True, help="stop when caught up")
@click.option("--interval", default=1.0, show_default=True, help="seconds between polls")
@click.option("--document", is_flag=True, help="with --json, include each full document")
@json_option
@api_url_option
@api_key_option
def tail(
    cursor: str | None,
    old_after: str | None,
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
    position = cursor or old_after or (None if from_start else "now")
    try:
        with api_client(api_url, api_key) as client:
            while True:
                page = client.feed_page(position, limit=100, include_document=document)
                for item in page.items:
                    if as_json:
                        click.echo(item.model_dump_json())
                    else:
                        click.echo(_line(item))
                position = page.next_cursor
                if page.caught_up:
                    if once:
                        break
                    time.sleep(interval)
    except KeyboardInterrupt:
        pass
    # (an error ends the command with its own one line instead)
    if position and position != "now":
        click.echo(f"cursor: {position}", err=True)


COMMANDS = (submit, get, search, export, tail)
