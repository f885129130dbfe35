"""A live server for tests: uvicorn serving `create_app` on a loopback port, in a thread with
its own event loop. Database work for test setup runs on that same loop (`run`), so it uses
the app's own engine."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
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
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class StatementCounter:
    """Counts SQL statements the server sends (for N+1 tests)."""

    count: int = 0
    statements: list[str] = field(default_factory=list)

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.count += 1
        self.statements.append(statement)


@dataclass
class LiveServer:
    base_url: str
    db: Database
    settings: Settings
    loop: asyncio.AbstractEventLoop
    _server: uvicorn.Server
    _thread: threading.Thread
    _client: httpx2.Client | None = None

    @property
    def client(self) -> httpx2.Client:
        if self._client is None:
            self._client = httpx2.Client(base_url=self.base_url, timeout=30)
        return self._client

    def run(self, work: Callable[[], Awaitable[T]]) -> T:
        """Run a coroutine on the server's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(work(), self.loop).result(timeout=60)  # type: ignore[arg-type]

    def in_transaction(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        async def go() -> T:
            async with self.db.transaction(all_organizations=True) as session:
                return await work(session)

        return self.run(go)

    def count_statements(self) -> StatementCounter:
        counter = StatementCounter()
        event.listen(self.db.engine.sync_engine, "before_cursor_execute", counter)
        return counter

    def stop_counting(self, counter: StatementCounter) -> None:
        event.remove(self.db.engine.sync_engine, "before_cursor_execute", counter)

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
    live = LiveServer(f"http://127.0.0.1:{port}", db, settings, loop, server, thread)
    live.run(seed)
    return live
