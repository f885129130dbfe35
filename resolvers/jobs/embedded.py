"""The in-process job runner of the embedded SQLite default, over the `job_queue` table
(models.job_queue).

- `defer` inserts a row in the caller's transaction; when that transaction commits, the
  runners of this process are woken at once (other processes find it at their next poll).
- The runner claims one due job at a time in a short write transaction (the claim is one
  UPDATE, so two processes on one file never claim the same job), skipping jobs whose lock
  is held by a running job or by an earlier waiting one, and runs up to `JOBS_CONCURRENCY`
  of them as asyncio tasks. It records the outcome in another short transaction.
- While a job runs, its runner renews the job's heartbeat every third of the lease. A
  `doing` job whose heartbeat is older than the lease (its process died) is put back to
  `todo` by any runner: at start and at each sweep after that.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import socket
import time
import weakref
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Integer, String, bindparam, event, text
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from models import Database, JobQueue, prepared, read_rows, unscoped, utcnow, write_rows
from models.base import Timestamp
from models.job_queue import DOING, FAILED, SUCCEEDED, TODO
from resolvers.jobs import JobFn, next_try
from settings import Settings

log = logging.getLogger("glific.jobs")

_WAKE_KEY = "jobs_deferred"
_SHUTDOWN_GRACE = 5.0
_FINISH_TRIES = 5

# This process's running runners, woken when a transaction that deferred a job commits.
_runners: weakref.WeakSet[EmbeddedRunner] = weakref.WeakSet()


async def defer(
    session: AsyncSession,
    name: str,
    args: str,
    run_at: datetime | None,
    lock: str | None,
    queueing_lock: str | None,
) -> None:
    now = utcnow()
    row = {
        "name": name,
        "args": json.loads(args),
        "status": TODO,
        "lock": lock,
        "queueing_lock": queueing_lock,
        "run_at": run_at or now,
        "attempts": 0,
        "inserted_at": now,
    }
    # A waiting job with the same queueing lock makes this one superfluous.
    await write_rows(session, _DEFER, row)
    session.info[_WAKE_KEY] = True


# Built once: built per call (a flow start defers its expiry) it cost more than the insert.
_DEFER = prepared(
    insert(JobQueue)
    .values(
        {
            key: bindparam(key)
            for key in (
                "name",
                "args",
                "status",
                "lock",
                "queueing_lock",
                "run_at",
                "attempts",
                "inserted_at",
            )
        }
    )
    .on_conflict_do_nothing()
)


@event.listens_for(Session, "after_commit")
def _wake_after_commit(session: Session) -> None:
    if session.info.pop(_WAKE_KEY, False):
        for runner in list(_runners):
            runner.wake()


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_WAKE_KEY, None)


def _typed(sql: str, **columns: Any) -> Any:
    """A text statement whose datetime parameters are bound as the table's timestamps (the
    same text form as the ORM writes, so comparisons in SQL hold)."""
    statement = text(sql).bindparams(
        *(
            bindparam(name, type_=Timestamp)
            for name in ("now", "stale", "until")
            if f":{name}" in sql
        )
    )
    return statement.columns(**columns) if columns else statement


def _direct(statement: Any) -> Any:
    """A statement run for every job (claim, outcome): through the driver (models.direct),
    past the ORM's per-call work, which cost more than the statement."""
    return prepared(
        unscoped(statement if hasattr(statement, "selected_columns") else statement.columns())
    )


# Keep a job's queueing lock only if no other job waits with it (the unique index allows
# one waiting job per key): the job going back to waiting then runs as a plain job.
_KEEP_QUEUEING_LOCK = """CASE WHEN EXISTS (
        SELECT 1 FROM job_queue AS w
        WHERE w.status = 'todo' AND w.queueing_lock = job_queue.queueing_lock
    ) THEN NULL ELSE queueing_lock END"""

