"""Simulator contacts: each organization has five (`9876543210_1` .. `_5`); a user leases one
for `LEASE_MINUTES` to chat with the bot from the web UI (Glific's `simulatorGet` /
`simulatorRelease`).

Glific keeps the leases in one process's memory; here they are rows of `simulator_leases`, so
every app process sees the same leases. A contact has at most one lease row (unique
`contact_id`): an expired row is taken over by an UPDATE that re-checks the expiry, a missing
one is inserted, so two processes racing for the same free contact cannot both win (the loser
takes the next one). A user's own calls are serialised on their user row, so a user holds at
most one lease.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ScalarResult, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import (
    SIMULATOR_PHONE_PREFIX,
    Contact,
    SimulatorLease,
    User,
    utcnow,
)
from resolvers import contacts

LEASE_MINUTES = 10


def _simulators(org_id: int) -> Any:
    return select(col(Contact.id)).where(
        col(Contact.organization_id) == org_id,
        col(Contact.phone).startswith(f"{SIMULATOR_PHONE_PREFIX}_", autoescape=True),
    )


async def simulator_get(session: AsyncSession, org_id: int, user_id: int) -> Any:
    """The simulator contact leased to this user (renewed for another `LEASE_MINUTES`), a
    newly leased free one, or None when every simulator is held by someone else's live lease.
    Needs a write transaction."""
    now = utcnow()
    expires = now + timedelta(minutes=LEASE_MINUTES)
    await session.execute(
        select(col(User.id))
        .where(col(User.id) == user_id, col(User.organization_id) == org_id)
        .with_for_update()
    )
    # A lease row still carrying this user's id was not taken over, even if it ran out.
    renewed = await session.execute(
        update(SimulatorLease)
        .where(
            col(SimulatorLease.organization_id) == org_id, col(SimulatorLease.user_id) == user_id
        )
        .values(expires_at=expires)
        .returning(col(SimulatorLease.contact_id))
        .execution_options(synchronize_session=False)
    )
    contact_id = renewed.scalar()
    if contact_id is None:
        contact_id = await _lease_free(session, org_id, user_id, now, expires)
    if contact_id is None:
        return None
    return (await contacts.contacts_by_ids(session, [contact_id])).get(contact_id)


async def _lease_free(
    session: AsyncSession, org_id: int, user_id: int, now: datetime, expires: datetime
) -> int | None:
    """Lease the first simulator without a live lease. Each attempt touches one lease row, so
    two callers never wait on each other in a cycle."""
    leases = dict(
        (
            await session.execute(
                select(col(SimulatorLease.contact_id), col(SimulatorLease.expires_at)).where(
                    col(SimulatorLease.organization_id) == org_id
                )
            )
        ).all()
    )
    simulators: ScalarResult[int] = await session.scalars(_simulators(org_id).order_by(Contact.id))
    for candidate in list(simulators):
        if candidate not in leases:
            try:
                async with session.begin_nested():
                    session.add(
                        SimulatorLease(
                            organization_id=org_id,
                            contact_id=candidate,
                            user_id=user_id,
                            expires_at=expires,
                        )
                    )
                    await session.flush()
            except IntegrityError:
                continue  # another process leased it a moment ago
            return candidate
        if leases[candidate] <= now:
            taken = await session.execute(
                update(SimulatorLease)
                .where(
                    col(SimulatorLease.organization_id) == org_id,
                    col(SimulatorLease.contact_id) == candidate,
                    col(SimulatorLease.expires_at) <= now,
                )
                .values(user_id=user_id, expires_at=expires)
                .execution_options(synchronize_session=False)
            )
            # An UPDATE gives a CursorResult; AsyncSession.execute is typed as giving Result.
            if taken.rowcount == 1:  # type: ignore[attr-defined]
                return candidate
    return None


async def simulator_release(session: AsyncSession, org_id: int, user_id: int) -> None:
    """Free the user's simulator (if any). Glific answers null."""
    await session.execute(
        delete(SimulatorLease)
        .where(
            col(SimulatorLease.organization_id) == org_id, col(SimulatorLease.user_id) == user_id
        )
        .execution_options(synchronize_session=False)
    )
