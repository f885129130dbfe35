"""Messages: Glific's `messages`, `countMessages` and `message` reads (default limit 25,
maximum 50), their filters, and who a message was sent by."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Contact, Location, Message, Read, User, guarded, records
from resolvers import contacts
from resolvers.contacts import Viewer
from resolvers.errors import InputErrors, not_found
from resolvers.querying import (
    ListOpts,
    apply_opts,
    as_list,
    by_id,
    ilike,
    in_ids,
    int_ids,
    lookup_id,
    one_or,
)

DEFAULT_LIMIT = 25
MAX_LIMIT = 50
ENTITY = "Messages.Message"


class Direction(StrEnum):
    """Glific's `message_flow_enum` (the direction; not a flow reference)."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"


class MessageType(StrEnum):
    AUDIO = "audio"
    CONTACT = "contact"
    DOCUMENT = "document"
    HSM = "hsm"
    IMAGE = "image"
    LOCATION = "location"
    LIST = "list"
    QUICK_REPLY = "quick_reply"
    TEXT = "text"
    VIDEO = "video"
    STICKER = "sticker"
    LOCATION_REQUEST_MESSAGE = "location_request_message"
    POLL = "poll"
    WHATSAPP_FORM_RESPONSE = "whatsapp_form_response"


class BspStatus(StrEnum):
    SENT = "sent"
    DELIVERED = "delivered"
    ENQUEUED = "enqueued"
    ERROR = "error"
    READ = "read"
    RECEIVED = "received"
    CONTACT_OPT_OUT = "contact_opt_out"
    REACHED = "reached"
    SEEN = "seen"
    PLAYED = "played"
    DELETED = "deleted"


# Stored statuses Glific's enum has no value for, shown as the nearest one.
_BSP_ALIASES = {"failed": BspStatus.ERROR}

_COLUMNS = {
    "id": Message.id,
    "body": Message.body,
    "type": Message.type,
    "flow": Message.flow,
    "status": Message.status,
    "bsp_status": Message.bsp_status,
    "message_number": Message.message_number,
    "contact_id": Message.contact_id,
    "inserted_at": Message.inserted_at,
    "updated_at": Message.updated_at,
    "send_at": Message.send_at,
    "sent_at": Message.sent_at,
}
_DATE_COLUMNS = {"inserted_at", "updated_at", "send_at", "sent_at"}
_TYPES: dict[str, MessageType] = {member.value: member for member in MessageType}
_BSP_STATUSES: dict[str, BspStatus] = {
    **{member.value: member for member in BspStatus},
    **_BSP_ALIASES,
}


def bsp_status_of(value: str | None) -> BspStatus | None:
    """The stored provider status as Glific's enum (None for a status it has no value for)."""
    return None if value is None else _BSP_STATUSES.get(value)


def type_of(value: str | None) -> MessageType | None:
    """The stored type as Glific's enum (None for a type it has no value for). A lookup, not
    `MessageType(value)`: every message of a page goes through here."""
    return None if value is None else _TYPES.get(value)


def send_by(direction: str | None, flow_name: str | None, user_name: str | None) -> str:
    """Glific's `sendBy`: "Flow: <name>" for an outbound message a flow sent, the user's name
    for one a user sent, else ""."""
    if direction != Direction.OUTBOUND:
        return ""
    if flow_name is not None:
        return f"Flow: {flow_name}"
    return user_name or ""


def message_read(org_id: int, raw_id: Any, viewer: Viewer | None = None) -> Read[Any]:
    """`message(id)`, and what a subscription event names: a miss is
    `Elixir.Glific.Messages.Message` / `Resource not found`. A staff user restricted to
    some collections reads only the messages of the contacts they may see (Glific does not
    narrow messages: a deliberate difference, as for contacts' WhatsApp groups)."""
    mid = lookup_id(raw_id)
    missing = one_or(lambda: not_found(ENTITY))
    if viewer is not None and viewer.restricted:
        stmt = _seen_by(
            records(Message).where(col(Message.id) == mid, col(Message.organization_id) == org_id),
            org_id,
            viewer,
        )
        return Read(guarded(stmt), {}, missing)
    return Read(by_id(Message), {"id": mid, "org": org_id}, missing)


