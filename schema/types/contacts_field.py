"""`ContactsField` and `ContactsFieldResult`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from resolvers import contacts_fields
from schema.enums import ContactFieldScopeEnum, ContactFieldValueTypeEnum
from schema.loaders import ORGANIZATION
from schema.types.common import InputError, related
from schema.types.user import Organization


@strawberry.type(name="ContactsField")
class ContactsField:
    id: strawberry.ID | None
    name: str | None
    shortcode: str | None
    value_type: ContactFieldValueTypeEnum | None
    scope: ContactFieldScopeEnum | None
    inserted_at: datetime | None
    updated_at: datetime | None

    @strawberry.field(description="How flows refer to the field, e.g. @contact.fields.age")
    def variable(self) -> str | None:
        row: Any = self
        return contacts_fields.variable_of(row)

    organization: Organization | None = related(ORGANIZATION, "organization_id")


@strawberry.type(name="ContactsFieldResult")
class ContactsFieldResult:
    contacts_field: ContactsField | None = None
    errors: list[InputError | None] | None = None
