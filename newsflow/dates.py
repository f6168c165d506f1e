"""The dates newsflow keeps, in one place: every date that enters (sent with a submission,
read from a feed, a page's metadata or its text, or mentioned in it) is checked against
this range. Outside it a date is a typo or garbage, and past year 9999 in UTC
("9999-12-31T23:59:59-14:00") PostgreSQL would store a timestamp no Python reader can load.

Both ends are checked in UTC, so an offset cannot carry a date out of range."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

# nothing newsflow reads is dated earlier; what an article mentions may be historic
EARLIEST = datetime(1800, 1, 1, tzinfo=UTC)
# a publication (or change) at most this far ahead of now: embargoes, skewed clocks
PUBLISHED_AHEAD = timedelta(days=366)
# a date an article mentions may be a plan ("on 1 January 2050"); the text rules read
# years up to 2199 (worker/pipeline/mentioned_dates.py)
MENTIONED_LATEST = date(2199, 12, 31)


def parse_iso(value: str) -> datetime:
    """An ISO 8601 date or date-time (extended "2024-06-01T12:00:00+02:00" or basic
    "20240601T120000Z"), aware: without a zone it is read as UTC. ValueError otherwise:
    never a number of seconds, never a guess."""
    parsed = datetime.fromisoformat(value.strip())
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def published_range(now: datetime | None = None) -> tuple[datetime, datetime]:
    """The earliest and latest publication (or change) date newsflow keeps."""
    return EARLIEST, (now or datetime.now(UTC)) + PUBLISHED_AHEAD


def check_published(value: datetime) -> datetime:
    """``value`` (aware, naive read as UTC) if it is in ``published_range``; else ValueError
    saying the range."""
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    earliest, latest = published_range()
    try:
        in_range = earliest <= value <= latest
    except OverflowError:  # an offset that takes it past year 9999 in UTC
        in_range = False
    if not in_range:
        raise ValueError(
            f"{value.isoformat()} is out of range: a date from {earliest.date()} to "
            f"{latest.date()} (a year from now), in UTC"
        )
    return value


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
    return EARLIEST.date() <= value <= MENTIONED_LATEST
