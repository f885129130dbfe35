"""The per-organization sending rate limit (Glific's bsp_limit: `rate_limit` messages per
second, default 30), shared by every process that sends for the organization, through the
database alone.

The rule is GCRA (the "generic cell rate algorithm", a token bucket kept as one timestamp):
the organization's row in `send_slots` holds the send time given to its latest reservation,
`next_at`. Reserving a send is one statement in its own short transaction:

    next_at = max(next_at, now - BURST_SECONDS) + 1 / rate      (RETURNING next_at - now)

and the sender waits until its reserved time (`next_at - now` seconds, when positive), with
no lock held, before calling the provider. An organization that has been quiet for a second
may send `rate` messages at once (one second's worth, as a token bucket of `rate` tokens
would), then one every `1 / rate` seconds, however many processes send for it: each
reservation takes the next slot after everyone else's. The first send of an organization
inserts its row (the same statement: an upsert on the organization's id).

`now` is the database's clock (models.epoch_now), so processes on several machines agree
on it; the wait is measured by this process from the answer, so its own clock's offset does
not matter. A reservation whose sender dies before sending leaves its slot unused: the
organization then sends slightly below its rate, never above it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import Double, bindparam, case
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col

from models import Database, SendSlot, epoch_now, prepared, write_rows

# The burst an organization that has been quiet may send at once: one second's worth.
BURST_SECONDS = 1.0

_RESERVE: dict[str, Any] = {}


def _reserve(dialect: str) -> Any:
    """The reservation (an upsert returning the seconds to wait), built once per dialect."""
    if dialect not in _RESERVE:
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        interval: Any = bindparam("interval", type_=Double())
        earliest = epoch_now() - BURST_SECONDS
        latest = col(SendSlot.next_at)
        _RESERVE[dialect] = prepared(
            insert(SendSlot)
            .values(organization_id=bindparam("organization_id"), next_at=earliest + interval)
            .on_conflict_do_update(
                index_elements=[col(SendSlot.organization_id)],
                # max(next_at, now - burst) + interval, `now` read once the row is locked.
                set_={"next_at": case((latest > earliest, latest), else_=earliest) + interval},
            )
            .returning((latest - epoch_now()).label("wait"))
        )
    return _RESERVE[dialect]


async def reserve(db: Database, org_id: int, rate: int) -> float:
    """Reserve the organization's next send at `rate` messages per second; returns the
    seconds to wait before sending (0 when it may go now). One statement in its own
    transaction: a database error is raised to the caller, nothing is counted here."""
    async with db.transaction(org_id) as session:
        (row,) = await write_rows(
            session,
            _reserve(session.get_bind().dialect.name),
            {"organization_id": org_id, "interval": 1.0 / rate},
        )
    return max(float(row.wait), 0.0)


async def take(db: Database, org_id: int, rate: int) -> None:
    """Wait for the organization's next send slot (reserve it, then sleep until it comes)."""
    wait = await reserve(db, org_id, rate)
    if wait > 0:
        await asyncio.sleep(wait)
