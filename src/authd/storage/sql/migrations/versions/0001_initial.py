"""Initial schema: users, identities, keys, refresh families, cookie sessions,
revocations, one-time codes, pending social logins, audit events.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False, unique=True),
        sa.Column("email_verified", sa.Boolean, nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("password_hash", sa.String(200), nullable=True),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("password_changed_at", sa.Float, nullable=True),
    )
    op.create_table(
        "identities",
        sa.Column("provider", sa.String(64), primary_key=True),
        sa.Column("subject", sa.String(255), primary_key=True),
        sa.Column("user_id", sa.String(32), sa.ForeignKey("users.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "signing_keys",
        sa.Column("kid", sa.String(64), primary_key=True),
        sa.Column("alg", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("public_jwk", sa.JSON, nullable=True),
        sa.Column("private_jwk_enc", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("activated_at", sa.Float, nullable=True),
        sa.Column("retired_at", sa.Float, nullable=True),
        sa.Column("publish_until", sa.Float, nullable=True),
    )
    op.create_table(
        "refresh_families",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("user_id", sa.String(32), sa.ForeignKey("users.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("audience", sa.String(512), nullable=False),
        sa.Column("generation", sa.Integer, nullable=False),
        sa.Column("rotated_at", sa.Float, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("last_used_at", sa.Float, nullable=False),
        sa.Column("idle_expires_at", sa.Float, nullable=False),
        sa.Column("absolute_expires_at", sa.Float, nullable=False),
        sa.Column("revoked_at", sa.Float, nullable=True),
        sa.Column("revoked_reason", sa.String(32), nullable=True),
        sa.Column("user_agent", sa.String(512), nullable=True),
        sa.Column("ip", sa.String(64), nullable=True),
    )
    op.create_index("ix_refresh_families_user", "refresh_families", ["user_id"])
    op.create_table(
        "cookie_sessions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("token_hash", sa.LargeBinary(32), nullable=False, unique=True),
        sa.Column("user_id", sa.String(32), sa.ForeignKey("users.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("last_used_at", sa.Float, nullable=False),
        sa.Column("idle_expires_at", sa.Float, nullable=False),
        sa.Column("absolute_expires_at", sa.Float, nullable=False),
        sa.Column("user_agent", sa.String(512), nullable=True),
        sa.Column("ip", sa.String(64), nullable=True),
    )
    op.create_index("ix_cookie_sessions_user", "cookie_sessions", ["user_id"])
    op.create_table(
        "revocations",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("value", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_revocations_expires", "revocations", ["expires_at"])
    op.create_table(
        "one_time_codes",
        sa.Column("code_hash", sa.LargeBinary(32), primary_key=True),
        sa.Column("user_id", sa.String(32), sa.ForeignKey("users.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("used_at", sa.Float, nullable=True),
        sa.Column("family_id", sa.String(32), nullable=True),
    )
    op.create_table(
        "pending_logins",
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("record", sa.LargeBinary, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
    )
    op.create_table(
        "audit_events",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("event", sa.String(48), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=True),
        sa.Column("ip", sa.String(64), nullable=True),
        sa.Column("detail", sa.JSON, nullable=True),
    )
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    op.create_index("ix_audit_events_user", "audit_events", ["user_id"])


def downgrade() -> None:
    for table in ("audit_events", "pending_logins", "one_time_codes", "revocations",
                  "cookie_sessions", "refresh_families", "signing_keys", "identities", "users"):
        op.drop_table(table)