def _seen_by(stmt: Any, org_id: int, viewer: Viewer | None) -> Any:
    if viewer is None or not viewer.restricted:
        return stmt
    return stmt.where(col(Message.contact_id).in_(contacts.visible_contact_ids(org_id, viewer)))


def _contacts_named(term: str) -> Any:
    return select(col(Contact.id)).where(ilike(Contact.name, term))


def _filtered(stmt: Any, org_id: int, flt: dict[str, Any], viewer: Viewer | None = None) -> Any:
    stmt = _seen_by(stmt.where(Message.organization_id == org_id), org_id, viewer)
    if flt.get("body"):
        stmt = stmt.where(ilike(Message.body, flt["body"]))
    if flt.get("sender"):
        stmt = stmt.where(col(Message.sender_id).in_(_contacts_named(flt["sender"])))
    if flt.get("receiver"):
        stmt = stmt.where(col(Message.receiver_id).in_(_contacts_named(flt["receiver"])))
    if flt.get("either"):
        phones = select(col(Contact.id)).where(ilike(Contact.phone, flt["either"]))
        stmt = stmt.where(col(Message.contact_id).in_(phones))
    if flt.get("user"):
        users = select(col(User.id)).where(ilike(User.name, flt["user"]))
        stmt = stmt.where(col(Message.user_id).in_(users))
    if flt.get("types"):
        stmt = stmt.where(col(Message.type).in_([t for t in flt["types"] if t]))
    if flt.get("bsp_status"):
        stmt = stmt.where(Message.bsp_status == flt["bsp_status"])
    if flt.get("flow_id") is not None:
        stmt = stmt.where(in_ids(Message.flow_id, [flt["flow_id"]]))
    if flt.get("contact_id") is not None:
        stmt = stmt.where(in_ids(Message.contact_id, [flt["contact_id"]]))
    if flt.get("profile_id") is not None:
        stmt = stmt.where(in_ids(Message.profile_id, [flt["profile_id"]]))
    if int_ids(flt.get("tags_included")):
        stmt = stmt.where(False)  # no message carries tags (tags are not kept)
    date_range = flt.get("date_range")
    if isinstance(date_range, dict):
        stmt = _in_range(stmt, date_range)
    return stmt


def _in_range(stmt: Any, date_range: dict[str, Any]) -> Any:
    name = date_range.get("column") or "inserted_at"
    if name not in _DATE_COLUMNS:
        raise InputErrors.field("date_range", f"cannot filter on column '{name}'")
    column: Any = _COLUMNS[name]
    start: datetime | None = date_range.get("from_")
    end: datetime | None = date_range.get("to")
    if start is not None:
        stmt = stmt.where(column >= start)
    if end is not None:
        stmt = stmt.where(column <= end)
    return stmt


def messages_read(
    org_id: int, flt: dict[str, Any], opts: ListOpts, viewer: Viewer | None = None
) -> Read[list[Any]]:
    """`messages(filter, opts)`: at most 50, 25 unless `limit` says otherwise; ordered by
    body with opts (Glific's sort field), else newest first."""
    stmt = _filtered(records(Message), org_id, flt, viewer)
    if not opts.present:
        stmt = stmt.order_by(col(Message.id).desc())
    stmt = apply_opts(
        stmt,
        opts,
        columns=_COLUMNS,
        default_field="body",
        default_limit=DEFAULT_LIMIT,
        max_limit=MAX_LIMIT,
        tiebreak=Message.id if opts.present else None,
    )
    return Read(guarded(stmt), {}, as_list)


async def count_messages(
    session: AsyncSession, org_id: int, flt: dict[str, Any], viewer: Viewer | None = None
) -> int:
    stmt = _filtered(select(func.count()).select_from(Message), org_id, flt, viewer)
    return int((await session.execute(stmt)).scalar_one())


async def location_of(session: AsyncSession, org_id: int, message_id: int) -> Location | None:
    """The location a location message shared (None when none was recorded for it)."""
    return await session.scalar(
        select(Location)
        .where(col(Location.organization_id) == org_id, col(Location.message_id) == message_id)
        .order_by(col(Location.id).desc())
        .limit(1)
    )
