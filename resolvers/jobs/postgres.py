"""Jobs on PostgreSQL: procrastinate runs the registered job functions.

- `defer` calls procrastinate's SQL function `procrastinate_defer_jobs_v1` through the
  caller's session, so the job commits (and its NOTIFY wakes the workers) with the data.
- `ProcrastinateRunner` is a procrastinate worker inside this process (an App over a
  psycopg pool of its own, built from DATABASE_URL), plus a sweep that puts back the jobs
  of workers whose heartbeat stopped (their process died) and deletes old succeeded jobs.
  A job that raises loses its queueing lock before procrastinate puts it back for a retry
  (see `_task`).
- procrastinate's log lines name a job without its arguments (`_WithoutJobArguments`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import procrastinate
import psycopg.errors
from procrastinate.job_context import JobContext
from procrastinate.jobs import Job
from procrastinate.retry import BaseRetryStrategy, RetryDecision
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from models import Database, prepared, utcnow, write_rows
from resolvers.jobs import JobFn, next_try
from settings import Settings

log = logging.getLogger("glific.jobs")

WORKER_NAME = "glific"
# The loggers procrastinate's worker writes job lines to: its module's and the worker's own.
_WORKER_LOGGERS = ("procrastinate.worker", f"procrastinate.worker.{WORKER_NAME}")
# A job as procrastinate names it, `task[id](key=value, ...)`, to the end of the line.
_CALL = re.compile(r"\[(\d+)\]\(.*\)", re.DOTALL)


class _WithoutJobArguments(logging.Filter):
    """procrastinate names a job in its log lines with its arguments, and puts them in the
    record's `job` extra too; an inbound message's job carries the message, so every line
    would hold the phone number and what the child typed. Here a job is its task and id:
    the arguments stay in the job table, where the data's own access rules apply."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        job = getattr(record, "job", None)
        if isinstance(job, dict):
            call = job.get("call_string")
            if call:
                message = message.replace(str(call), f"{job.get('task_name')}[{job.get('id')}]")
            record.job = {k: v for k, v in job.items() if k not in ("task_kwargs", "call_string")}
        # (A line without the extra: the job's call up to the end of the line goes.)
        record.msg, record.args = _CALL.sub(r"[\1](...)", message), None
        return True


_REDACTION = _WithoutJobArguments()
for _name in _WORKER_LOGGERS:
    logging.getLogger(_name).addFilter(_REDACTION)

QUEUE = "default"
_QUEUEING_LOCK_INDEX = "procrastinate_jobs_queueing_lock_idx_v1"
_PRUNE_EVERY = 3600.0
_FREE_QUEUEING_LOCK = """
    UPDATE procrastinate_jobs AS j SET queueing_lock = NULL
    WHERE j.id = %(id)s AND j.status = 'doing' AND EXISTS (
        SELECT 1 FROM procrastinate_jobs AS w
        WHERE w.status = 'todo' AND w.queueing_lock = j.queueing_lock
    )
"""
# A job that raised, before procrastinate puts it back for a retry (see `_task`).
_DROP_QUEUEING_LOCK = """
    UPDATE procrastinate_jobs SET queueing_lock = NULL
    WHERE id = %(id)s AND status = 'doing' AND queueing_lock IS NOT NULL
"""
_SHUTDOWN_GRACE = 5.0
# procrastinate's fetch, planned once inside its SQL function, sorts every waiting job when
# the statistics say there are few (the job table grows from nothing to thousands of rows in
# a burst, long before autovacuum looks): 7 ms per fetch at 2,700 waiting jobs instead of
# 0.3 ms. The statistics are refreshed as soon as a good part of the table has changed.
_STATISTICS_EVERY = 2.0
_REFRESH_STATISTICS = """
    DO $$ BEGIN
        IF EXISTS (
            SELECT 1 FROM pg_stat_user_tables
            WHERE relid = 'procrastinate_jobs'::regclass
              AND n_mod_since_analyze > 200 + n_live_tup / 5
        ) THEN
            ANALYZE procrastinate_jobs;
        END IF;
    END $$
"""

