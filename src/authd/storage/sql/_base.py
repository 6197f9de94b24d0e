"""What every SQL repository shares: the engine and row-to-model mapping."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncEngine

T = TypeVar("T")


class SqlRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine


def to_model(model: type[T], row: Row[Any]) -> T:
    return model(**row._asdict())
