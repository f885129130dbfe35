"""Sending from the chat screen: Glific's `createAndSendMessage` (a staff member writes to a
contact) and `markContactMessagesAsRead`, and the bookkeeping every outbound message shares
with a flow's replies (`outbound_message`).

A message is stored as an outbound row stamped with the contact's active profile and handed
to the transactional outbox (`resolvers.outbox`) in the caller's transaction: it leaves once
that commits. Refusals are Glific's own, and store nothing:
- a text with an empty body: "Could not send message with empty body";
- a receiver that is not one of the organization's contacts: "Receiver does not exist";
- a contact that is not valid (blocked, failed, ...): "Contact status is not valid.";
- outside the 24-hour window after the contact's last inbound message (or with none):
  "Sorry! 24 hrs window closed. Your message cannot be sent at this time."
They are top-level GraphQL errors, as in Glific (`{:error, "..."}` from the resolver): the
web app's `createAndSendMessage` shows its 24-hour toast from `onError`, which a payload
error would never reach.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Contact, Message, Organization, bound, prepared, saved_id, utcnow, write_rows
from resolvers import contacts, outbox, profiles, providers
from resolvers.auth import AuthUser
from resolvers.contacts import Viewer
from resolvers.errors import ClientError, InputErrors
from resolvers.querying import to_int_id

EMPTY_BODY = "Could not send message with empty body"
NO_RECEIVER = "Receiver does not exist"
INVALID_CONTACT = "Contact status is not valid."
NOT_FOUND = "Contact not found or permission denied."
# Types a staff member can send without a media object (this backend keeps no media table).
_TEXT_TYPES = ("text",)


# Every column a new message is written with, inbound or outbound (`insert_outbound` and
# the inbound INSERT in resolvers.inbound write them all; delivery times come later).
NEW_MESSAGE_COLUMNS = (
    "organization_id",
    "uuid",
    "contact_id",
    "sender_id",
    "receiver_id",
    "profile_id",
    "user_id",
    "group_id",
    "flow_id",
    "flow",
    "type",
    "body",
    "flow_label",
    "status",
    "bsp_status",
    "bsp_message_id",
    "errors",
    "interactive_content",
    "media_url",
    "caption",
    "message_number",
    "is_hsm",
    "template_id",
    "params",
    "context_id",
    "send_at",
    "sent_at",
    "send_attempts",
    "inserted_at",
    "updated_at",
)
_INSERT_OUTBOUND = prepared(
    insert(Message).values(bound(NEW_MESSAGE_COLUMNS)).returning(col(Message.id))
)


def _new_row(org_id: int, contact: Contact, now: Any, values: dict[str, Any]) -> dict[str, Any]:
    """A new message's row in `contact`'s conversation: `values` over the defaults, numbered
    with the contact's (already moved) last message number, stamped with its active
    profile."""
    return {
        "uuid": None,
        "sender_id": None,
        "receiver_id": None,
        "user_id": None,
        "group_id": None,
        "flow_id": None,
        "type": "text",
        "body": None,
        "flow_label": None,
        "status": "enqueued",
        "bsp_status": None,
        "bsp_message_id": None,
        "errors": {},
        "interactive_content": {},
        "media_url": None,
        "caption": None,
        "is_hsm": False,
        "template_id": None,
        "params": None,
        "context_id": None,
        "send_at": None,
        "sent_at": None,
        "send_attempts": 0,
        "inserted_at": now,
        "updated_at": now,
        **values,
        "organization_id": org_id,
        "contact_id": saved_id(contact),
        "profile_id": contact.active_profile_id,
        "message_number": contact.last_message_number,
    }


def outbound_values(org_id: int, contact: Contact, **values: Any) -> dict[str, Any]:
    """The row of a new outbound message to `contact`, numbered next in its conversation
    and stamped with its active profile; the contact's counters move as Glific's message
    trigger moves them (last message number and communication time, replied flags)."""
    now = utcnow()
    contact.last_message_number += 1
    contact.last_communication_at = now
    contact.is_org_replied = True
    contact.is_contact_replied = False
    row = _new_row(org_id, contact, now, values)
    row.update(receiver_id=contact.id, flow="outbound")
    return row


def count_inbound(contact: Contact, now: Any) -> None:
    """The contact's counters after a message from it, as Glific's message trigger moves
    them: numbered next, last message and communication now, unread and not replied to."""
    contact.last_message_number += 1
    contact.last_message_at = now
    contact.last_communication_at = now
    contact.is_org_read = False
    contact.is_org_replied = False
    contact.is_contact_replied = True


def inbound_values(org_id: int, contact: Contact, **values: Any) -> dict[str, Any]:
    """The row of a new inbound message from `contact` (`outbound_values`' twin), status
    received unless `values` say otherwise."""
    now = utcnow()
    count_inbound(contact, now)
    row = _new_row(org_id, contact, now, {"status": "received", **values})
    row.update(sender_id=contact.id, flow="inbound")
    return row


def outbound_message(org_id: int, contact: Contact, **values: Any) -> Message:
    """`outbound_values` as a new Message row; the caller adds it to the session and queues
    it (`outbox.queue`)."""
    return Message(**outbound_values(org_id, contact, **values))


async def insert_outbound(session: AsyncSession, row: dict[str, Any]) -> int:
    """Store a row from `outbound_values` with one prepared INSERT (a flow step's replies,
    past the ORM); its id."""
    (stored,) = await write_rows(session, _INSERT_OUTBOUND, row)
    return int(stored.id)


async def visible_to(
    session: AsyncSession, org_id: int, contact_id: int, viewer: Viewer | None
) -> bool:
    """A restricted staff user reaches only the contacts they may see (resolvers.contacts)."""
    if viewer is None or not viewer.restricted:
        return True
    try:
        await contacts.get_contact(session, org_id, contact_id, viewer)
    except InputErrors:
        return False
    return True


async def receiver(
    session: AsyncSession, org_id: int, raw_id: Any, viewer: Viewer | None
) -> Contact:
    try:
        contact_id = to_int_id(raw_id, "receiver_id")
    except InputErrors:
        raise ClientError(NO_RECEIVER) from None
    if not await visible_to(session, org_id, contact_id, viewer):
        raise ClientError(NO_RECEIVER)
    # Locked: the message number and the counters written next depend on what is read here.
    contact = await profiles.lock_contact(session, org_id, contact_id)
    if contact is None:
        raise ClientError(NO_RECEIVER)
    return contact


async def create_and_send(
    session: AsyncSession,
    org_id: int,
    user: AuthUser,
    params: dict[str, Any],
    viewer: Viewer | None = None,
) -> Message:
    """`createAndSendMessage(input)`: `params` is the MessageInput as snake_case keys. The
    sender is the organization's own contact and `user_id` the staff member; `senderId` and
    `flow` in the input are ignored, as Glific ignores them. A restricted staff user (`viewer`)
    reaches only the contacts they may see."""
    kind = (params.get("type") or "text").lower()
    body = params.get("body")
    if kind in _TEXT_TYPES and (body is None or not body.strip()):
        raise ClientError(EMPTY_BODY)
    if kind not in _TEXT_TYPES:
        raise InputErrors.field("type", f"{kind} message type should have a media id")
    contact = await receiver(session, org_id, params.get("receiver_id"), viewer)
    if contact.status != "valid":
        raise ClientError(INVALID_CONTACT)
    if not outbox.window_open(contact, utcnow()):
        raise ClientError(outbox.WINDOW_CLOSED)
    return await staff_send(
        session, org_id, user, contact, type=kind, body=body, send_at=params.get("send_at")
    )


async def staff_send(
    session: AsyncSession, org_id: int, user: AuthUser, contact: Contact, **values: Any
) -> Message:
    """A staff member's message to the (locked) contact, from the organization's own
    contact, queued in the outbox; the caller has checked that it may go."""
    org_contact_id = await session.scalar(
        select(col(Organization.contact_id)).where(col(Organization.id) == org_id)
    )
    sender = await providers.sender_of(session, org_id)
    message = outbound_message(
        org_id,
        contact,
        uuid=str(uuid.uuid4()),
        sender_id=org_contact_id,
        user_id=user.id,
        **values,
        **outbox.starting_status(contact, sender),
    )
    session.add(message)
    await outbox.queue(session, org_id, contact, message, sender, message.body)
    await session.flush()
    return message


async def mark_contact_messages_as_read(
    session: AsyncSession, org_id: int, raw_id: Any, viewer: Viewer | None = None
) -> str:
    """`markContactMessagesAsRead(contactId)`: the organization has read the contact's
    conversation (`is_org_read`, which the "Unread" search and count read). Answers the
    contact's id, as Glific does. Messages carry no read flag of their own (Glific dropped
    its "unread" message tag for this contact flag), so no message row changes."""
    try:
        contact_id = to_int_id(raw_id, "contact_id")
    except InputErrors:
        raise ClientError(NOT_FOUND) from None
    if not await visible_to(session, org_id, contact_id, viewer):
        raise ClientError(NOT_FOUND)
    found = await session.scalar(
        update(Contact)
        .where(col(Contact.id) == contact_id, col(Contact.organization_id) == org_id)
        .values(is_org_read=True)
        .returning(col(Contact.id))
    )
    if found is None:
        raise ClientError(NOT_FOUND)
    return str(found)
