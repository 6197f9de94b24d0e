"""Recent authentication: when the user last proved who they are, per family and session.

Existing rows get their creation time: the login that started them.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_TABLES = ("refresh_families", "cookie_sessions")


def upgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("auth_time", sa.Float, nullable=True))
    op.execute("UPDATE refresh_families SET auth_time = created_at")
    op.execute("UPDATE cookie_sessions SET auth_time = created_at")


def downgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("auth_time")
