"""The contract with clients: what a submission looks like, and the article document
consumers get back. Versioned by ``SCHEMA_VERSION``."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

import orjson
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from newsflow.dates import check_published, parse_iso, published_year_pattern

SCHEMA_VERSION = 1
MAX_URL_LENGTH = 2048
MAX_METADATA_DEPTH = 8
_SURROGATE = re.compile("[\ud800-\udfff]")


class Status(StrEnum):
    queued = "queued"
    processing = "processing"
    done = "done"
    failed = "failed"
    dead = "dead"


FINAL_STATUSES = frozenset({Status.done, Status.failed, Status.dead})


def clean_text(value: str, surrogates: bool = True) -> str:
    """PostgreSQL refuses NUL and lone surrogates in text and jsonb: drop NUL, replace
    unpaired surrogates with U+FFFD, so bad bytes never become a database error.
    ``surrogates=False`` skips looking for them, for text that cannot hold any (parsed
    from JSON bytes by pydantic, which refuses them)."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    if surrogates and not value.isascii() and _has_surrogates(value):
        value = _SURROGATE.sub("\ufffd", value)
    return value


def _has_surrogates(value: str) -> bool:
    # encoding stops at the first surrogate, and runs at memory speed where a regular
    # expression scans a character at a time (ten times slower over an article)
    try:
        value.encode()
    except UnicodeEncodeError:
        return True
    return False


