"""An aiosqlite-compatible connection that runs sqlite3 calls inline, on the event loop, and
keeps every statement short there.

aiosqlite runs every call (cursor, execute, fetchall, close...) in a worker thread; each hop
costs about 100 µs, several per statement, which dominated request time. A local SQLite
statement usually takes less than that, so the embedded default runs them inline instead
(passed to SQLAlchemy as `async_creator`). Nothing may hold the loop for long, though:

* **A slow read moves off the loop.** A read runs inline under a budget (`inline_budget`,
  a few milliseconds); if it is still running then, SQLite interrupts it and it runs again,
  from the start, in a worker thread (sqlite3 releases the GIL while SQLite works), so a count
  over a million contacts does not stall every other request. That is safe for a SELECT, and
  for any statement outside a transaction (an interrupted one leaves nothing behind); writes
  inside a transaction always run inline: they are small by construction (writes go by key).
* **No statement runs forever.** Every statement has a hard limit (`statement_timeout`);
  past it SQLite interrupts it and the caller gets `models.errors.StatementTimeout`.
* **Waiting for a lock never blocks the loop.** SQLite's own busy handler would sleep inside
  the call, holding the loop (and with it the process) while another process holds the
  database; the connection has no busy timeout and instead retries a busy statement with
  asyncio sleeps for up to `busy_timeout` seconds, then the busy error goes up
  (`models.errors.translate` makes it `DatabaseBusy`).

Two connections of this process must never wait on each other's write lock: writers are
serialised by an asyncio lock before `BEGIN IMMEDIATE` (`models.db.Database.transaction`).
"""

from __future__ import annotations

import asyncio
import math
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from models.errors import is_sqlite_busy, is_sqlite_interrupt

T = TypeVar("T")

# How often SQLite asks whether to stop (in virtual machine instructions): often enough
# inline to keep to a millisecond budget, rarely in a worker thread (each ask takes the GIL).
_INLINE_CHECK, _THREAD_CHECK = 1_000, 100_000
_FIRST_RETRY, _LONGEST_RETRY = 0.002, 0.05


@dataclass(frozen=True)
class Limits:
    """Time limits of the connections of one database (seconds)."""

    inline_budget: float = 0.02
    statement_timeout: float = 20.0
    busy_timeout: float = 5.0


def _is_select(sql: str) -> bool:
    return sql.lstrip()[:6].upper() == "SELECT"


_CONTROL = ("BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE")


def _is_control(sql: str) -> bool:
    return sql.lstrip()[:9].upper().startswith(_CONTROL)


