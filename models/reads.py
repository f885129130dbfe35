"""`Read`: one read of a table's rows, split between the two who decide it.

A resolver decides which rows (organization, filters, visibility, order, limit) and what the
caller gets from them (one row, a list, rows grouped by a key), and returns that as a Read
without running it. Whoever runs it decides which columns:

- `fetch`: every column, JSON decoded once into values the caller owns (domain callers);
- `project`: `id` and the named columns only, JSON decoded each time it is read (the API's
  read path, which knows from the operation which columns its answer can show).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from models.db import read_rows
from models.records import complete, projected

T = TypeVar("T")


class Read(Generic[T]):
    __slots__ = ("needs", "params", "shape", "statement")

    def __init__(
        self,
        statement: Any,
        params: dict[str, Any],
        shape: Callable[[list[Any]], T],
        needs: frozenset[str] = frozenset(),
    ) -> None:
        """`statement` is a records() statement built with guarded() or unscoped(), selecting
        every column; `shape` turns its rows into the result and may read only the columns
        in `needs` (and `id`)."""
        self.statement = statement
        self.params = params
        self.shape = shape
        self.needs = needs

    async def fetch(self, session: AsyncSession) -> T:
        """The result with every column, as values the caller may keep and edit."""
        return self.shape(complete(await read_rows(session, self.statement, self.params)))

    async def project(self, session: AsyncSession, columns: frozenset[str] | None) -> T:
        """The result with `id` and `columns` only (None: every column), as read-only
        records that decode JSON when it is read."""
        statement = self.statement
        if columns is not None:
            statement = projected(statement, columns | self.needs if self.needs else columns)
        return self.shape(await read_rows(session, statement, self.params))