def json_bytes(value: Any) -> bytes:
    """JSON, fast. orjson stops at 64-bit integers, which JSON (and jsonb) do not: such a
    payload goes through the standard library instead of failing."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _clean(value: Any, depth: int = 0, surrogates: bool = True) -> Any:
    if depth > MAX_METADATA_DEPTH:
        raise ValueError(f"nested deeper than {MAX_METADATA_DEPTH} levels")
    if isinstance(value, str):
        return clean_text(value, surrogates)
    if isinstance(value, dict):
        return {
            clean_text(str(k), surrogates): _clean(v, depth + 1, surrogates)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_clean(v, depth + 1, surrogates) for v in value]
    return value


# "has content": a character that is neither whitespace (in Python's or JSON Schema's sense)
# nor NUL; the same class in the validator and in the published schema, so they agree
_CONTENT_CHAR = r"[^\s\u0000\u001c-\u001f\u0085\ufeff]"
_HAS_CONTENT = re.compile(_CONTENT_CHAR)
_URL_PATTERN = (
    r"^https?://[^\s/?#@:\[\]\\\u0000-\u001f\u007f-\u009f\ufeff]+(:[0-9]{1,5})?"
    r"([/?#][^\s\u001c-\u001f\u0085\ufeff]*)?$"
)


_URL = re.compile(_URL_PATTERN)


def _check_depth(value: Any, depth: int = 0) -> None:
    """What ``_clean`` refuses, without copying: a value nested deeper than
    MAX_METADATA_DEPTH (the submission itself is depth 0)."""
    if isinstance(value, dict):
        items: Any = value.values()
    elif isinstance(value, list):
        items = value
    else:
        return
    if items and depth >= MAX_METADATA_DEPTH:
        raise ValueError(f"nested deeper than {MAX_METADATA_DEPTH} levels")
    for item in items:
        if isinstance(item, (dict, list)):
            _check_depth(item, depth + 1)


def _check_finite(value: Any, path: str) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(
            f"{path} is {value!r}: not a JSON number (NaN, Infinity, or beyond ±1.8e308); "
            "send it as a string"
        )
    if isinstance(value, dict):
        for key, item in value.items():
            _check_finite(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_finite(item, f"{path}[{index}]")


# the validation context of a JSON body with nothing to clean (see Submission.from_json)
CLEAN_JSON: dict[str, Any] = {"newsflow": "clean JSON"}


class Submission(BaseModel):
    """``POST /v1/articles``: one article as a client sends it."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=False,
        # what the validators below enforce, said in the published JSON Schema too
        json_schema_extra={
            "anyOf": [
                {"required": [name], "properties": {name: {"type": "string"}}}
                for name in ("text", "html", "url")
            ],
            "not": {
                "required": ["text", "html"],
                "properties": {"text": {"type": "string"}, "html": {"type": "string"}},
            },
        },
    )

    source: str = Field(
        min_length=1,
        max_length=200,
        json_schema_extra={"pattern": _CONTENT_CHAR},
        description="Who sends it (feed, crawler).",
    )
    # patterns are published in the schema; the validators below enforce them with
    # messages that say what is wrong
    text: str | None = Field(
        default=None,
        json_schema_extra={"pattern": _CONTENT_CHAR},
        description="Plain text as scraped from a page.",
    )
    html: str | None = Field(
        default=None, json_schema_extra={"pattern": _CONTENT_CHAR}, description="The page's HTML."
    )
    external_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=500,
        json_schema_extra={"pattern": _CONTENT_CHAR},
        description="The sender's id for it.",
    )
    url: str | None = Field(
        default=None,
        json_schema_extra={"pattern": _URL_PATTERN, "maxLength": MAX_URL_LENGTH},
        description="Where the article was published; alone, the worker fetches it.",
    )
    title: str | None = Field(default=None, max_length=2000)
    published_at: datetime | None = Field(
        default=None,
        json_schema_extra={"pattern": published_year_pattern()},
        description="ISO 8601; the year from 1800 to next year.",
    )
    language: str | None = Field(
        default=None, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$", description="ISO 639 code."
    )
    authors: list[str] = Field(default_factory=list, max_length=100)
    metadata: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _clean_strings(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, dict):
            return data
        if info.context is CLEAN_JSON:
            _check_depth(data)  # from_json saw nothing to clean: only the depth is left
            return data
        # JSON parsed by pydantic holds no lone surrogate (it refuses them: see from_json)
        return _clean(data, surrogates=info.mode != "json")

    @model_validator(mode="after")
    def _needs_content(self) -> Submission:
        given = [name for name in ("text", "html") if getattr(self, name) is not None]
        if len(given) > 1:
            raise ValueError("give only one of `text` or `html`")
        if not given:
            if self.url is None:
                raise ValueError("one of `text`, `html` or `url` is required")
            return self  # the worker fetches the page
        content = self.text if self.text is not None else self.html
        if not _HAS_CONTENT.search(content or ""):
            raise ValueError(f"`{given[0]}` is empty")
        return self

    @field_validator("source", "external_id")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        if value is not None and not _HAS_CONTENT.search(value):
            raise ValueError("must not be blank")
        return value

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if len(value) > MAX_URL_LENGTH:
            raise ValueError(f"longer than {MAX_URL_LENGTH} characters")
        scheme, _, rest = value.partition("://")
        if scheme not in ("http", "https") or not rest:
            raise ValueError("must be an absolute http(s) URL")
        if "@" in re.split(r"[/?#]", rest, maxsplit=1)[0]:  # in the authority part
            raise ValueError("must not carry user credentials")
        if not _URL.fullmatch(value):
            raise ValueError("must be an absolute http(s) URL with a valid host")
        return value

    @field_validator("published_at", mode="before")
    @classmethod
    def _iso_in_range(cls, value: Any) -> datetime | None:
        # only ISO 8601 text: pydantic would read "20240601" or 20240601 as seconds since
        # 1970; a naive timestamp is read as UTC, so every stored date is comparable
        if value is None:
            return None
        if isinstance(value, str):
            try:
                value = parse_iso(value)
            except ValueError:
                raise ValueError(
                    f"{value!r} is not an ISO 8601 date-time with a four-digit year "
                    "(e.g. 2024-06-01T12:00:00Z)"
                ) from None
        elif not isinstance(value, datetime):
            raise ValueError("must be an ISO 8601 date-time string (e.g. 2024-06-01T12:00:00Z)")
        return check_published(value)

    @field_validator("metadata")
    @classmethod
    def _finite_numbers(cls, value: dict[str, Any]) -> dict[str, Any]:
        # JSON has no NaN or Infinity (Python's parsers take them, and 1e400 as Infinity):
        # stored, they would become null, so they are refused where they are
        _check_finite(value, "metadata")
        return value

    @classmethod
    def from_json(cls, body: bytes) -> Submission:
        """Validate a request body. pydantic's fast parser refuses escaped lone surrogates
        ("\\ud800"), which scraped text does contain; the standard parser keeps them and
        validation then replaces them, so such an article is cleaned instead of refused.

        A string parsed from JSON holds a NUL only where the body escapes one (a raw NUL
        is not valid JSON) and never a lone surrogate: a body without the escape is not
        walked for them (a character-by-character search over an article costs more
        than validating it)."""
        context = None if b"\\u0000" in body else CLEAN_JSON
        try:
            return cls.model_validate_json(body, context=context)
        except ValidationError as exc:
            if not any("hex escape" in str(e.get("msg", "")) for e in exc.errors()):
                raise
            try:
                data = json.loads(body)
            except (ValueError, RecursionError):
                raise exc from None
            return cls.model_validate(data)

    @property
    def kind(self) -> Literal["text", "html", "url"]:
        if self.text is not None:
            return "text"
        return "html" if self.html is not None else "url"


