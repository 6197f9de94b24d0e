"""Second factors: how each login was made (``amr``), TOTP factors, recovery codes, mfa tokens.

Existing families and sessions keep a NULL ``amr``: they read as no methods
(authd cannot know how those logins were made). One-time codes get one too:
a NULL there is a social login's code (the only kind issued before).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_AMR_TABLES = ("refresh_families", "cookie_sessions", "one_time_codes")


def _user_fk() -> sa.ForeignKey:
    return sa.ForeignKey("users.id", ondelete="CASCADE")


def upgrade() -> None:
    for table in _AMR_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("amr", sa.Text, nullable=True))
    op.create_table(
        "totp_factors",
        sa.Column("user_id", sa.String(32), _user_fk(), primary_key=True),
        sa.Column("secret_enc", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("confirmed_at", sa.Float, nullable=True),
        sa.Column("last_step", sa.BigInteger, nullable=True),
    )
    op.create_table(
        "recovery_codes",
        sa.Column("user_id", sa.String(32), _user_fk(), primary_key=True),
        sa.Column("code_hash", sa.LargeBinary(32), primary_key=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("used_at", sa.Float, nullable=True),
    )
    op.create_table(
        "mfa_tokens",
        sa.Column("token_hash", sa.LargeBinary(32), primary_key=True),
        sa.Column("user_id", sa.String(32), _user_fk(), nullable=False),
        sa.Column("binding", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("used_at", sa.Float, nullable=True),
        sa.Index("ix_mfa_tokens_expires", "expires_at"),
    )


def downgrade() -> None:
    op.drop_table("mfa_tokens")
    op.drop_table("recovery_codes")
    op.drop_table("totp_factors")
    for table in _AMR_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("amr")
