"""Messages written or removed directly, not through a flow or the outbox (Glific's
`createMessage`, `updateMessage`, `deleteMessage` and `clearMessages`).

- `createMessage` (staff) stores a message and sends nothing: a script recording a message,
  as in Glific. An inbound one is `received`; an outbound one is recorded as `sent` (the
  outbox would deliver one left `enqueued`, as Glific's default status is, and this one must
  not leave). `flow` is inbound unless the input says outbound; the conversation is the
  sender's for an inbound message and the receiver's for an outbound one. Like every
  message, it is numbered next in that conversation and stamped with the contact's active
  profile, and the contact's counters move as they do for any message. Sender and receiver
  must be contacts of the organization; `type` is required, and a media type needs a media
  id, which this backend never has (no media table).
- `updateMessage` (admin) changes `body`, `type`, `sendAt` and `isHsm`. Who sent and who
  received a message, and its direction, stay what they were: a change is refused with an
  error on that key, because the message belongs to one contact's numbered conversation.
- `deleteMessage` (admin) removes one message; the mutation answers
  `{message: null, errors: null}`, as Glific's deletes do.
- `clearMessages` (staff) removes a contact's whole conversation, as Glific does: the
  messages go, the contact's flows end, and its counters are reset (no message, everything
  read and replied to). A simulator contact also gets a fresh 24-hour window, so the
  simulator keeps working. Glific also sends the simulator a default message; this backend
  does not.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Contact, Message, saved_id, utcnow
from resolvers import flow_runs, profiles
from resolvers.contacts import Viewer
from resolvers.errors import InputErrors, not_found
from resolvers.messages import ENTITY
from resolvers.phones import is_simulator_phone
from resolvers.querying import to_int_id
from resolvers.sending import inbound_values, outbound_values, visible_to

# Types whose message is a media object (Glific's rule: they need a media id).
MEDIA_TYPES = ("audio", "document", "image", "sticker", "video")
_FIXED = ("sender_id", "receiver_id", "flow")
_EDITABLE = ("body", "type", "send_at", "is_hsm")


async def _contact(
    session: AsyncSession, org_id: int, raw_id: Any, key: str, viewer: Viewer | None
) -> Contact:
    try:
        contact_id = to_int_id(raw_id, key)
    except InputErrors:
        raise InputErrors.field(key, "does not exist") from None
    contact = None
    if await visible_to(session, org_id, contact_id, viewer):
        contact = await profiles.lock_contact(session, org_id, contact_id)
    if contact is None:
        raise InputErrors.field(key, "does not exist")
    return contact


async def create_message(
    session: AsyncSession, org_id: int, params: dict[str, Any], viewer: Viewer | None = None
) -> Message:
    """`createMessage(input)`: `params` is the MessageInput as snake_case keys."""
    kind = params.get("type")
    if not kind:
        raise InputErrors.field("type", "can't be blank")
    kind = str(kind).lower()
    if kind in MEDIA_TYPES and not params.get("media_id"):
        raise InputErrors.field("type", f"{kind} message type should have a media id")
    direction = str(params.get("flow") or "inbound").lower()
    sender = await _contact(session, org_id, params.get("sender_id"), "sender_id", viewer)
    receiver = await _contact(session, org_id, params.get("receiver_id"), "receiver_id", viewer)
    values = {
        "uuid": str(uuid.uuid4()),
        "type": kind,
        "body": params.get("body"),
        "send_at": params.get("send_at"),
        "is_hsm": bool(params.get("is_hsm")),
    }
    if direction == "outbound":
        # Recorded as sent: the outbox delivers every `enqueued` outbound message.
        row = outbound_values(org_id, receiver, sender_id=sender.id, status="sent", **values)
    else:
        row = inbound_values(org_id, sender, receiver_id=receiver.id, **values)
    message = Message(**row)
    session.add(message)
    await session.flush()
    return message


async def _message(session: AsyncSession, org_id: int, raw_id: Any) -> Message:
    """The message, locked until the transaction ends: what is checked of it holds for the
    write that follows."""
    message_id = to_int_id(raw_id)
    message = await session.scalar(
        select(Message)
        .where(col(Message.id) == message_id, col(Message.organization_id) == org_id)
        .with_for_update()
    )
    if message is None:
        raise not_found(ENTITY)
    return message


async def update_message(
    session: AsyncSession, org_id: int, raw_id: Any, params: dict[str, Any]
) -> Message:
    """`updateMessage(id, input)`."""
    message = await _message(session, org_id, raw_id)
    for key in _FIXED:
        given = params.get(key)
        if given is not None and str(given).lower() != str(getattr(message, key)).lower():
            raise InputErrors.field(key, "cannot be changed")
    kind = str(params.get("type") or message.type).lower()
    if kind in MEDIA_TYPES and kind != message.type and not params.get("media_id"):
        raise InputErrors.field("type", f"{kind} message type should have a media id")
    for key in _EDITABLE:
        if params.get(key) is not None:
            setattr(message, key, kind if key == "type" else params[key])
    message.updated_at = utcnow()
    await session.flush()
    return message


async def delete_message(session: AsyncSession, org_id: int, raw_id: Any) -> Message:
    """`deleteMessage(id)`: the message as it was."""
    message = await _message(session, org_id, raw_id)
    await session.delete(message)
    await session.flush()
    return message


async def clear_messages(
    session: AsyncSession, org_id: int, raw_id: Any, viewer: Viewer | None = None
) -> bool:
    """`clearMessages(contactId)`: the contact's conversation is gone (see module doc)."""
    contact = await _contact(session, org_id, raw_id, "contact_id", viewer)
    await session.execute(
        delete(Message).where(
            col(Message.organization_id) == org_id, col(Message.contact_id) == saved_id(contact)
        )
    )
    await flow_runs.end_all(session, org_id, contact, "Messages cleared")
    now = utcnow()
    contact.last_message_number = 0
    contact.is_org_read = contact.is_org_replied = contact.is_contact_replied = True
    if is_simulator_phone(contact.phone):
        contact.last_message_at = contact.last_communication_at = now
        contact.bsp_status = "session"
    contact.updated_at = now
    await session.flush()
    return True