def canonical_hash(submission: Submission) -> str:
    """What "the same body" means for an Idempotency-Key, and "the same content" for a
    resent (source, external_id): the submission as validated, every field, keys sorted."""
    canonical = submission.model_dump(mode="json")
    try:
        encoded = orjson.dumps(canonical, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # integers beyond 64 bits (see contract.json_bytes)
        encoded = json.dumps(canonical, ensure_ascii=False, sort_keys=True).encode()
    return hashlib.sha256(encoded).hexdigest()[:32]


class Links(BaseModel):
    self: str


def article_url(base_url: str, article_id: uuid.UUID | str) -> str:
    """Where an article (and its submission's state) is read: ``base_url`` "" for a path."""
    return f"{base_url}/v1/articles/{article_id}"


class Accepted(BaseModel):
    """The answer to a submission: where to follow it."""

    id: uuid.UUID
    status: Status
    links: Links
    duplicate: bool = Field(
        default=False,
        description="True when this repeats an earlier submission (same Idempotency-Key, "
        "or the same source, external_id and content): nothing new was queued.",
    )
    version: int = Field(
        default=1,
        description="The article's version this submission is: a resent (source, "
        "external_id) with other content is the next version of the same article.",
    )


BlockKind = Literal["paragraph", "subheading", "quote", "list", "caption"]


class Block(BaseModel):
    kind: BlockKind
    text: str
    start: int = Field(description="Offset of the block in `body` (characters).")
    end: int


class Image(BaseModel):
    url: str | None = None
    caption: str | None = None
    credit: str | None = None
    people: list[str] = Field(default_factory=list, description="Who the caption names.")
    role: str | None = Field(default=None, description="Their role, as the caption gives it.")


MentionField = Literal["title", "body"]


class EntityMention(BaseModel):
    start: int
    end: int
    text: str
    field: MentionField = Field(
        default="body",
        description="Where the mention is: `start`/`end` are offsets into the article's "
        "`title` or into its `body`.",
    )


class EntityRecord(BaseModel):
    key: str = Field(description="Stable across languages: `country:LT`, `per:…`, `org:…`.")
    type: str = Field(description="PER, ORG, LOC, or a further type the model gives.")
    canonical: str = Field(
        description="The name in the nominative, as this article's language has it."
    )
    country_code: str | None = Field(default=None, description="ISO 3166-1 alpha-2.")
    mentions: list[EntityMention] = Field(default_factory=list)


class QuoteRecord(BaseModel):
    text: str
    start: int
    end: int
    speaker: str | None = None
    speaker_role: str | None = None


class CitedSourceRecord(BaseModel):
    name: str = Field(description='The outlet cited ("reports TVP World"), not the publisher.')
    cue: str
    start: int
    end: int


class AmountRecord(BaseModel):
    value: float
    unit: str | None = Field(default=None, description="percent, USD, EUR, UAH, RUB, GBP.")
    of: str | None = Field(default=None, description="What it counts: GDP, soldiers, …")
    text: str
    start: int
    end: int


class DateMentionRecord(BaseModel):
    text: str
    start: int
    end: int
    date: dt.date | None = Field(default=None, description="Resolved against published_at.")
    resolved: bool


class KeywordRecord(BaseModel):
    text: str
    score: float = Field(description="YAKE score: lower is more relevant.")


class EnricherRun(BaseModel):
    name: str
    version: str


class NearDuplicate(BaseModel):
    id: uuid.UUID
    distance: int = Field(description="SimHash bits that differ.")


class ArticleDocument(BaseModel):
    """What consumers read. Text fields are filled once ``status`` is ``done``."""

    schema_version: int = SCHEMA_VERSION
    id: uuid.UUID
    status: Status
    links: Links
    source: str | None = None
    external_id: str | None = None
    url: str | None = None
    received_at: datetime | None = None
    processed_at: datetime | None = None
    error: str | None = None
    attempts: int | None = None

    title: str | None = None
    lead: str | None = None
    body: str | None = None
    blocks: list[Block] = Field(default_factory=list)
    images: list[Image] = Field(default_factory=list)
    word_count: int | None = None
    content_hash: str | None = None
    version: int | None = Field(
        default=None,
        description="Which version of the article this is (1, 2, …): a resent (source, "
        "external_id) with other content is a new version; see /versions.",
    )
    canonical_url: str | None = Field(
        default=None,
        description="`url` without tracking parameters, default port or fragment.",
    )
    duplicate_of: uuid.UUID | None = Field(
        default=None,
        description="The earliest article stored before this one with the same content hash "
        "or canonical URL, when it was written.",
    )
    near_duplicates: list[NearDuplicate] = Field(
        default_factory=list,
        description="Articles stored before this one whose SimHash differs in at most 3 bits "
        "(same language), when it was written.",
    )

    language: str | None = None
    language_confidence: float | None = None
    published_at: datetime | None = None
    modified_at: datetime | None = Field(
        default=None, description="When the page says it was last changed (HTML only)."
    )
    authors: list[str] = Field(default_factory=list)
    site: str | None = None
    tags: list[str] = Field(
        default_factory=list, description="The page's own tags (article:tag, keywords)."
    )
    alternates: list[str] = Field(
        default_factory=list, description="Languages this article is also published in."
    )
    byline: str | None = None
    dateline: str | None = None
    source_line: str | None = Field(
        default=None, description='The page\'s own source line ("Source: …", "Джерело: …").'
    )
    provenance: dict[str, str] = Field(
        default_factory=dict,
        description="Where each metadata field came from: sender, meta, json-ld, heuristic.",
    )
    warnings: list[str] = Field(
        default_factory=list, description="What the parser repaired or guessed around."
    )
    entities: list[EntityRecord] = Field(default_factory=list)
    quotes: list[QuoteRecord] = Field(default_factory=list)
    cited_sources: list[CitedSourceRecord] = Field(default_factory=list)
    amounts: list[AmountRecord] = Field(default_factory=list)
    dates_mentioned: list[DateMentionRecord] = Field(default_factory=list)
    keywords: list[KeywordRecord] = Field(default_factory=list)
    topics: list[str] = Field(default_factory=list)
    enrichers: list[EnricherRun] = Field(default_factory=list)

    @property
    def paragraphs(self) -> list[str]:
        return [b.text for b in self.blocks if b.kind == "paragraph"]


# What the API answers besides the document: the same models serve the API (its OpenAPI
# document) and newsflow.client (typed results).


class FieldError(BaseModel):
    field: str | None
    message: str


class Problem(BaseModel):
    """RFC 9457 problem+json: every error the API answers (api/problems.py names its type
    from its title)."""

    type: str = Field(
        default="about:blank",  # RFC 9457: what an absent type means
        description="A URI reference to the page that explains this kind of error "
        "(resolve it against the API's URL): `/problems/invalid-request`.",
    )
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldError] | None = None


