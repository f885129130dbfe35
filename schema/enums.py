"""Enums as Glific names them: upper-case values over the lower-case stored strings. Each is
the resolvers' own enum (the values live once, next to the rules that use them), registered
under Glific's name."""

from __future__ import annotations

import strawberry

from resolvers import contacts, contacts_fields, imports, organizations, querying

SortOrder = strawberry.enum(querying.Order, name="SortOrder")
ContactStatusEnum = strawberry.enum(contacts.ContactStatus, name="ContactStatusEnum")
ContactProviderStatusEnum = strawberry.enum(
    contacts.ProviderStatus, name="ContactProviderStatusEnum"
)
ContactFieldValueTypeEnum = strawberry.enum(
    contacts_fields.ValueType, name="ContactFieldValueTypeEnum"
)
ContactFieldScopeEnum = strawberry.enum(contacts_fields.Scope, name="ContactFieldScopeEnum")
ImportContactsTypeEnum = strawberry.enum(imports.SourceType, name="ImportContactsTypeEnum")
OrganizationStatusEnum = strawberry.enum(
    organizations.OrganizationStatus, name="OrganizationStatusEnum"
)
