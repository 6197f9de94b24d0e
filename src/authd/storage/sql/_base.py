"""What every SQL repository shares: the database and row-to-model mapping."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Row

from authd.storage.sql.db import Database

T = TypeVar("T")


class SqlRepository:
    def __init__(self, db: Database) -> None:
        self._db = db


def to_model(model: type[T], row: Row[Any]) -> T:
    return model(**row._asdict())
