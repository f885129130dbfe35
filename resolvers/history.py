"""Contact history: what happened to a contact, stamped with the profile active at the time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Contact, ContactHistory, bound, guarded, prepared, saved_id, utcnow, write_rows
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


_COLUMNS_WRITTEN = (
    "organization_id",
    "contact_id",
    "profile_id",
    "event_type",
    "event_label",
    "event_meta",
    "event_datetime",
    "inserted_at",
    "updated_at",
)
# Written on most inbound messages: built once, run through the driver (models.write_rows).
_INSERT = prepared(insert(ContactHistory).values(bound(_COLUMNS_WRITTEN)))
_PRUNE = prepared(
    guarded(
        delete(ContactHistory).where(
            col(ContactHistory.contact_id) == bindparam("contact"),
            col(ContactHistory.id)
            < (
                select(col(ContactHistory.id))
                .where(col(ContactHistory.contact_id) == bindparam("contact"))
                .order_by(col(ContactHistory.id).desc())
                .offset(bindparam("skip"))
                .limit(1)
                .scalar_subquery()
            ),
        )
    )
)


async def record(
    session: AsyncSession,
    contact: Contact,
    event_type: str,
    label: str,
    meta: dict[str, Any] | None = None,
    *,
    at: datetime | None = None,
) -> None:
    """Append a history row for `contact`, stamped with its active profile at this moment;
    the contact keeps its newest `history_rows_per_contact` rows."""
    now = at or utcnow()
    await write_rows(
        session,
        _INSERT,
        {
            "organization_id": contact.organization_id,
            "contact_id": saved_id(contact),
            "profile_id": contact.active_profile_id,
            "event_type": event_type,
            "event_label": label,
            "event_meta": meta or {},
            "event_datetime": now.replace(microsecond=0),
            "inserted_at": now,
            "updated_at": now,
        },
    )
    keep = settings_of(session).history_rows_per_contact
    if keep > 0:
        await write_rows(session, _PRUNE, {"contact": contact.id, "skip": keep - 1})


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