_DUE = _direct(
    _typed(
        "SELECT 1 AS due FROM job_queue WHERE status = 'todo' AND run_at <= :now LIMIT 1",
        due=Integer,
    )
)
_NEXT = _typed(
    "SELECT min(run_at) AS next_at FROM job_queue WHERE status = 'todo' AND run_at > :now",
    next_at=Timestamp,
)
_CLAIM = _direct(
    _typed(
        """
    UPDATE job_queue
    SET status = 'doing', worker = :worker, heartbeat_at = :now, attempts = attempts + 1
    WHERE id IN (
        SELECT j.id FROM job_queue AS j
        WHERE j.status = 'todo' AND j.run_at <= :now
          AND NOT EXISTS (
              SELECT 1 FROM job_queue AS o
              WHERE j.lock IS NOT NULL AND o.lock = j.lock AND o.id <> j.id
                AND (o.status = 'doing' OR (o.status = 'todo' AND o.id < j.id))
          )
        ORDER BY j.run_at, j.id
        LIMIT :slots
    )
    RETURNING id, name, args, attempts
    """,
        id=Integer,
        name=String,
        args=JSON,
        attempts=Integer,
    )
)
_SUCCEEDED = _direct(
    _typed(
        "UPDATE job_queue SET status = 'succeeded', finished_at = :now, worker = NULL,"
        " heartbeat_at = NULL, last_error = NULL"
        " WHERE id = :id AND worker = :worker AND status = 'doing'"
    )
)
_FAILED = _direct(
    _typed(
        "UPDATE job_queue SET status = 'failed', finished_at = :now, worker = NULL,"
        " heartbeat_at = NULL, last_error = :error"
        " WHERE id = :id AND worker = :worker AND status = 'doing'"
    )
)
_RETRY = _direct(
    _typed(
        f"UPDATE job_queue SET status = 'todo', run_at = :until, worker = NULL,"
        f" heartbeat_at = NULL, last_error = :error, queueing_lock = {_KEEP_QUEUEING_LOCK}"
        f" WHERE id = :id AND worker = :worker AND status = 'doing'"
    )
)
_HEARTBEAT = _typed(
    "UPDATE job_queue SET heartbeat_at = :now WHERE worker = :worker AND status = 'doing'"
)
# A job abandoned by a dead process: failed if it has had all its attempts, else waiting.
_ABANDONED_FAILED = _typed(
    "UPDATE job_queue SET status = 'failed', finished_at = :now, worker = NULL,"
    " last_error = 'abandoned by a process that stopped while running it'"
    " WHERE status = 'doing' AND heartbeat_at < :stale AND attempts >= :max_attempts"
)
_ABANDONED_TODO = _typed(
    f"UPDATE job_queue SET status = 'todo', worker = NULL, heartbeat_at = NULL,"
    f" queueing_lock = {_KEEP_QUEUEING_LOCK}"
    f" WHERE status = 'doing' AND heartbeat_at < :stale"
)
# This runner stops: its unfinished jobs wait again, the cut-short run not counted.
_RELEASE = _typed(
    f"UPDATE job_queue SET status = 'todo', worker = NULL, heartbeat_at = NULL,"
    f" attempts = max(attempts - 1, 0), queueing_lock = {_KEEP_QUEUEING_LOCK}"
    f" WHERE worker = :worker AND status = 'doing'"
)
_PRUNE = _typed("DELETE FROM job_queue WHERE status = 'succeeded' AND finished_at < :stale")


@dataclass(frozen=True)
class _Claimed:
    id: int
    name: str
    args: dict[str, Any]
    attempts: int


