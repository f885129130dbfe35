"""Root fields for messages: Glific's `message`, `messages` (default limit 25, maximum 50)
and `countMessages`, for staff."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from resolvers import messages
from schema.fields.common import ctx_of, query_row, query_rows, read
from schema.inputs import Opts, to_opts, to_params
from schema.permissions import Staff
from schema.types.message import Message, MessageFilter, MessageResult


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
