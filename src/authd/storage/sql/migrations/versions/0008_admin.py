"""The admin API: indexes for user search and for the audit listing's filters.

* ``ix_users_created``: the users listing's keyset order (created_at, id).
* PostgreSQL only: ``text_pattern_ops`` indexes for prefix search (``LIKE 'ada%'``) on the
  email (stored lower-case) and on ``lower(name)``; the unique index on email uses the
  database's collation, which ``LIKE`` cannot use outside the C locale. SQLite's ``LIKE`` is
  case-insensitive and uses no index here: it scans, which is fine at its scale.
* ``ix_audit_events_event``: the audit listing filtered by event, newest first.

Revision ID: 0008
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_users_created", "users", ["created_at", "id"])
    op.create_index("ix_audit_events_event", "audit_events", ["event", "seq"])
    if op.get_bind().dialect.name == "postgresql":
        op.create_index("ix_users_email_pattern", "users", ["email"],
                        postgresql_ops={"email": "text_pattern_ops"})
        op.create_index("ix_users_name_pattern", "users", [sa.text("lower(name) text_pattern_ops")])


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_users_name_pattern", "users")
        op.drop_index("ix_users_email_pattern", "users")
    op.drop_index("ix_audit_events_event", "audit_events")
    op.drop_index("ix_users_created", "users")