class _InlineCursor:
    """A cursor whose execute also fetches every row (SQLAlchemy's async adapter fetches them
    all right away anyway): a statement is over when execute returns."""

    __slots__ = ("_connection", "_cursor", "_rows")

    def __init__(self, connection: InlineConnection, cursor: sqlite3.Cursor) -> None:
        self._connection = connection
        self._cursor = cursor
        self._rows: list[Any] = []

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
        self._rows = await self._connection.run(self._cursor, sql, parameters or ())
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> _InlineCursor:
        rows = list(parameters)
        await self._connection.retrying(
            lambda: self._connection.limited(self._cursor.executemany, sql, rows)
        )
        self._rows = []
        return self

    async def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        size = size if size is not None else self._cursor.arraysize
        taken, self._rows = self._rows[:size], self._rows[size:]
        return taken

    async def fetchall(self) -> list[Any]:
        taken, self._rows = self._rows, []
        return taken

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

    def __init__(self, path: str, limits: Limits) -> None:
        # check_same_thread=False: slow reads run in a worker thread (while the loop awaits
        # them, nothing else uses the connection), and the pool may close connections from
        # another thread at exit. timeout=0: busy waits happen in `retrying`, off the loop.
        self._conn: sqlite3.Connection | None = sqlite3.connect(
            path, check_same_thread=False, timeout=0
        )
        self._connection: sqlite3.Connection | None = self._conn
        self._tx = _ImmediateQueue()
        self.limits = limits
        self._deadline = math.inf
        self._conn.set_progress_handler(self._past_deadline, _INLINE_CHECK)

    @property
    def busy(self) -> bool:
        """A statement is running on this connection (in this thread or a worker thread)."""
        return self._deadline != math.inf

    def _past_deadline(self) -> int:
        return 1 if time.perf_counter() > self._deadline else 0

    @property
    def sqlite(self) -> sqlite3.Connection:
        """The sqlite3 connection itself."""
        assert self._conn is not None
        return self._conn

    def try_begin_immediate(self) -> bool:
        """Begin the write transaction at once (True). When that fails (another process
        holds the write lock: busy), False: the caller then runs `BEGIN IMMEDIATE` as a
        statement, which waits for the lock without holding the event loop and reports
        any other error as every statement does. (A BEGIN through SQLAlchemy's execution
        path costs as much as the rest of a short transaction.)"""
        try:
            self.limited(self.sqlite.execute, "BEGIN IMMEDIATE")
        except sqlite3.Error:
            return self.sqlite.in_transaction  # (True if it took effect before failing)
        return True

    # --- running statements -------------------------------------------------------------------

    def limited(self, call: Callable[..., T], *args: Any, seconds: float | None = None) -> T:
        """`call(*args)` with SQLite told to stop after `seconds` (the statement timeout)."""
        self._deadline = time.perf_counter() + (
            self.limits.statement_timeout if seconds is None else seconds
        )
        try:
            return call(*args)
        finally:
            self._deadline = math.inf

    def _in_thread(self, cursor: sqlite3.Cursor, sql: str, parameters: Any) -> list[Any]:
        self.sqlite.set_progress_handler(self._past_deadline, _THREAD_CHECK)
        try:
            return self.limited(lambda: cursor.execute(sql, parameters).fetchall())
        finally:
            self.sqlite.set_progress_handler(self._past_deadline, _INLINE_CHECK)

    async def _attempt(self, cursor: sqlite3.Cursor, sql: str, parameters: Any) -> list[Any]:
        # Safe to stop and run again: a SELECT, or any statement outside a transaction (it
        # is atomic on its own, so an interrupted one left nothing behind). Not a BEGIN: one
        # stopped as it finished has started its transaction, and run again it fails
        # ("cannot start a transaction within a transaction", seen under load). Transaction
        # statements do no work worth stopping.
        if _is_control(sql) or (self.sqlite.in_transaction and not _is_select(sql)):
            return self.limited(lambda: cursor.execute(sql, parameters).fetchall())
        budget = self.limits.inline_budget
        if budget > 0:
            try:
                return self.limited(
                    lambda: cursor.execute(sql, parameters).fetchall(), seconds=budget
                )
            except sqlite3.OperationalError as exc:
                if not is_sqlite_interrupt(exc):
                    raise
        running = asyncio.ensure_future(asyncio.to_thread(self._in_thread, cursor, sql, parameters))
        try:
            return await asyncio.shield(running)
        except asyncio.CancelledError:
            # The caller gives up (the server is stopping): stop the statement and wait for
            # the thread, so the connection goes back to the pool only once nothing uses it.
            self.sqlite.interrupt()
            await asyncio.wait([running])
            if not running.cancelled():
                running.exception()  # "interrupted", expected: nobody waits for it any more
            raise

    async def retrying(self, attempt: Callable[[], Any]) -> Any:
        """Run `attempt` (sync or async); while SQLite answers busy (another process holds a
        lock it needs), wait with asyncio sleeps and retry, up to the busy timeout."""
        deadline = None
        delay = _FIRST_RETRY
        while True:
            try:
                result = attempt()
                return await result if asyncio.iscoroutine(result) else result
            except sqlite3.OperationalError as exc:
                if not is_sqlite_busy(exc):
                    raise
                now = time.monotonic()
                deadline = deadline if deadline is not None else now + self.limits.busy_timeout
                if now >= deadline:
                    raise
                await asyncio.sleep(min(delay, deadline - now))
                delay = min(delay * 2, _LONGEST_RETRY)

    async def run(self, cursor: sqlite3.Cursor, sql: str, parameters: Any) -> list[Any]:
        """Execute one statement and fetch its rows, within the limits above."""
        rows: list[Any] = await self.retrying(lambda: self._attempt(cursor, sql, parameters))
        return rows

    async def read(self, sql: str, parameters: Any) -> list[Any]:
        """The rows of one SELECT (models.direct), within the limits above."""
        cursor = self.sqlite.cursor()
        try:
            return await self.run(cursor, sql, parameters)
        finally:
            cursor.close()

    # --- what SQLAlchemy's adapter calls ------------------------------------------------------

    @property
    def isolation_level(self) -> str | None:
        assert self._conn is not None
        return self._conn.isolation_level

    def cursor(self) -> _InlineCursor:
        assert self._conn is not None
        return _InlineCursor(self, self._conn.cursor())

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> _InlineCursor:
        return await self.cursor().execute(sql, parameters)

    async def commit(self) -> None:
        assert self._conn is not None
        await self.retrying(self._conn.commit)

    async def rollback(self) -> None:
        assert self._conn is not None
        self._conn.rollback()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        assert self._conn is not None
        self._conn.create_function(*args, **kwargs)

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
            self._connection = None


def inline_creator(path: str, limits: Limits | None = None) -> Callable[[], Any]:
    async def create() -> InlineConnection:
        return InlineConnection(path, limits or Limits())

    return create
