"""Webhooks: subscriptions that push the change feed to a URL, their attempts and their
dead letters (see ``newsflow.store.webhooks`` and the README, "Push").

* ``newsflow.webhooks``: the subscription (URL, secret, the ``GET /v1/articles`` filters
  as JSON, whether it pays ``include_document``), its feed cursor ``(cursor_xid,
  cursor_position)`` — every change up to it is delivered, dead-lettered or did not match —
  and the change at its head that is being retried: ``pending_xid/position``,
  ``attempts``, ``next_attempt_at``, ``last_error``.
* ``newsflow.webhook_attempts``: one row per HTTP attempt (the retries a user sees).
* ``newsflow.webhook_dead``: changes given up on after the last attempt; ``replay`` marks
  them to be delivered again.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE newsflow.webhooks (
            id uuid PRIMARY KEY,
            url text NOT NULL,
            secret text NOT NULL,
            filters jsonb NOT NULL DEFAULT '{}',
            include_document boolean NOT NULL DEFAULT false,
            active boolean NOT NULL DEFAULT true,
            description text,
            cursor_xid xid8 NOT NULL,
            cursor_position bigint NOT NULL,
            pending_xid xid8,
            pending_position bigint,
            attempts integer NOT NULL DEFAULT 0,
            next_attempt_at timestamptz,
            last_error text,
            delivered_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
        );

        CREATE TABLE newsflow.webhook_attempts (
            id bigserial PRIMARY KEY,
            webhook_id uuid NOT NULL REFERENCES newsflow.webhooks (id) ON DELETE CASCADE,
            article_id uuid NOT NULL,
            xid xid8 NOT NULL,
            position bigint NOT NULL,
            attempt integer NOT NULL,
            replay boolean NOT NULL DEFAULT false,
            status_code integer,
            error text,
            attempted_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX webhook_attempts_webhook_idx ON newsflow.webhook_attempts (webhook_id, id);
        CREATE INDEX webhook_attempts_time_idx ON newsflow.webhook_attempts (attempted_at);

        CREATE TABLE newsflow.webhook_dead (
            id bigserial PRIMARY KEY,
            webhook_id uuid NOT NULL REFERENCES newsflow.webhooks (id) ON DELETE CASCADE,
            article_id uuid NOT NULL,
            xid xid8 NOT NULL,
            position bigint NOT NULL,
            change jsonb NOT NULL,
            attempts integer NOT NULL,
            last_error text,
            dead_at timestamptz NOT NULL DEFAULT now(),
            replay_requested_at timestamptz,
            UNIQUE (webhook_id, xid, position)
        );
        CREATE INDEX webhook_dead_replay_idx ON newsflow.webhook_dead (webhook_id, xid, position)
            WHERE replay_requested_at IS NOT NULL;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE newsflow.webhook_dead;
        DROP TABLE newsflow.webhook_attempts;
        DROP TABLE newsflow.webhooks;
        """
    )
