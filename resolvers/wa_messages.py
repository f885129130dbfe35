"""Messages in WhatsApp groups (Glific's WA groups, through Maytapi): what the webhook
reports (a message said in a group or to a managed phone directly, a delivery ack, a send
error, a phone's status) and what the organization says in a group (`send_in_group`,
`send_to_collection`) with the job that hands it to Maytapi.

Inbound work is done inside the callback's request, in one short transaction, not in a job
as 1:1 messages are: group traffic is low-volume, nothing flows from it here (no flow step, no
reply), and storing it before answering means an answered callback is a stored message. It
is idempotent: phones, groups, members and messages are each unique per organization
(insert ... on conflict do nothing), so a redelivery, or two copies at the same moment,
leave one row of each.

Outbound: the message is written `enqueued` with a durable job in the caller's transaction;
the job (locked per WA group, so a group's messages leave in order) sends it outside any
transaction and records Maytapi's answer. A timeout, connection error, 5xx or 429 makes the
job raise and be run again with the job runner's backoff; the run that reaches
JOBS_MAX_ATTEMPTS marks the message failed instead. A message no longer `enqueued` is never
sent again.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from typing import Any

import httpx2
from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import (
    ContactWaGroup,
    Database,
    Group,
    Read,
    UserGroup,
    WaGroup,
    WaGroupCollection,
    WaManagedPhone,
    WaMessage,
    guarded,
    prepared,
    records,
    saved_id,
    utcnow,
)
from resolvers import contacts, events, jobs, providers
from resolvers.config import settings_for
from resolvers.contacts import Viewer
from resolvers.delivery import (
    GroupOutboundMessage,
    MaytapiCredentials,
    SendResult,
    group_transport_for,
)
from resolvers.errors import InputErrors, not_found
from resolvers.querying import by_id, lookup_id, one_or, to_int_id

log = logging.getLogger(__name__)

SEND_JOB = "wa_messages.send"
# Glific's limit and words.
MAX_LENGTH = 6000
TOO_LONG = "Message size greater than 6000 characters"
TEXT = "text"
MEDIA_TYPES = frozenset({"image", "audio", "video", "document", "sticker"})
INBOUND_TYPES = frozenset({TEXT, "location", *MEDIA_TYPES})
FAILED = "failed"
# Glific's provider status of a message the provider refused.
BSP_ERROR = "error"
# A provider status only moves forward along these.
RANK = {"enqueued": 0, "sent": 1, "delivered": 2, "read": 3}
# Maytapi's ackType -> the provider status it means.
ACKS = {"delivered": "delivered", "reached": "delivered", "seen": "read", "played": "read"}
NOT_ACTIVE = "Maytapi is not active"


# --- what the webhook hands over ------------------------------------------------------------


@dataclass(frozen=True)
class GroupInbound:
    """One message Maytapi reports. `conversation` is the group's id (`...@g.us`), empty for
    a direct message (`is_dm`); `from_me`: the managed phone itself said it (from the
    handset); `type` is already one of INBOUND_TYPES or "unsupported"."""

    product_id: str
    phone_id: int
    receiver: str
    conversation: str
    conversation_name: str
    is_dm: bool
    from_me: bool
    bsp_id: str
    type: str
    body: str | None
    media_url: str | None
    caption: str | None
    sender_phone: str
    sender_name: str


@dataclass(frozen=True)
class GroupAck:
    bsp_id: str
    ack_type: str


@dataclass(frozen=True)
class GroupSendError:
    bsp_id: str
    payload: dict[str, Any]


# --- upserts shared with the sync (resolvers.wa_sync) ----------------------------------------


def _insert(session: AsyncSession) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def digits(number: str) -> str:
    return re.sub(r"\D", "", number or "")


async def upsert_managed_phone(
    session: AsyncSession,
    org_id: int,
    phone_id: int,
    number: str,
    product_id: str,
    *,
    label: str | None = None,
    status: str | None = None,
) -> WaManagedPhone:
    """The organization's managed phone `phone_id`, created on first sight; locked until the
    transaction ends. A given number, label or status replaces the stored one.

    Lock order: a transaction that locks a group and its phone takes the group's lock first
    (`send_in_group`, `receive`), else two of them deadlock on PostgreSQL."""
    now = utcnow()
    await _insert_phone(session, org_id, phone_id, number, product_id, label, status, now)
    phone = await session.scalar(
        select(WaManagedPhone)
        .where(
            col(WaManagedPhone.organization_id) == org_id,
            col(WaManagedPhone.phone_id) == phone_id,
        )
        .with_for_update(key_share=True)
    )
    assert phone is not None  # inserted above or already there
    changes = {
        "phone": digits(number) or phone.phone,
        "product_id": product_id or phone.product_id,
        "label": label or phone.label,
        "status": status or phone.status,
    }
    if any(getattr(phone, key) != value for key, value in changes.items()):
        for key, value in changes.items():
            setattr(phone, key, value)
        phone.updated_at = now
    return phone


async def managed_phone_id(
    session: AsyncSession, org_id: int, phone_id: int, number: str, product_id: str
) -> int:
    """The row id of the managed phone `phone_id`, created on first sight, without locking
    it (for a caller that locks a group before the phone)."""
    await _insert_phone(session, org_id, phone_id, number, product_id, None, None, utcnow())
    found = await session.scalar(
        select(col(WaManagedPhone.id)).where(
            col(WaManagedPhone.organization_id) == org_id,
            col(WaManagedPhone.phone_id) == phone_id,
        )
    )
    assert found is not None
    return int(found)


async def _insert_phone(
    session: AsyncSession,
    org_id: int,
    phone_id: int,
    number: str,
    product_id: str,
    label: str | None,
    status: str | None,
    now: Any,
) -> None:
    await session.execute(
        _insert(session)(WaManagedPhone)
        .values(
            organization_id=org_id,
            phone_id=phone_id,
            phone=digits(number),
            product_id=product_id,
            label=label,
            status=status,
            inserted_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["organization_id", "phone_id"])
    )


async def upsert_contact(session: AsyncSession, org_id: int, phone: str, name: str) -> int:
    """The id of the organization's contact with this phone, created (resolvers.contacts)
    when there is none, named `name` (no name when it is empty: never the number, which
    staff may not see). InputErrors for a phone that is no phone number."""
    try:
        found = await contacts.contact_by_phone(session, org_id, phone)
        return int(found.id)
    except InputErrors:
        pass
    try:
        async with session.begin_nested():
            params = {"phone": phone, **({"name": name[:255]} if name.strip() else {})}
            made = await contacts.create_contact(session, org_id, params)
            return saved_id(made)
    except InputErrors:
        # Created meanwhile by a concurrent transaction (the unique phone), or not a number.
        found = await contacts.contact_by_phone(session, org_id, phone)
        return int(found.id)


async def managed_phone_contact(session: AsyncSession, org_id: int, phone: WaManagedPhone) -> int:
    """The contact that speaks for a managed phone (the sender of what the organization
    says in its groups), created on first use; `phone` is locked by the caller."""
    if phone.contact_id is not None:
        return phone.contact_id
    contact_id = await upsert_contact(session, org_id, phone.phone, phone.label or phone.phone)
    phone.contact_id = contact_id
    phone.updated_at = utcnow()
    return contact_id


async def upsert_group(
    session: AsyncSession, org_id: int, bsp_id: str, label: str, managed_phone_id: int
) -> WaGroup:
    """The organization's WA group `bsp_id`, created on first sight with the managed phone
    that reported it; locked until the transaction ends (its messages are numbered under
    this lock). A new non-empty label replaces the stored one."""
    now = utcnow()
    label = label[:255]
    await session.execute(
        _insert(session)(WaGroup)
        .values(
            organization_id=org_id,
            bsp_id=bsp_id,
            label=label or bsp_id[:255],
            wa_managed_phone_id=managed_phone_id,
            is_org_read=True,
            fields={},
            inserted_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["organization_id", "bsp_id"])
    )
    group = await session.scalar(
        select(WaGroup)
        .where(col(WaGroup.organization_id) == org_id, col(WaGroup.bsp_id) == bsp_id)
        .with_for_update(key_share=True)
    )
    assert group is not None
    if label and group.label != label:
        group.label = label
        group.updated_at = now
    return group


async def add_member(
    session: AsyncSession,
    org_id: int,
    contact_id: int,
    wa_group_id: int,
    is_admin: bool | None = None,
) -> None:
    """The contact is a member of the group (once); `is_admin`, when given, is stored."""
    now = utcnow()
    await session.execute(
        _insert(session)(ContactWaGroup)
        .values(
            organization_id=org_id,
            contact_id=contact_id,
            wa_group_id=wa_group_id,
            is_admin=bool(is_admin),
            inserted_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["contact_id", "wa_group_id"])
    )
    if is_admin is None:
        return
    member = await session.scalar(
        select(ContactWaGroup).where(
            col(ContactWaGroup.organization_id) == org_id,
            col(ContactWaGroup.contact_id) == contact_id,
            col(ContactWaGroup.wa_group_id) == wa_group_id,
        )
    )
    if member is not None and member.is_admin != is_admin:
        member.is_admin = is_admin
        member.updated_at = now


async def _next_number(
    session: AsyncSession, org_id: int, group_id: int | None, contact_id: int
) -> int:
    """The next message number in the group (a direct message: with that contact), read
    under the group's lock."""
    stmt = select(func.max(col(WaMessage.message_number))).where(
        col(WaMessage.organization_id) == org_id
    )
    if group_id is not None:
        stmt = stmt.where(col(WaMessage.wa_group_id) == group_id)
    else:
        stmt = stmt.where(col(WaMessage.is_dm).is_(True), col(WaMessage.contact_id) == contact_id)
    return int(await session.scalar(stmt) or 0) + 1


