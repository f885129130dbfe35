"""Durable jobs (resolvers.jobs) on SQLite and PostgreSQL, against real databases: a live
server runs the jobs of tests/utils/sample_jobs.py, which log what they do into a table;
the restart tests run `python -m app worker` as a subprocess and kill it.

Every database here is fresh (the session's shared server runs a runner too, with slower
settings, and would take jobs of these tests)."""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from models import Database, utcnow
from models.migrate import upgrade_sync
from resolvers.jobs import defer
from tests.conftest import PG_URL, _pg_database
from tests.utils import sample_jobs
from tests.utils.sample_jobs import FLAKY, RECORD
from tests.utils.server import LiveServer, start_server

ROOT = Path(__file__).resolve().parent.parent

JOB_SETTINGS: dict[str, Any] = {
    "jobs_enabled": True,
    "job_modules": "tests.utils.sample_jobs",
    "jobs_concurrency": 4,
    "jobs_poll_seconds": 0.2,
    "jobs_retry_seconds": 0.1,
    "jobs_max_attempts": 3,
    "jobs_lease_seconds": 1.5,
    "jobs_shutdown_seconds": 0.5,
}


@dataclass(frozen=True)
class Entry:
    event: str
    n: int | None
    at: float
    pid: int


def fresh_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the backend under test, migrated, with the tests' log table."""
    if database_url.startswith("sqlite"):
        urls: Iterator[str] = iter([f"sqlite+aiosqlite:///{tmp_path / 'jobs.db'}"])
    else:
        urls = _pg_database(PG_URL)
    url = next(urls)
    upgrade_sync(url)

    async def prepare() -> None:
        db = Database(url)
        try:
            await sample_jobs.ensure_log_table(db)
        finally:
            await db.dispose()

    asyncio.run(prepare())
    yield url
    for _ in urls:  # drops the PostgreSQL database
        pass


@pytest.fixture(scope="module")
def jobs_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    for url in fresh_database(database_url, tmp_path_factory.mktemp("jobs")):
        live = start_server(url, **JOB_SETTINGS)
        try:
            yield live
        finally:
            live.stop()


def new_key() -> str:
    return secrets.token_hex(6)


async def read_log(db: Database, key: str) -> list[Entry]:
    async with db.session() as session:
        rows = await session.execute(
            text("SELECT event, n, at, pid FROM job_test_log WHERE key = :key ORDER BY id"),
            {"key": key},
        )
        return [Entry(*row) for row in rows]


async def job_states(db: Database, key: str) -> list[tuple[str, int]]:
    """(status, attempts) of the queued jobs whose args carry `key`, in defer order."""
    if db.is_sqlite:
        sql = (
            "SELECT status, attempts FROM job_queue"
            " WHERE json_extract(args, '$.key') = :key ORDER BY id"
        )
    else:
        sql = (
            "SELECT status::text, attempts FROM procrastinate_jobs"
            " WHERE args->>'key' = :key ORDER BY id"
        )
    async with db.session() as session:
        return [(str(s), int(a)) for s, a in await session.execute(text(sql), {"key": key})]


