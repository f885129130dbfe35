"""Contact history: what happened to a contact, stamped with the profile active at the time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Contact, ContactHistory, saved_id, utcnow
from resolvers.config import settings_of
from resolvers.querying import ListOpts, apply_opts, ilike, int_ids

PROFILE_SWITCHED = "profile_switched"
CONTACT_FIELDS_UPDATED = "contact_fields_updated"
CONTACT_LANGUAGE_UPDATED = "contact_language_updated"
CONTACT_OPTED_IN = "contact_opted_in"
CONTACT_OPTED_OUT = "contact_opted_out"

_COLUMNS = {
    "id": ContactHistory.id,
    "event_type": ContactHistory.event_type,
    "event_label": ContactHistory.event_label,
    "event_datetime": ContactHistory.event_datetime,
    "inserted_at": ContactHistory.inserted_at,
    "updated_at": ContactHistory.updated_at,
    "contact_id": ContactHistory.contact_id,
    "profile_id": ContactHistory.profile_id,
}


async def record(
    session: AsyncSession,
    contact: Contact,
    event_type: str,
    label: str,
    meta: dict[str, Any] | None = None,
    *,
    at: datetime | None = None,
) -> ContactHistory:
    """Append a history row for `contact`, stamped with its active profile at this moment."""
    now = at or utcnow()
    row = ContactHistory(
        organization_id=contact.organization_id,
        contact_id=saved_id(contact),
        profile_id=contact.active_profile_id,
        event_type=event_type,
        event_label=label,
        event_meta=meta or {},
        event_datetime=now.replace(microsecond=0),
        inserted_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    await _prune(session, contact.id)
    return row


async def _prune(session: AsyncSession, contact_id: int | None) -> None:
    keep = settings_of(session).history_rows_per_contact
    if keep <= 0:
        return
    boundary = (
        select(col(ContactHistory.id))
        .where(col(ContactHistory.contact_id) == contact_id)
        .order_by(col(ContactHistory.id).desc())
        .offset(keep - 1)
        .limit(1)
        .scalar_subquery()
    )
    await session.execute(
        delete(ContactHistory)
        .where(col(ContactHistory.contact_id) == contact_id, col(ContactHistory.id) < boundary)
        .execution_options(synchronize_session=False)
    )


def _filtered(stmt: Any, org_id: int, flt: dict[str, Any]) -> Any:
    stmt = stmt.where(ContactHistory.organization_id == org_id)
    if flt.get("contact_id") is not None:
        stmt = stmt.where(col(ContactHistory.contact_id).in_(int_ids([flt["contact_id"]])))
    if flt.get("profile_id") is not None:
        stmt = stmt.where(col(ContactHistory.profile_id).in_(int_ids([flt["profile_id"]])))
    if flt.get("event_type"):
        stmt = stmt.where(ilike(ContactHistory.event_type, flt["event_type"]))
    if flt.get("event_label"):
        stmt = stmt.where(ilike(ContactHistory.event_label, flt["event_label"]))
    return stmt


async def list_history(
    session: AsyncSession, org_id: int, flt: dict[str, Any], opts: ListOpts
) -> list[ContactHistory]:
    stmt = _filtered(select(ContactHistory), org_id, flt)
    stmt = apply_opts(stmt, opts, columns=_COLUMNS, default_field="id", tiebreak=ContactHistory.id)
    return list((await session.scalars(stmt)).all())


async def count_history(session: AsyncSession, org_id: int, flt: dict[str, Any]) -> int:
    stmt = _filtered(select(func.count()).select_from(ContactHistory), org_id, flt)
    return int((await session.execute(stmt)).scalar_one())


async def history_for_contacts(
    session: AsyncSession, contact_ids: list[int]
) -> dict[int, list[ContactHistory]]:
    rows = await session.scalars(
        select(ContactHistory)
        .where(col(ContactHistory.contact_id).in_(contact_ids))
        .order_by(col(ContactHistory.event_datetime), col(ContactHistory.id))
    )
    out: dict[int, list[ContactHistory]] = {cid: [] for cid in contact_ids}
    for row in rows:
        out[row.contact_id].append(row)
    return out