# procrastinate fetches in (priority descending, id) order and skips the jobs not due yet
# one by one: timers set days ahead (a flow's expiry, one per run started) would pile up in
# front of every fetch. Jobs deferred for later go behind (priority -1), unless they have a
# lock, whose jobs must keep their defer order.
LATER_PRIORITY = -1
_DEFER = text(
    "SELECT procrastinate_defer_jobs_v1(ARRAY[CAST(ROW("
    " CAST(:queue AS varchar), CAST(:task AS varchar), CAST(:priority AS integer),"
    " CAST(:lock AS text),"
    " CAST(:queueing_lock AS text), CAST(:args AS jsonb), CAST(:run_at AS timestamptz)"
    ") AS procrastinate_job_to_defer_v1)])"
)
# The same, run through the driver (models.direct): a job is deferred for every inbound
# message and every flow started.
_DEFER_DIRECT = prepared(_DEFER.columns())


async def defer(
    session: AsyncSession,
    name: str,
    args: str,
    run_at: datetime | None,
    lock: str | None,
    queueing_lock: str | None,
) -> None:
    later = run_at is not None and lock is None and run_at > utcnow()
    params = {
        "queue": QUEUE,
        "task": name,
        "priority": LATER_PRIORITY if later else 0,
        "lock": lock,
        "queueing_lock": queueing_lock,
        "args": args,
        "run_at": None if run_at is None else run_at.replace(tzinfo=UTC),
    }
    if queueing_lock is None:
        await write_rows(session, _DEFER_DIRECT, params)
        return
    # A waiting job with the same queueing lock makes this one superfluous; its unique
    # index says so by failing the insert, which must not end the caller's transaction.
    try:
        async with session.begin_nested():
            await session.execute(_DEFER, params)
    except IntegrityError as exc:
        if not _is_queueing_lock_conflict(exc.orig):
            raise


def _is_queueing_lock_conflict(error: BaseException | None) -> bool:
    return (
        isinstance(error, psycopg.errors.UniqueViolation)
        and error.diag.constraint_name == _QUEUEING_LOCK_INDEX
    )


class _Backoff(BaseRetryStrategy):
    """The same retries as the embedded runner's (`next_try`): `max_attempts` runs in all,
    the n-th retry after `base * 2**(n-1)` seconds."""

    def __init__(self, max_attempts: int, base_seconds: float) -> None:
        self.max_attempts = max_attempts
        self.base_seconds = base_seconds

    def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision | None:
        done = job.attempts + 1  # procrastinate counts the runs before this one
        delay = next_try(exception, done, self.max_attempts, self.base_seconds)
        if delay is None:
            log.error(
                "job %s (%s) failed after %d attempts; left failed",
                job.id,
                job.task_name,
                done,
                exc_info=exception,
            )
            return None
        log.warning(
            "job %s (%s) attempt %d failed; retried in %.1fs",
            job.id,
            job.task_name,
            done,
            delay,
            exc_info=exception,
        )
        return RetryDecision(retry_at=datetime.now(UTC) + timedelta(seconds=delay))