def wait_until(check: Callable[[], bool], timeout: float = 15, every: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(every)


def log_of(server: LiveServer, key: str) -> list[Entry]:
    return server.run(lambda: read_log(server.db, key))


def events(entries: list[Entry], event: str) -> list[Entry]:
    return [e for e in entries if e.event == event]


def deferring(
    *jobs: tuple[str, dict[str, Any], dict[str, Any]],
) -> Callable[[AsyncSession], Awaitable[None]]:
    async def work(session: AsyncSession) -> None:
        for name, args, options in jobs:
            await defer(session, name, args, **options)

    return work


# --- commit and rollback ---------------------------------------------------------------------


def test_a_committed_job_runs_and_a_rolled_back_one_never_does(jobs_server: LiveServer) -> None:
    gone, kept = new_key(), new_key()
    lock = f"contact:{new_key()}"

    async def rolled_back(session: AsyncSession) -> None:
        await defer(session, RECORD, {"key": gone}, lock=lock)
        raise LookupError("the caller's work failed")

    with pytest.raises(LookupError):
        jobs_server.in_transaction(rolled_back)
    # Deferred after it with the same lock: had the first job existed, it would run first.
    jobs_server.in_transaction(deferring((RECORD, {"key": kept}, {"lock": lock})))
    wait_until(lambda: len(events(log_of(jobs_server, kept), "end")) == 1)
    assert log_of(jobs_server, gone) == []
    assert jobs_server.run(lambda: job_states(jobs_server.db, gone)) == []
    assert jobs_server.run(lambda: job_states(jobs_server.db, kept)) == [("succeeded", 1)]


@pytest.fixture
def slow_polling_server(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """A server that would look for jobs only every 5 seconds if nothing woke it."""
    for url in fresh_database(database_url, tmp_path):
        live = start_server(url, **{**JOB_SETTINGS, "jobs_poll_seconds": 5.0})
        try:
            yield live
        finally:
            live.stop()


def test_a_due_job_runs_at_once_not_at_the_next_poll(slow_polling_server: LiveServer) -> None:
    server = slow_polling_server
    time.sleep(0.3)  # the runner is waiting for its next poll
    for key in (new_key(), new_key(), new_key()):
        deferred = time.time()
        server.in_transaction(deferring((RECORD, {"key": key}, {})))
        wait_until(lambda: len(events(log_of(server, key), "end")) == 1, every=0.01)  # noqa: B023
        # Woken by the commit (SQLite) or by NOTIFY (PostgreSQL).
        assert events(log_of(server, key), "start")[0].at - deferred < 1.0


def test_defer_refuses_a_read_session_and_unknown_jobs(jobs_server: LiveServer) -> None:
    async def from_a_reader() -> None:
        async with jobs_server.db.session() as session:
            await defer(session, RECORD, {"key": new_key()})

    with pytest.raises(RuntimeError, match="write transaction"):
        jobs_server.run(from_a_reader)
    with pytest.raises(LookupError):
        jobs_server.in_transaction(deferring(("no.such.job", {}, {})))


# --- run_at ----------------------------------------------------------------------------------


def test_a_job_runs_at_run_at_not_before(jobs_server: LiveServer) -> None:
    key = new_key()
    run_at = utcnow() + timedelta(seconds=1.0)
    jobs_server.in_transaction(deferring((RECORD, {"key": key}, {"run_at": run_at})))
    time.sleep(0.6)
    assert log_of(jobs_server, key) == []
    wait_until(lambda: len(events(log_of(jobs_server, key), "start")) == 1)
    started = datetime.fromtimestamp(events(log_of(jobs_server, key), "start")[0].at, UTC).replace(
        tzinfo=None
    )
    assert started >= run_at
    assert started - run_at < timedelta(seconds=0.5)


# --- locks -----------------------------------------------------------------------------------


def _spans(entries: list[Entry]) -> list[tuple[int, float, float]]:
    starts = {e.n: e.at for e in events(entries, "start")}
    ends = {e.n: e.at for e in events(entries, "end")}
    return sorted(((n, starts[n], ends[n]) for n in starts if n is not None), key=lambda s: s[1])


def test_jobs_with_one_lock_run_one_at_a_time_in_defer_order(jobs_server: LiveServer) -> None:
    locked, free = new_key(), new_key()
    lock = f"contact:{new_key()}"
    count = 5
    # Some in one transaction, the rest in transactions of their own, interleaved with
    # jobs without a lock that keep the other slots busy.
    jobs_server.in_transaction(
        deferring(
            *[(RECORD, {"key": locked, "n": n, "seconds": 0.15}, {"lock": lock}) for n in (0, 1)]
        )
    )
    for n in range(2, count):
        jobs_server.in_transaction(
            deferring(
                (RECORD, {"key": free, "n": n, "seconds": 0.3}, {}),
                (RECORD, {"key": locked, "n": n, "seconds": 0.15}, {"lock": lock}),
            )
        )
    wait_until(lambda: len(events(log_of(jobs_server, locked), "end")) == count)
    spans = _spans(log_of(jobs_server, locked))
    assert [n for n, _, _ in spans] == list(range(count))
    for (_, _, end), (_, start, _) in itertools.pairwise(spans):
        assert start >= end
    # Without a lock the same jobs overlap: the runner does run several at once.
    wait_until(lambda: len(events(log_of(jobs_server, free), "end")) == count - 2)
    free_spans = _spans(log_of(jobs_server, free))
    assert any(start < end for (_, _, end), (_, start, _) in itertools.pairwise(free_spans))


def test_a_queueing_lock_keeps_one_waiting_job(jobs_server: LiveServer) -> None:
    key = new_key()
    queueing_lock = f"reminder:{key}"
    run_at = utcnow() + timedelta(seconds=0.6)
    options = {"run_at": run_at, "queueing_lock": queueing_lock}
    jobs_server.in_transaction(deferring((RECORD, {"key": key, "n": 1}, options)))
    jobs_server.in_transaction(
        deferring((RECORD, {"key": key, "n": 2}, options), (RECORD, {"key": key, "n": 3}, options))
    )
    wait_until(lambda: len(events(log_of(jobs_server, key), "end")) == 1)
    time.sleep(0.5)
    assert [e.n for e in log_of(jobs_server, key)] == [1, 1]
    # Once that job has run, the key is free again.
    jobs_server.in_transaction(deferring((RECORD, {"key": key, "n": 4}, options)))
    wait_until(lambda: len(events(log_of(jobs_server, key), "end")) == 2)
    assert [e.n for e in events(log_of(jobs_server, key), "end")] == [1, 4]


# --- failures --------------------------------------------------------------------------------


def test_a_failing_job_is_retried_then_succeeds(jobs_server: LiveServer) -> None:
    key = new_key()
    jobs_server.in_transaction(deferring((FLAKY, {"key": key, "fail_first": 2}, {})))
    wait_until(
        lambda: jobs_server.run(lambda: job_states(jobs_server.db, key)) == [("succeeded", 3)]
    )
    attempts = events(log_of(jobs_server, key), "attempt")
    assert [e.n for e in attempts] == [1, 2, 3]
    # Backoff: the second retry waits longer than the first (0.1 s, then 0.2 s).
    first, second = attempts[1].at - attempts[0].at, attempts[2].at - attempts[1].at
    assert first >= 0.1 and second >= 0.2


def test_a_jobs_arguments_stay_out_of_the_log(
    jobs_server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    """An inbound message's job carries the phone number and what was typed: the runner's log
    lines (procrastinate names a job with its arguments) name the job, not what it holds,
    when it starts, ends, fails and is retried."""
    key, flaky_key = new_key(), new_key()
    private = {"phone": "919876512345", "said": "my-name-is-Asha-and-I-am-nine"}
    caplog.set_level(logging.DEBUG)
    jobs_server.in_transaction(
        deferring(
            (RECORD, {"key": key, **private}, {}),
            (FLAKY, {"key": flaky_key, "fail_first": 1, **private}, {}),
        )
    )
    wait_until(
        lambda: jobs_server.run(lambda: job_states(jobs_server.db, key)) == [("succeeded", 1)]
    )
    wait_until(
        lambda: jobs_server.run(lambda: job_states(jobs_server.db, flaky_key)) == [("succeeded", 2)]
    )
    job_lines = [r for r in caplog.records if r.name.startswith(("procrastinate", "glific.jobs"))]
    assert any(FLAKY in r.getMessage() for r in job_lines)  # the runner did log these jobs
    for record in job_lines:
        written = record.getMessage() + repr(vars(record))
        for value in private.values():
            assert value not in written, (record.name, record.getMessage())


def test_a_job_that_keeps_failing_is_left_failed(
    jobs_server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    key = new_key()
    with caplog.at_level("WARNING", logger="glific.jobs"):
        jobs_server.in_transaction(deferring((FLAKY, {"key": key, "fail_first": 99}, {})))
        wait_until(
            lambda: jobs_server.run(lambda: job_states(jobs_server.db, key)) == [("failed", 3)]
        )
        time.sleep(0.5)
    assert [e.n for e in events(log_of(jobs_server, key), "attempt")] == [1, 2, 3]
    assert any(
        "fails on purpose" in r.getMessage() or r.exc_info
        for r in caplog.records
        if r.levelname == "ERROR"
    )


def test_a_job_that_cannot_reach_the_database_is_retried_past_its_attempts(
    jobs_server: LiveServer,
) -> None:
    # A database out of reach for longer than a job's attempts last (3 here) must not cost
    # a message its reply: those runs did nothing, and the job waits for the database.
    key = new_key()
    jobs_server.in_transaction(
        deferring((FLAKY, {"key": key, "fail_first": 5, "unreachable": True}, {}))
    )
    wait_until(
        lambda: jobs_server.run(lambda: job_states(jobs_server.db, key)) == [("succeeded", 6)]
    )
    assert [e.n for e in events(log_of(jobs_server, key), "attempt")] == [1, 2, 3, 4, 5, 6]


def test_a_job_that_fails_while_a_later_one_with_its_queueing_lock_waits_runs_again(
    jobs_server: LiveServer,
) -> None:
    """A job with a lock and a queueing lock fails after a later job with both was deferred
    (an outbox delivery that could not reach the database while the contact's next reply
    was written): it is retried, then the later job runs. (procrastinate could not put it
    back with its queueing lock, and it stayed running, holding its lock, for good.)"""
    key = new_key()
    options = {"lock": f"l-{key}", "queueing_lock": f"q-{key}"}
    failing = {"key": key, "fail_first": 1, "seconds": 0.3}
    jobs_server.in_transaction(deferring((FLAKY, failing, options)))
    wait_until(lambda: bool(events(log_of(jobs_server, key), "attempt")))
    jobs_server.in_transaction(deferring((RECORD, {"key": key, "n": 2}, options)))
    wait_until(
        lambda: (
            jobs_server.run(lambda: job_states(jobs_server.db, key))
            == [("succeeded", 2), ("succeeded", 1)]
        )
    )
    assert [(e.event, e.n) for e in log_of(jobs_server, key)] == [
        ("attempt", 1),
        ("attempt", 2),
        ("start", 2),
        ("end", 2),
    ]


# --- restarts: `python -m app worker` killed and started again ----------------------------------


class Worker:
    """`python -m app worker` on `url`, with the tests' job settings."""

    def __init__(self, url: str, folder: Path, **overrides: Any) -> None:
        environment = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DATABASE_", "JOB", "ENVIRONMENT"))
        }
        settings = {**JOB_SETTINGS, **overrides}
        environment.update({k.upper(): str(v) for k, v in settings.items()})
        environment.update(
            {"DATABASE_URL": url, "PYTHONPATH": str(ROOT), "ENVIRONMENT": "development"}
        )
        self.output = folder / f"worker-{secrets.token_hex(3)}.log"
        with self.output.open("w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "app", "worker"],
                cwd=folder,
                env=environment,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        wait_until(lambda: "job worker running" in self.log() or self.process.poll() is not None)
        assert self.process.poll() is None, self.log()

    def log(self) -> str:
        return self.output.read_text()

    def kill(self) -> None:
        """As a crash or a power cut would: no chance to clean up."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=20)


class Client:
    """Defers and reads from the test process, which runs no jobs itself."""

    def __init__(self, url: str) -> None:
        self.url = url

    def _run(self, work: Callable[[Database], Awaitable[Any]]) -> Any:
        async def go() -> Any:
            db = Database(self.url)
            try:
                return await work(db)
            finally:
                await db.dispose()

        return asyncio.run(go())

    def defer(self, name: str, args: dict[str, Any], **options: Any) -> None:
        async def work(db: Database) -> None:
            async with db.transaction() as session:
                await defer(session, name, args, **options)

        self._run(work)

    def log(self, key: str) -> list[Entry]:
        return self._run(lambda db: read_log(db, key))

    def states(self, key: str) -> list[tuple[str, int]]:
        return self._run(lambda db: job_states(db, key))


@pytest.fixture
def restart_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    yield from fresh_database(database_url, tmp_path)


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    for worker in started:
        worker.stop()


def test_a_job_cut_short_by_a_killed_process_runs_after_restart(
    restart_database: str, tmp_path: Path, workers: list[Worker]
) -> None:
    client, key = Client(restart_database), new_key()
    first = Worker(restart_database, tmp_path)
    workers.append(first)
    client.defer(RECORD, {"key": key, "seconds": 2.0})
    wait_until(lambda: len(events(client.log(key), "start")) == 1)
    first.kill()
    assert client.states(key)[0][0] == "doing"
    workers.append(Worker(restart_database, tmp_path))
    wait_until(lambda: len(events(client.log(key), "end")) == 1)
    entries = client.log(key)
    assert [e.event for e in entries] == ["start", "start", "end"]
    assert entries[0].pid == first.process.pid != entries[1].pid == entries[2].pid
    wait_until(lambda: client.states(key) == [("succeeded", 2)])


def test_a_killed_job_whose_queueing_lock_is_taken_again_still_runs_after_restart(
    restart_database: str, tmp_path: Path, workers: list[Worker]
) -> None:
    """A job cut short while a later job with its lock and queueing lock waits (an outbox
    delivery, and the contact's next reply): after the restart both run, in order."""
    client, first_key, second_key = Client(restart_database), new_key(), new_key()
    lock = {"lock": f"l-{first_key}", "queueing_lock": f"q-{first_key}"}
    first = Worker(restart_database, tmp_path)
    workers.append(first)
    client.defer(RECORD, {"key": first_key, "seconds": 2.0}, **lock)
    wait_until(lambda: len(events(client.log(first_key), "start")) == 1)
    first.kill()
    client.defer(RECORD, {"key": second_key, "seconds": 0.0}, **lock)
    workers.append(Worker(restart_database, tmp_path))
    wait_until(lambda: len(events(client.log(first_key), "end")) == 1, timeout=30)
    wait_until(lambda: len(events(client.log(second_key), "end")) == 1, timeout=30)
    first_end = events(client.log(first_key), "end")[0]
    second_start = events(client.log(second_key), "start")[0]
    assert first_end.at <= second_start.at


def test_a_job_waiting_for_run_at_survives_a_restart(
    restart_database: str, tmp_path: Path, workers: list[Worker]
) -> None:
    client, key = Client(restart_database), new_key()
    first = Worker(restart_database, tmp_path)
    workers.append(first)
    run_at = utcnow() + timedelta(seconds=1.5)
    client.defer(RECORD, {"key": key}, run_at=run_at)
    time.sleep(0.3)
    first.kill()
    time.sleep(1.5)
    assert client.log(key) == []  # nobody ran it while no worker was up
    workers.append(Worker(restart_database, tmp_path))
    wait_until(lambda: len(events(client.log(key), "end")) == 1)
    started = datetime.fromtimestamp(events(client.log(key), "start")[0].at, UTC).replace(
        tzinfo=None
    )
    assert started >= run_at


def test_a_job_cut_short_by_a_stopping_worker_runs_again_at_once(
    restart_database: str, tmp_path: Path, workers: list[Worker]
) -> None:
    client, key = Client(restart_database), new_key()
    # A lease far longer than the test: only the stopping worker can put the job back.
    first = Worker(restart_database, tmp_path, jobs_lease_seconds=600)
    workers.append(first)
    client.defer(RECORD, {"key": key, "seconds": 30.0}, lock=f"contact:{key}")
    wait_until(lambda: len(events(client.log(key), "start")) == 1)
    first.stop()  # SIGTERM: waits 0.5 s for the job, then cuts it short
    assert [s for s, _ in client.states(key)] == ["todo"]
    workers.append(Worker(restart_database, tmp_path, jobs_lease_seconds=600))
    wait_until(lambda: len(events(client.log(key), "start")) == 2)


def test_a_job_that_finishes_while_its_worker_stops_is_not_run_again(
    restart_database: str, tmp_path: Path, workers: list[Worker]
) -> None:
    """A stopping worker lets its running job finish (within its grace period) and records
    it as succeeded before putting anything back: it does not run again elsewhere. (The
    embedded runner records successes with its next claim; a stopping one has none.)"""
    client, key = Client(restart_database), new_key()
    first = Worker(restart_database, tmp_path, jobs_lease_seconds=600)
    workers.append(first)
    client.defer(RECORD, {"key": key, "seconds": 1.0}, lock=f"contact:{key}")
    wait_until(lambda: len(events(client.log(key), "start")) == 1)
    first.stop()
    assert len(events(client.log(key), "end")) == 1
    assert client.states(key) == [("succeeded", 1)]
    workers.append(Worker(restart_database, tmp_path, jobs_lease_seconds=600))
    time.sleep(1.5)
    assert len(events(client.log(key), "start")) == 1


def test_a_job_cut_short_by_a_stopping_worker_while_its_queueing_lock_is_taken_runs_again(
    restart_database: str, tmp_path: Path, workers: list[Worker]
) -> None:
    """A job cut short by a stopping worker while a later job with its lock and queueing
    lock waits (an outbox delivery, and the contact's next reply): it goes back without its
    key, and both run, in order, on the next worker."""
    client, first_key, second_key = Client(restart_database), new_key(), new_key()
    lock = {"lock": f"l-{first_key}", "queueing_lock": f"q-{first_key}"}
    first = Worker(restart_database, tmp_path, jobs_lease_seconds=600)
    workers.append(first)
    # Longer than a stopping worker waits for its jobs (5 s).
    client.defer(RECORD, {"key": first_key, "seconds": 6.0}, **lock)
    wait_until(lambda: len(events(client.log(first_key), "start")) == 1)
    client.defer(RECORD, {"key": second_key, "seconds": 0.0}, **lock)
    first.stop()
    assert [s for s, _ in client.states(first_key)] == ["todo"]
    workers.append(Worker(restart_database, tmp_path, jobs_lease_seconds=600))
    wait_until(lambda: len(events(client.log(second_key), "end")) == 1, timeout=60)
    first_start = events(client.log(first_key), "start")
    assert len(first_start) == 2
    assert first_start[1].at <= events(client.log(second_key), "start")[0].at
