"""Root mutations for WhatsApp groups through Maytapi (Glific's names and shapes, staff as
Glific): `sendMessageInWaGroup`, `sendMessageToWaGroupCollection` and
`syncWaGroupContacts` (resolvers.wa_messages, resolvers.wa_sync).

`syncWaGroupContacts` runs inside the request (Glific starts it in the background): a sync
is a few HTTP calls for an organization's handful of phones, each phone's groups written in a
short transaction of its own, and the staff member learns at once whether Maytapi refused."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from resolvers import wa_messages, wa_sync
from resolvers.errors import InputErrors
from schema.enums import MessageTypeEnum
from schema.fields.common import ctx_of, payload
from schema.inputs import to_params
from schema.permissions import Staff
from schema.types.common import InputError, input_errors

SYNCED = "successfully synced"


@strawberry.input(name="WaMessageInput")
class WaMessageInput:
    message: str | None = strawberry.UNSET
    type: MessageTypeEnum | None = strawberry.UNSET
    media_id: strawberry.ID | None = strawberry.UNSET
    wa_managed_phone_id: strawberry.ID | None = strawberry.UNSET
    wa_group_id: strawberry.ID | None = strawberry.UNSET
    poll_id: int | None = strawberry.UNSET


@strawberry.input(name="CollectionWaMessageInput")
class CollectionWaMessageInput:
    message: str | None = strawberry.UNSET
    type: MessageTypeEnum | None = strawberry.UNSET
    media_id: strawberry.ID | None = strawberry.UNSET


@strawberry.type(name="WaMessageResult")
class WaMessageResult:
    errors: list[InputError | None] | None = None


@strawberry.type(name="CollectionWaMessageResult")
class CollectionWaMessageResult:
    success: bool | None = None
    errors: list[InputError | None] | None = None


@strawberry.type(name="SyncWaContacts")
class SyncWaContacts:
    message: str | None = None
    errors: list[InputError | None] | None = None


@strawberry.type
class WaMessageMutation:
    @strawberry.mutation(
        permission_classes=[Staff],
        description="Send a text to a WhatsApp group through its managed phone (Maytapi).",
    )
    async def send_message_in_wa_group(
        self, info: Info, input: WaMessageInput
    ) -> WaMessageResult | None:
        ctx = ctx_of(info)
        params = to_params(input) or {}
        _, errors = await payload(
            info, lambda s: wa_messages.send_message_in_wa_group(s, ctx.org_id, params)
        )
        return WaMessageResult(errors=errors)

    @strawberry.mutation(
        permission_classes=[Staff],
        description="Send a text to every WhatsApp group of a collection.",
    )
    async def send_message_to_wa_group_collection(
        self, info: Info, input: CollectionWaMessageInput, group_id: strawberry.ID
    ) -> CollectionWaMessageResult | None:
        ctx = ctx_of(info)
        params = to_params(input) or {}
        _, errors = await payload(
            info,
            lambda s: wa_messages.send_message_to_wa_group_collection(
                s, ctx.org_id, group_id, params
            ),
        )
        return CollectionWaMessageResult(success=errors is None, errors=errors)

    @strawberry.mutation(
        permission_classes=[Staff],
        description="Sync the organization's WhatsApp phones, groups and members from Maytapi.",
    )
    async def sync_wa_group_contacts(self, info: Info) -> SyncWaContacts | None:
        ctx = ctx_of(info)
        await ctx.reset_reads()  # no connection held while Maytapi answers
        try:
            await wa_sync.sync_groups(ctx.db, ctx.org_id)
        except InputErrors as exc:
            return SyncWaContacts(message=None, errors=input_errors(exc))
        return SyncWaContacts(message=SYNCED, errors=None)