# --- inbound ---------------------------------------------------------------------------------


async def receive(db: Database, org_id: int, message: GroupInbound) -> int | None:
    """Store one reported message with its sender, managed phone, group and membership; the
    new row's id, or None (a redelivery, or no sender to attribute it to)."""
    if not message.sender_phone.strip():
        log.warning("Maytapi message %s without a sender phone skipped", message.bsp_id[:100])
        return None
    async with db.transaction(org_id, urgent=True) as session:
        phone_row_id = await managed_phone_id(
            session, org_id, message.phone_id, message.receiver, message.product_id
        )
        group = None
        if not message.is_dm:
            group = await upsert_group(
                session, org_id, message.conversation, message.conversation_name, phone_row_id
            )
        # (Locked after the group: upsert_managed_phone's lock order.)
        phone = await upsert_managed_phone(
            session, org_id, message.phone_id, message.receiver, message.product_id
        )
        if message.from_me:
            contact_id = await managed_phone_contact(session, org_id, phone)
        else:
            contact_id = await upsert_contact(
                session, org_id, message.sender_phone, message.sender_name
            )
            if group is not None:
                await add_member(session, org_id, contact_id, saved_id(group))
        now = utcnow()
        group_id = None if group is None else saved_id(group)
        stored = await session.scalar(
            _insert(session)(WaMessage)
            .values(
                organization_id=org_id,
                uuid=str(uuid.uuid4()),
                contact_id=contact_id,
                wa_managed_phone_id=phone.id,
                wa_group_id=group_id,
                flow="outbound" if message.from_me else "inbound",
                type=message.type,
                body=message.body,
                status="sent" if message.from_me else "received",
                bsp_status="sent" if message.from_me else "delivered",
                bsp_id=message.bsp_id,
                errors={},
                media_url=message.media_url,
                caption=message.caption,
                is_dm=message.is_dm,
                message_number=await _next_number(session, org_id, group_id, contact_id),
                send_attempts=0,
                sent_at=now if message.from_me else None,
                inserted_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["bsp_id", "organization_id"])
            .returning(col(WaMessage.id))
        )
        if stored is not None:
            # What the managed phone said from the handset is the organization's own message.
            topic = (
                events.SENT_WA_GROUP_MESSAGE
                if message.from_me
                else events.RECEIVED_WA_GROUP_MESSAGE
            )
            events.collect(session, org_id, topic, int(stored))
        if stored is not None and group is not None:
            group.last_communication_at = now
            if not message.from_me:
                group.is_org_read = False
            group.updated_at = now
    return None if stored is None else int(stored)


