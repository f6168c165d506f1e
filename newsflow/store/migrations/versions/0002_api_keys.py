"""API keys: only the SHA-256 of each key, its scopes, and when it was revoked.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE newsflow.api_keys (
            id text PRIMARY KEY,
            name text NOT NULL,
            key_hash text NOT NULL
                CONSTRAINT api_keys_key_hash_key UNIQUE
                CONSTRAINT api_keys_key_hash_sha256 CHECK (key_hash ~ '^[0-9a-f]{64}$'),
            scopes text[] NOT NULL
                CONSTRAINT api_keys_scopes
                CHECK (cardinality(scopes) > 0
                       AND scopes <@ ARRAY['submit', 'read', 'admin']::text[]),
            created_at timestamptz NOT NULL DEFAULT now(),
            revoked_at timestamptz
        );
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE newsflow.api_keys;")
