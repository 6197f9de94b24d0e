"""SQL storage (SQLAlchemy Core, async): SQLite by default, PostgreSQL for scale-out."""

from authd.storage.sql.engine import create_engine, migrate
from authd.storage.sql.store import SqlStore

__all__ = ["SqlStore", "create_engine", "migrate"]
