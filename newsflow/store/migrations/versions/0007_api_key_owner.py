"""API keys get an owner, which scopes the idempotency claims of their submissions.

Keys of one owner share their claims (an Idempotency-Key or a source + external_id
submitted with one is a repeat for the others); keys of different owners share nothing.

Existing keys become their own owner: ``owner = id``. Not the name: names are free text and
need not be unique (two unrelated clients may both be "crawler"), so grouping by name could
keep sharing claims between clients that must not see each other's; an id is unique, so no
existing key sees another's claims. To let a new key share an existing key's claims, create
it with ``--owner <that key's id>``.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE newsflow.api_keys ADD COLUMN owner text;
        UPDATE newsflow.api_keys SET owner = id;
        ALTER TABLE newsflow.api_keys
            ALTER COLUMN owner SET NOT NULL,
            ADD CONSTRAINT api_keys_owner
                CHECK (owner ~ '^[A-Za-z0-9._-]{1,64}$' AND owner <> 'anonymous');
        """
    )


def downgrade() -> None:
    op.execute("ALTER TABLE newsflow.api_keys DROP COLUMN owner;")