def conninfo(url: str) -> str:
    """A libpq connection string for a SQLAlchemy `postgresql+psycopg://` URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class ProcrastinateRunner:
    def __init__(self, db: Database, settings: Settings, jobs: Mapping[str, JobFn]) -> None:
        self.db = db
        self.concurrency = settings.jobs_concurrency
        self.poll = settings.jobs_poll_seconds
        self.lease = settings.jobs_lease_seconds
        self.keep_hours = settings.jobs_keep_hours
        connector = procrastinate.PsycopgConnector(
            conninfo=conninfo(db.url),
            min_size=1,
            # The running jobs' finish/retry calls, the fetch loop, LISTEN, the sweep.
            max_size=self.concurrency + 3,
        )
        self.app = procrastinate.App(connector=connector)
        retry = _Backoff(settings.jobs_max_attempts, settings.jobs_retry_seconds)
        for name, fn in jobs.items():
            self.app.task(name=name, queue=QUEUE, retry=retry, pass_context=True)(self._task(fn))
        self._worker: asyncio.Task[None] | None = None
        self._sweeper: asyncio.Task[None] | None = None

    def _task(self, fn: JobFn) -> Any:
        db = self.db
        connector = self.app.connector

        async def run(context: JobContext, /, **args: Any) -> None:
            try:
                await fn(db, args)
            except BaseException:  # a failure, or the cut a stopping worker makes
                # procrastinate puts a failed job back as `todo` with its queueing lock, which
                # fails (a unique index) when a later job with that key is waiting already:
                # the job would then stay `doing`, holding its lock, and every later job of
                # the lock (a contact's deliveries) would wait until this process stops. So
                # it goes back without its key. (The embedded runner drops the key only when
                # another job waits with it, in the statement that puts the job back; here
                # that would take two statements, and a job deferred between them would
                # bring the failure back. At worst one more job of the lock runs, after
                # this one, and finds nothing left to do.)
                job_id = context.job.id
                try:
                    await connector.execute_query_async(_DROP_QUEUEING_LOCK, id=job_id)
                except Exception:
                    log.exception("job %s: dropping its queueing lock failed", job_id)
                raise

        run.__name__ = run.__qualname__ = getattr(fn, "__name__", "job")
        return run

    async def start(self) -> None:
        await self.app.open_async()
        await self._put_back_abandoned()
        self._worker = asyncio.create_task(
            self.app.run_worker_async(
                queues=[QUEUE],
                concurrency=self.concurrency,
                fetch_job_polling_interval=self.poll,
                abort_job_polling_interval=max(self.poll, 5.0),
                install_signal_handlers=False,
                name=WORKER_NAME,
                update_heartbeat_interval=self.lease / 3,
                stalled_worker_timeout=self.lease,
                shutdown_graceful_timeout=_SHUTDOWN_GRACE,
                delete_jobs="never",
            ),
            name="procrastinate worker",
        )
        self._sweeper = asyncio.create_task(self._sweep_loop(), name="job sweeper")
        log.info("job runner started (procrastinate)")

    async def stop(self) -> None:
        for task in (self._sweeper, self._worker):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._sweeper = self._worker = None
        await self.app.close_async()

    async def _put_back_abandoned(self) -> None:
        """Jobs left `doing` by workers whose heartbeat is older than the lease (their process
        died) wait again (procrastinate records the run as an attempt)."""
        manager = self.app.job_manager
        stalled = list(await manager.get_stalled_jobs(seconds_since_heartbeat=self.lease))
        for job in stalled:
            log.warning(
                "job %s (%s) was abandoned by a stopped worker; it runs again",
                job.id,
                job.task_name,
            )
            try:
                # Its queueing lock goes if another job waits with it (one waiting job per
                # key): otherwise putting it back would fail on that key, and it would stay
                # `doing`, holding back every later job of its lock (the embedded runner's
                # rule too).
                await self.app.connector.execute_query_async(_FREE_QUEUEING_LOCK, id=job.id)
                await manager.retry_job(job)
            except Exception:  # another process put it back first
                log.debug("job %s was put back already", job.id, exc_info=True)

    async def _sweep_loop(self) -> None:
        last_prune = last_sweep = 0.0
        while True:
            await asyncio.sleep(_STATISTICS_EVERY)
            try:
                await self.app.connector.execute_query_async(_REFRESH_STATISTICS)
            except Exception:
                log.exception("refreshing the job table's statistics failed")
            if time.monotonic() - last_sweep < self.lease / 3:
                continue
            last_sweep = time.monotonic()
            try:
                await self._put_back_abandoned()
                if time.monotonic() - last_prune > _PRUNE_EVERY:
                    await self.app.job_manager.delete_old_jobs(nb_hours=self.keep_hours)
                    last_prune = time.monotonic()
            except Exception:
                log.exception("job sweep failed")
