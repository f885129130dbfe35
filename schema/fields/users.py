"""Root fields for users: `currentUser` and My Account for everyone with a role; the staff
management screen's list, count, read, change and delete for managers and above."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from resolvers import staff, users
from schema.fields.common import ctx_of, lookup, payload, read
from schema.inputs import Opts, to_opts, to_params
from schema.permissions import Manager, Staff
from schema.scalars import RoleLabel
from schema.types.user import User, UserResult


@strawberry.input(name="UserFilter")
class UserFilter:
    name: str | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET


@strawberry.input(name="UserInput")
class UserInput:
    name: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    roles: list[RoleLabel | None] | None = strawberry.UNSET
    group_ids: list[strawberry.ID | None] | None = strawberry.UNSET
    is_restricted: bool | None = strawberry.UNSET
    language_id: strawberry.ID | None = strawberry.UNSET
    add_role_ids: list[strawberry.ID | None] | None = strawberry.UNSET
    delete_role_ids: list[strawberry.ID | None] | None = strawberry.UNSET


@strawberry.input(name="CurrentUserInput")
class CurrentUserInput:
    name: str | None = strawberry.UNSET
    password: str | None = strawberry.UNSET
    otp: str | None = strawberry.UNSET
    language_id: strawberry.ID | None = strawberry.UNSET
    email: str | None = strawberry.UNSET


@strawberry.type
class UserQuery:
    @strawberry.field(permission_classes=[Staff])
    async def current_user(self, info: Info) -> UserResult | None:
        ctx = ctx_of(info)
        user = await read(info, lambda s: users.get_user(s, ctx.org_id, ctx.user.id))
        return UserResult(user=user, errors=None)

    @strawberry.field(permission_classes=[Manager])
    async def users(
        self, info: Info, filter: UserFilter | None = None, opts: Opts | None = None
    ) -> list[User | None] | None:
        ctx = ctx_of(info)
        flt = to_params(filter) or {}
        return await read(info, lambda s: staff.list_users(s, ctx.org_id, flt, to_opts(opts)))

    @strawberry.field(permission_classes=[Manager])
    async def count_users(self, info: Info, filter: UserFilter | None = None) -> int | None:
        ctx = ctx_of(info)
        flt = to_params(filter) or {}
        return await read(info, lambda s: staff.count_users(s, ctx.org_id, flt))

    @strawberry.field(permission_classes=[Manager])
    async def user(self, info: Info, id: strawberry.ID) -> UserResult | None:
        ctx = ctx_of(info)
        found, errors = await lookup(info, lambda s: staff.get_user(s, ctx.org_id, id))
        return UserResult(user=found, errors=errors)


@strawberry.type
class UserMutation:
    @strawberry.mutation(permission_classes=[Manager])
    async def update_user(
        self, info: Info, id: strawberry.ID, input: UserInput
    ) -> UserResult | None:
        ctx = ctx_of(info)
        params = to_params(input) or {}
        updated, errors = await payload(
            info, lambda s: staff.update_user(s, ctx.org_id, ctx.user, id, params)
        )
        return UserResult(user=updated, errors=errors)

    @strawberry.mutation(permission_classes=[Manager])
    async def delete_user(self, info: Info, id: strawberry.ID) -> UserResult | None:
        ctx = ctx_of(info)
        _, errors = await payload(info, lambda s: staff.delete_user(s, ctx.org_id, ctx.user, id))
        return UserResult(user=None, errors=errors)

    @strawberry.mutation(permission_classes=[Staff])
    async def update_current_user(self, info: Info, input: CurrentUserInput) -> UserResult | None:
        ctx = ctx_of(info)
        params = to_params(input) or {}
        updated, errors = await payload(
            info, lambda s: staff.update_current_user(s, ctx.org_id, ctx.user, params)
        )
        return UserResult(user=updated, errors=errors)
