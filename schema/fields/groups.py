"""Root fields for collections (Glific's groups): staff read them (a restricted staff user
only the ones assigned to them) and move one contact in and out of them; managers create,
change, delete and fill them, and export their contacts."""

from __future__ import annotations

from typing import Any, cast

import strawberry
from strawberry.types import Info

from resolvers import group_export, groups
from schema.fields.common import ctx_of, lookup, payload, read
from schema.inputs import Opts, to_opts, to_params
from schema.permissions import Manager, Staff
from schema.scalars import JsonValue
from schema.types.group import (
    ContactGroups,
    ExportCollectionResult,
    GroupContacts,
    GroupResult,
    GroupUsers,
)
from schema.types.user import Group


@strawberry.input(name="GroupFilter")
class GroupFilter:
    label: str | None = strawberry.UNSET
    group_type: str | None = strawberry.UNSET


@strawberry.input(name="GroupInput")
class GroupInput:
    group_type: str | None = strawberry.UNSET
    label: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    is_restricted: bool | None = strawberry.UNSET
    add_role_ids: list[strawberry.ID | None] | None = strawberry.UNSET
    delete_role_ids: list[strawberry.ID | None] | None = strawberry.UNSET


@strawberry.input(name="GroupContactsInput")
class GroupContactsInput:
    group_id: strawberry.ID
    add_contact_ids: list[strawberry.ID | None]
    delete_contact_ids: list[strawberry.ID | None]


@strawberry.input(name="GroupUsersInput")
class GroupUsersInput:
    group_id: strawberry.ID
    add_user_ids: list[strawberry.ID | None]
    delete_user_ids: list[strawberry.ID | None]


@strawberry.input(name="ContactGroupsInput")
class ContactGroupsInput:
    contact_id: strawberry.ID
    add_group_ids: list[strawberry.ID | None]
    delete_group_ids: list[strawberry.ID | None]


@strawberry.type
class GroupQuery:
    @strawberry.field(permission_classes=[Staff])
    async def groups(
        self, info: Info, filter: GroupFilter | None = None, opts: Opts | None = None
    ) -> list[Group | None] | None:
        ctx = ctx_of(info)
        flt = to_params(filter) or {}
        return await read(
            info, lambda s: groups.list_groups(s, ctx.org_id, flt, to_opts(opts), ctx.viewer)
        )

    @strawberry.field(permission_classes=[Staff])
    async def count_groups(self, info: Info, filter: GroupFilter | None = None) -> int | None:
        ctx = ctx_of(info)
        flt = to_params(filter) or {}
        return await read(info, lambda s: groups.count_groups(s, ctx.org_id, flt, ctx.viewer))

    @strawberry.field(permission_classes=[Staff])
    async def group(self, info: Info, id: strawberry.ID) -> GroupResult | None:
        ctx = ctx_of(info)
        found, errors = await lookup(
            info, lambda s: groups.get_group(s, ctx.org_id, id, ctx.viewer)
        )
        return GroupResult(group=found, errors=errors)

    @strawberry.field(
        permission_classes=[Staff],
        description="The collection's contacts in all and by WhatsApp status (bsp_status).",
    )
    async def group_info(self, info: Info, id: strawberry.ID) -> JsonValue | None:
        ctx = ctx_of(info)
        return JsonValue(await read(info, lambda s: groups.group_info(s, ctx.org_id, id)))

    @strawberry.field(permission_classes=[Manager])
    async def export_collection(
        self, info: Info, id: strawberry.ID
    ) -> ExportCollectionResult | None:
        ctx = ctx_of(info)
        found, errors = await lookup(info, lambda s: group_export.export_csv(s, ctx.org_id, id))
        return ExportCollectionResult(status=found, errors=errors)


@strawberry.type
class GroupMutation:
    @strawberry.mutation(permission_classes=[Manager])
    async def create_group(self, info: Info, input: GroupInput) -> GroupResult | None:
        ctx = ctx_of(info)
        params = to_params(input) or {}
        made, errors = await payload(info, lambda s: groups.create_group(s, ctx.org_id, params))
        return GroupResult(group=made, errors=errors)

    @strawberry.mutation(permission_classes=[Manager])
    async def update_group(
        self, info: Info, id: strawberry.ID, input: GroupInput | None = None
    ) -> GroupResult | None:
        ctx = ctx_of(info)
        params = to_params(input) or {}
        changed, errors = await payload(
            info, lambda s: groups.update_group(s, ctx.org_id, id, params)
        )
        return GroupResult(group=changed, errors=errors)

    @strawberry.mutation(permission_classes=[Manager])
    async def delete_group(self, info: Info, id: strawberry.ID) -> GroupResult | None:
        ctx = ctx_of(info)
        _, errors = await payload(info, lambda s: groups.delete_group(s, ctx.org_id, id))
        return GroupResult(group=None, errors=errors)

    @strawberry.mutation(permission_classes=[Manager])
    async def update_group_contacts(
        self, info: Info, input: GroupContactsInput
    ) -> GroupContacts | None:
        ctx = ctx_of(info)
        params = to_params(input) or {}
        # No errors field in Glific's answer: a refusal is a top-level error.
        async with ctx.write() as session:
            added, removed = await groups.update_group_contacts(session, ctx.org_id, params)
        return GroupContacts(number_deleted=removed, group_contacts=cast(Any, added))

    @strawberry.mutation(permission_classes=[Manager])
    async def update_group_users(self, info: Info, input: GroupUsersInput) -> GroupUsers | None:
        ctx = ctx_of(info)
        params = to_params(input) or {}
        # No errors field in Glific's answer: a refusal is a top-level error.
        async with ctx.write() as session:
            added, removed = await groups.update_group_users(session, ctx.org_id, params)
        return GroupUsers(number_deleted=removed, group_users=cast(Any, added))

    @strawberry.mutation(permission_classes=[Staff])
    async def update_contact_groups(
        self, info: Info, input: ContactGroupsInput
    ) -> ContactGroups | None:
        ctx = ctx_of(info)
        params = to_params(input) or {}
        # No errors field in Glific's answer: a refusal is a top-level error.
        async with ctx.write() as session:
            added, removed = await groups.update_contact_groups(session, ctx.org_id, params)
        return ContactGroups(number_deleted=removed, contact_groups=cast(Any, added))