async def record_acks(db: Database, org_id: int, acks: list[GroupAck]) -> int:
    """Maytapi's delivery acks: each named message's provider status moves forward only
    (sent < delivered < read; a failed message stays failed). The number moved."""
    moved = 0
    wanted = sorted({ack.bsp_id for ack in acks if ack.ack_type in ACKS})
    if not wanted:
        return 0
    async with db.transaction(org_id, urgent=True) as session:
        # One statement for the callback's messages, locked in id order.
        found = {
            m.bsp_id: m
            for m in await session.scalars(
                select(WaMessage)
                .where(col(WaMessage.organization_id) == org_id, col(WaMessage.bsp_id).in_(wanted))
                .order_by(col(WaMessage.id))
                .with_for_update()
            )
        }
        for ack in acks:
            status = ACKS.get(ack.ack_type)
            message = found.get(ack.bsp_id)
            if status is None or message is None or message.status == FAILED:
                continue
            if RANK[status] > RANK.get(message.bsp_status or "", -1):
                message.bsp_status = status
                message.updated_at = utcnow()
                _status_changed(session, message)
                moved += 1
    return moved


async def record_error(db: Database, org_id: int, error: GroupSendError) -> bool:
    """Maytapi could not deliver a message: it becomes failed, with Maytapi's report."""
    async with db.transaction(org_id, urgent=True) as session:
        message = await _by_bsp_id(session, org_id, error.bsp_id)
        if message is None:
            return False
        _fail(session, message, error.payload)
    return True


