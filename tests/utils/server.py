"""A live server for tests: uvicorn serving `create_app` on a loopback port, in a thread with
its own event loop. Database work for test setup runs on that same loop (`run`), so it uses
the app's own engine."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx2
import uvicorn
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from app import create_app
from models import Database
from models.migrate import upgrade_sync
from resolvers.seed import seed_languages
from settings import Settings

T = TypeVar("T")


def test_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "environment": "test",
        "secret_key": "test-secret-key",
        "cors_origins": "http://frontend.test",
        # Every test client is 127.0.0.1 and the suite signs in hundreds of times a minute:
        # the shared server's rate limits stay out of the way. Tests of the limits start a
        # server of their own with the limits they test (tests/test_sign_in_limits.py).
        "signin_attempts_per_minute": 100_000,
        "unauthenticated_requests_per_minute": 100_000,
        # No job runner unless a test asks for one (tests/test_jobs.py): its polls would
        # reach the driver inside the statement counts of other tests.
        "jobs_enabled": False,
        # Uploads go to a folder of the run's own, never into the checkout.
        "media_dir": tempfile.mkdtemp(prefix="glific-test-media-"),
    }
    if not database_url.startswith("sqlite"):
        # PostgreSQL's 100 connections are shared by every server the parallel suite keeps
        # open (each worker's shared one, module-scoped ones, subprocesses): a request past
        # these waits for a connection, as in production past DB_POOL_SIZE.
        values["db_pool_size"] = 6
    values.update(overrides)
    return Settings(**values)


# Transaction control is left out of the counts: psycopg sends BEGIN/COMMIT itself, past its
# cursors, while SQLite's are statements like any other; counting them would make the two
# databases disagree about the same request.
_TRANSACTION_CONTROL = frozenset({"BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE"})


class StatementCounter:
    """The SQL statements the server sent to the database driver while this counter was on
    (for N+1 tests). Statements may reach the driver from a worker thread: adding is locked."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.statements: list[str] = []

    def add(self, sql: str) -> None:
        words = sql.split(None, 1)
        if words and words[0].upper() in _TRANSACTION_CONTROL:
            return
        # SQLite reports the statements a statement runs inside itself (a trigger's, or FTS5
        # reading its index: migration 0007) prefixed with "--": part of one driver call.
        if sql.startswith("--"):
            return
        with self._lock:
            self.statements.append(sql)

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.statements)


class _Held:
    """Whether the application holds a pooled connection (between the pool's checkout and
    checkin): the pool's own statements outside that window (PostgreSQL's pre-ping at checkout,
    the dialect's set-up on connect) are not the request's."""

    __slots__ = ("driver", "held")

    def __init__(self, driver: Any) -> None:
        self.driver = driver
        self.held = False


class DriverTap:
    """Sees every statement the engine's connections run, where it reaches the driver (the
    ORM's `before_cursor_execute` event misses the prepared reads of models/direct.py, which
    run on the sqlite3 connection itself):

    - SQLite: the sqlite3 connection's trace callback, called for each statement it starts;
    - PostgreSQL: the psycopg connection's `cursor_factory`, a cursor class that reports each
      `execute`/`executemany` (one report per call) before running it.

    Installed on a connection the first time the pool hands it out, so the tap must be made
    before the engine's first checkout. Counters come and go; the tap stays."""

    _KEY = "statement_tap"

    def __init__(self, engine: Any) -> None:
        self._lock = threading.Lock()
        self._counters: tuple[StatementCounter, ...] = ()
        event.listen(engine.sync_engine, "checkout", self._checkout)
        event.listen(engine.sync_engine, "checkin", self._checkin)

    def start(self) -> StatementCounter:
        counter = StatementCounter()
        with self._lock:
            self._counters = (*self._counters, counter)
        return counter

    def stop(self, counter: StatementCounter) -> None:
        with self._lock:
            self._counters = tuple(c for c in self._counters if c is not counter)

    def _report(self, state: _Held, sql: Any) -> None:
        if state.held:
            text = sql.decode() if isinstance(sql, bytes) else str(sql)
            for counter in self._counters:
                counter.add(text)

    def _checkout(self, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        driver = dbapi_connection.driver_connection
        state = record.info.get(self._KEY)
        if state is None or state.driver is not driver:  # new, or reconnected
            state = record.info[self._KEY] = _Held(driver)
            self._install(driver, state)
        state.held = True

    def _checkin(self, _dbapi_connection: Any, record: Any) -> None:
        state = record.info.get(self._KEY)
        if state is not None:
            state.held = False

    def _install(self, driver: Any, state: _Held) -> None:
        sqlite = getattr(driver, "sqlite", None)
        if isinstance(sqlite, sqlite3.Connection):
            sqlite.set_trace_callback(lambda sql: self._report(state, sql))
            return
        import psycopg

        if isinstance(driver, psycopg.AsyncConnection):
            report = self._report
            base: Any = driver.cursor_factory

            # A subclass of whichever cursor class the connection uses: a base known at run time.
            class CountingCursor(base):  # type: ignore[misc]
                async def execute(self, query: Any, *args: Any, **kwargs: Any) -> Any:
                    report(state, query)
                    return await super().execute(query, *args, **kwargs)

                async def executemany(self, query: Any, *args: Any, **kwargs: Any) -> Any:
                    report(state, query)
                    return await super().executemany(query, *args, **kwargs)

            driver.cursor_factory = CountingCursor
            return
        # A test that counts nothing would pass whatever the server does.
        raise TypeError(f"cannot count the statements of {type(driver).__name__} connections")


@dataclass
class LiveServer:
    base_url: str
    db: Database
    settings: Settings
    loop: asyncio.AbstractEventLoop
    _server: uvicorn.Server
    _thread: threading.Thread
    _tap: DriverTap
    _client: httpx2.Client | None = None

    @property
    def client(self) -> httpx2.Client:
        if self._client is None:
            self._client = httpx2.Client(base_url=self.base_url, timeout=30)
        return self._client

    def run(self, work: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """Run a coroutine on the server's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(work(), self.loop).result(timeout=60)

    def in_transaction(
        self, work: Callable[[AsyncSession], Awaitable[T]], *, org_id: int | None = None
    ) -> T:
        """`work` in one write transaction: of the organization `org_id`, or of all."""

        async def go() -> T:
            async with self.db.transaction(org_id, all_organizations=org_id is None) as session:
                return await work(session)

        return self.run(go)

    def count_statements(self) -> StatementCounter:
        return self._tap.start()

    def stop_counting(self, counter: StatementCounter) -> None:
        self._tap.stop(counter)

    def stop(self) -> None:
        if self._client is not None:
            self._client.close()
        self._server.should_exit = True
        self._thread.join(timeout=15)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(database_url: str, **overrides: Any) -> LiveServer:
    upgrade_sync(database_url)
    settings = test_settings(database_url, **overrides)
    loop = asyncio.new_event_loop()
    db = Database(database_url, settings=settings)
    tap = DriverTap(db.engine)

    async def seed() -> None:
        async with db.transaction(all_organizations=True) as session:
            await seed_languages(session)

    port = _free_port()
    config = uvicorn.Config(
        create_app(settings, db),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        loop="asyncio",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=loop.run_until_complete, args=(server.serve(),), daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    live = LiveServer(f"http://127.0.0.1:{port}", db, settings, loop, server, thread, tap)
    live.run(seed)
    return live
