"""SQL storage (SQLAlchemy Core): SQLite by default, PostgreSQL (asyncpg) for scale-out."""

from authd.storage.sql.engine import migrate, open_database
from authd.storage.sql.store import SqlStore

__all__ = ["SqlStore", "migrate", "open_database"]