async def record_phone_status(db: Database, org_id: int, phone_id: int, status: str) -> bool:
    """A managed phone's status as Maytapi reports it ("active", "qr-screen", ...)."""
    async with db.transaction(org_id, urgent=True) as session:
        phone = await session.scalar(
            select(WaManagedPhone)
            .where(
                col(WaManagedPhone.organization_id) == org_id,
                col(WaManagedPhone.phone_id) == phone_id,
            )
            .with_for_update(key_share=True)
        )
        if phone is None:
            return False
        now = utcnow()
        phone.status = status[:32]
        phone.last_status_checked_at = now
        phone.updated_at = now
    return True


async def _by_bsp_id(session: AsyncSession, org_id: int, bsp_id: str) -> WaMessage | None:
    return await session.scalar(
        select(WaMessage)
        .where(col(WaMessage.organization_id) == org_id, col(WaMessage.bsp_id) == bsp_id)
        .with_for_update()
    )


def _fail(session: AsyncSession, message: WaMessage, error: dict[str, Any]) -> None:
    """The message failed with `error` (published when that changes anything)."""
    if (message.status, message.bsp_status, message.errors) == (FAILED, BSP_ERROR, error):
        return
    message.status = FAILED
    message.bsp_status = BSP_ERROR
    message.errors = error
    message.updated_at = utcnow()
    _status_changed(session, message)


def _status_changed(session: AsyncSession, message: WaMessage) -> None:
    events.collect(
        session, message.organization_id, events.UPDATE_WA_MESSAGE_STATUS, saved_id(message)
    )


# --- outbound --------------------------------------------------------------------------------


def _check_content(type: str, body: str, media_url: str | None, caption: str | None) -> None:
    if type == TEXT:
        if not (body or "").strip():
            raise InputErrors([("message", "Message can't be blank")])
        if len(body) >= MAX_LENGTH:
            raise InputErrors([("message", TOO_LONG)])
        return
    if type not in MEDIA_TYPES:
        raise InputErrors([("type", f"A {type} message cannot be sent to a WhatsApp group")])
    if not media_url:
        raise InputErrors([("media_id", f"{type} message type should have a media id")])
    if caption and len(caption) >= MAX_LENGTH:
        raise InputErrors([("message", TOO_LONG)])


