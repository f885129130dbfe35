"""An inbound message from any channel (Gupshup, Meta, the simulator, the terminal chat),
after the channel has parsed it: stored once, then handed to the flows. Every channel ends in
`receive`; nothing else decides what an inbound message does.

A provider's webhook calls `accept`, which does O(1) work before the provider is answered:
the message is written as a job (locked by the sender's phone, so one sender's messages are
handled one at a time, in arrival order, in every process), and the job calls `receive`.
A redelivered message makes a second job, which `receive` finds a duplicate: one message,
one set of replies. A crash at any point leaves the job to be run again."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import (
    Contact,
    Database,
    Flow,
    Message,
    Profile,
    bound,
    guarded,
    orm_direct,
    prepared,
    records,
    saved_id,
    utcnow,
    write_rows,
)
from resolvers import contacts, events, flow_runs, flow_triggers, inbound_media, jobs, sending
from resolvers.config import settings_of
from resolvers.conversation import (
    InboundMessage,
    Received,
    Reply,
    inbound_from_json,
    inbound_to_json,
)
from resolvers.errors import InputErrors
from resolvers.flow_engine.events import Sprint
from resolvers.flow_engine.state import Input
from resolvers.flow_engine.text import clean_keyword
from resolvers.flow_state import org_flows, organization_row
from resolvers.phones import is_simulator_phone, normalize_phone

__all__ = ["InboundMessage", "Received", "Reply", "accept", "receive"]

log = logging.getLogger(__name__)

RECEIVE_JOB = "inbound.receive"


# --- receiving -----------------------------------------------------------------------------

DRAFT_PREFIX = "draft"
OPTIN_KEYWORD = "optin"
TEMPLATE_PREFIX = "template:"


# Built once (with the organization guard): built per message it cost as much as running it.
_SENDER = prepared(
    guarded(
        records(Contact)
        .where(
            col(Contact.phone) == bindparam("phone"),
            col(Contact.organization_id) == bindparam("org"),
        )
        .with_for_update()
    )
)


async def _contact_for(session: AsyncSession, org_id: int, message: InboundMessage) -> Contact:
    """The sender's contact, locked; created on its first message. Two first messages from
    one new number at the same moment: the second waits on the unique phone and then finds
    the contact the first created."""
    region = settings_of(session).default_phone_region
    # A simulator's phone (`9876543210_1`) is no phone number: it is taken as it is.
    phone = (
        message.phone
        if is_simulator_phone(message.phone)
        else normalize_phone(message.phone, default_region=region)
    )
    params = {"phone": phone, "org": org_id}
    contact = await orm_direct.load(session, Contact, _SENDER, params)
    if contact is None:
        try:
            async with session.begin_nested():
                contact = await contacts.create_contact(
                    session, org_id, {"phone": phone, "name": message.sender_name or phone}
                )
        except InputErrors:
            contact = await orm_direct.load(session, Contact, _SENDER, params)
            if contact is None:
                raise
    elif message.sender_name and contact.name != message.sender_name and not contact.name:
        contact.name = message.sender_name[:255]
    return contact


_INSERTS: dict[str, Any] = {}


def _insert_once(dialect: str) -> Any:
    """The inbound INSERT, built once per dialect (an INSERT built for each message spends
    more time in its construction than in the database)."""
    if dialect not in _INSERTS:
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        _INSERTS[dialect] = prepared(
            insert(Message)
            .values(bound(sending.NEW_MESSAGE_COLUMNS))
            .on_conflict_do_nothing(index_elements=["bsp_message_id", "organization_id"])
            .returning(col(Message.id))
        )
    return _INSERTS[dialect]


async def _store(
    session: AsyncSession, org: Any, contact: Contact, message: InboundMessage, flow_id: int | None
) -> int | None:
    """The inbound message's id, stored once per provider message id (None for a
    redelivery: the unique index decides, in the one INSERT). The receiver is the
    organization's own contact (Glific); `flow_id`, the flow expected to take it."""
    now = utcnow()
    data = message.input
    org_id = contact.organization_id
    values = {
        "organization_id": org_id,
        "uuid": str(uuid.uuid4()),
        "contact_id": saved_id(contact),
        "sender_id": contact.id,
        "receiver_id": org.contact_id if org is not None else None,
        "profile_id": contact.active_profile_id,
        "user_id": None,
        "group_id": None,
        "flow": "inbound",
        "flow_id": flow_id,
        "type": data.type,
        "body": data.text,
        "status": "received",
        "flow_label": None,
        "bsp_status": "delivered",
        "bsp_message_id": message.provider_message_id,
        "errors": {},
        "interactive_content": dict(data.interactive or {}),
        "media_url": data.media_url,
        "caption": data.caption,
        "message_number": contact.last_message_number + 1,
        "is_hsm": False,
        "context_id": message.context_id,
        "send_at": None,
        "sent_at": message.sent_at,
        "send_attempts": 0,
        "inserted_at": now,
        "updated_at": now,
    }
    stored = await write_rows(session, _insert_once(session.get_bind().dialect.name), values)
    if not stored:
        return None
    sending.count_inbound(contact, now)
    contact.bsp_status = "session_and_hsm" if contact.optin_status else "session"
    contact.updated_at = now
    return int(stored[0].id)


