"""Nothing a client or another program does makes the server stop serving others: uploads
that stall mid-body, a database locked by another process (or a row locked by another
transaction), a statement that runs long. Each waits or fails on its own, with a clear
error, while other requests are answered."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from models import Database
from models.errors import StatementTimeout
from models.sqlite_inline import InlineConnection, Limits
from tests.utils.server import LiveServer, start_server
from tests.utils.tenants import Tenant, create_tenant

TYPENAME = {"query": "{ __typename }"}


def _address(server: LiveServer) -> tuple[str, int]:
    url = make_url(server.base_url.replace("http://", "http://x@"))
    return str(url.host), int(url.port or 80)


def stalled_upload(server: LiveServer, token: str) -> socket.socket:
    """A connection that announces a 100 kB body, sends the first bytes and stops."""
    sock = socket.create_connection(_address(server))
    sock.sendall(
        b"POST /api HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        b"Authorization: " + token.encode() + b"\r\nContent-Length: 100000\r\n\r\n"
        b'{"query": "'
    )
    return sock


def still_waiting(sock: socket.socket) -> bool:
    """The server has neither answered nor closed this connection."""
    sock.setblocking(False)
    try:
        sock.recv(1, socket.MSG_PEEK)  # an answer, or b"" for a closed connection
    except BlockingIOError:
        return True
    finally:
        sock.setblocking(True)
    return False


def test_stalled_uploads_do_not_hold_up_anyone_else(server: LiveServer, tenant: Tenant) -> None:
    stalled = [stalled_upload(server, tenant.token("none")) for _ in range(50)]
    try:
        assert server.client.get("/health").json() == {"status": "ok"}
        assert tenant.data("{ __typename }") == {"__typename": "RootQueryType"}
        created = tenant.create_contact("Arrived while 50 uploads stalled")
        assert created["name"] == "Arrived while 50 uploads stalled"
        # ... and all of that while every stalled upload was still pending.
        assert all(still_waiting(sock) for sock in stalled)
    finally:
        for sock in stalled:
            sock.close()


@pytest.fixture(scope="module")
def impatient_server(database_url: str) -> Iterator[LiveServer]:
    """Short waits: a body must arrive within 0.5 s, a lock within 0.5 s, and no statement
    may run for more than 0.3 s."""
    live = start_server(
        database_url,
        body_timeout_seconds=0.5,
        db_busy_timeout_seconds=0.5,
        statement_timeout_seconds=0.3,
    )
    try:
        yield live
    finally:
        live.stop()


def test_a_stalled_upload_is_cut_off_with_408(impatient_server: LiveServer) -> None:
    tenant = create_tenant(impatient_server, roles=("manager",))
    sock = stalled_upload(impatient_server, tenant.token("manager"))
    chunks = []
    try:
        sock.settimeout(20)
        while chunk := sock.recv(4096):  # the server closes the connection after answering
            chunks.append(chunk)
    finally:
        sock.close()
    answer = b"".join(chunks).decode()
    status_line, _, body = answer.partition("\r\n")
    assert status_line == "HTTP/1.1 408 Request Timeout"
    assert '"The request body did not arrive within 0.5 seconds"' in body


# --- a database locked from outside -----------------------------------------------------------

RENAME = (
    "mutation($id: ID!, $name: String) { updateContact(id: $id, input: {name: $name}) {"
    " contact { name } errors { key message } } }"
)
HOLD_SQLITE_LOCK = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()
db.execute("ROLLBACK")
"""


