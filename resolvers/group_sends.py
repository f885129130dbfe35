"""Sending to a whole collection: one text (Glific's `createAndSendMessageToGroup`) or a flow
(`startGroupFlow`).

The mutation stores the collection's own message (sent by and to the organization's
contact, `group_id` set: what `Group.messages` lists; `sentGroupMessage` subscribers get
it when the transaction commits) and answers the members it is for:
the collection's valid contacts. Their copies are written by a job, `CHUNK` members per
transaction in contact order, each transaction deferring the job for the next members
before it commits: a collection of thousands never holds SQLite's writer for long, and a
crash resumes where the last committed chunk ended, never writing a member's copy twice.

Each send is recorded as a broadcast (`resolvers.broadcasts`: the members, which of them
each chunk reached, the messages it produced), which `broadcastStats` counts; the
collection's own message carries its id (`Message.messageBroadcastId`).

`startGroupFlow` writes the collection's message "Starting flow: <flow> for group:
<collection>" (as Glific) and walks the members the same way: a job starts the flow for
`CHUNK` valid members per transaction (`flow_runs.start_contact_flow`, as for one contact:
the flow each is in ends), stopping if the flow is no longer published.

An HSM template sent to a collection (`resolvers.hsm`) walks the members the same way; its
copies go to the members who opted in, inside the window or not.

Each member's copy is an ordinary outbound message through the outbox (numbered in the
member's conversation, stamped with the member's active profile, `group_id` and the staff
member's `user_id` set), sent at the rate limit like any other. A member outside the
24-hour window gets no copy, as `createAndSendMessage` would refuse it.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import (
    Contact,
    ContactGroup,
    Database,
    Flow,
    Group,
    Message,
    Organization,
    SessionTemplate,
    utcnow,
)
from resolvers import (
    broadcasts,
    events,
    flow_runs,
    flow_state,
    flows,
    groups,
    jobs,
    outbox,
    profiles,
    providers,
    templates,
)
from resolvers.auth import AuthUser
from resolvers.contacts import Viewer
from resolvers.errors import ClientError, InputErrors
from resolvers.sending import EMPTY_BODY, outbound_message

SEND_JOB = "groups.send"
FLOW_JOB = "groups.start_flow"
CHUNK = 100
log = logging.getLogger(__name__)


def _members(org_id: int, group_id: int) -> Any:
    """The collection's valid contacts, in contact order."""
    return (
        select(col(Contact.id))
        .join(ContactGroup, col(ContactGroup.contact_id) == col(Contact.id))
        .where(
            col(ContactGroup.group_id) == group_id,
            col(Contact.organization_id) == org_id,
            col(Contact.status) == "valid",
        )
        .order_by(col(Contact.id))
    )


@dataclass(frozen=True)
class Hsm:
    """An HSM template's send to a collection (`resolvers.hsm`): the template and its
    parameters. Its copies go to opted-in members, inside the 24-hour window or not."""

    template_id: int
    params: list[str]


async def send_to_group(
    session: AsyncSession,
    org_id: int,
    user: AuthUser,
    params: dict[str, Any],
    raw_group_id: Any,
    viewer: Viewer | None = None,
    *,
    hsm: Hsm | None = None,
) -> list[int]:
    """`createAndSendMessageToGroup(input, groupId)`: the members the message is for. A
    restricted staff user reaches only the collections assigned to them."""
    kind = (params.get("type") or "text").lower()
    body = params.get("body")
    if kind != "text":
        raise InputErrors.field("type", f"{kind} message type should have a media id")
    if body is None or not body.strip():
        raise ClientError(EMPTY_BODY)
    group = await groups.get_group(session, org_id, raw_group_id, viewer, lock=True)
    own = await _own_message(session, org_id, group, body, kind, user.id)
    if hsm is not None:
        own.is_hsm, own.template_id, own.params = True, hsm.template_id, hsm.params
    members = _members(org_id, int(group.id or 0))
    broadcast = await broadcasts.begin(session, org_id, own, members, user_id=user.id)
    member_ids = [int(i) for i in (await session.scalars(members))]
    args = {"org": org_id, "message": own.id, "broadcast": broadcast.id, "after": 0}
    await jobs.defer(session, SEND_JOB, args)
    return member_ids


async def _own_message(
    session: AsyncSession, org_id: int, group: Group, body: str, kind: str, user_id: int | None
) -> Message:
    """The collection's own message (from and to the organization's contact), published to
    `sentGroupMessage` subscribers when the transaction commits."""
    org_contact_id = await session.scalar(
        select(col(Organization.contact_id)).where(col(Organization.id) == org_id)
    )
    if org_contact_id is None:
        raise ClientError("The organization has no contact of its own to send from")
    now = utcnow()
    own = Message(
        organization_id=org_id,
        uuid=str(uuid.uuid4()),
        contact_id=org_contact_id,
        sender_id=org_contact_id,
        receiver_id=org_contact_id,
        user_id=user_id,
        group_id=group.id,
        flow="outbound",
        type=kind,
        body=body,
        status="sent",
        sent_at=now,
        inserted_at=now,
        updated_at=now,
    )
    session.add(own)
    events.collect(session, org_id, events.SENT_GROUP_MESSAGE, own)
    group.last_communication_at = now
    await session.flush()
    return own