class ItemResult(BaseModel):
    index: int
    external_id: str | None = None
    id: uuid.UUID | None = None
    duplicate: bool = False
    version: int | None = None
    error: str | None = None
    warning: str | None = Field(
        default=None, description="Accepted, but something was left out: what and why."
    )


class BatchAccepted(BaseModel):
    accepted: int
    duplicates: int
    rejected: int
    items: list[ItemResult]


class ArticleSummary(BaseModel):
    id: uuid.UUID
    status: Status
    links: Links
    source: str
    external_id: str | None = None
    url: str | None = None
    title: str | None = None
    lead: str | None = None
    language: str | None = None
    published_at: datetime | None = None
    received_at: datetime
    processed_at: datetime | None = None
    word_count: int | None = None
    authors: list[str] = Field(default_factory=list)
    site: str | None = None
    error: str | None = None
    rank: float | None = Field(
        default=None, description="Relevance to `q` (ts_rank); null without `q`."
    )


class ArticlePage(BaseModel):
    items: list[ArticleSummary]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class FeedItem(BaseModel):
    cursor: str = Field(description="Resume after this item with `cursor=<cursor>`.")
    id: uuid.UUID
    status: Status
    title: str | None = None
    language: str | None = None
    published_at: datetime | None = None
    processed_at: datetime | None = None
    changed_at: datetime
    version: int = Field(default=1, description="The article's version (see /versions).")
    links: Links
    document: ArticleDocument | None = Field(
        default=None, description="The article document, with `include=document`."
    )


