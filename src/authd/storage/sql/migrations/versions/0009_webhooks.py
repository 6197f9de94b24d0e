"""Webhooks: outbox rows that name their endpoint, the user they are ordered by, and the event.

Revision ID: 0009
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("endpoint", sa.String(32), nullable=True))
        batch.add_column(sa.Column("subject", sa.String(32), nullable=True))
        batch.add_column(sa.Column("event_type", sa.String(48), nullable=True))
        batch.add_column(sa.Column("last_status", sa.Integer, nullable=True))
    # A claim looks for the earliest undelivered row of the same user and endpoint.
    op.create_index("ix_outbox_webhook_order", "outbox", ["endpoint", "subject", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_webhook_order", "outbox")
    with op.batch_alter_table("outbox") as batch:
        for column in ("last_status", "event_type", "subject", "endpoint"):
            batch.drop_column(column)
