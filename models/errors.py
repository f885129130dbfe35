"""What the database layer reports when it cannot serve a request right now: the database is
locked by someone else, a statement ran too long, or every connection is taken. Each is a
`DatabaseUnavailable` whose message is meant for the API client, who may retry.

`translate` turns what a driver or the pool raised into one of these (SQLAlchemy's
`handle_error` hook calls it for every statement; the direct SQLite reads call it too).
"""

from __future__ import annotations

import sqlite3

import psycopg.errors
from sqlalchemy import exc as sa_exc

# SQLite result codes (the low byte of an extended code).
_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_INTERRUPT = 5, 6, 9


class DatabaseUnavailable(Exception):
    """The request could not be served now; retrying later may succeed."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class DatabaseBusy(DatabaseUnavailable):
    def __init__(self, message: str = "") -> None:
        super().__init__(
            message or "The database is busy right now (another writer holds it); please retry"
        )


class StatementTimeout(DatabaseUnavailable):
    def __init__(self, seconds: float | None = None) -> None:
        limit = f"{seconds:g} seconds" if seconds else "its time limit"
        super().__init__(
            f"The query ran longer than {limit} and was stopped; "
            "narrow it (a filter, a smaller limit) or retry later"
        )


POOL_EXHAUSTED = "The server is handling too many requests right now; please retry"
UNREACHABLE = "The database cannot be reached right now; please retry"


def sqlite_code(error: BaseException) -> int | None:
    code = getattr(error, "sqlite_errorcode", None)
    return None if code is None else code & 0xFF


def is_sqlite_busy(error: BaseException) -> bool:
    return isinstance(error, sqlite3.OperationalError) and sqlite_code(error) in (
        _SQLITE_BUSY,
        _SQLITE_LOCKED,
    )


def is_sqlite_interrupt(error: BaseException) -> bool:
    return isinstance(error, sqlite3.OperationalError) and sqlite_code(error) == _SQLITE_INTERRUPT


def translate(error: BaseException, statement_timeout: float | None = None) -> Exception | None:
    """Our error for `error` (an exception a driver or the pool raised), or None when it is
    none of the conditions a client may retry."""
    if isinstance(error, DatabaseUnavailable):
        return error
    if is_sqlite_busy(error):
        return DatabaseBusy()
    if is_sqlite_interrupt(error):
        return StatementTimeout(statement_timeout)
    if isinstance(error, psycopg.errors.QueryCanceled):
        return StatementTimeout(statement_timeout)
    if isinstance(
        error,
        psycopg.errors.LockNotAvailable
        | psycopg.errors.DeadlockDetected
        | psycopg.errors.SerializationFailure,
    ):
        return DatabaseBusy()
    if isinstance(error, sa_exc.TimeoutError):
        return DatabaseUnavailable(POOL_EXHAUSTED)
    if type(error) is psycopg.OperationalError:
        # Not a statement's failure (those are subclasses, above): no connection could be
        # opened or kept (the server is down, restarting, or has no connection slot left).
        return DatabaseUnavailable(UNREACHABLE)
    return None
