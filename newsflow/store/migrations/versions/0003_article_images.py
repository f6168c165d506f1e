"""Images of an article, with caption, credit and the people the caption names, so SQL
consumers can read them without parsing the document.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE newsflow.article_images (
            article_id uuid NOT NULL REFERENCES newsflow.articles (id) ON DELETE CASCADE,
            position integer NOT NULL,
            url text,
            caption text,
            credit text,
            people text[] NOT NULL DEFAULT '{}',
            role text,
            PRIMARY KEY (article_id, position)
        );
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE newsflow.article_images")