class EmbeddedRunner:
    def __init__(self, db: Database, settings: Settings, jobs: Mapping[str, JobFn]) -> None:
        self.db = db
        self.jobs = jobs
        self.worker = f"{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(4)}"
        self.concurrency = settings.jobs_concurrency
        self.poll = settings.jobs_poll_seconds
        self.max_attempts = settings.jobs_max_attempts
        self.retry_seconds = settings.jobs_retry_seconds
        self.lease = settings.jobs_lease_seconds
        self.keep = timedelta(hours=settings.jobs_keep_hours)
        self._running: dict[int, asyncio.Task[None]] = {}
        # Jobs that succeeded, recorded in the transaction of the next claim (see _claim).
        self._succeeded: list[int] = []
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._main: asyncio.Task[None] | None = None

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        await self._sweep()  # jobs a dead process left running, if their lease ran out
        _runners.add(self)
        self._main = asyncio.create_task(self._run_loop(), name="job runner")
        log.info("job runner %s started (SQLite)", self.worker)

    async def stop(self) -> None:
        _runners.discard(self)
        if self._main is not None:
            self._main.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._main
            self._main = None
        running = list(self._running.values())
        if running:
            _done, pending = await asyncio.wait(running, timeout=_SHUTDOWN_GRACE)
            for task in pending:
                task.cancel()
            await asyncio.wait(running)
        try:
            async with self._recording_succeeded(utcnow()) as session:
                await session.execute(_RELEASE, {"worker": self.worker})
        except Exception:
            log.exception("job runner %s: releasing unfinished jobs failed", self.worker)

    def wake(self) -> None:
        """Look for due jobs now (thread-safe: a transaction may commit on another loop)."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake.set)

    # --- the loop -------------------------------------------------------------------------

    async def _run_loop(self) -> None:
        next_sweep = time.monotonic() + self.lease / 3
        while True:
            self._wake.clear()
            delay = self.poll
            try:
                if time.monotonic() >= next_sweep:
                    await self._sweep()
                    next_sweep = time.monotonic() + self.lease / 3
                while len(self._running) < self.concurrency:
                    claimed = await self._claim(self.concurrency - len(self._running))
                    if not claimed:
                        break
                    for job in claimed:
                        self._launch(job)
                if len(self._running) < self.concurrency:
                    after = await self._next_run_in()
                    if after is not None:
                        delay = min(delay, after)
            except Exception:
                log.exception("job runner %s: looking for jobs failed", self.worker)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(delay, 0.0)):
                    await self._wake.wait()

    async def _claim(self, slots: int) -> list[_Claimed]:
        """Up to `slots` due jobs, at most one per lock (the claim's own condition), in one
        write transaction."""
        now = utcnow()
        if not self._succeeded:
            # Nothing due: no write transaction (it would take the database's one writer).
            async with self.db.session() as session:
                if not await read_rows(session, _DUE, {"now": now}):
                    return []
        # The jobs that succeeded since the last claim are recorded in its transaction (one
        # write transaction fewer per job; a job of the same lock becomes claimable in it).
        params = {"now": now, "worker": self.worker, "slots": slots}
        async with self._recording_succeeded(now) as session:
            rows = await write_rows(session, _CLAIM, params)
        claimed = [
            _Claimed(
                row.id,
                row.name,
                row.args if isinstance(row.args, dict) else json.loads(row.args),
                row.attempts,
            )
            for row in rows
        ]
        return sorted(claimed, key=lambda job: job.id)

    @contextlib.asynccontextmanager
    async def _recording_succeeded(self, now: datetime) -> AsyncIterator[AsyncSession]:
        """A write transaction that first marks the jobs that succeeded since the last one;
        if it fails, they wait for the next."""
        done, self._succeeded = self._succeeded, []
        try:
            async with self.db.transaction() as session:
                for job_id in done:
                    params = {"id": job_id, "now": now, "worker": self.worker}
                    await write_rows(session, _SUCCEEDED, params)
                yield session
        except BaseException:
            self._succeeded = done + self._succeeded
            raise

    async def _next_run_in(self) -> float | None:
        now = utcnow()
        async with self.db.session() as session:
            at = (await session.execute(_NEXT, {"now": now})).scalar()
        if at is None:
            return None
        if isinstance(at, str):
            at = datetime.fromisoformat(at)
        return float((at - now).total_seconds())

    def _launch(self, claimed: _Claimed) -> None:
        task = asyncio.create_task(self._run(claimed), name=f"job {claimed.id} {claimed.name}")
        self._running[claimed.id] = task

        def done(_: asyncio.Task[None]) -> None:
            self._running.pop(claimed.id, None)
            self._wake.set()  # a slot is free, and the job's lock too

        task.add_done_callback(done)

    async def _run(self, claimed: _Claimed) -> None:
        fn = self.jobs.get(claimed.name)
        try:
            if fn is None:
                raise LookupError(f"no job function is registered as {claimed.name!r}")
            await fn(self.db, claimed.args)
        except Exception as exc:
            await self._failed(claimed, exc)
        else:
            self._succeeded.append(claimed.id)  # recorded with the next claim (_claim)

    async def _failed(self, claimed: _Claimed, exc: Exception) -> None:
        error = f"{type(exc).__name__}: {exc}"[:4000]
        where = f"job {claimed.id} ({claimed.name}) attempt {claimed.attempts}"
        delay = next_try(exc, claimed.attempts, self.max_attempts, self.retry_seconds)
        if delay is None:
            log.error("%s failed; no attempts left, left failed", where, exc_info=exc)
            await self._record(_FAILED, {"id": claimed.id, "now": utcnow(), "error": error})
            return
        log.warning("%s failed; retried in %.1fs", where, delay, exc_info=exc)
        until = utcnow() + timedelta(seconds=delay)
        await self._record(_RETRY, {"id": claimed.id, "until": until, "error": error})

    async def _record(self, statement: Any, params: dict[str, Any]) -> None:
        """Write a job's outcome, retrying while the database is busy; if it cannot be
        written, the job is run again once its lease runs out."""
        for attempt in range(_FINISH_TRIES):
            try:
                async with self.db.transaction() as session:
                    await write_rows(session, statement, {**params, "worker": self.worker})
                return
            except Exception:
                if attempt == _FINISH_TRIES - 1:
                    log.exception("job %s: recording its outcome failed", params.get("id"))
                    return
                await asyncio.sleep(0.1 * 2**attempt)

    async def _sweep(self) -> None:
        """Renew this runner's heartbeats, put abandoned jobs back, prune old finished ones."""
        now = utcnow()
        async with self.db.transaction() as session:
            if self._running:
                await session.execute(_HEARTBEAT, {"now": now, "worker": self.worker})
            stale = now - timedelta(seconds=self.lease)
            failed = await session.execute(
                _ABANDONED_FAILED, {"now": now, "stale": stale, "max_attempts": self.max_attempts}
            )
            back = await session.execute(_ABANDONED_TODO, {"stale": stale})
            await session.execute(_PRUNE, {"stale": now - self.keep})
        counts = (_rowcount(back), _rowcount(failed))
        if any(counts):
            log.warning(
                "job runner %s: %d job(s) abandoned by a stopped process will run again,"
                " %d left failed (no attempts left)",
                self.worker,
                *counts,
            )


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


__all__ = ["DOING", "FAILED", "SUCCEEDED", "TODO", "EmbeddedRunner", "defer"]
