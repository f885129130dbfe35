"""Root fields for contacts and contact history."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from resolvers import contacts, history
from schema.fields.common import ahead, ctx_of, lookup, payload, query_row, query_rows, read
from schema.inputs import (
    ContactFilter,
    ContactInput,
    ContactsHistoryFilter,
    Opts,
    to_opts,
    to_params,
)
from schema.permissions import Manager, Staff
from schema.types.contact import Contact, ContactHistory, ContactResult, Location


@strawberry.type
class ContactQuery:
    @strawberry.field(permission_classes=[Staff])
    async def contact(self, info: Info, id: strawberry.ID) -> ContactResult | None:
        ctx = ctx_of(info)
        found, errors = await query_row(
            info, lambda: contacts.contact_read(ctx.org_id, id, ctx.viewer), "contact"
        )
        return ContactResult(contact=found, errors=errors)

    @strawberry.field(permission_classes=[Staff])
    async def contact_by_phone(self, info: Info, phone: str) -> ContactResult | None:
        viewer = ctx_of(info).viewer
        found, errors = await lookup(
            info, lambda s: contacts.contact_by_phone(s, ctx_of(info).org_id, phone, viewer)
        )
        return ContactResult(contact=await ahead(info, found, "contact"), errors=errors)

    @strawberry.field(permission_classes=[Staff])
    async def contacts(
        self, info: Info, filter: ContactFilter | None = None, opts: Opts | None = None
    ) -> list[Contact | None] | None:
        ctx = ctx_of(info)
        flt, listing = to_params(filter) or {}, to_opts(opts)
        return await query_rows(info, contacts.contacts_read(ctx.org_id, flt, listing, ctx.viewer))

    @strawberry.field(permission_classes=[Staff])
    async def count_contacts(self, info: Info, filter: ContactFilter | None = None) -> int | None:
        ctx = ctx_of(info)
        return await read(
            info,
            lambda s: contacts.count_contacts(s, ctx.org_id, to_params(filter) or {}, ctx.viewer),
        )

    @strawberry.field(permission_classes=[Staff])
    async def contact_history(
        self, info: Info, filter: ContactsHistoryFilter | None = None, opts: Opts | None = None
    ) -> list[ContactHistory | None] | None:
        org_id = ctx_of(info).org_id
        return await read(
            info, lambda s: history.list_history(s, org_id, to_params(filter) or {}, to_opts(opts))
        )

    @strawberry.field(permission_classes=[Staff])
    async def count_contact_history(
        self, info: Info, filter: ContactsHistoryFilter | None = None
    ) -> int | None:
        org_id = ctx_of(info).org_id
        return await read(info, lambda s: history.count_history(s, org_id, to_params(filter) or {}))

    @strawberry.field(permission_classes=[Manager])
    async def contact_location(self, info: Info, id: strawberry.ID) -> Location | None:
        org_id = ctx_of(info).org_id
        found, _ = await lookup(info, lambda s: contacts.contact_location(s, org_id, id))
        return found


@strawberry.type
class ContactMutation:
    @strawberry.mutation(permission_classes=[Manager])
    async def create_contact(self, info: Info, input: ContactInput) -> ContactResult | None:
        org_id = ctx_of(info).org_id
        created, errors = await payload(
            info, lambda s: contacts.create_contact(s, org_id, to_params(input)), "contact"
        )
        return ContactResult(contact=created, errors=errors)

    @strawberry.mutation(permission_classes=[Staff])
    async def update_contact(
        self, info: Info, id: strawberry.ID, input: ContactInput | None = None
    ) -> ContactResult | None:
        org_id = ctx_of(info).org_id
        updated, errors = await payload(
            info,
            lambda s: contacts.update_contact(s, org_id, id, to_params(input) or {}),
            "contact",
        )
        return ContactResult(contact=updated, errors=errors)

    @strawberry.mutation(permission_classes=[Manager])
    async def delete_contact(self, info: Info, id: strawberry.ID) -> ContactResult | None:
        org_id = ctx_of(info).org_id
        _, errors = await payload(info, lambda s: contacts.delete_contact(s, org_id, id))
        return ContactResult(contact=None, errors=errors)

    @strawberry.mutation(permission_classes=[Manager])
    async def optin_contact(
        self, info: Info, phone: str, name: str | None = None
    ) -> ContactResult | None:
        org_id = ctx_of(info).org_id
        contact, errors = await payload(
            info, lambda s: contacts.optin_contact(s, org_id, phone, name), "contact"
        )
        return ContactResult(contact=contact, errors=errors)
