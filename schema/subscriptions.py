"""Glific's subscriptions (spec §2.8), served over the `/socket` WebSocket (schema.view).

Every field takes `organizationId`, which must be the signed-in user's organization ("Auth
Credentials mismatch" otherwise; the user needs the staff role, as for reading messages over
HTTP). A message event (resolvers.events) names a message id; the message is read afresh from
the database, in the subscriber's organization, with what the selection asks for. Glific's
topic is the organization, so the simulator fields carry every simulator message of the
organization, as Glific's do.

`simulatorRelease`, `bspBalance` and `collectionCount` are accepted (the web app subscribes
to them) and stay silent: nothing here publishes those events. `sentGroupMessage` carries a
collection's own message (resolvers.group_sends).

The WhatsApp-group fields (`receivedWaGroupMessage`, `sentWaGroupMessage`,
`updateWaMessageStatus`, `sentWaGroupCollectionMessage`) yield a `WaMessage`, read the same
way (resolvers.wa_messages publishes their events)."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from models import Read
from models.errors import DatabaseUnavailable
from resolvers import events, messages, wa_messages
from resolvers.errors import GENERIC_ERROR, UNAUTHORIZED, ClientError
from schema.context import Context
from schema.fields.common import ctx_of, query_row
from schema.scalars import JsonValue
from schema.types.message import Message
from schema.types.wa_group import WaMessage

AUTH_MISMATCH = "Auth Credentials mismatch"

log = logging.getLogger("glific.graphql")


def _checked(info: Info, organization_id: strawberry.ID) -> Context:
    ctx = ctx_of(info)
    if str(organization_id).strip() != str(ctx.org_id):
        raise ClientError(AUTH_MISMATCH)
    if not ctx.user.has_role("staff"):
        raise ClientError(UNAUTHORIZED)
    return ctx


# Reads one row of the organization by id: a message, or a group message.
Reader = Callable[[int, Any], Read[Any]]


async def _messages(
    ctx: Context, info: Info, reader: Reader | None, *topics: str
) -> AsyncGenerator[Any, None]:
    """The events' rows, read with `reader` (a message's `message_read` when None, looked
    up for each event)."""
    org_id = ctx.org_id
    async for event in events.subscribe(ctx.db, org_id, topics):
        # A socket's context outlives its events: nothing read for one event (rows, loader
        # caches) is served for the next.
        await ctx.reset_reads()
        try:
            found, errors = await query_row(
                info,
                functools.partial(reader or messages.message_read, org_id, event.message_id),
            )
        except (ClientError, DatabaseUnavailable):
            raise
        except Exception as exc:
            # Raised here, outside execution, it would reach the client as it is.
            log.error("subscription crashed reading message %s", event.message_id, exc_info=exc)
            raise GraphQLError(GENERIC_ERROR) from None
        if errors is None and found is not None:
            yield found


async def _refused_or(
    info: Info,
    organization_id: strawberry.ID,
    *topics: str,
    reader: Reader | None = None,
) -> AsyncIterator[Any]:
    """The checks run when the subscription is made, so a refusal is the protocol's `error`
    answer to `subscribe` rather than a first event."""
    ctx = _checked(info, organization_id)
    return _messages(ctx, info, reader, *topics)


async def _contact_messages(
    info: Info, organization_id: strawberry.ID, topic: str
) -> AsyncIterator[Any]:
    # A restricted staff user hears of the contacts they may see only (resolvers.messages).
    viewer = ctx_of(info).viewer

    def reader(org_id: int, message_id: Any) -> Read[Any]:
        return messages.message_read(org_id, message_id, viewer)

    return await _refused_or(info, organization_id, topic, reader=reader)


async def _wa_messages(
    info: Info, organization_id: strawberry.ID, topic: str
) -> AsyncIterator[Any]:
    # A restricted staff user hears of their collections' groups only (resolvers.wa_groups).
    viewer = ctx_of(info).viewer
    reader = functools.partial(wa_messages.wa_message_read, viewer=viewer)
    return await _refused_or(info, organization_id, topic, reader=reader)


async def _silent(info: Info, organization_id: strawberry.ID) -> AsyncIterator[Any]:
    _checked(info, organization_id)

    async def never() -> AsyncGenerator[Any, None]:
        await asyncio.get_running_loop().create_future()  # until the client completes
        yield None

    return never()


@strawberry.type
class Subscription:
    @strawberry.subscription(description="An inbound message was stored.")
    async def received_message(
        self, info: Info, organization_id: strawberry.ID
    ) -> AsyncIterator[Message | None]:
        return await _contact_messages(info, organization_id, events.RECEIVED_MESSAGE)

    @strawberry.subscription(description="An outbound message was stored to be sent.")
    async def sent_message(
        self, info: Info, organization_id: strawberry.ID
    ) -> AsyncIterator[Message | None]:
        return await _contact_messages(info, organization_id, events.SENT_MESSAGE)

    @strawberry.subscription(description="A message was sent to a collection as a whole.")
    async def sent_group_message(
        self, info: Info, organization_id: strawberry.ID
    ) -> AsyncIterator[Message | None]:
        return await _refused_or(info, organization_id, events.SENT_GROUP_MESSAGE)

    @strawberry.subscription(description="A message's delivery status or errors changed.")
    async def update_message_status(
        self, info: Info, organization_id: strawberry.ID
    ) -> AsyncIterator[Message | None]:
        return await _contact_messages(info, organization_id, events.UPDATE_MESSAGE_STATUS)

    @strawberry.subscription(description="A simulator contact's message was stored.")
    async def received_simulator_message(
        self, info: Info, organization_id: strawberry.ID
    ) -> AsyncIterator[Message | None]:
        return await _refused_or(info, organization_id, events.RECEIVED_SIMULATOR_MESSAGE)

    @strawberry.subscription(description="A reply to a simulator contact was stored.")
    async def sent_simulator_message(
        self, info: Info, organization_id: strawberry.ID
    ) -> AsyncIterator[Message | None]:
        return await _refused_or(info, organization_id, events.SENT_SIMULATOR_MESSAGE)

    @strawberry.subscription(
        description="A message said in a WhatsApp group (or to a managed phone) was stored."
    )
    async def received_wa_group_message(
        self, info: Info, organization_id: strawberry.ID
    ) -> AsyncIterator[WaMessage | None]:
        return await _wa_messages(info, organization_id, events.RECEIVED_WA_GROUP_MESSAGE)

    @strawberry.subscription(
        description="An outbound WhatsApp group message was stored (to be sent, or said from "
        "the managed phone itself)."
    )
    async def sent_wa_group_message(
        self, info: Info, organization_id: strawberry.ID
    ) -> AsyncIterator[WaMessage | None]:
        return await _wa_messages(info, organization_id, events.SENT_WA_GROUP_MESSAGE)

    @strawberry.subscription(
        description="A message to a collection of WhatsApp groups was stored (one per group)."
    )
    async def sent_wa_group_collection_message(
        self, info: Info, organization_id: strawberry.ID
    ) -> AsyncIterator[WaMessage | None]:
        return await _wa_messages(info, organization_id, events.SENT_WA_GROUP_COLLECTION_MESSAGE)

    @strawberry.subscription(description="A WhatsApp group message's status or errors changed.")
    async def update_wa_message_status(
        self, info: Info, organization_id: strawberry.ID
    ) -> AsyncIterator[WaMessage | None]:
        return await _wa_messages(info, organization_id, events.UPDATE_WA_MESSAGE_STATUS)

    @strawberry.subscription(description="Accepted; silent (simulator leases expire quietly).")
    async def simulator_release(
        self, info: Info, organization_id: strawberry.ID
    ) -> AsyncIterator[JsonValue | None]:
        return await _silent(info, organization_id)

    @strawberry.subscription(description="Accepted; silent (no provider balance is tracked).")
    async def bsp_balance(
        self, info: Info, organization_id: strawberry.ID
    ) -> AsyncIterator[JsonValue | None]:
        return await _silent(info, organization_id)

    @strawberry.subscription(description="Accepted; silent (no collection counts are kept).")
    async def collection_count(
        self, info: Info, organization_id: strawberry.ID
    ) -> AsyncIterator[JsonValue | None]:
        return await _silent(info, organization_id)