async def send_in_group(
    session: AsyncSession,
    org_id: int,
    *,
    wa_group_id: int,
    body: str,
    type: str = "text",
    media_url: str | None = None,
    caption: str | None = None,
    wa_managed_phone_id: int | None = None,
    flow_id: int | None = None,
    group_id: int | None = None,
    flow_label: str | None = None,
) -> WaMessage:
    """Write an outbound message to the organization's WA group, sent by its managed phone
    (or the one given), and defer the job that sends it; both leave when the caller's
    transaction commits."""
    type = (type or TEXT).lower()
    _check_content(type, body, media_url, caption)
    group = await session.scalar(
        select(WaGroup)
        .where(col(WaGroup.organization_id) == org_id, col(WaGroup.id) == wa_group_id)
        .with_for_update(key_share=True)
    )
    if group is None:
        raise not_found("Groups.WAGroup")
    phone = await session.scalar(
        select(WaManagedPhone)
        .where(
            col(WaManagedPhone.organization_id) == org_id,
            col(WaManagedPhone.id) == (wa_managed_phone_id or group.wa_managed_phone_id),
        )
        .with_for_update(key_share=True)
    )
    if phone is None:
        raise InputErrors.field("wa_managed_phone_id", "does not exist")
    contact_id = await managed_phone_contact(session, org_id, phone)
    now = utcnow()
    message = WaMessage(
        organization_id=org_id,
        uuid=str(uuid.uuid4()),
        contact_id=contact_id,
        wa_managed_phone_id=phone.id,
        wa_group_id=saved_id(group),
        flow_id=flow_id,
        group_id=group_id,
        flow="outbound",
        type=type,
        body=body,
        status="enqueued",
        bsp_status=None,
        media_url=media_url,
        caption=caption,
        flow_label=flow_label,
        message_number=await _next_number(session, org_id, saved_id(group), contact_id),
        send_at=now,
        inserted_at=now,
        updated_at=now,
    )
    session.add(message)
    group.last_communication_at = now
    group.updated_at = now
    await session.flush()
    events.collect(session, org_id, events.SENT_WA_GROUP_MESSAGE, saved_id(message))
    await jobs.defer(
        session,
        SEND_JOB,
        {"org": org_id, "message": saved_id(message)},
        lock=f"wa_group:{saved_id(group)}",
    )
    return message


async def send_to_collection(
    session: AsyncSession,
    org_id: int,
    group_id: int,
    *,
    body: str,
    type: str = "text",
    media_url: str | None = None,
    caption: str | None = None,
) -> int:
    """One message to each WA group of the collection (`group_id` kept on each); the number
    of messages written."""
    exists = await session.scalar(
        select(col(Group.id)).where(col(Group.organization_id) == org_id, col(Group.id) == group_id)
    )
    if exists is None:
        raise not_found("Groups.Group")
    wa_group_ids = list(
        await session.scalars(
            select(col(WaGroupCollection.wa_group_id))
            .where(
                col(WaGroupCollection.organization_id) == org_id,
                col(WaGroupCollection.group_id) == group_id,
            )
            .order_by(col(WaGroupCollection.wa_group_id))
        )
    )
    if not wa_group_ids:
        message = "Cannot send message: No WhatsApp group found in the collection"
        raise InputErrors([("group_id", message)])
    for wa_group_id in wa_group_ids:
        # One event per group message: the collection's conversation (resolvers.wa_groups)
        # lists each of them, so the live screen shows what a re-read shows.
        sent = await send_in_group(
            session,
            org_id,
            wa_group_id=wa_group_id,
            body=body,
            type=type,
            media_url=media_url,
            caption=caption,
            group_id=group_id,
        )
        events.collect(session, org_id, events.SENT_WA_GROUP_COLLECTION_MESSAGE, saved_id(sent))
    return len(wa_group_ids)


