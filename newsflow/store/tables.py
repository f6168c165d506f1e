"""The tables, as SQLAlchemy Core. The migrations create them; this module only names them
for queries. Everything lives in the ``newsflow`` schema."""

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    Table,
    Text,
    Uuid,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

SCHEMA = "newsflow"
metadata = MetaData(schema=SCHEMA)

STATUSES = ("processing", "done", "failed", "dead")

submissions = Table(
    "submissions",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("source", Text, nullable=False),
    Column("external_id", Text),
    Column("idempotency_key", Text),
    Column("kind", Text, nullable=False),
    Column("payload", JSONB, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("status", Text, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("deliveries", Integer, nullable=False, server_default="0"),
    Column("last_message", Text),
    Column("error", Text),
    Column("landed_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    CheckConstraint(f"status IN {STATUSES!r}", name="submissions_status"),
)

articles = Table(
    "articles",
    metadata,
    Column("id", Uuid, ForeignKey(submissions.c.id, ondelete="CASCADE"), primary_key=True),
    Column("source", Text, nullable=False),
    Column("external_id", Text),
    Column("url", Text),
    Column("title", Text),
    Column("lead", Text),
    Column("body", Text, nullable=False),
    Column("language", Text),
    Column("language_confidence", Float),
    Column("published_at", DateTime(timezone=True)),
    Column("authors", ARRAY(Text), nullable=False),
    Column("site", Text),
    Column("word_count", Integer, nullable=False),
    Column("content_hash", Text, nullable=False),
    Column("simhash", BigInteger),
    Column("document", JSONB, nullable=False),
    Column("processed_at", DateTime(timezone=True), nullable=False),
)

article_blocks = Table(
    "article_blocks",
    metadata,
    Column(
        "article_id",
        Uuid,
        ForeignKey(articles.c.id, ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("position", Integer, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("start_offset", Integer, nullable=False),
    Column("end_offset", Integer, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("key_hash", Text, nullable=False, unique=True),  # SHA-256 hex; never the key
    Column("scopes", ARRAY(Text), nullable=False),
    Column("owner", Text, nullable=False),  # scopes idempotency claims (migration 0007)
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
)

article_images = Table(
    "article_images",
    metadata,
    Column("article_id", Uuid, ForeignKey(articles.c.id, ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("url", Text),
    Column("caption", Text),
    Column("credit", Text),
    Column("people", ARRAY(Text), nullable=False),
    Column("role", Text),
)
