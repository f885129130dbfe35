"""Root fields for tags: staff read them (the flow list's tag filter); managers create,
change and delete them."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from resolvers import tags
from schema.fields.common import ctx_of, lookup, payload, read
from schema.inputs import Opts, to_opts, to_params
from schema.permissions import Manager, Staff
from schema.types.flow import Tag, TagResult


@strawberry.input(name="TagFilter")
class TagFilter:
    label: str | None = strawberry.UNSET
    shortcode: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    parent: str | None = strawberry.UNSET
    parent_id: int | None = strawberry.UNSET
    language: str | None = strawberry.UNSET
    language_id: int | None = strawberry.UNSET
    is_active: bool | None = strawberry.UNSET
    is_reserved: bool | None = strawberry.UNSET


@strawberry.input(name="TagInput")
class TagInput:
    label: str | None = strawberry.UNSET
    shortcode: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    color_code: str | None = strawberry.UNSET
    is_active: bool | None = strawberry.UNSET
    is_reserved: bool | None = strawberry.UNSET
    language_id: strawberry.ID | None = strawberry.UNSET
    parent_id: strawberry.ID | None = strawberry.UNSET
    keywords: list[str | None] | None = strawberry.UNSET


@strawberry.type
class TagQuery:
    @strawberry.field(permission_classes=[Staff])
    async def tags(
        self, info: Info, filter: TagFilter | None = None, opts: Opts | None = None
    ) -> list[Tag | None] | None:
        ctx = ctx_of(info)
        flt = to_params(filter) or {}
        return await read(info, lambda s: tags.list_tags(s, ctx.org_id, flt, to_opts(opts)))

    @strawberry.field(permission_classes=[Staff])
    async def count_tags(self, info: Info, filter: TagFilter | None = None) -> int | None:
        ctx = ctx_of(info)
        flt = to_params(filter) or {}
        return await read(info, lambda s: tags.count_tags(s, ctx.org_id, flt))

    @strawberry.field(permission_classes=[Staff])
    async def tag(self, info: Info, id: strawberry.ID) -> TagResult | None:
        ctx = ctx_of(info)
        found, errors = await lookup(info, lambda s: tags.get_tag(s, ctx.org_id, id))
        return TagResult(tag=found, errors=errors)


@strawberry.type
class TagMutation:
    @strawberry.mutation(permission_classes=[Manager])
    async def create_tag(self, info: Info, input: TagInput) -> TagResult | None:
        ctx = ctx_of(info)
        params = to_params(input) or {}
        made, errors = await payload(info, lambda s: tags.create_tag(s, ctx.org_id, params))
        return TagResult(tag=made, errors=errors)

    @strawberry.mutation(permission_classes=[Manager])
    async def update_tag(
        self, info: Info, id: strawberry.ID, input: TagInput | None = None
    ) -> TagResult | None:
        ctx = ctx_of(info)
        params = to_params(input) or {}
        changed, errors = await payload(info, lambda s: tags.update_tag(s, ctx.org_id, id, params))
        return TagResult(tag=changed, errors=errors)

    @strawberry.mutation(permission_classes=[Manager])
    async def delete_tag(self, info: Info, id: strawberry.ID) -> TagResult | None:
        ctx = ctx_of(info)
        _, errors = await payload(info, lambda s: tags.delete_tag(s, ctx.org_id, id))
        return TagResult(tag=None, errors=errors)
