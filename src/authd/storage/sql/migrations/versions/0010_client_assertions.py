"""private_key_jwt: the jti of each client assertion, kept until it expires (single use).

Revision ID: 0010
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "client_assertions",
        sa.Column("key_hash", sa.LargeBinary(32), primary_key=True),
        sa.Column("expires_at", sa.Float, nullable=False),
    )
    op.create_index("ix_client_assertions_expires", "client_assertions", ["expires_at"])


def downgrade() -> None:
    op.drop_table("client_assertions")
