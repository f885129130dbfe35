"""Durable jobs: one set of job functions, run by procrastinate on PostgreSQL and by an
in-process runner over the `job_queue` table on the embedded SQLite default.

    @job("flows.wakeup")
    async def wakeup(db: Database, args: dict[str, Any]) -> None: ...

    async with db.transaction(org_id) as session:
        ...  # the data
        await defer(session, "flows.wakeup", {"run": 7}, run_at=when, lock="contact:42")

`defer` writes the job in the caller's open write transaction: the job exists if and only
if that transaction commits. Options:

- `run_at` (naive UTC): not before then;
- `lock`: jobs with the same lock run one at a time, in the order they were deferred,
  across processes (a job waiting for its `run_at` holds back the later ones of its lock);
- `queueing_lock`: at most one waiting job with that key; a later defer with the same key
  is dropped silently while one waits (once it runs, a new one may be deferred).

A job that raises is retried with growing delays (`JOBS_RETRY_SECONDS`, doubled each time)
until `JOBS_MAX_ATTEMPTS` runs have failed, then left failed and logged (a run that could not
reach the database is always tried again: see `next_try`). A process that
dies mid-job leaves it to be run again once its lease (`JOBS_LEASE_SECONDS`) has run out:
delivery is at least once, so job functions must be idempotent. Job functions open their
own transactions on the `Database` they are given and keep them short. One that has had an
outside service do something (a provider took a message) stores that with
`store_patiently`, so a database briefly out of reach does not make it do it twice.

`Runner` runs due jobs: started by the app's lifespan (`JOBS_ENABLED`), or alone by
`python -m app worker`.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from models import Database
from models.errors import DatabaseUnavailable, StatementTimeout
from resolvers.config import settings_for

log = logging.getLogger("glific.jobs")

JobFn = Callable[[Database, dict[str, Any]], Awaitable[None]]

_registry: dict[str, JobFn] = {}

# The longest wait between two attempts of a failing job (seconds).
LONGEST_RETRY = 3600.0
# The longest wait between two attempts of a job that could not reach the database.
UNREACHABLE_RETRY = 30.0
NAME_LENGTH = 128
LOCK_LENGTH = 255


T = TypeVar("T")
# Tries of `store_patiently`, and the longest wait between two (seconds): about 6 s in all.
STORE_TRIES = 6
STORE_LONGEST_WAIT = 2.0


async def store_patiently(store: Callable[[], Awaitable[T]], what: str) -> T:
    """`store()`, a transaction that records what an outside service has already done, tried
    again while the database is out of reach (a lock held past the busy timeout, a restart,
    no free connection): if it is not stored, the job runs again and has the service do it a
    second time (a child gets the same message twice). After STORE_TRIES the error is the
    job's, as any other."""
    tries = 0
    while True:
        try:
            return await store()
        except DatabaseUnavailable:
            tries += 1
            if tries == STORE_TRIES:
                raise
            log.warning("storing %s: the database is unavailable; trying again", what)
            await asyncio.sleep(min(0.25 * 2 ** (tries - 1), STORE_LONGEST_WAIT))


def job(name: str) -> Callable[[JobFn], JobFn]:
    """Register `fn(db, args)` as the job function run for jobs deferred as `name`."""
    if not name or len(name) > NAME_LENGTH:
        raise ValueError(f"a job name is 1 to {NAME_LENGTH} characters: {name!r}")

    def register(fn: JobFn) -> JobFn:
        known = _registry.get(name)
        if known is not None and known is not fn:
            raise ValueError(f"a job function is already registered as {name!r}")
        _registry[name] = fn
        return fn

    return register


def registered() -> Mapping[str, JobFn]:
    """The job functions registered so far, by name."""
    return dict(_registry)


def import_job_modules(modules: list[str]) -> None:
    """Import the modules that register job functions (JOB_MODULES)."""
    for module in modules:
        importlib.import_module(module)


def retry_delay(base_seconds: float, attempts: int) -> float:
    """Seconds to wait before the next run of a job whose `attempts`-th run failed."""
    return float(min(base_seconds * 2 ** max(attempts - 1, 0), LONGEST_RETRY))


def next_try(
    error: BaseException, attempts: int, max_attempts: int, base_seconds: float
) -> float | None:
    """Seconds until a job whose `attempts`-th run raised `error` runs again, or None when it
    is left failed. A run that could not reach the database (no connection, a deadlock,
    SQLite busy past its wait; not a statement that ran too long) did no work of its own: it
    is tried again whatever its count, at most `UNREACHABLE_RETRY` apart, so a database that
    is out of reach for a while loses no message's reply."""
    if isinstance(error, DatabaseUnavailable) and not isinstance(error, StatementTimeout):
        return min(retry_delay(base_seconds, attempts), UNREACHABLE_RETRY)
    if attempts >= max_attempts:
        return None
    return retry_delay(base_seconds, attempts)


def _check_transaction(session: AsyncSession, is_sqlite: bool) -> None:
    """`defer` needs the caller's write transaction: in a read session each statement
    commits on its own, and the job would exist whatever became of the caller's data."""
    options = session.get_bind().get_execution_options()
    autocommit = (
        not options.get("writer") if is_sqlite else options.get("isolation_level") == "AUTOCOMMIT"
    )
    if autocommit or not session.in_transaction():
        raise RuntimeError("defer() needs the session of an open write transaction")


async def defer(
    session: AsyncSession,
    name: str,
    args: dict[str, Any],
    *,
    run_at: datetime | None = None,
    lock: str | None = None,
    queueing_lock: str | None = None,
) -> None:
    """Write the job `name(args)` in the session's open write transaction (see the module's
    docstring for the options)."""
    if name not in _registry:
        raise LookupError(f"no job function is registered as {name!r}")
    if run_at is not None and run_at.tzinfo is not None:
        raise ValueError("run_at is naive UTC")
    for key in (lock, queueing_lock):
        if key is not None and not 0 < len(key) <= LOCK_LENGTH:
            raise ValueError(f"a lock is 1 to {LOCK_LENGTH} characters: {key!r}")
    encoded = json.dumps(args)  # refuses what the job could not be given back
    is_sqlite = session.get_bind().dialect.name == "sqlite"
    _check_transaction(session, is_sqlite)
    if is_sqlite:
        from resolvers.jobs import embedded

        await embedded.defer(session, name, encoded, run_at, lock, queueing_lock)
    else:
        from resolvers.jobs import postgres

        await postgres.defer(session, name, encoded, run_at, lock, queueing_lock)


class _Backend(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class Runner:
    """Runs due jobs in this process until stopped: the in-process runner over `job_queue`
    on SQLite, a procrastinate worker on PostgreSQL. Settings come from the database's."""

    def __init__(self) -> None:
        self._backend: _Backend | None = None

    async def start(self, db: Database) -> None:
        if self._backend is not None:
            raise RuntimeError("this runner is already running")
        settings = settings_for(db)
        import_job_modules(settings.job_module_list)
        backend: _Backend
        if db.is_sqlite:
            from resolvers.jobs.embedded import EmbeddedRunner

            backend = EmbeddedRunner(db, settings, _registry)
        else:
            from resolvers.jobs.postgres import ProcrastinateRunner

            backend = ProcrastinateRunner(db, settings, _registry)
        await backend.start()
        self._backend = backend

    async def stop(self) -> None:
        backend, self._backend = self._backend, None
        if backend is not None:
            await backend.stop()
