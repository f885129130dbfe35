"""Message broadcasts (Glific's): the record of one send of a text or a flow to a whole
collection (`resolvers.group_sends` writes it), and `broadcastStats`, which counts it.

A broadcast lists the collection's valid members when it starts, each `pending`; as the job
reaches a member it sets `processed_at`, with status `processed` when the member's copy was
queued or the flow started, and leaves it `pending` otherwise (outside the 24-hour window).
The messages it produced carry its id, so the stats can count them by delivery status.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Message, MessageBroadcast, MessageBroadcastContact, utcnow
from resolvers.errors import not_found
from resolvers.querying import to_int_id

ENTITY = "Flows.MessageBroadcast"
# broadcastStats' message categories: `sent` by our status, the others by the provider's.
CATEGORIES = ("sent", "read", "delivered", "enqueued", "error")
_MEMBER_COLUMNS = (
    "message_broadcast_id",
    "organization_id",
    "contact_id",
    "status",
    "inserted_at",
    "updated_at",
)


async def begin(
    session: AsyncSession,
    org_id: int,
    own: Message,
    members: Any,
    *,
    flow_id: int | None = None,
    user_id: int | None = None,
    default_results: dict[str, Any] | None = None,
) -> MessageBroadcast:
    """Record a broadcast of the collection message `own` to `members` (a SELECT of contact
    ids), each pending, and tie `own` to it."""
    broadcast = MessageBroadcast(
        organization_id=org_id,
        group_id=int(own.group_id or 0),
        flow_id=flow_id,
        message_id=own.id,
        user_id=user_id,
        type="flow" if flow_id is not None else "message",
        default_results=default_results or {},
    )
    session.add(broadcast)
    await session.flush()
    now = utcnow()
    ids = members.subquery()
    await session.execute(
        insert(MessageBroadcastContact).from_select(
            [*_MEMBER_COLUMNS],
            select(
                literal(broadcast.id),
                literal(org_id),
                ids.c.id,
                literal("pending"),
                literal(now),
                literal(now),
            ),
        )
    )
    own.message_broadcast_id = broadcast.id
    return broadcast


async def members_after(
    session: AsyncSession, org_id: int, broadcast_id: int, after: int, limit: int
) -> list[int]:
    """The next `limit` members of the broadcast after contact `after`, in contact order."""
    found = await session.scalars(
        select(col(MessageBroadcastContact.contact_id))
        .where(
            col(MessageBroadcastContact.organization_id) == org_id,
            col(MessageBroadcastContact.message_broadcast_id) == broadcast_id,
            col(MessageBroadcastContact.contact_id) > after,
        )
        .order_by(col(MessageBroadcastContact.contact_id))
        .limit(limit)
    )
    return [int(i) for i in found]


async def reached(
    session: AsyncSession, org_id: int, broadcast_id: int, done: list[int], missed: list[int]
) -> None:
    """Members the job has reached: `done` got their copy or flow, `missed` could not."""
    now = utcnow()
    for ids, status in ((done, "processed"), (missed, "pending")):
        if ids:
            await session.execute(
                update(MessageBroadcastContact)
                .where(
                    col(MessageBroadcastContact.organization_id) == org_id,
                    col(MessageBroadcastContact.message_broadcast_id) == broadcast_id,
                    col(MessageBroadcastContact.contact_id).in_(ids),
                )
                .values(status=status, processed_at=now, updated_at=now)
                .execution_options(synchronize_session=False)
            )


async def tag_messages(
    session: AsyncSession, org_id: int, broadcast_id: int, message_ids: list[int]
) -> None:
    """The messages a member's flow sent when the broadcast started it."""
    if message_ids:
        await session.execute(
            update(Message)
            .where(col(Message.organization_id) == org_id, col(Message.id).in_(message_ids))
            .values(message_broadcast_id=broadcast_id)
            .execution_options(synchronize_session=False)
        )


async def finish(session: AsyncSession, org_id: int, broadcast_id: int) -> None:
    now = utcnow()
    await session.execute(
        update(MessageBroadcast)
        .where(
            col(MessageBroadcast.organization_id) == org_id,
            col(MessageBroadcast.id) == broadcast_id,
        )
        .values(completed_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )


async def stats(session: AsyncSession, org_id: int, raw_id: Any) -> dict[str, Any]:
    """Glific's `broadcastStats`: members reached (`success`), reached without their copy
    or flow (`failed`), not reached yet (`pending`; Glific always answers 0 here), and each
    member's first message of the broadcast by delivery status (`msg_categories`)."""
    broadcast_id = to_int_id(raw_id, "message_broadcast_id")
    found = await session.scalar(
        select(col(MessageBroadcast.id)).where(
            col(MessageBroadcast.id) == broadcast_id,
            col(MessageBroadcast.organization_id) == org_id,
        )
    )
    if found is None:
        raise not_found(ENTITY)
    member = MessageBroadcastContact
    rows = await session.execute(
        select(
            col(member.status),
            col(member.processed_at).is_(None),
            func.count(),
        )
        .where(
            col(member.organization_id) == org_id, col(member.message_broadcast_id) == broadcast_id
        )
        .group_by(col(member.status), col(member.processed_at).is_(None))
    )
    counts = {"success": 0, "failed": 0, "pending": 0}
    for status, unreached, n in rows:
        key = "pending" if unreached else "success" if status == "processed" else "failed"
        counts[key] += int(n)
    first = (
        select(func.min(col(Message.id)).label("id"))
        .where(
            col(Message.organization_id) == org_id,
            col(Message.message_broadcast_id) == broadcast_id,
            col(Message.flow) == "outbound",
        )
        .where(col(Message.sender_id) != col(Message.receiver_id))
        .group_by(col(Message.contact_id))
        .subquery()
    )
    categories = dict.fromkeys(CATEGORIES, 0)
    for status, bsp_status in await session.execute(
        select(col(Message.status), col(Message.bsp_status)).join(
            first, first.c.id == col(Message.id)
        )
    ):
        if status == "sent":
            categories["sent"] += 1
        if bsp_status in categories and bsp_status != "sent":
            categories[bsp_status] += 1
    return {**counts, "msg_categories": categories}
