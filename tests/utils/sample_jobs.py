"""Job functions for tests/test_jobs.py, registered when a process imports this module
(`JOB_MODULES=tests.utils.sample_jobs` for a server or `python -m app worker`).

Each run writes what it does into `job_test_log` (key, event, time, process), a table of
the tests' own that `ensure_log_table` creates next to the app's."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from models import Database
from models.errors import DatabaseUnavailable
from resolvers.jobs import job

RECORD = "test.record"
FLAKY = "test.flaky"


def _log_table_sql(is_sqlite: bool) -> str:
    id_type = "INTEGER PRIMARY KEY AUTOINCREMENT" if is_sqlite else "BIGSERIAL PRIMARY KEY"
    return (
        f"CREATE TABLE IF NOT EXISTS job_test_log (id {id_type}, key TEXT NOT NULL,"
        " event TEXT NOT NULL, n INTEGER, at DOUBLE PRECISION NOT NULL, pid INTEGER NOT NULL)"
    )


async def ensure_log_table(db: Database) -> None:
    async with db.transaction() as session:
        await session.execute(text(_log_table_sql(db.is_sqlite)))


async def write_log(session: AsyncSession, key: str, event: str, n: int | None = None) -> None:
    await session.execute(
        text(
            "INSERT INTO job_test_log (key, event, n, at, pid) VALUES (:key, :event, :n, :at, :pid)"
        ),
        {"key": key, "event": event, "n": n, "at": time.time(), "pid": os.getpid()},
    )


@job(RECORD)
async def record(db: Database, args: dict[str, Any]) -> None:
    """Log `start`, wait `seconds`, log `end`."""
    async with db.transaction() as session:
        await write_log(session, args["key"], "start", args.get("n"))
    await asyncio.sleep(float(args.get("seconds", 0)))
    async with db.transaction() as session:
        await write_log(session, args["key"], "end", args.get("n"))


@job(FLAKY)
async def flaky(db: Database, args: dict[str, Any]) -> None:
    """Log `attempt`, then (after `seconds`) fail while fewer than `fail_first` attempts
    came before (as if the database could not be reached, with `unreachable`)."""
    key = args["key"]
    async with db.transaction() as session:
        earlier = (
            await session.execute(
                text("SELECT count(*) FROM job_test_log WHERE key = :key AND event = 'attempt'"),
                {"key": key},
            )
        ).scalar_one()
        await write_log(session, key, "attempt", earlier + 1)
    await asyncio.sleep(float(args.get("seconds", 0)))
    if earlier < int(args["fail_first"]):
        if args.get("unreachable"):
            raise DatabaseUnavailable(f"attempt {earlier + 1} of {key} finds no database")
        raise RuntimeError(f"attempt {earlier + 1} of {key} fails on purpose")
