"""Root fields of the chat screen's conversation list and saved searches: Glific's `search`,
`searchMulti`, `savedSearches`, `savedSearch`, `countSavedSearches`, `savedSearchCount` and
`collectionStats` (staff), and the saved-search mutations (manager)."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from resolvers import searches
from schema.columns import columns_read
from schema.fields.common import ahead, ctx_of, payload, query_row, query_rows, read
from schema.inputs import Opts, to_opts, to_params
from schema.permissions import Manager, Staff
from schema.scalars import JsonValue
from schema.types.search import (
    Conversation,
    SavedSearch,
    SavedSearchFilter,
    SavedSearchInput,
    SavedSearchResult,
    SaveSearchInput,
    SearchCup,
    SearchFilter,
)


@strawberry.type
class SearchQuery:
    @strawberry.field(
        permission_classes=[Staff],
        description="The conversation list: contacts by latest communication, each with its "
        "latest messages (newest first).",
    )
    async def search(
        self,
        info: Info,
        filter: SearchFilter,
        message_opts: Opts,
        contact_opts: Opts,
        save_search: bool | None = False,
        save_search_input: SaveSearchInput | None = None,
    ) -> list[Conversation | None] | None:
        ctx = ctx_of(info)
        flt = to_params(filter)
        if save_search_input is not None:
            args = searches.stored_args(flt, to_params(contact_opts), to_params(message_opts))
            label = to_params(save_search_input)
            # As in Glific, a search that cannot be saved is still run.
            await payload(info, lambda s: searches.save_search(s, ctx.org_id, label, args))
        needs = columns_read(info)
        columns = searches.Columns(
            contact=needs.get("Contact"), message=needs.get("Message"), group=needs.get("Group")
        )
        found: Any = await ctx.read(
            searches.search,
            ctx.org_id,
            ctx.viewer,
            flt,
            to_opts(contact_opts),
            to_opts(message_opts),
            columns,
        )
        await ahead(info, [c.contact for c in found if c.contact is not None], "contact")
        await ahead(info, [m for c in found for m in c.messages], "messages")
        return found

    @strawberry.field(
        permission_classes=[Staff],
        description="The chat screen's search box: contacts by name or phone, messages by body "
        "and by flow label, newest first.",
    )
    async def search_multi(
        self, info: Info, filter: SearchFilter, message_opts: Opts, contact_opts: Opts
    ) -> SearchCup | None:
        ctx = ctx_of(info)
        found: Any = await ctx.read(
            searches.search_multi,
            ctx.org_id,
            ctx.viewer,
            to_params(filter),
            to_opts(contact_opts),
            to_opts(message_opts),
        )
        for name in ("contacts", "messages", "labels"):
            await ahead(info, getattr(found, name), name)
        return SearchCup(
            contacts=found.contacts, messages=found.messages, tags=found.tags, labels=found.labels
        )

    @strawberry.field(permission_classes=[Staff])
    async def saved_searches(
        self, info: Info, filter: SavedSearchFilter | None = None, opts: Opts | None = None
    ) -> list[SavedSearch | None] | None:
        org_id = ctx_of(info).org_id
        return await query_rows(
            info, searches.saved_searches_read(org_id, to_params(filter) or {}, to_opts(opts))
        )

    @strawberry.field(permission_classes=[Staff])
    async def saved_search(self, info: Info, id: strawberry.ID) -> SavedSearchResult | None:
        org_id = ctx_of(info).org_id
        found, errors = await query_row(
            info, lambda: searches.saved_search_read(org_id, id), "savedSearch"
        )
        return SavedSearchResult(saved_search=found, errors=errors)

    @strawberry.field(permission_classes=[Staff])
    async def count_saved_searches(
        self, info: Info, filter: SavedSearchFilter | None = None
    ) -> int | None:
        org_id = ctx_of(info).org_id
        return await read(
            info, lambda s: searches.count_saved_searches(s, org_id, to_params(filter) or {})
        )

    @strawberry.field(
        permission_classes=[Staff],
        description="How many conversations the saved search finds (with `term` added).",
    )
    async def saved_search_count(
        self, info: Info, id: strawberry.ID, term: str | None = None
    ) -> int | None:
        ctx = ctx_of(info)
        return await read(
            info, lambda s: searches.saved_search_count(s, ctx.org_id, ctx.viewer, id, term)
        )

    @strawberry.field(
        permission_classes=[Staff],
        description="Conversations per reserved saved search, keyed by organization id. The "
        "organization is the signed-in user's; the argument is not trusted.",
    )
    async def collection_stats(
        self, info: Info, organization_id: strawberry.ID
    ) -> JsonValue | None:
        org_id = ctx_of(info).org_id
        return JsonValue(await read(info, lambda s: searches.collection_stats(s, org_id)))


@strawberry.type
class SearchMutation:
    @strawberry.mutation(permission_classes=[Manager])
    async def create_saved_search(
        self, info: Info, input: SavedSearchInput
    ) -> SavedSearchResult | None:
        org_id = ctx_of(info).org_id
        created, errors = await payload(
            info, lambda s: searches.create_saved_search(s, org_id, to_params(input))
        )
        return SavedSearchResult(saved_search=created, errors=errors)

    @strawberry.mutation(permission_classes=[Manager])
    async def update_saved_search(
        self, info: Info, id: strawberry.ID, input: SavedSearchInput | None = None
    ) -> SavedSearchResult | None:
        org_id = ctx_of(info).org_id
        updated, errors = await payload(
            info,
            lambda s: searches.update_saved_search(s, org_id, id, to_params(input) or {}),
        )
        return SavedSearchResult(saved_search=updated, errors=errors)

    @strawberry.mutation(
        permission_classes=[Manager],
        description="Glific's quirk: a delete answers {savedSearch: null, errors: null}.",
    )
    async def delete_saved_search(self, info: Info, id: strawberry.ID) -> SavedSearchResult | None:
        org_id = ctx_of(info).org_id
        _, errors = await payload(info, lambda s: searches.delete_saved_search(s, org_id, id))
        return SavedSearchResult(saved_search=None, errors=errors)