# --- the send job ------------------------------------------------------------------------


class SendRetry(Exception):
    """Maytapi could not be reached or asked for a later try: the job runs again."""


@dataclass(frozen=True)
class _Step:
    outbound: GroupOutboundMessage
    credentials: MaytapiCredentials


async def _prepare(db: Database, org_id: int, message_id: int) -> _Step | None:
    """The message as the transport needs it, or None when it is not to be sent (already
    sent or failed; or it cannot be, and is marked failed here)."""
    async with db.transaction(org_id) as session:
        message = await session.scalar(
            select(WaMessage)
            .where(col(WaMessage.organization_id) == org_id, col(WaMessage.id) == message_id)
            .with_for_update()
        )
        if message is None or message.status != "enqueued":
            return None
        group = await session.get(WaGroup, message.wa_group_id) if message.wa_group_id else None
        phone = (
            await session.get(WaManagedPhone, message.wa_managed_phone_id)
            if message.wa_managed_phone_id
            else None
        )
        account = next(
            (
                a
                for a in await providers.accounts_of(session, org_id)
                if a.provider == providers.MAYTAPI
            ),
            None,
        )
        if account is None:
            _fail(session, message, {"message": NOT_ACTIVE})
            return None
        if group is None or phone is None:
            _fail(
                session, message, {"message": "The message has no WhatsApp group or managed phone"}
            )
            return None
        return _Step(
            outbound=GroupOutboundMessage(
                phone_id=phone.phone_id,
                to=group.bsp_id,
                type=message.type,
                body=message.body or "",
                media_url=message.media_url,
                # A flow's media message keeps its caption in the body (as the outbox).
                caption=message.caption or (message.body if message.media_url else None),
            ),
            credentials=account.maytapi_credentials(),
        )


async def _deliver(db: Database, step: _Step) -> SendResult:
    transport = group_transport_for(providers.MAYTAPI)
    if transport is None:
        return SendResult("failed", error={"message": "no maytapi sender"})
    settings = settings_for(db)
    try:
        async with httpx2.AsyncClient(timeout=settings.send_timeout_seconds) as client:
            return await transport(client, step.credentials, step.outbound)
    except Exception as exc:  # a transport's own bug must not lose the message
        log.exception("sending WA group message failed")
        return SendResult("retry", error={"message": f"{type(exc).__name__}: {exc}"})


async def _record(db: Database, org_id: int, message_id: int, result: SendResult) -> bool:
    """Store Maytapi's answer; True when the job must run again."""
    max_attempts = settings_for(db).jobs_max_attempts
    async with db.transaction(org_id) as session:
        message = await session.scalar(
            select(WaMessage)
            .where(col(WaMessage.organization_id) == org_id, col(WaMessage.id) == message_id)
            .with_for_update()
        )
        if message is None or message.status != "enqueued":
            return False
        message.send_attempts += 1
        now = utcnow()
        message.updated_at = now
        if result.outcome == "sent":
            if result.provider_message_id:
                # Maytapi posts what our phone said back to us (`fromMe`, the same id), and
                # that copy may have been stored (`receive`) before this answer is: it is
                # this message, so it goes and this row keeps the id (else the unique id
                # fails this transaction and the job sends the text again).
                await session.execute(
                    delete(WaMessage).where(
                        col(WaMessage.organization_id) == org_id,
                        col(WaMessage.bsp_id) == result.provider_message_id,
                        col(WaMessage.flow) == "outbound",
                        col(WaMessage.id) != message_id,
                    )
                )
            message.status = "sent"
            message.bsp_status = "sent"
            message.bsp_id = result.provider_message_id
            message.sent_at = now
            message.errors = {}
            _status_changed(session, message)
            return False
        error = dict(result.error or {})
        if result.outcome == "failed":
            _fail(session, message, error)
            return False
        if message.send_attempts >= max_attempts:
            gave_up = f"gave up after {message.send_attempts} attempts"
            _fail(session, message, {"message": gave_up, "last_error": error})
            return False
        message.errors = error
        return True