class FeedPage(BaseModel):
    items: list[FeedItem]
    next_cursor: str = Field(
        description="Pass as `cursor` to continue (the last item's cursor, or the one given)."
    )
    caught_up: bool = Field(description="True when fewer than `limit` changes were ready.")
    replica_lag_seconds: float | None = Field(
        default=None,
        description="Read from a replica (NEWSFLOW_READ_DATABASE_URL): how many seconds it "
        "is behind the primary (0 = caught up). Null when read from the primary.",
    )
    next: str | None = Field(
        default=None,
        description="Deprecated (one version): the same as `next_cursor`.",
        json_schema_extra={"deprecated": True},  # the old name, kept one version
    )


class Entity(BaseModel):
    key: str = Field(description="Stable across languages, e.g. `country:LT`.")
    type: str
    canonical: str = Field(description="The name as first seen.")
    country_code: str | None
    names: list[str] = Field(description="Its canonical names in every language seen.")
    articles: int = Field(description="Articles that mention it.")


class EntityPage(BaseModel):
    items: list[Entity]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` for the next page; null on the last page."
    )


class EntityArticle(BaseModel):
    id: uuid.UUID
    title: str | None
    language: str | None
    source: str
    published_at: datetime | None
    canonical: str = Field(description="The entity's name in this article's language.")
    mentions: int


class EntityArticlePage(BaseModel):
    entity: Entity
    items: list[EntityArticle]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` for the next page; null on the last page."
    )
    next_before: uuid.UUID | None = Field(
        default=None,
        description="Deprecated (one version): the same as `next_cursor`.",
        json_schema_extra={"deprecated": True},  # the old name, kept one version
    )


class RelatedArticle(BaseModel):
    id: uuid.UUID
    title: str | None
    language: str | None
    source: str


class Duplicate(RelatedArticle):
    kind: Literal["exact", "url", "near"] = Field(
        description="The same content hash, the same canonical URL, or SimHash within 3 bits."
    )
    distance: int = Field(description="SimHash bits that differ (0 for an exact duplicate).")


class Translation(RelatedArticle):
    shared_entities: int
    shared_amounts: int
    overlap: float = Field(description="Shared entities / entities of the smaller article.")


class Related(BaseModel):
    duplicates: list[Duplicate]
    translations: list[Translation]