async def _next_members(
    session: AsyncSession, org_id: int, group_id: int, args: dict[str, Any]
) -> list[int]:
    """The next `CHUNK` members after contact `after`: those the broadcast listed when it
    started (a job queued before broadcasts existed walks the collection as it is now)."""
    after = int(args["after"])
    if args.get("broadcast") is None:
        query = _members(org_id, group_id).where(col(Contact.id) > after).limit(CHUNK)
        return [int(i) for i in await session.scalars(query)]
    return await broadcasts.members_after(session, org_id, int(args["broadcast"]), after, CHUNK)


async def _continue(
    session: AsyncSession, job: str, args: dict[str, Any], done: list[int], missed: list[int]
) -> None:
    """Record the members this chunk reached, and defer the job for the members after it
    (or close the broadcast), in the chunk's own transaction."""
    broadcast_id = args.get("broadcast")  # (None: a job queued before broadcasts existed)
    org_id = int(args["org"])
    if broadcast_id is not None:
        await broadcasts.reached(session, org_id, int(broadcast_id), done, missed)
    ids = sorted(done + missed)
    if len(ids) == CHUNK:
        await jobs.defer(session, job, {**args, "after": ids[-1]})
    elif broadcast_id is not None:
        await broadcasts.finish(session, org_id, int(broadcast_id))


@jobs.job(SEND_JOB)
async def send_chunk(db: Database, args: dict[str, Any]) -> None:
    """The copies for the next `CHUNK` members after contact `after`, and the job for the
    ones after them, in one transaction."""
    org_id, message_id = int(args["org"]), int(args["message"])
    async with db.transaction(org_id) as session:
        own = await session.get(Message, message_id)
        if own is None or own.group_id is None:
            return  # deleted meanwhile: nothing more to send
        ids = await _next_members(session, org_id, own.group_id, args)
        sender = await providers.sender_of(session, org_id)
        # An HSM copy speaks each member's language where the template has a translation.
        template = (
            await session.get(SessionTemplate, own.template_id)
            if own.is_hsm and own.template_id is not None
            else None
        )
        now = utcnow()
        done: list[int] = []
        missed: list[int] = []
        for contact_id in ids:
            contact = await profiles.lock_contact(session, org_id, int(contact_id))
            if (
                contact is None
                or contact.status != "valid"  # (blocked since the send began)
                or not (
                    outbox.hsm_allowed(contact) if own.is_hsm else outbox.window_open(contact, now)
                )
            ):
                missed.append(contact_id)
                continue
            copy = outbound_message(
                org_id,
                contact,
                uuid=str(uuid.uuid4()),
                sender_id=own.sender_id,
                user_id=own.user_id,
                group_id=own.group_id,
                message_broadcast_id=own.message_broadcast_id,
                is_hsm=own.is_hsm,
                template_id=own.template_id,
                params=own.params,
                type=own.type,
                body=(
                    templates.render(template, list(own.params or []), contact.language_id)
                    if template is not None
                    else own.body
                ),
                **outbox.starting_status(contact, sender),
            )
            session.add(copy)
            await outbox.queue(session, org_id, contact, copy, sender, copy.body)
            done.append(contact_id)
        await _continue(session, SEND_JOB, args, done, missed)


async def start_group_flow(
    session: AsyncSession,
    org_id: int,
    user: AuthUser,
    flow_id: Any,
    raw_group_id: Any,
    default_results: dict[str, Any] | None = None,
) -> None:
    """`startGroupFlow(flowId, groupId, defaultResults)`: the collection's message says so
    (Glific's words) and carries the broadcast; the members' runs start in the job."""
    flow = await flows.fetch_flow(session, org_id, flow_id)
    if (await flow_state.org_flows(session, org_id)).get(flow.uuid) is None:
        raise InputErrors.raw("flow", "Flow is not published or not active")
    group = await groups.get_group(session, org_id, raw_group_id, lock=True)
    await _begin_group_flow(session, org_id, flow, group, user.id, default_results)


async def _begin_group_flow(
    session: AsyncSession,
    org_id: int,
    flow: Any,
    group: Group,
    user_id: int | None,
    default_results: dict[str, Any] | None,
    *,
    skip_busy: bool = False,
) -> None:
    """The collection's message and broadcast, and the job that starts the flow for its
    members (`skip_busy`: not for those already in a flow)."""
    body = f"Starting flow: {flow.name} for group: {group.label}"
    own = await _own_message(session, org_id, group, body, "text", user_id)
    broadcast = await broadcasts.begin(
        session,
        org_id,
        own,
        _members(org_id, int(group.id or 0)),
        flow_id=flow.id,
        user_id=user_id,
        default_results=default_results,
    )
    args = {
        "org": org_id,
        "group": group.id,
        "flow": flow.id,
        "results": default_results,
        "broadcast": broadcast.id,
        "skip_busy": skip_busy,
    }
    await jobs.defer(session, FLOW_JOB, {**args, "after": 0})


