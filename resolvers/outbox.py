"""The transactional outbox: a reply is stored as an `enqueued` outbound message in the same
transaction as the flow step that produced it, with a delivery job for its contact; the job
delivers the contact's waiting messages one at a time, oldest first, through the provider
that sends the organization's replies.

- Provider `log` (no account sends replies) and simulator contacts: the message is marked
  sent at once and logged; nothing leaves the server.
- Free-form messages only inside the 24-hour window after the contact's last inbound
  message; outside it the message fails with Glific's error.
- A timeout, 5xx or 429 is tried again after a growing delay (SEND_RETRY_SECONDS doubled,
  or the provider's Retry-After), up to SEND_MAX_ATTEMPTS; other 4xx fail at once. While a
  contact's oldest message waits, its later ones wait behind it (order is kept); other
  contacts are not held up.
- A per-organization rate limit (`rate_limit` messages per second, bursts of one second's
  worth), shared by every process that sends for the organization: each send reserves its
  slot in the database first (resolvers.send_rate) and waits for it, holding no lock. A
  reservation that cannot reach the database fails the job, which is run again; the
  message stays waiting, its attempts uncounted.

Delivery is at least once: a process that dies between the provider's answer and its
commit sends that message again when the job is run again.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx2
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Contact, Database, Message, utcnow
from resolvers import events, jobs, notifications, providers, send_rate, templates
from resolvers.config import settings_for
from resolvers.delivery import OutboundMessage, SendResult, TemplateRef, transport_for
from resolvers.message_status import FAILED
from resolvers.phones import is_simulator_phone
from resolvers.providers import ProviderAccount

log = logging.getLogger(__name__)

DELIVER_JOB = "outbox.deliver"
WINDOW = timedelta(hours=24)
# Glific's words: the web app shows them as they are.
WINDOW_CLOSED = "Sorry! 24 hrs window closed. Your message cannot be sent at this time."


def window_open(contact: Contact, now: datetime) -> bool:
    """Free-form messages may go only within 24 hours of the contact's last inbound one."""
    last = contact.last_message_at
    return last is not None and now - last <= WINDOW


NOT_OPTED_IN = "Contact is not opted in to receive HSM templates"
TEMPLATE_GONE = "The message's template is no longer approved and active"


def hsm_allowed(contact: Contact) -> bool:
    """An HSM template may go to a valid contact who opted in and has not opted out since,
    inside the window or not (Glific's rule)."""
    return (
        contact.status == "valid"
        and contact.optin_time is not None
        and contact.optout_time is None
        and contact.bsp_status != "none"
    )


def _lock(contact_id: int) -> str:
    return f"outbox:{contact_id}"


def starting_status(contact: Contact, sender: ProviderAccount | None) -> dict[str, Any]:
    """A new outbound message's status columns: provider `log` (no sender) and simulator
    contacts count as sent at once (the message only goes to the log); otherwise it waits
    in the outbox for `sender`."""
    if sender is None or is_simulator_phone(contact.phone):
        return {"status": "sent", "bsp_status": "enqueued", "sent_at": utcnow()}
    return {"status": "enqueued", "bsp_status": None, "sent_at": None}


def mark_logged(message: Message, contact: Contact) -> None:
    """Provider `log`: the message counts as sent; it only goes to the log."""
    for name, value in starting_status(contact, None).items():
        setattr(message, name, value)
    log.info("reply to %s: %s", contact.phone, (message.body or "")[:200])


async def queue(
    session: AsyncSession,
    org_id: int,
    contact: Contact,
    message: Message | int,
    sender: ProviderAccount | None,
    body: str | None,
) -> None:
    """Hand a new outbound message (its row, or the id of a row written with
    `starting_status`) to `sender`, in the caller's write transaction: it leaves once the
    transaction commits."""
    events.sent(session, org_id, message, contact.phone)
    if sender is None or is_simulator_phone(contact.phone):
        log.info("reply to %s: %s", contact.phone, (body or "")[:200])
        return
    contact_id = int(contact.id or 0)
    await jobs.defer(
        session,
        DELIVER_JOB,
        {"org": org_id, "contact": contact_id},
        lock=_lock(contact_id),
        queueing_lock=_lock(contact_id),
    )


# --- delivering ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Next:
    message_id: int
    outbound: OutboundMessage
    account: ProviderAccount
    attempts: int


_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx2.AsyncClient] = (
    weakref.WeakKeyDictionary()
)


def _client(timeout: float) -> httpx2.AsyncClient:
    """One HTTP client per event loop (its connections are reused across messages)."""
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        client = httpx2.AsyncClient(timeout=timeout)
        _clients[loop] = client
    return client


def _outbound(message: Message, phone: str, template: TemplateRef | None = None) -> OutboundMessage:
    # A flow's media message keeps its caption in the body (Glific).
    caption = message.caption or (message.body if message.media_url else None)
    return OutboundMessage(
        # The provider's msgid: the stored uuid, else one derived from the row, so that a
        # retry sends the same id.
        uuid=message.uuid or str(uuid.uuid5(uuid.NAMESPACE_URL, f"message:{message.id}")),
        destination=phone,
        type=message.type,
        body=message.body or "",
        media_url=message.media_url,
        caption=caption,
        interactive=dict(message.interactive_content or {}),
        template=template,
    )


