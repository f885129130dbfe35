"""What a provider tells us after a message left: status callbacks (they only move a message
forward: enqueued < sent < delivered < read; failed is final, and a read message cannot fail)
and opt-in / opt-out events. Each is one short transaction on one row, so a webhook can
apply it before answering."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Contact, Database, Message, utcnow
from resolvers import contacts, events, jobs
from resolvers.config import settings_of
from resolvers.conversation import OptEvent, StatusUpdate, status_from_json, status_to_json
from resolvers.phones import normalize_phone

log = logging.getLogger(__name__)

RANK = {"enqueued": 1, "sent": 2, "delivered": 3, "read": 4}
# Glific's names: a failed message has bsp_status and status `error`.
FAILED = "error"
# Gupshup's code for a number that is not on WhatsApp: the contact is opted out (Glific).
NOT_ON_WHATSAPP = "1002"
# A status that names no message yet: tried again LATE_TRIES times, the first after
# LATE_WAIT_SECONDS, each wait twice the one before.
LATE_STATUS_JOB = "message_status.late"
LATE_TRIES = 5
LATE_WAIT_SECONDS = 1.0


def moves_forward(current: str | None, new: str) -> bool:
    """Whether a message whose provider status is `current` may take `new`."""
    if current == FAILED:
        return False
    if new == "failed":
        return current != "read"
    return RANK.get(new, 0) > RANK.get(current or "", 0)


async def _message(session: AsyncSession, update: StatusUpdate) -> Message | None:
    ids = [update.provider_message_id, *([update.fallback_id] if update.fallback_id else [])]
    return await session.scalar(
        select(Message)
        .where(col(Message.bsp_message_id).in_(ids), col(Message.flow) == "outbound")
        .order_by(col(Message.id))
        .limit(1)
        .with_for_update()
    )


async def record_status(
    db: Database, org_id: int, update: StatusUpdate, *, attempt: int = 0
) -> bool:
    """Apply a status callback; False when it names no message of ours (yet) or would move
    the message backwards (it is then ignored).

    A provider may report on a message before the sender has stored the id the provider
    gave it (the callback overtakes the commit that follows the send): a status naming no
    message is tried again a few times (`LATE_TRIES`, 1 s apart, then doubling: about half
    a minute in all) before it is dropped."""
    async with db.transaction(org_id, urgent=True) as session:
        message = await _message(session, update)
        if message is None:
            if attempt < LATE_TRIES:
                await jobs.defer(
                    session,
                    LATE_STATUS_JOB,
                    {"org": org_id, "update": status_to_json(update), "attempt": attempt + 1},
                    run_at=utcnow() + timedelta(seconds=LATE_WAIT_SECONDS * 2**attempt),
                )
            else:
                log.info(
                    "status %s for unknown message %s dropped",
                    update.status,
                    update.provider_message_id,
                )
            return False
        if not moves_forward(message.bsp_status, update.status):
            return False
        at = update.at or utcnow()
        if update.status == "failed":
            message.bsp_status = FAILED
            message.status = FAILED
            message.errors = {
                "provider": update.provider,
                "code": update.error_code,
                "error": dict(update.error or {}),
                "at": at.isoformat() + "Z",
            }
            if update.error_code == NOT_ON_WHATSAPP:
                contact = await session.get(Contact, message.contact_id, with_for_update=True)
                if contact is not None:
                    await contacts.optout_contact(session, contact, method="Number does not exist")
        else:
            message.bsp_status = update.status
            if update.status == "delivered":
                message.delivered_at = at
            elif update.status == "read":
                message.read_at = at
                message.delivered_at = message.delivered_at or at
        message.updated_at = utcnow()
        events.status_changed(session, org_id, message)
        return True


async def record_opt(db: Database, org_id: int, event: OptEvent) -> None:
    """A provider's opt-in / opt-out for a phone number (a new number opting in becomes a
    contact; an unknown number opting out changes nothing)."""
    at: datetime | None = event.at
    async with db.transaction(org_id, urgent=True) as session:
        if event.opted_in:
            await contacts.optin_contact(session, org_id, event.phone, method="BSP", at=at)
            return
        region = settings_of(session).default_phone_region
        phone = normalize_phone(event.phone, default_region=region)
        contact = await session.scalar(
            select(Contact)
            .where(col(Contact.phone) == phone, col(Contact.organization_id) == org_id)
            .with_for_update()
        )
        if contact is not None:
            await contacts.optout_contact(session, contact, method="BSP")


@jobs.job(LATE_STATUS_JOB)
async def _late_status_job(db: Database, args: dict[str, Any]) -> None:
    update = status_from_json(args["update"])
    await record_status(db, int(args["org"]), update, attempt=int(args["attempt"]))
