"""Root field `currentUser`."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from resolvers import users
from schema.fields.common import ctx_of, read
from schema.permissions import Staff
from schema.types.user import UserResult


@strawberry.type
class UserQuery:
    @strawberry.field(permission_classes=[Staff])
    async def current_user(self, info: Info) -> UserResult | None:
        ctx = ctx_of(info)
        user = await read(info, lambda s: users.get_user(s, ctx.org_id, ctx.user.id))
        return UserResult(user=user, errors=None)
