"""How the `newsflow` command fails: one line on stderr, never a traceback, and an exit
status that says what kind of failure it was (README, "CLI").

| status | meaning |
|---|---|
| 0 | done |
| 1 | done, but some articles were refused or failed (`submit`), or another failure |
| 2 | bad usage: an unknown option, a missing file (click's own) |
| 3 | the API cannot be reached (nothing listens, the connection broke, a timeout) |
| 4 | the API refused the request (4xx: its problem's title and detail are printed) |
| 5 | the API failed (5xx, or 503 still after the retries) |
"""

from __future__ import annotations

from typing import Any

import click

from newsflow.client import ApiError, ApiUnreachable, NewsflowError

EXIT_PARTIAL = 1
EXIT_UNREACHABLE = 3
EXIT_REFUSED = 4
EXIT_API_FAILED = 5


def exit_status(error: NewsflowError) -> int:
    if isinstance(error, ApiUnreachable):
        return EXIT_UNREACHABLE
    if isinstance(error, ApiError) and error.status < 500:
        return EXIT_REFUSED
    return EXIT_API_FAILED


def message(error: NewsflowError) -> str:
    """The error on one line: an ApiError's status, title and detail; a field error's
    field, when the detail does not already name it."""
    text = " ".join(str(error).split())
    if isinstance(error, ApiError) and error.problem.errors:
        first = error.problem.errors[0]
        if first.field and first.field not in text:
            text += f" ({first.field}: {first.message})"
    return text


class ClientErrorsGroup(click.Group):
    """A group whose commands' client errors end the command cleanly (see the table)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NewsflowError as error:
            click.echo(f"newsflow: {message(error)}", err=True)
            ctx.exit(exit_status(error))