@jobs.job(SEND_JOB)
async def send_job(db: Database, args: dict[str, Any]) -> None:
    """Send one WA group message (see the module's docstring)."""
    org_id, message_id = int(args["org"]), int(args["message"])
    step = await _prepare(db, org_id, message_id)
    if step is None:
        return
    result = await _deliver(db, step)
    if await jobs.store_patiently(
        lambda: _record(db, org_id, message_id, result), f"the send of WA message {message_id}"
    ):
        raise SendRetry(f"WA group message {message_id}: {result.error}")


# --- the API (schema.fields.wa_messages, schema.subscriptions) -------------------------------

ENTITY = "WAGroup.WAMessage"


# A group message that a staff user restricted to some collections may see: one said in a
# WhatsApp group of their collections (resolvers.wa_groups shows them only those groups).
_SEEN_BY_RESTRICTED = prepared(
    guarded(
        records(WaMessage).where(
            col(WaMessage.id) == bindparam("id"),
            col(WaMessage.organization_id) == bindparam("org"),
            col(WaMessage.wa_group_id).in_(
                select(col(WaGroupCollection.wa_group_id)).where(
                    col(WaGroupCollection.group_id).in_(
                        select(col(UserGroup.group_id)).where(
                            col(UserGroup.user_id) == bindparam("user")
                        )
                    )
                )
            ),
        )
    )
)


def wa_message_read(org_id: int, raw_id: Any, viewer: Viewer | None = None) -> Read[Any]:
    """One group message of the organization (what a subscription event names), if the
    viewer may see it; a miss is Glific's `Elixir.Glific.WAGroup.WAMessage` / `Resource not
    found`."""
    mid = lookup_id(raw_id)
    missing = one_or(lambda: not_found(ENTITY))
    if viewer is not None and viewer.restricted:
        params = {"id": mid, "org": org_id, "user": viewer.user_id}
        return Read(_SEEN_BY_RESTRICTED, params, missing)
    return Read(by_id(WaMessage), {"id": mid, "org": org_id}, missing)


MEDIA_NOT_KEPT = "Message media is not kept on this server; send a text, or a flow's media message"


def _content(params: dict[str, Any]) -> tuple[str, str]:
    """(type, body) of a WaMessageInput / CollectionWaMessageInput; media and polls are
    refused with a clear error."""
    if params.get("poll_id") is not None:
        raise InputErrors([("poll_id", "Polls cannot be sent to WhatsApp groups here")])
    if params.get("media_id") is not None:
        raise InputErrors([("media_id", MEDIA_NOT_KEPT)])
    kind = str(params.get("type") or TEXT).lower()
    if kind != TEXT:
        raise InputErrors([("type", f"A {kind} message needs a media id; {MEDIA_NOT_KEPT}")])
    return kind, str(params.get("message") or "")


async def send_message_in_wa_group(
    session: AsyncSession, org_id: int, params: dict[str, Any]
) -> WaMessage:
    """`sendMessageInWaGroup(input)`."""
    kind, body = _content(params)
    if params.get("wa_group_id") is None:
        raise InputErrors.field("wa_group_id", "can't be blank")
    phone_id = params.get("wa_managed_phone_id")
    return await send_in_group(
        session,
        org_id,
        wa_group_id=to_int_id(params["wa_group_id"], "wa_group_id"),
        body=body,
        type=kind,
        wa_managed_phone_id=None
        if phone_id is None
        else to_int_id(phone_id, "wa_managed_phone_id"),
    )


async def send_message_to_wa_group_collection(
    session: AsyncSession, org_id: int, raw_group_id: Any, params: dict[str, Any]
) -> int:
    """`sendMessageToWaGroupCollection(input, groupId)`."""
    kind, body = _content(params)
    try:
        group_id = to_int_id(raw_group_id, "group_id")
    except InputErrors:
        raise not_found("Groups.Group") from None
    return await send_to_collection(session, org_id, group_id, body=body, type=kind)
