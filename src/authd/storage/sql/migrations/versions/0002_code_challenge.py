"""Token-mode social login: an app's own PKCE challenge on its one-time code.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("one_time_codes") as batch:
        batch.add_column(sa.Column("code_challenge", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("one_time_codes") as batch:
        batch.drop_column("code_challenge")
