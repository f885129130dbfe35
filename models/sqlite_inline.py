"""An aiosqlite-compatible connection that runs sqlite3 calls inline, on the event loop.

aiosqlite runs every call (cursor, execute, fetchall, close...) in a worker thread; each hop
costs about 100 µs, several per statement, which dominated request time. A local SQLite
statement usually takes less than that, so the embedded default runs them inline instead
(passed to SQLAlchemy as `async_creator`). Consequences, handled in `models.db`:

* a statement blocks the loop while it runs (fine for the small indexed queries an API
  makes; PostgreSQL is the answer for heavy concurrent load);
* two connections of this process must never wait on each other's write lock (the busy
  handler would block the loop that the lock holder needs): writers are serialised by an
  asyncio lock before `BEGIN IMMEDIATE`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any


class _InlineCursor:
    __slots__ = ("_cursor",)

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> _InlineCursor:
        if parameters is None:
            self._cursor.execute(sql)
        else:
            self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> _InlineCursor:
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    async def __aenter__(self) -> _InlineCursor:
        return self

    async def __aexit__(self, *_: Any) -> None:
        self._cursor.close()

    async def nextset(self) -> None:
        return None

    async def setinputsizes(self, *_: Any) -> None:
        return None


class _ImmediateQueue:
    """Stands in for aiosqlite's job queue, which SQLAlchemy uses to set isolation_level."""

    def put_nowait(self, item: tuple[Any, Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as exc:  # handed back to the awaiting caller
            future.set_exception(exc)


class InlineConnection:
    """The subset of `aiosqlite.Connection` that SQLAlchemy's aiosqlite dialect uses."""

    def __init__(self, path: str) -> None:
        # check_same_thread=False: pooled connections may be closed by the pool's cleanup
        # from another thread at interpreter exit; all normal use stays on the loop thread.
        self._conn: sqlite3.Connection | None = sqlite3.connect(path, check_same_thread=False)
        self._connection = self._conn
        self._tx = _ImmediateQueue()

    @property
    def sqlite(self) -> sqlite3.Connection:
        """The sqlite3 connection itself (models.direct reads through it)."""
        assert self._conn is not None
        return self._conn

    @property
    def isolation_level(self) -> str | None:
        assert self._conn is not None
        return self._conn.isolation_level

    def cursor(self) -> _InlineCursor:
        assert self._conn is not None
        return _InlineCursor(self._conn.cursor())

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> _InlineCursor:
        return await self.cursor().execute(sql, parameters)

    async def commit(self) -> None:
        assert self._conn is not None
        self._conn.commit()

    async def rollback(self) -> None:
        assert self._conn is not None
        self._conn.rollback()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        assert self._conn is not None
        self._conn.create_function(*args, **kwargs)

    async def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
            self._connection = None

    def stop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
            self._connection = None


def inline_creator(path: str) -> Callable[[], Any]:
    async def create() -> InlineConnection:
        return InlineConnection(path)

    return create
