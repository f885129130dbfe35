"""Root fields for messages: Glific's `message`, `messages` (default limit 25, maximum 50)
and `countMessages`; `createAndSendMessage` and `markContactMessagesAsRead` (the chat
screen's); `createMessage` and `clearMessages`, all for staff; `updateMessage` and
`deleteMessage` for admins (resolvers.message_edits)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from resolvers import group_sends, hsm, message_edits, messages, sending
from schema.fields.common import ctx_of, payload, query_row, query_rows, read
from schema.inputs import Opts, to_opts, to_params
from schema.permissions import Admin, Staff
from schema.scalars import Gid
from schema.types.message import (
    ClearMessagesResult,
    GroupMessageResult,
    Message,
    MessageFilter,
    MessageInput,
    MessageResult,
)


@strawberry.type
class MessageQuery:
    @strawberry.field(permission_classes=[Staff])
    async def message(self, info: Info, id: strawberry.ID) -> MessageResult | None:
        ctx = ctx_of(info)
        found, errors = await query_row(
            info, lambda: messages.message_read(ctx.org_id, id, ctx.viewer), "message"
        )
        return MessageResult(message=found, errors=errors)

    @strawberry.field(permission_classes=[Staff])
    async def messages(
        self, info: Info, filter: MessageFilter | None = None, opts: Opts | None = None
    ) -> list[Message | None] | None:
        ctx = ctx_of(info)
        return await query_rows(
            info,
            messages.messages_read(ctx.org_id, to_params(filter) or {}, to_opts(opts), ctx.viewer),
        )

    @strawberry.field(permission_classes=[Staff])
    async def count_messages(self, info: Info, filter: MessageFilter | None = None) -> int | None:
        ctx = ctx_of(info)
        return await read(
            info,
            lambda s: messages.count_messages(s, ctx.org_id, to_params(filter) or {}, ctx.viewer),
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

    @strawberry.mutation(
        permission_classes=[Staff],
        description="Send a text to every valid contact of a collection (resolvers.group_sends); "
        "answers the contacts it is for.",
    )
    async def create_and_send_message_to_group(
        self, info: Info, input: MessageInput, group_id: strawberry.ID
    ) -> GroupMessageResult | None:
        ctx = ctx_of(info)
        sent, errors = await payload(
            info,
            lambda s: group_sends.send_to_group(
                s, ctx.org_id, ctx.user, to_params(input), group_id, ctx.viewer
            ),
        )
        contact_ids: list[strawberry.ID | None] | None = (
            None if sent is None else [strawberry.ID(str(i)) for i in sent]
        )
        return GroupMessageResult(success=sent is not None, contact_ids=contact_ids, errors=errors)

    @strawberry.mutation(
        permission_classes=[Staff],
        description="Send an approved HSM template, filled with `parameters`, to a contact "
        "who opted in: the one message that may go outside the 24-hour window.",
    )
    async def send_hsm_message(
        self,
        info: Info,
        template_id: strawberry.ID,
        receiver_id: strawberry.ID,
        parameters: list[str | None] | None = None,
    ) -> MessageResult | None:
        ctx = ctx_of(info)
        sent, errors = await payload(
            info,
            lambda s: hsm.send_hsm_message(
                s, ctx.org_id, ctx.user, template_id, parameters, receiver_id, ctx.viewer
            ),
            "message",
        )
        return MessageResult(message=sent, errors=errors)

    @strawberry.mutation(
        permission_classes=[Staff],
        description="Send an approved HSM template to every opted-in contact of a collection "
        "(as createAndSendMessageToGroup); answers the contacts it is for.",
    )
    async def send_hsm_message_to_group(
        self,
        info: Info,
        template_id: strawberry.ID,
        group_id: strawberry.ID,
        parameters: list[str | None] | None = None,
    ) -> GroupMessageResult | None:
        ctx = ctx_of(info)
        sent, errors = await payload(
            info,
            lambda s: hsm.send_hsm_to_group(
                s, ctx.org_id, ctx.user, template_id, parameters, group_id, ctx.viewer
            ),
        )
        contact_ids: list[strawberry.ID | None] | None = (
            None if sent is None else [strawberry.ID(str(i)) for i in sent]
        )
        return GroupMessageResult(success=sent is not None, contact_ids=contact_ids, errors=errors)

    @strawberry.mutation(
        permission_classes=[Staff],
        description="Store a message without sending it (inbound unless `flow` says outbound).",
    )
    async def create_message(self, info: Info, input: MessageInput) -> MessageResult | None:
        ctx = ctx_of(info)
        created, errors = await payload(
            info,
            lambda s: message_edits.create_message(s, ctx.org_id, to_params(input), ctx.viewer),
            "message",
        )
        return MessageResult(message=created, errors=errors)

    @strawberry.mutation(permission_classes=[Admin])
    async def update_message(
        self, info: Info, id: strawberry.ID, input: MessageInput | None = None
    ) -> MessageResult | None:
        org_id = ctx_of(info).org_id
        updated, errors = await payload(
            info,
            lambda s: message_edits.update_message(s, org_id, id, to_params(input) or {}),
            "message",
        )
        return MessageResult(message=updated, errors=errors)

    @strawberry.mutation(
        permission_classes=[Admin],
        description="As Glific's other deletes, answers {message: null, errors: null} on success.",
    )
    async def delete_message(self, info: Info, id: strawberry.ID) -> MessageResult | None:
        org_id = ctx_of(info).org_id
        _, errors = await payload(info, lambda s: message_edits.delete_message(s, org_id, id))
        return MessageResult(message=None, errors=errors)

    @strawberry.mutation(
        permission_classes=[Staff],
        description="Delete a contact's whole conversation and end its flows.",
    )
    async def clear_messages(
        self, info: Info, contact_id: strawberry.ID
    ) -> ClearMessagesResult | None:
        ctx = ctx_of(info)
        done, errors = await payload(
            info, lambda s: message_edits.clear_messages(s, ctx.org_id, contact_id, ctx.viewer)
        )
        return ClearMessagesResult(success=bool(done), errors=errors)