def _reason(error: dict[str, Any]) -> str:
    """The provider's words for a failure, short enough for a notification."""
    for key in ("message", "reason", "error", "details"):
        if error.get(key):
            return str(error[key])[:300]
    return str(error)[:300] if error else "the provider refused it"


def _fail(message: Message, error: dict[str, Any]) -> None:
    message.status = FAILED
    message.bsp_status = FAILED
    message.errors = error
    message.updated_at = utcnow()


async def _next(
    db: Database, org_id: int, contact_id: int, now: datetime
) -> _Next | datetime | None:
    """The contact's oldest waiting message, ready to go; or when it may be tried again;
    or None when nothing waits. Messages that cannot go (closed window, no provider) fail
    here, in order."""
    while True:
        async with db.transaction(org_id) as session:
            message = await session.scalar(
                select(Message)
                .where(
                    col(Message.contact_id) == contact_id,
                    col(Message.status) == "enqueued",
                    col(Message.flow) == "outbound",
                )
                .order_by(col(Message.id))
                .limit(1)
            )
            if message is None:
                return None
            if message.send_at is not None and message.send_at > now:
                await _defer(session, org_id, contact_id, message.send_at)
                return message.send_at
            contact = await session.get(Contact, contact_id)
            account = await providers.sender_of(session, org_id)
            if contact is None:
                return None
            if account is None or is_simulator_phone(contact.phone):
                mark_logged(message, contact)
                events.status_changed(session, org_id, message)
                continue
            template = await templates.template_ref(session, message, contact.language_id)
            # An HSM template is what WhatsApp lets through outside the window, to a
            # contact who opted in; both can change while the message waits.
            refusal = (
                (TEMPLATE_GONE if template is None else None)
                or (None if hsm_allowed(contact) else NOT_OPTED_IN)
                if message.is_hsm and message.template_id is not None
                else (None if window_open(contact, now) else WINDOW_CLOSED)
            )
            if refusal is not None:
                _fail(message, {"message": refusal})
                events.status_changed(session, org_id, message)
                continue
            return _Next(
                message_id=int(message.id or 0),
                outbound=_outbound(message, contact.phone, template),
                account=account,
                attempts=message.send_attempts,
            )


async def _defer(session: AsyncSession, org_id: int, contact_id: int, at: datetime) -> None:
    await jobs.defer(
        session,
        DELIVER_JOB,
        {"org": org_id, "contact": contact_id},
        run_at=at,
        lock=_lock(contact_id),
        queueing_lock=_lock(contact_id),
    )


async def _send(db: Database, step: _Next) -> SendResult:
    settings = settings_for(db)
    transport = transport_for(step.account.provider)
    if transport is None:
        return SendResult("failed", error={"message": f"no {step.account.provider} sender"})
    # Outside the `try`: a database error here is the job's (it is run again), not a failed
    # attempt at sending.
    await send_rate.take(db, step.account.organization_id, step.account.rate_limit)
    try:
        return await transport(
            _client(settings.send_timeout_seconds),
            step.account.sending_credentials(),
            step.outbound,
        )
    except Exception as exc:  # a transport's own bug must not lose the message
        log.exception("sending message %s failed", step.message_id)
        return SendResult("retry", error={"message": f"{type(exc).__name__}: {exc}"})


async def _record(
    db: Database, org_id: int, contact_id: int, step: _Next, result: SendResult
) -> bool:
    """Store the provider's answer; True when the next message may go now."""
    settings = settings_for(db)
    async with db.transaction(org_id) as session:
        message = await session.get(Message, step.message_id, with_for_update=True)
        if message is None or message.status != "enqueued":
            return True
        message.send_attempts = step.attempts + 1
        # Sent, failed or waiting with the provider's error: the status or errors change.
        events.status_changed(session, org_id, message)
        now = utcnow()
        if result.outcome == "sent":
            message.status = "sent"
            message.bsp_status = "enqueued"
            message.bsp_message_id = result.provider_message_id
            message.sent_at = now
            message.errors = {}
            return True
        if result.outcome == "failed" or message.send_attempts >= settings.send_max_attempts:
            error = dict(result.error or {})
            if result.outcome == "retry":
                error = {"message": f"gave up after {message.send_attempts} attempts", **error}
            _fail(message, error)
            log.warning("message %s to contact %s failed: %s", message.id, contact_id, error)
            await notifications.notify(
                session,
                org_id,
                notifications.MESSAGE,
                f"A message could not be sent: {_reason(error)}",
                {"message_id": message.id, "contact_id": contact_id},
            )
            return True
        delay = result.retry_after
        if delay is None:
            delay = jobs.retry_delay(settings.send_retry_seconds, message.send_attempts)
        delay = min(delay, settings.send_retry_max_seconds)
        message.send_at = now + timedelta(seconds=delay)
        message.errors = dict(result.error or {})
        await _defer(session, org_id, contact_id, message.send_at)
        return False


@jobs.job(DELIVER_JOB)
async def deliver(db: Database, args: dict[str, Any]) -> None:
    """Deliver the contact's waiting messages, oldest first, until one has to wait."""
    org_id, contact_id = int(args["org"]), int(args["contact"])
    while True:
        step = await _next(db, org_id, contact_id, utcnow())
        if not isinstance(step, _Next):
            return
        result = await _send(db, step)
        if not await jobs.store_patiently(
            lambda: _record(db, org_id, contact_id, step, result),  # noqa: B023
            f"the send of message {step.message_id}",
        ):
            return
