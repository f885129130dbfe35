"""Root fields for WhatsApp groups (Glific's WA groups), with Glific's roles: staff read the
groups, their members and the WA chat screen (`waSearch`, `waSearchMulti`) and put groups in
and out of collections; managers list the managed phones."""

from __future__ import annotations

from typing import Any, cast

import strawberry
from strawberry.types import Info

from resolvers import wa_groups
from schema.fields.common import ahead, ctx_of, lookup, payload, read
from schema.inputs import Opts, to_opts, to_params
from schema.permissions import Manager, Staff
from schema.types.wa_group import (
    CollectionWaGroupResult,
    ContactWaGroup,
    ContactWaGroupFilter,
    UpdateCollectionWaGroupInput,
    UpdateWaGroupsCollectionInput,
    WaConversation,
    WaGroup,
    WaGroupFilter,
    WaGroupResult,
    WaGroupsCollectionInput,
    WaGroupsCollectionResult,
    WaManagedPhone,
    WaManagedPhoneFilter,
    WaSearchCup,
    WaSearchFilter,
)


@strawberry.type
class WaGroupQuery:
    @strawberry.field(permission_classes=[Staff])
    async def wa_group(self, info: Info, id: strawberry.ID) -> WaGroupResult | None:
        ctx = ctx_of(info)
        found, errors = await lookup(
            info, lambda s: wa_groups.get_wa_group(s, ctx.org_id, id, viewer=ctx.viewer)
        )
        return WaGroupResult(wa_group=found, errors=errors)

    @strawberry.field(permission_classes=[Staff])
    async def wa_groups(
        self, info: Info, filter: WaGroupFilter | None = None, opts: Opts | None = None
    ) -> list[WaGroup | None] | None:
        ctx = ctx_of(info)
        flt = to_params(filter) or {}
        found = await read(
            info, lambda s: wa_groups.list_wa_groups(s, ctx.org_id, flt, to_opts(opts), ctx.viewer)
        )
        return cast(Any, await ahead(info, found))

    @strawberry.field(permission_classes=[Staff])
    async def wa_groups_count(self, info: Info, filter: WaGroupFilter | None = None) -> int | None:
        ctx = ctx_of(info)
        flt = to_params(filter) or {}
        return await read(info, lambda s: wa_groups.count_wa_groups(s, ctx.org_id, flt, ctx.viewer))

    # Staff too, unlike Glific (manager): Glific's web app asks for them in the chat
    # screen's status bar, whoever is signed in, and an error there breaks the screen.
    @strawberry.field(permission_classes=[Staff])
    async def wa_managed_phones(
        self, info: Info, filter: WaManagedPhoneFilter | None = None, opts: Opts | None = None
    ) -> list[WaManagedPhone | None] | None:
        ctx = ctx_of(info)
        flt = to_params(filter) or {}
        found = await read(
            info, lambda s: wa_groups.list_wa_managed_phones(s, ctx.org_id, flt, to_opts(opts))
        )
        return cast(Any, await ahead(info, found))

    @strawberry.field(permission_classes=[Manager])
    async def count_wa_managed_phones(
        self, info: Info, filter: WaManagedPhoneFilter | None = None
    ) -> int | None:
        ctx = ctx_of(info)
        flt = to_params(filter) or {}
        return await read(info, lambda s: wa_groups.count_wa_managed_phones(s, ctx.org_id, flt))

    @strawberry.field(permission_classes=[Staff])
    async def list_contact_wa_group(
        self, info: Info, filter: ContactWaGroupFilter | None = None, opts: Opts | None = None
    ) -> list[ContactWaGroup | None] | None:
        ctx = ctx_of(info)
        flt = to_params(filter) or {}
        found = await read(
            info,
            lambda s: wa_groups.list_contact_wa_groups(
                s, ctx.org_id, flt, to_opts(opts), ctx.viewer
            ),
        )
        return cast(Any, await ahead(info, found))

    @strawberry.field(permission_classes=[Staff])
    async def count_contact_wa_group(
        self, info: Info, filter: ContactWaGroupFilter | None = None
    ) -> int | None:
        ctx = ctx_of(info)
        flt = to_params(filter) or {}
        return await read(
            info, lambda s: wa_groups.count_contact_wa_groups(s, ctx.org_id, flt, ctx.viewer)
        )

    @strawberry.field(
        permission_classes=[Staff],
        description="The WA chat screen's list: WA groups by latest communication, each with "
        "its latest messages (newest first).",
    )
    async def wa_search(
        self,
        info: Info,
        wa_group_opts: Opts,
        wa_message_opts: Opts,
        filter: WaSearchFilter | None = None,
    ) -> list[WaConversation | None] | None:
        ctx = ctx_of(info)
        flt = to_params(filter) or {}
        found: list[wa_groups.WaConversation] = await read(
            info,
            lambda s: wa_groups.wa_search(
                s, ctx.org_id, flt, to_opts(wa_group_opts), to_opts(wa_message_opts), ctx.viewer
            ),
        )
        await ahead(info, [c.wa_group for c in found if c.wa_group is not None], "waGroup")
        await ahead(info, [c.group for c in found if c.group is not None], "group")
        await ahead(info, [m for c in found for m in c.wa_messages], "waMessages")
        return cast(Any, found)

    @strawberry.field(
        permission_classes=[Staff],
        description="The WA chat screen's search box: groups by label and group messages by "
        "body, newest first.",
    )
    async def wa_search_multi(
        self,
        info: Info,
        wa_group_opts: Opts,
        wa_message_opts: Opts,
        filter: WaSearchFilter | None = None,
    ) -> WaSearchCup | None:
        ctx = ctx_of(info)
        flt = to_params(filter) or {}
        found: wa_groups.WaSearchCup = await read(
            info,
            lambda s: wa_groups.wa_search_multi(
                s, ctx.org_id, flt, to_opts(wa_group_opts), to_opts(wa_message_opts), ctx.viewer
            ),
        )
        await ahead(info, found.wa_groups, "waGroups")
        await ahead(info, found.wa_messages, "waMessages")
        return WaSearchCup(
            wa_groups=cast(Any, found.wa_groups), wa_messages=cast(Any, found.wa_messages)
        )


