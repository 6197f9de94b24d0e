"""Revocation feed: one entry per revoked token, and numbers never reused on SQLite.

* A unique (kind, value): revoking the same token again adds no entry (existing
  duplicates are reduced to their first entry).
* SQLite: the table is rebuilt with AUTOINCREMENT. Without it SQLite numbers a
  row one above the current highest, so once the newest entries expired and were
  pruned, new ones reused numbers that followers had already passed. Numbering
  resumes above every number that can have been handed out before.

Revision ID: 0004
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_UNIQUE = "uq_revocations_kind_value"


# Every feed entry so far was the sid of a family now marked revoked, or the jti of an
# access token whose revocation was audited right after: together with a margin (for a
# crash between the two writes) that bounds every number SQLite can have handed out.
_HANDED_OUT_BOUND = """
SELECT (SELECT count(*) FROM refresh_families WHERE revoked_at IS NOT NULL)
     + (SELECT count(*) FROM audit_events WHERE event = 'token.revoked') + 1000"""


def upgrade() -> None:
    bind = op.get_bind()
    highest = bind.execute(sa.text("SELECT coalesce(max(seq), 0) FROM revocations")).scalar_one()
    op.execute(sa.text("DELETE FROM revocations WHERE seq NOT IN "
                       "(SELECT min(seq) FROM revocations GROUP BY kind, value)"))
    if bind.dialect.name != "sqlite":
        op.create_unique_constraint(_UNIQUE, "revocations", ["kind", "value"])
        return
    with op.batch_alter_table("revocations", recreate="always",
                              table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.create_unique_constraint(_UNIQUE, ["kind", "value"])
    # Numbers already pruned are unknown; start above any that followers may hold.
    start = max(int(highest), int(bind.execute(sa.text(_HANDED_OUT_BOUND)).scalar_one()))
    op.execute(sa.text("DELETE FROM sqlite_sequence WHERE name = 'revocations'"))
    op.execute(sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES ('revocations', :seq)"
                       ).bindparams(seq=start))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("revocations", recreate="always") as batch:
            batch.drop_constraint(_UNIQUE, type_="unique")
    else:
        op.drop_constraint(_UNIQUE, "revocations", type_="unique")
