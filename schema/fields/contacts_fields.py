"""Root fields for contact field definitions (all need the manager role, as in Glific)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from resolvers import contacts_fields
from schema.fields.common import ctx_of, lookup, payload, read
from schema.inputs import ContactsFieldFilter, ContactsFieldInput, Opts, to_opts, to_params
from schema.permissions import Manager
from schema.types.contacts_field import ContactsField, ContactsFieldResult


@strawberry.type
class ContactsFieldQuery:
    @strawberry.field(permission_classes=[Manager])
    async def contacts_field(self, info: Info, id: strawberry.ID) -> ContactsFieldResult | None:
        org_id = ctx_of(info).org_id
        found, errors = await lookup(info, lambda s: contacts_fields.fetch_field(s, org_id, id))
        return ContactsFieldResult(contacts_field=found, errors=errors)

    @strawberry.field(permission_classes=[Manager])
    async def contacts_fields(
        self, info: Info, filter: ContactsFieldFilter | None = None, opts: Opts | None = None
    ) -> list[ContactsField | None] | None:
        org_id = ctx_of(info).org_id
        return await read(
            info,
            lambda s: contacts_fields.list_fields(
                s, org_id, to_params(filter) or {}, to_opts(opts)
            ),
        )

    @strawberry.field(permission_classes=[Manager])
    async def count_contacts_fields(
        self, info: Info, filter: ContactsFieldFilter | None = None
    ) -> int | None:
        org_id = ctx_of(info).org_id
        return await read(
            info, lambda s: contacts_fields.count_fields(s, org_id, to_params(filter) or {})
        )


@strawberry.type
class ContactsFieldMutation:
    @strawberry.mutation(permission_classes=[Manager])
    async def create_contacts_field(
        self, info: Info, input: ContactsFieldInput
    ) -> ContactsFieldResult | None:
        org_id = ctx_of(info).org_id
        created, errors = await payload(
            info,
            lambda s: contacts_fields.create_field(s, org_id, to_params(input)),
            "contactsField",
        )
        return ContactsFieldResult(contacts_field=created, errors=errors)

    @strawberry.mutation(permission_classes=[Manager])
    async def update_contacts_field(
        self, info: Info, id: strawberry.ID, input: ContactsFieldInput | None = None
    ) -> ContactsFieldResult | None:
        org_id = ctx_of(info).org_id
        updated, errors = await payload(
            info,
            lambda s: contacts_fields.update_field(s, org_id, id, to_params(input) or {}),
            "contactsField",
        )
        return ContactsFieldResult(contacts_field=updated, errors=errors)

    @strawberry.mutation(permission_classes=[Manager])
    async def delete_contacts_field(
        self, info: Info, id: strawberry.ID, delete_assoc: bool | None = False
    ) -> ContactsFieldResult | None:
        org_id = ctx_of(info).org_id
        _, errors = await payload(
            info,
            lambda s: contacts_fields.delete_field(s, org_id, id, delete_assoc=bool(delete_assoc)),
        )
        return ContactsFieldResult(contacts_field=None, errors=errors)
