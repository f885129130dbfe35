"""Root fields for notifications: staff read and count them; marking them read marks every
unread one of the organization (Glific's `markNotificationAsRead`)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from resolvers import notifications
from schema.fields.common import ctx_of, read
from schema.inputs import Opts, to_opts, to_params
from schema.permissions import Staff
from schema.types.notification import Notification


@strawberry.input(name="NotificationFilter")
class NotificationFilter:
    message: str | None = strawberry.UNSET
    category: str | None = strawberry.UNSET
    is_read: bool | None = strawberry.UNSET
    severity: str | None = strawberry.UNSET


@strawberry.type
class NotificationQuery:
    @strawberry.field(permission_classes=[Staff])
    async def notifications(
        self, info: Info, filter: NotificationFilter | None = None, opts: Opts | None = None
    ) -> list[Notification | None] | None:
        ctx = ctx_of(info)
        flt = to_params(filter) or {}
        return await read(
            info, lambda s: notifications.list_notifications(s, ctx.org_id, flt, to_opts(opts))
        )

    @strawberry.field(permission_classes=[Staff])
    async def count_notifications(
        self, info: Info, filter: NotificationFilter | None = None
    ) -> int | None:
        ctx = ctx_of(info)
        flt = to_params(filter) or {}
        return await read(info, lambda s: notifications.count_notifications(s, ctx.org_id, flt))


@strawberry.type
class NotificationMutation:
    @strawberry.mutation(permission_classes=[Staff])
    async def mark_notification_as_read(self, info: Info) -> bool | None:
        ctx = ctx_of(info)
        async with ctx.db.transaction(ctx.org_id) as session:
            done = await notifications.mark_all_read(session, ctx.org_id)
        await ctx.reset_reads()
        return done