@jobs.job(flow_runs.SESSION_JOB)
async def start_session(db: Database, args: dict[str, Any]) -> None:
    """A flow's start_session: the flow for each collection's members (as startGroupFlow)
    and for the contacts it names, `CHUNK` contacts per transaction in id order."""
    org_id = int(args["org"])
    async with db.transaction(org_id) as session:
        flow = (await flow_state.org_flows(session, org_id)).record(str(args["flow"]))
        if flow is None:
            log.info("start_session: flow %s is not published or not active", args["flow"])
            return
        skip_busy = bool(args.get("skip_busy"))
        for group_id in args.get("groups") or []:
            group = await session.scalar(
                select(Group).where(
                    col(Group.organization_id) == org_id, col(Group.id) == int(group_id)
                )
            )
            if group is not None:
                await _begin_group_flow(
                    session, org_id, flow, group, None, None, skip_busy=skip_busy
                )
        contacts = [int(c) for c in args.get("contacts") or []]
        for contact_id in contacts[:CHUNK]:
            contact = await profiles.lock_contact(session, org_id, contact_id)
            if contact is None or contact.status != "valid":
                continue
            if skip_busy and await flow_state.unfinished_runs(session, contact_id):
                continue
            await flow_runs.start_contact_flow(session, org_id, flow.id, contact_id)
        if len(contacts) > CHUNK:
            await jobs.defer(
                session, flow_runs.SESSION_JOB, {**args, "groups": [], "contacts": contacts[CHUNK:]}
            )


@jobs.job(FLOW_JOB)
async def start_flow_chunk(db: Database, args: dict[str, Any]) -> None:
    """The flow for the next `CHUNK` members, and the job for the ones after them, in one
    transaction."""
    org_id, group_id = int(args["org"]), int(args["group"])
    async with db.transaction(org_id) as session:
        flow = await session.get(Flow, int(args["flow"]))
        if flow is None or (await flow_state.org_flows(session, org_id)).get(flow.uuid) is None:
            log.info("group flow %s stopped: the flow is gone or unpublished", args["flow"])
            return
        ids = await _next_members(session, org_id, group_id, args)
        sent: list[int] = []
        done: list[int] = []
        missed: list[int] = []
        for contact_id in ids:
            contact = await profiles.lock_contact(session, org_id, contact_id)
            if contact is None or contact.status != "valid":  # (blocked since it began)
                missed.append(contact_id)
                continue
            if args.get("skip_busy") and await flow_state.unfinished_runs(session, contact_id):
                missed.append(contact_id)  # already in a flow (start_session's exclusions)
                continue
            outcome = await flow_runs.start_contact_flow(
                session, org_id, flow.id, contact_id, args.get("results")
            )
            sent.extend(reply.message_id for reply in outcome.replies)
            done.append(contact_id)
        if args.get("broadcast") is not None:
            await broadcasts.tag_messages(session, org_id, int(args["broadcast"]), sent)
        await _continue(session, FLOW_JOB, args, done, missed)


async def group_messages(session: AsyncSession, group_ids: list[int]) -> dict[int, list[Message]]:
    """Each collection's own messages, newest first (the session is one organization's)."""
    rows = await session.scalars(
        select(Message)
        .where(
            col(Message.group_id).in_(group_ids),
            col(Message.sender_id) == col(Message.receiver_id),
        )
        .order_by(col(Message.id).desc())
    )
    out: dict[int, list[Message]] = {i: [] for i in group_ids}
    for row in rows:
        out[int(row.group_id or 0)].append(row)
    return out


@jobs.job(flow_runs.BROADCAST_JOB)
async def send_broadcast(db: Database, args: dict[str, Any]) -> None:
    """A flow's send_broadcast: its message to each valid contact it names, `CHUNK` per
    transaction in id order, through the outbox (which refuses it outside the contact's
    24-hour window, as it does a flow's replies)."""
    org_id = int(args["org"])
    contacts = [int(c) for c in args.get("contacts") or []]
    media = args.get("attachment")
    async with db.transaction(org_id) as session:
        sender = await providers.sender_of(session, org_id)
        org_contact_id = await session.scalar(
            select(col(Organization.contact_id)).where(col(Organization.id) == org_id)
        )
        for contact_id in contacts[:CHUNK]:
            contact = await profiles.lock_contact(session, org_id, contact_id)
            if contact is None or contact.status != "valid":
                continue
            body = (
                str(args.get("text") or "")
                .replace("@staff.name", contact.name or "")
                .replace("@staff.phone", contact.phone or "")
            )
            message = outbound_message(
                org_id,
                contact,
                uuid=str(uuid.uuid4()),
                sender_id=org_contact_id,
                flow_id=args.get("flow"),
                type=media[0] if media else "text",
                media_url=media[1] if media else None,
                body=body,
                **outbox.starting_status(contact, sender),
            )
            session.add(message)
            await outbox.queue(session, org_id, contact, message, sender, body)
        if len(contacts) > CHUNK:
            await jobs.defer(
                session, flow_runs.BROADCAST_JOB, {**args, "contacts": contacts[CHUNK:]}
            )
