"""WhatsApp traffic through real server processes (`python -m app serve`, `python -m app
worker`): a server killed with SIGKILL in the middle of a burst and started again processes
every message it acknowledged exactly once; on PostgreSQL, two HTTP processes and two
workers keep each contact's replies in order."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
from sqlalchemy import select, text
from sqlmodel import col

from models import Contact, Database, Message, WhatsappProvider
from models.errors import DatabaseUnavailable
from resolvers import flows
from tests.conftest import fresh_database
from tests.test_jobs import wait_until
from tests.test_whatsapp import echo_flow
from tests.utils.fake_provider import FakeProvider
from tests.utils.flow_builder import export_of
from tests.utils.server import _free_port

ROOT = Path(__file__).resolve().parent.parent
APP = "process-test-app"


def _environment(url: str, fake: FakeProvider, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "JOB", "ENVIRONMENT", "GUPSHUP_", "WHATSAPP_"))
    }
    env.update(
        {
            "DATABASE_URL": url,
            "PYTHONPATH": str(ROOT),
            "ENVIRONMENT": "development",
            "JOBS_POLL_SECONDS": "0.2",
            "JOBS_LEASE_SECONDS": "3",
            "JOBS_CONCURRENCY": "8",
            "WHATSAPP_PROVIDER": "gupshup",
            "GUPSHUP_APP_NAME": APP,
            "GUPSHUP_API_KEY": "key",
            "GUPSHUP_SOURCE_NUMBER": "919900000001",
            "GUPSHUP_API_URL": fake.url,
            "SEND_RETRY_SECONDS": "0.1",
            # A job that failed while the machine was busy (the suite runs in parallel) is
            # tried again soon.
            "JOBS_RETRY_SECONDS": "1",
        }
    )
    env.update(extra)
    return env


class Process:
    """`python -m app <args>` with the test's environment, its output in a file."""

    def __init__(self, args: list[str], env: dict[str, str], folder: Path, ready: str) -> None:
        self.output = folder / f"{args[0]}-{uuid.uuid4().hex[:6]}.log"
        with self.output.open("w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "app", *args],
                cwd=folder,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_until(lambda: ready in self.log() or self.process.poll() is not None, timeout=60)
        assert self.process.poll() is None, self.log()

    def log(self) -> str:
        return self.output.read_text()

    def kill(self) -> None:
        """As a crash or a power cut would: the whole process group, no chance to clean up."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def serve(url: str, fake: FakeProvider, folder: Path, port: int, **extra: str) -> Process:
    env = _environment(url, fake, PORT=str(port), **extra)
    args = ["serve", *(["--workers", extra["WORKERS"]] if "WORKERS" in extra else [])]
    return Process(args, env, folder, "Application startup complete")


def run_db(url: str, work: Any) -> Any:
    """`work(db)` from the test process; while PostgreSQL has no connection slot to spare
    (the suite's other tests share its 100), tried again."""

    async def go() -> Any:
        db = Database(url, pool_size=1)
        try:
            return await work(db)
        finally:
            await db.dispose()

    for _ in range(100):
        try:
            return asyncio.run(go())
        except DatabaseUnavailable:
            time.sleep(0.2)
    return asyncio.run(go())


def publish_echo_flow(url: str) -> None:
    """The echo flow, imported and published in the seeded organization."""

    async def work(db: Database) -> None:
        async with db.session(all_organizations=True) as session:
            org_id = await session.scalar(text("SELECT id FROM organizations ORDER BY id LIMIT 1"))
        definition = echo_flow()
        async with db.transaction(int(org_id)) as session:
            await flows.import_flows(session, int(org_id), export_of((definition, ["hello"])))
        async with db.transaction(int(org_id)) as session:
            await flows.publish(session, int(org_id), definition["uuid"])

    run_db(url, work)


def set_rate_limit(url: str, rate: int) -> None:
    """The seeded organization's provider accounts send at most `rate` messages a second."""

    async def work(db: Database) -> None:
        async with db.session(all_organizations=True) as session:
            org_id = int(
                await session.scalar(text("SELECT id FROM organizations ORDER BY id LIMIT 1"))
            )
        async with db.transaction(org_id) as session:
            for account in await session.scalars(select(WhatsappProvider)):
                account.rate_limit = rate

    run_db(url, work)


def text_message(phone: str, text_: str) -> dict[str, Any]:
    return {
        "app": APP,
        "type": "message",
        "payload": {
            "id": f"gs-{uuid.uuid4().hex}",
            "type": "text",
            "payload": {"text": text_},
            "sender": {"phone": phone, "name": "Asha"},
        },
    }


def post_as_a_provider(client: httpx2.Client, body: dict[str, Any]) -> str:
    """The callback's answer (a status code, or the error that cut it short); a 503 (no
    database connection free: the suite's tests share PostgreSQL's) is sent again, as a
    provider does."""
    answer = ""
    for _ in range(50):
        try:
            answer = str(client.post("/gupshup", json=body).status_code)
        except httpx2.HTTPError as exc:
            return type(exc).__name__
        if answer != "503":
            break
        time.sleep(0.2)
    return answer


def stored(url: str) -> list[tuple[str, str, str | None, str | None]]:
    """Every message: (phone, direction, body, provider id), oldest first."""

    async def work(db: Database) -> list[tuple[str, str, str | None, str | None]]:
        async with db.session(all_organizations=True) as session:
            rows = await session.execute(
                select(
                    col(Contact.phone),
                    col(Message.flow),
                    col(Message.body),
                    col(Message.bsp_message_id),
                )
                .join(Contact, col(Contact.id) == col(Message.contact_id))
                .order_by(col(Message.id))
            )
            return [tuple(r) for r in rows.all()]  # type: ignore[misc]

    result: list[tuple[str, str, str | None, str | None]] = run_db(url, work)
    return result


_held: dict[str, Any] = {}


def diagnosis(url: str, processes: list[Process]) -> str:
    """What a failed run left behind: jobs that failed or never finished, each process's
    last output."""
    jobs = job_states(url, ("todo", "doing", "failed"))[:20]
    logs = "\n".join(f"--- {p.output.name}\n{p.log()[-2500:]}" for p in processes)
    return f"jobs not succeeded: {jobs}\n{logs}"


def _held_connection(url: str) -> Any:
    """One connection per database, opened once and kept for the test's polls: PostgreSQL's
    connection slots are shared with the tests running in parallel, and a poll that has to
    open a connection may find none free."""
    from sqlalchemy import create_engine

    if url not in _held:
        sync = url.replace("+aiosqlite", "")
        _held[url] = create_engine(sync, pool_size=1, max_overflow=0).connect()
    return _held[url]


def unfinished_jobs(url: str) -> int:
    """Inbound and delivery jobs waiting or running (a flow's expiry waits for days)."""

    sqlite = url.startswith("sqlite")
    table, name = ("job_queue", "name") if sqlite else ("procrastinate_jobs", "task_name")
    sql = (
        f"SELECT count(*) FROM {table} WHERE status IN ('todo', 'doing')"
        f" AND {name} IN ('inbound.receive', 'outbox.deliver')"
    )
    connection = _held_connection(url)
    found = connection.execute(text(sql)).scalar()
    connection.rollback()
    return int(found or 0)


def job_states(url: str, statuses: tuple[str, ...] = ("todo", "doing")) -> list[tuple[Any, ...]]:
    async def work(db: Database) -> list[tuple[Any, ...]]:
        table, name = ("job_queue", "name") if db.is_sqlite else ("procrastinate_jobs", "task_name")
        wanted = ", ".join(f"'{s}'" for s in statuses)
        sql = (
            f"SELECT id, {name}, status, lock, attempts FROM {table}"
            f" WHERE status IN ({wanted}) ORDER BY id"
        )
        async with db.session(all_organizations=True) as session:
            return [tuple(r) for r in (await session.execute(text(sql))).all()]

    result: list[tuple[Any, ...]] = run_db(url, work)
    return result


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    with FakeProvider(timeout_sleep=2) as provider:
        yield provider


@contextmanager
def database_for_processes(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """An empty database of the backend under test, and the test's connection to poll it."""
    with fresh_database(database_url, tmp_path_factory) as url:
        _held_connection(url)  # while slots are free
        try:
            yield url
        finally:
            held = _held.pop(url, None)
            if held is not None:
                held.close()
                held.engine.dispose()


@pytest.fixture
def own_database(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with database_for_processes(database_url, tmp_path_factory) as url:
        yield url


# The tests that start several server processes hold many database connections: they run
# one after the other, on one of the suite's parallel workers (`--dist loadgroup`).
MANY_PROCESSES = pytest.mark.xdist_group("many_processes")
FEW_CONNECTIONS = {"DB_POOL_SIZE": "6", "JOBS_CONCURRENCY": "4"}


@MANY_PROCESSES
def test_a_server_killed_mid_burst_processes_every_acknowledged_message_once(
    own_database: str, fake: FakeProvider, tmp_path: Path
) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = serve(own_database, fake, tmp_path, port, **FEW_CONNECTIONS)
    publish_echo_flow(own_database)
    phones = [f"91987650{i:04d}" for i in range(20)]
    acknowledged: list[tuple[str, str]] = []
    answers: Counter[str] = Counter()
    lock = threading.Lock()
    stop = threading.Event()

    def talk(phone: str) -> None:
        with httpx2.Client(base_url=base, timeout=5) as client:
            for word in ["hello", *(f"w{i}" for i in range(1, 30))]:
                if stop.is_set():
                    return
                body = text_message(phone, word)
                answer = post_as_a_provider(client, body)
                with lock:
                    answers[answer] += 1
                    if answer == "200":
                        acknowledged.append((phone, body["payload"]["id"]))

    with ThreadPoolExecutor(max_workers=len(phones)) as pool:
        futures = [pool.submit(talk, phone) for phone in phones]
        try:
            wait_until(lambda: len(acknowledged) >= 150, timeout=60)
        except AssertionError:
            stop.set()
            raise AssertionError(
                f"answers: {answers}\n{diagnosis(own_database, [server])}"
            ) from None
        server.kill()
        stop.set()
        for future in futures:
            future.result()
    killed_at = len(acknowledged)
    restarted = serve(own_database, fake, tmp_path, port, **FEW_CONNECTIONS)
    try:
        wait_until(lambda: unfinished_jobs(own_database) == 0, timeout=240)
    except AssertionError:
        left = job_states(own_database)
        raise AssertionError(f"jobs left: {left}\n{restarted.log()[-3000:]}") from None
    finally:
        restarted.stop()
    rows = stored(own_database)
    saw = diagnosis(own_database, [server, restarted])
    inbound = Counter(pid for _, direction, _, pid in rows if direction == "inbound")
    assert killed_at >= 150
    # Every acknowledged message was stored, once; nothing unacknowledged slipped in twice.
    assert {pid for _, pid in acknowledged} <= set(inbound)
    assert max(inbound.values()) == 1
    # Each stored message produced exactly one reply, in order, per contact.
    for phone in phones:
        mine = [(d, b) for p, d, b, _ in rows if p == phone]
        said = [b for d, b in mine if d == "inbound"]
        replies = [b for d, b in mine if d == "outbound"]
        expected = ["Welcome" if word == "hello" else f"got {word}" for word in said]
        assert replies == expected, f"{phone}\n{saw}"


@MANY_PROCESSES
def test_two_http_processes_and_two_workers_keep_each_contacts_replies_in_order(
    own_database: str, fake: FakeProvider, tmp_path: Path
) -> None:
    if own_database.startswith("sqlite"):
        pytest.skip("several processes on one database: PostgreSQL's setup (README)")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    # PostgreSQL's 100 connections are shared with the tests running in parallel: these
    # four processes keep few each (a request waits for one rather than fail).
    few = {"DB_POOL_SIZE": "4", "JOBS_CONCURRENCY": "3"}
    http = serve(own_database, fake, tmp_path, port, JOBS_ENABLED="false", WORKERS="2", **few)
    workers = [
        Process(["worker"], _environment(own_database, fake, **few), tmp_path, "job worker running")
        for _ in range(2)
    ]
    try:
        publish_echo_flow(own_database)
        # The order is under test, not the rate: 2,000 replies at the default 30 a second
        # (shared by the two workers) would spend 67 s waiting for the limit.
        set_rate_limit(own_database, 1000)
        phones = [f"91987651{i:04d}" for i in range(200)]
        words = ["hello", *(f"w{i}" for i in range(1, 10))]

        def converse(phone: str) -> None:
            with httpx2.Client(base_url=base, timeout=60) as client:
                for word in words:
                    assert post_as_a_provider(client, text_message(phone, word)) == "200"

        with ThreadPoolExecutor(max_workers=16) as pool:
            list(pool.map(converse, phones))
        try:
            wait_until(lambda: unfinished_jobs(own_database) == 0, timeout=240)
        except AssertionError:
            left = unfinished_jobs(own_database)
            raise AssertionError(
                f"{left} jobs unfinished\n{diagnosis(own_database, [http, *workers])}"
            ) from None
    finally:
        for process in [http, *workers]:
            process.stop()
    rows = stored(own_database)
    saw = diagnosis(own_database, [http, *workers])
    expected = ["Welcome", *(f"got {w}" for w in words[1:])]
    for phone in phones:
        replies = [b for p, d, b, _ in rows if p == phone and d == "outbound"]
        assert replies == expected, f"{phone}\n{saw}"
    delivered = Counter(
        json.loads(r.form["message"])["text"] + "/" + r.form["destination"]
        for r in fake.requests
        if r.form
    )
    assert len(delivered) == 2000 and max(delivered.values()) == 1
