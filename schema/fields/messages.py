"""Root fields for messages: Glific's `message`, `messages` (default limit 25, maximum 50)
and `countMessages`; `createAndSendMessage` and `markContactMessagesAsRead` (the chat
screen's); all for staff."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from resolvers import messages, sending
from schema.fields.common import ctx_of, payload, query_row, query_rows, read
from schema.inputs import Opts, to_opts, to_params
from schema.permissions import Staff
from schema.scalars import Gid
from schema.types.message import Message, MessageFilter, MessageInput, MessageResult


@strawberry.type
class MessageQuery:
    @strawberry.field(permission_classes=[Staff])
    async def message(self, info: Info, id: strawberry.ID) -> MessageResult | None:
        org_id = ctx_of(info).org_id
        found, errors = await query_row(info, lambda: messages.message_read(org_id, id), "message")
        return MessageResult(message=found, errors=errors)

    @strawberry.field(permission_classes=[Staff])
    async def messages(
        self, info: Info, filter: MessageFilter | None = None, opts: Opts | None = None
    ) -> list[Message | None] | None:
        org_id = ctx_of(info).org_id
        return await query_rows(
            info, messages.messages_read(org_id, to_params(filter) or {}, to_opts(opts))
        )

    @strawberry.field(permission_classes=[Staff])
    async def count_messages(self, info: Info, filter: MessageFilter | None = None) -> int | None:
        org_id = ctx_of(info).org_id
        return await read(
            info, lambda s: messages.count_messages(s, org_id, to_params(filter) or {})
        )


@strawberry.type
class MessageMutation:
    @strawberry.mutation(
        permission_classes=[Staff],
        description="Send a text to a contact from the chat screen (inside the 24-hour window).",
    )
    async def create_and_send_message(
        self, info: Info, input: MessageInput
    ) -> MessageResult | None:
        ctx = ctx_of(info)
        sent, errors = await payload(
            info,
            lambda s: sending.create_and_send(
                s, ctx.org_id, ctx.user, to_params(input), ctx.viewer
            ),
            "message",
        )
        return MessageResult(message=sent, errors=errors)

    @strawberry.mutation(
        permission_classes=[Staff],
        description="The organization has read the contact's conversation; answers its id.",
    )
    async def mark_contact_messages_as_read(
        self, info: Info, contact_id: Gid
    ) -> strawberry.ID | None:
        ctx = ctx_of(info)
        done, _ = await payload(
            info,
            lambda s: sending.mark_contact_messages_as_read(s, ctx.org_id, contact_id, ctx.viewer),
        )
        return strawberry.ID(done)
