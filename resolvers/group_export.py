"""Exporting a collection's contacts as CSV (Glific's `exportCollection`), in the columns the
contact import reads back: name, phone, language, opt-in time, then the contact's fields."""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Contact, ContactGroup, Language
from resolvers.groups import get_group


async def export_csv(session: AsyncSession, org_id: int, group_id: Any) -> str:
    group = await get_group(session, org_id, group_id)
    rows = (
        await session.execute(
            select(Contact, col(Language.label))
            .join(ContactGroup, col(ContactGroup.contact_id) == col(Contact.id))
            .outerjoin(Language, col(Language.id) == col(Contact.language_id))
            .where(col(ContactGroup.group_id) == group.id)
            .order_by(col(Contact.id))
        )
    ).all()
    keys = sorted({key for contact, _ in rows for key in (contact.fields or {})})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["name", "phone", "language", "opt_in", *keys])
    for contact, language in rows:
        fields = contact.fields or {}
        values = [
            (fields[k].get("value") if isinstance(fields.get(k), dict) else fields.get(k))
            for k in keys
        ]
        optin = contact.optin_time.isoformat() + "Z" if contact.optin_time else ""
        writer.writerow(
            [
                contact.name or "",
                contact.phone,
                language or "",
                optin,
                *["" if x is None else x for x in values],
            ]
        )
    return out.getvalue()