@strawberry.type
class WaGroupMutation:
    @strawberry.mutation(permission_classes=[Staff])
    async def create_wa_groups_collection(
        self, info: Info, input: WaGroupsCollectionInput
    ) -> WaGroupsCollectionResult | None:
        ctx = ctx_of(info)
        params = to_params(input) or {}
        made, errors = await payload(
            info, lambda s: wa_groups.create_wa_groups_collection(s, ctx.org_id, params)
        )
        return WaGroupsCollectionResult(wa_groups_collection=made, errors=errors)

    @strawberry.mutation(
        permission_classes=[Staff],
        description="Add WA groups to a collection and remove others. An unknown id (or "
        "another organization's) refuses the whole change with a top-level error.",
    )
    async def update_collection_wa_group(
        self, info: Info, input: UpdateCollectionWaGroupInput
    ) -> CollectionWaGroupResult | None:
        ctx = ctx_of(info)
        params = to_params(input) or {}
        # No errors field in Glific's answer: a refusal is a top-level error.
        async with ctx.write() as session:
            added, removed = await wa_groups.update_collection_wa_groups(
                session, ctx.org_id, params
            )
        return CollectionWaGroupResult(
            wa_groups_deleted=removed, collection_wa_groups=cast(Any, added)
        )

    @strawberry.mutation(
        permission_classes=[Staff],
        description="Put one WA group in collections and take it out of others. An unknown "
        "id (or another organization's) refuses the whole change with a top-level error.",
    )
    async def update_wa_group_collection(
        self, info: Info, input: UpdateWaGroupsCollectionInput
    ) -> CollectionWaGroupResult | None:
        ctx = ctx_of(info)
        params = to_params(input) or {}
        async with ctx.write() as session:
            added, removed = await wa_groups.update_wa_group_collections(
                session, ctx.org_id, params
            )
        return CollectionWaGroupResult(
            wa_groups_deleted=removed, collection_wa_groups=cast(Any, added)
        )