async def receive(db: Database, org_id: int, message: InboundMessage) -> Received:
    """Store an inbound message and let the flows answer it (Glific's order, spec §3.2):
    `draft:<keyword>` starts that flow's newest revision; an opted-out contact lands in the
    opt-in flow; a flow that ignores keywords keeps the message; a keyword starts its flow
    (ending the one in progress); otherwise the active run takes it. Per contact, one message
    at a time: the contact's row stays locked until the step is committed."""
    async with db.transaction(org_id) as session:
        contact = await _contact_for(session, org_id, message)
        contact_id = saved_id(contact)
        org = await organization_row(session, org_id)
        turn = await flow_runs.load_turn(session, org_id, contact)
        # Stored with the flow of the run in progress, which usually takes it; the flow
        # that did is set below when it is another.
        expected = _flow_id_of(turn, turn.runs.active_run())
        stored = await _store(session, org, contact, message, expected)
        if stored is None:
            return Received(message_id=None, contact_id=contact_id, duplicate=True)
        events.received(session, org_id, stored, contact.phone)
        cleaned = clean_keyword(message.input.text) if message.input.type == "text" else ""
        draft_flow = None
        if cleaned.startswith(DRAFT_PREFIX):
            draft_flow = turn.flows.for_keyword(cleaned[len(DRAFT_PREFIX) :])
            if draft_flow is not None:
                turn.flows = await org_flows(session, org_id, draft_flow_id=draft_flow.id)
        keyword_flow = None if draft_flow else turn.flows.for_keyword(cleaned)
        starts = _Starts(
            draft=draft_flow,
            keyword=keyword_flow,
            optin=flow_triggers.optin_flow(org, turn.flows) if contact.optout_time else None,
            new_contact=(
                flow_triggers.new_contact_flow(org, turn.flows)
                if contact.last_message_number <= 1
                else None
            ),
        )
        if draft_flow is None and keyword_flow is None and turn.runs.active_run() is None:
            text = message.input.text or ""
            starts.fallback = flow_triggers.regex_flow(
                org, turn.flows, text
            ) or await flow_triggers.periodic_flow(session, org, turn.flows, contact_id, utcnow())
        data = replace(message.input, message_id=stored)
        sprint = _route(turn, data, cleaned, starts)
        outcome = flow_runs.Outcome()
        if sprint is not None:
            taken_by = _flow_id_of(turn, turn.runs.active_run())
            if taken_by is not None and taken_by != expected:
                await write_rows(
                    session,
                    _SET_FLOW,
                    {"message_id": stored, "flow_id": taken_by, "now": utcnow()},
                )
            outcome = await flow_runs.apply(turn, sprint)
        active_name = await _active_profile_name_in(session, turn, contact)
        await orm_direct.save(session, contact)
    if outcome.webhooks:
        outcome = await flow_runs.follow_webhooks(db, org_id, contact_id, outcome)
        # The calls' answers resumed the run in turns of their own.
        active_name = await _active_profile_name(db, org_id, contact_id)
    return Received(
        message_id=stored,
        contact_id=contact_id,
        replies=tuple(outcome.replies),
        active_profile_name=active_name,
    )


