"""Column helpers shared by every table: ids, timestamps, JSON, foreign keys."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import JSON, BigInteger, Column, DateTime, ForeignKey, Integer
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import JSONB

# BIGINT on PostgreSQL; INTEGER on SQLite so the column is the rowid alias and autoincrements.
BigId = BigInteger().with_variant(Integer(), "sqlite")
# JSONB on PostgreSQL (indexable, compact); JSON text on SQLite.
JsonType = JSON().with_variant(JSONB(), "postgresql")


class _SqliteDateTime(sqlite.DATETIME):
    """SQLite stores DATETIME as ISO text; `datetime.fromisoformat` (C) reads it several times
    faster than SQLAlchemy's regular-expression parser, which showed up in read profiles."""

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        parse = datetime.fromisoformat

        def process(value: Any) -> datetime | None:
            return None if value is None else parse(value)

        return process


# sqlite.DATETIME's __init__ is not annotated.
Timestamp = DateTime(timezone=False).with_variant(
    _SqliteDateTime(),  # type: ignore[no-untyped-call]
    "sqlite",
)


class OrgScoped:
    """Mixin for tables that belong to one organization (they carry `organization_id`).

    `models.db` gives the mixin a stand-in `organization_id` column once the tables are
    defined: SQLAlchemy analyses the organization filter's lambda against it."""


class _HasId(Protocol):
    id: int | None


def saved_id(row: _HasId) -> int:
    """`row.id`, which the database assigns when the row is first flushed. Asking for it
    before then is a bug: a clear error here, not a NULL written into a foreign key."""
    if row.id is None:
        raise RuntimeError(f"{type(row).__name__} has no id yet: flush it before using its id")
    return row.id


def utcnow() -> datetime:
    """Naive UTC now; every timestamp column stores naive UTC and the API renders it with Z."""
    return datetime.now(UTC).replace(tzinfo=None)


def utcnow_seconds() -> datetime:
    """Naive UTC now truncated to seconds (Glific's `utc_datetime` columns)."""
    return utcnow().replace(microsecond=0)


def id_column() -> Any:
    return Column(BigId, primary_key=True, autoincrement=True)


def fk_column(
    target: str,
    *,
    ondelete: str | None = None,
    nullable: bool = False,
    index: bool = True,
    use_alter: bool = False,
) -> Any:
    return Column(
        BigId,
        ForeignKey(target, ondelete=ondelete, use_alter=use_alter),
        nullable=nullable,
        index=index,
    )


def org_column(*, index: bool = True) -> Any:
    """`organization_id`. Tables queried per contact index (organization_id, contact_id)
    together instead (index=False): SQLite's planner otherwise scans the whole tenant."""
    return fk_column("organizations.id", ondelete="CASCADE", index=index)


def json_column(*, nullable: bool = False) -> Any:
    return Column(JsonType, nullable=nullable)


def timestamp_column(
    *, seconds: bool = False, onupdate: bool = False, nullable: bool = False
) -> Any:
    factory = utcnow_seconds if seconds else utcnow
    return Column(
        Timestamp,
        nullable=nullable,
        default=factory,
        onupdate=factory if onupdate else None,
    )


def optional_timestamp_column() -> Any:
    return Column(Timestamp, nullable=True)
