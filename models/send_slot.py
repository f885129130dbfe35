"""`send_slots`: per organization, when its next message may go to the provider (the
"theoretical arrival time" of the GCRA rate limit, resolvers.send_rate). One row per
organization that has sent through a provider, shared by every process that sends for it.

Times are epoch seconds (a float) on the database's own clock (`epoch_now()`): every process
reserves and waits against one clock, whatever the machines' clocks say."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Double, ForeignKey
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Field, SQLModel

from models.base import BigId, OrgScoped


class SendSlot(OrgScoped, SQLModel, table=True):
    __tablename__ = "send_slots"

    organization_id: int = Field(
        sa_column=Column(
            BigId,
            ForeignKey("organizations.id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        )
    )
    # The send time handed to the latest reservation (epoch seconds, database clock).
    next_at: float = Field(sa_column=Column(Double, nullable=False))


class epoch_now(FunctionElement[float]):
    """The database's current time in epoch seconds, sub-second precision: SQLite's
    `julianday('now')` (milliseconds; one value for the whole statement), PostgreSQL's
    `clock_timestamp()` (microseconds; the time it is evaluated, after any row lock wait)."""

    type = Double()
    inherit_cache = True


@compiles(epoch_now, "sqlite")
def _epoch_now_sqlite(element: epoch_now, compiler: SQLCompiler, **kw: Any) -> str:
    return "((julianday('now') - 2440587.5) * 86400.0)"


@compiles(epoch_now, "postgresql")
def _epoch_now_postgresql(element: epoch_now, compiler: SQLCompiler, **kw: Any) -> str:
    return "CAST(extract(epoch FROM clock_timestamp()) AS DOUBLE PRECISION)"