async def accept(db: Database, org_id: int, messages: list[InboundMessage]) -> None:
    """Keep the messages of one callback for `receive`, in one short transaction."""
    if not messages:
        return
    async with db.transaction(org_id, urgent=True) as session:
        for message in messages:
            await jobs.defer(
                session,
                RECEIVE_JOB,
                {"org": org_id, "message": inbound_to_json(message)},
                lock=f"inbound:{org_id}:{message.phone}"[: jobs.LOCK_LENGTH],
            )


@jobs.job(RECEIVE_JOB)
async def _receive_job(db: Database, args: dict[str, Any]) -> None:
    message = inbound_from_json(args["message"])
    message = await inbound_media.with_kept_media(db, int(args["org"]), message)
    try:
        await receive(db, int(args["org"]), message)
    except InputErrors as exc:
        # A message the domain refuses (a phone that is no number ...) would fail the same
        # way on every retry: logged and dropped.
        log.warning("inbound message %s refused: %s", message.provider_message_id, exc)


@dataclass
class _Starts:
    """The flows the message could start, found before routing (spec §3.2)."""

    draft: Any = None
    keyword: Any = None
    optin: Any = None
    new_contact: Any = None
    # With no run in progress and no keyword: the regex flow, else a periodic one.
    fallback: Any = None


def _route(turn: flow_runs.Turn, data: Input, cleaned: str, starts: _Starts) -> Sprint | None:
    active = turn.runs.active_run()
    active_flow = turn.flows.record(active.flow_uuid) if active is not None else None
    if starts.draft is not None and turn.flows.get(starts.draft.uuid) is not None:
        return flow_runs.start_sprint(turn, starts.draft.uuid, keyword=cleaned, draft=True)
    if starts.optin is not None and turn.flows.get(starts.optin.uuid) is not None:
        in_optin = active_flow is not None and (
            active_flow.uuid == starts.optin.uuid or OPTIN_KEYWORD in (active_flow.keywords or [])
        )
        if not in_optin:
            return flow_runs.start_sprint(turn, starts.optin.uuid, keyword=OPTIN_KEYWORD)
    if active is not None and active_flow is not None and active_flow.ignore_keywords:
        return flow_runs.resume_sprint(turn, data)
    template_flow = _template_flow(turn, data)
    if template_flow is not None:
        return flow_runs.start_sprint(turn, template_flow.uuid, keyword=cleaned)
    for flow in (starts.new_contact, starts.keyword):
        if flow is not None and turn.flows.get(flow.uuid) is not None:
            return flow_runs.start_sprint(turn, flow.uuid, keyword=cleaned)
    if active is not None:
        return flow_runs.resume_sprint(turn, data)
    if starts.fallback is not None:
        return flow_runs.start_sprint(turn, starts.fallback.uuid, keyword=cleaned)
    return None


def _template_flow(turn: flow_runs.Turn, data: Input) -> Flow | None:
    """Glific's template prefix: `template:<name>` (the raw text) starts the published
    template flow of that name, ending the one in progress."""
    text = (data.text or "").strip()
    if text[: len(TEMPLATE_PREFIX)].lower() != TEMPLATE_PREFIX:
        return None
    return turn.flows.template_named(text[len(TEMPLATE_PREFIX) :])


def _flow_id_of(turn: flow_runs.Turn, run: Any) -> int | None:
    record = turn.flows.record(run.flow_uuid) if run is not None else None
    return int(record.id) if record is not None and record.id is not None else None


_SET_FLOW = prepared(
    guarded(
        update(Message)
        .where(col(Message.id) == bindparam("message_id"))
        .values(flow_id=bindparam("flow_id"), updated_at=bindparam("now"))
    )
)


async def _active_profile_name_in(
    session: AsyncSession, turn: flow_runs.Turn, contact: Contact
) -> str | None:
    """The active profile's name after the step: from the profiles the step loaded, unless
    the step created or switched one."""
    if contact.active_profile_id is None:
        return None
    if not turn.profiles_changed:
        for profile in turn.view.profiles:
            if profile.id == contact.active_profile_id:
                return profile.name
    found = await session.get(Profile, contact.active_profile_id)
    return found.name if found is not None else None


async def _active_profile_name(db: Database, org_id: int, contact_id: int) -> str | None:
    async with db.session(org_id) as session:
        return await session.scalar(
            select(col(Profile.name))
            .join(Contact, col(Contact.active_profile_id) == col(Profile.id))
            .where(col(Contact.id) == contact_id, col(Contact.organization_id) == org_id)
        )