class OutsideLock:
    """Another program holding what a write to `contact_id` needs: on SQLite the database's
    write lock (a `sqlite3` shell, a backup), on PostgreSQL the contact's row."""

    def __init__(self, server: LiveServer, contact_id: int) -> None:
        self.server = server
        self.contact_id = contact_id
        self._process: subprocess.Popen[str] | None = None
        self._connection: psycopg.Connection[Any] | None = None

    def __enter__(self) -> OutsideLock:
        url = make_url(self.server.settings.database_url)
        if url.get_backend_name() == "sqlite":
            self._process = subprocess.Popen(
                [sys.executable, "-c", HOLD_SQLITE_LOCK, str(url.database)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            assert self._process.stdout is not None
            assert self._process.stdout.readline().strip() == "locked"
        else:
            conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
            self._connection = psycopg.connect(conninfo)
            self._connection.execute(
                "SELECT id FROM contacts WHERE id = %s FOR UPDATE", (self.contact_id,)
            )
        return self

    @property
    def held(self) -> bool:
        if self._process is not None:
            return self._process.poll() is None
        return self._connection is not None and not self._connection.closed

    def __exit__(self, *_: Any) -> None:
        if self._process is not None:
            assert self._process.stdin is not None
            self._process.stdin.write("done\n")
            self._process.stdin.close()
            self._process.wait(timeout=10)
        if self._connection is not None:
            self._connection.rollback()
            self._connection.close()


def test_a_write_blocked_from_outside_gets_a_retryable_error_and_changes_nothing(
    impatient_server: LiveServer,
) -> None:
    tenant = create_tenant(impatient_server, roles=("manager",))
    asha = tenant.create_contact("Asha")
    with OutsideLock(impatient_server, int(asha["id"])) as lock:
        body = tenant.gql(RENAME, {"id": asha["id"], "name": "Renamed"})
        assert lock.held
    assert body["data"] == {"updateContact": None}
    [error] = body["errors"]
    assert error["message"] == (
        "The database is busy right now (another writer holds it); please retry"
    )
    assert error["path"] == ["updateContact"]
    still = tenant.data("query($id: ID!) { contact(id: $id) { contact { name } } }", asha)
    assert still["contact"]["contact"]["name"] == "Asha"
    # Once the lock is gone the same write goes through.
    again = tenant.data(RENAME, {"id": asha["id"], "name": "Renamed"})["updateContact"]
    assert again == {"contact": {"name": "Renamed"}, "errors": None}


def test_reads_are_answered_while_a_write_waits_for_an_outside_lock(
    impatient_server: LiveServer,
) -> None:
    tenant = create_tenant(impatient_server, roles=("manager",))
    asha = tenant.create_contact("Asha")
    finished: list[str] = []

    def write() -> None:
        tenant.gql(RENAME, {"id": asha["id"], "name": "Later"})
        finished.append("write")

    with OutsideLock(impatient_server, int(asha["id"])):
        writer = threading.Thread(target=write)
        writer.start()
        time.sleep(0.2)  # the write is waiting for the lock by now
        assert impatient_server.client.get("/health").json() == {"status": "ok"}
        finished.append("health")
        assert tenant.data("{ __typename }") == {"__typename": "RootQueryType"}
        finished.append("read")
        writer.join(timeout=30)
    assert finished == ["health", "read", "write"]


# --- long statements ----------------------------------------------------------------------------


def counting_to(n: int) -> Any:
    """A read that takes a while whatever the tables hold (about 0.5 s per million)."""
    return text(
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < :n)"
        " SELECT count(*) FROM c"
    ).bindparams(n=n)


def _run_slow(server: LiveServer, n: int = 1_000_000) -> Any:
    async def go() -> Any:
        async with server.db.session(all_organizations=True) as session:
            return (await session.execute(counting_to(n))).scalar_one()

    return server.run(go)


def test_a_statement_past_its_time_limit_is_stopped_with_a_clear_error(
    impatient_server: LiveServer,
) -> None:
    with pytest.raises(StatementTimeout) as stopped:
        _run_slow(impatient_server, 100_000_000)
    assert stopped.value.message.startswith("The query ran longer than 0.3 seconds")
    # The connection it ran on is fine afterwards.
    assert impatient_server.client.get("/health").json() == {"status": "ok"}


def test_a_long_read_does_not_hold_up_other_requests(server: LiveServer, tenant: Tenant) -> None:
    finished: list[str] = []

    def read() -> None:
        _run_slow(server)
        finished.append("slow read")

    slow = threading.Thread(target=read)
    slow.start()
    time.sleep(0.05)  # the slow read has started
    for _ in range(3):
        assert tenant.data("{ __typename }") == {"__typename": "RootQueryType"}
    finished.append("quick requests")
    slow.join(timeout=60)
    assert finished == ["quick requests", "slow read"]


def test_a_slow_read_given_up_midway_leaves_its_connection_free(tmp_path: Path) -> None:
    """A SQLite read that moved to a worker thread, whose caller is cancelled (the server
    stopping): the statement is stopped and the thread done before the cancellation goes
    on, so the connection is never closed or handed to another request while a thread
    still runs a statement on it (closing would wait for the statement, on the loop)."""
    connection = InlineConnection(str(tmp_path / "given-up.db"), Limits(inline_budget=0.001))
    slow = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"

    async def go() -> bool:
        reading = asyncio.ensure_future(connection.read(slow, []))
        await asyncio.sleep(0.3)  # well past the inline budget: it runs in a thread now
        reading.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reading
        return connection.busy

    try:
        assert asyncio.run(go()) is False
    finally:
        connection.stop()


class _StoppedAsItFinishes(InlineConnection):
    """SQLite stopping a statement at its inline time budget just after it took effect (as
    a BEGIN IMMEDIATE was under load): the statement runs, then reports "interrupted"."""

    def limited(self, call: Any, *args: Any, seconds: float | None = None) -> Any:
        result = super().limited(call, *args, seconds=seconds)
        if seconds is not None:
            stopped = sqlite3.OperationalError("interrupted")
            stopped.sqlite_errorcode = sqlite3.SQLITE_INTERRUPT
            raise stopped
        return result


def test_a_begin_is_never_stopped_and_run_again(tmp_path: Path) -> None:
    """A BEGIN stopped by the inline budget had already started its transaction; run again
    in a worker thread it failed ("cannot start a transaction within a transaction") and a
    webhook answered 500. Transaction statements run without the budget."""
    connection = _StoppedAsItFinishes(str(tmp_path / "begin.db"), Limits(inline_budget=0.02))
    connection.sqlite.isolation_level = None  # as models.db sets it: explicit BEGINs

    async def go() -> bool:
        await connection.read("BEGIN IMMEDIATE", [])
        await connection.read("CREATE TABLE t (x INTEGER)", [])
        await connection.read("COMMIT", [])
        return connection.sqlite.in_transaction

    try:
        assert asyncio.run(go()) is False
    finally:
        connection.stop()


def test_a_write_transaction_that_waited_for_an_outside_lock_is_still_one_transaction(
    tmp_path: Path,
) -> None:
    """A writer begins its transaction at once when it can, and otherwise (another program
    holds the write lock) waits for the lock: what it writes after the wait is still one
    transaction, rolled back whole if the block fails."""
    path = tmp_path / "waited.db"
    url = f"sqlite+aiosqlite:///{path}"
    setup = sqlite3.connect(path)
    setup.execute("CREATE TABLE t (x INTEGER)")
    setup.commit()
    setup.close()

    async def go() -> list[Any]:
        db = Database(url)
        async with db.transaction(all_organizations=True) as session:  # connected, in WAL
            await session.execute(text("SELECT count(*) FROM t"))
        holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN IMMEDIATE")
        release = asyncio.get_running_loop().call_later(0.3, holder.execute, "ROLLBACK")
        try:
            with pytest.raises(RuntimeError, match="the block fails"):
                async with db.transaction(all_organizations=True) as session:
                    await session.execute(text("INSERT INTO t (x) VALUES (1)"))
                    await session.execute(text("INSERT INTO t (x) VALUES (2)"))
                    raise RuntimeError("the block fails after its writes")
            async with db.session(all_organizations=True) as session:
                return list((await session.execute(text("SELECT x FROM t"))).all())
        finally:
            release.cancel()
            holder.close()
            await db.dispose()

    assert asyncio.run(go()) == []


def test_a_direct_statement_kept_waiting_by_an_outside_lock_waits_off_the_loop(
    tmp_path: Path,
) -> None:
    """A models.direct statement (`read`) that finds the database locked by another process
    waits for it, with the loop free meanwhile, and then runs."""
    path = str(tmp_path / "busy.db")
    connection = InlineConnection(path, Limits(busy_timeout=5.0))
    connection.sqlite.isolation_level = None
    connection.sqlite.execute("PRAGMA journal_mode=WAL")
    connection.sqlite.execute("CREATE TABLE t (x INTEGER)")
    outside = sqlite3.connect(path, isolation_level=None)
    outside.execute("BEGIN IMMEDIATE")

    async def go() -> tuple[list[Any], int]:
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticking = asyncio.ensure_future(tick())
        writing = asyncio.ensure_future(connection.read("INSERT INTO t VALUES (7) RETURNING x", []))
        await asyncio.sleep(0.3)
        assert not writing.done()  # waiting for the lock
        outside.execute("COMMIT")
        rows = await writing
        ticking.cancel()
        return rows, ticks

    try:
        rows, ticks = asyncio.run(go())
        assert [tuple(r) for r in rows] == [(7,)]
        assert ticks >= 10  # the loop ran on while the statement waited
    finally:
        outside.close()
        connection.stop()
