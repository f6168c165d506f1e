"""The dates newsflow keeps, in one place: every date that enters (sent with a submission,
read from a feed, a page's metadata or its text, or mentioned in it) is checked against
this range. Outside it a date is a typo or garbage, and past year 9999 in UTC
("9999-12-31T23:59:59-14:00") PostgreSQL would store a timestamp no Python reader can load.

The range is of years as written, in the date's own zone (so the published JSON Schema can
say it exactly, see ``published_year_pattern``): from 1800 to next year. Any offset then
keeps the instant well inside Python's years 1 to 9999."""

from __future__ import annotations

from datetime import UTC, date, datetime

# nothing newsflow reads is dated earlier; what an article mentions may be historic
EARLIEST_YEAR = 1800
# a publication (or change) at most in the next calendar year: embargoes, skewed clocks
YEARS_AHEAD = 1
# a date an article mentions may be a plan ("on 1 January 2050"); the text rules read
# years up to 2199 (worker/pipeline/mentioned_dates.py)
MENTIONED_LATEST = date(2199, 12, 31)


def parse_iso(value: str) -> datetime:
    """An ISO 8601 date or date-time (extended "2024-06-01T12:00:00+02:00" or basic
    "20240601T120000Z"), aware: without a zone it is read as UTC. ValueError otherwise:
    never a number of seconds, never a guess."""
    parsed = datetime.fromisoformat(value.strip())
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def latest_published_year() -> int:
    return datetime.now(UTC).year + YEARS_AHEAD


def published_year_pattern() -> str:
    """A regular expression for the years ``check_published`` keeps, at the start of an
    ISO 8601 string: for the published JSON Schema. (Taken when the schema is built: a
    process running into a new year publishes one year fewer than it accepts.)"""
    recent = "|".join(str(year) for year in range(2000, latest_published_year() + 1))
    return f"^(1[89][0-9][0-9]|{recent})"


def check_published(value: datetime) -> datetime:
    """``value`` (aware, naive read as UTC) if its year, as written, is from EARLIEST_YEAR
    to next year; else ValueError saying the range."""
    latest = latest_published_year()
    if not EARLIEST_YEAR <= value.year <= latest:
        raise ValueError(
            f"{value.isoformat()} is out of range: the year must be from {EARLIEST_YEAR} "
            f"to {latest} (next year)"
        )
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def published_or_none(value: datetime | None) -> datetime | None:
    """``value`` if it is a publication date newsflow keeps, else None (for dates found in
    a page or feed, which are dropped rather than refusing the article)."""
    if value is None:
        return None
    try:
        return check_published(value)
    except ValueError:
        return None


def mentioned_in_range(value: date) -> bool:
    """A date an article mentions, historic or planned, that newsflow keeps resolved."""
    return EARLIEST_YEAR <= value.year and value <= MENTIONED_LATEST
