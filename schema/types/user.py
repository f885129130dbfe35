"""`User`, `Group`, `AccessRole`, `Organization`: the people and places around contacts."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from resolvers.roles import role_labels
from schema.enums import OrganizationStatusEnum
from schema.loaders import (
    ACCESS_ROLES_OF_USER,
    CONTACT,
    CONTACTS_OF_GROUP,
    GROUPS_OF_USER,
    LANGUAGE,
    ORGANIZATION,
    USERS_OF_GROUP,
)
from schema.scalars import JsonValue, RoleLabel
from schema.types.common import InputError, related
from schema.types.language import Language

if TYPE_CHECKING:
    from schema.types.contact import Contact

ContactRef = Annotated["Contact", strawberry.lazy("schema.types.contact")]


@strawberry.type(name="AccessRole")
class AccessRole:
    id: strawberry.ID | None
    label: str | None
    description: str | None
    is_reserved: bool | None
    inserted_at: datetime | None
    updated_at: datetime | None


@strawberry.type(name="Organization")
class Organization:
    id: strawberry.ID | None
    name: str | None
    shortcode: str | None
    email: str | None
    fields: JsonValue | None
    is_active: bool | None
    is_approved: bool | None
    status: OrganizationStatusEnum | None
    timezone: str | None
    is_contact_profile_enabled: bool | None
    inserted_at: datetime | None
    updated_at: datetime | None

    contact: ContactRef | None = related(CONTACT, "contact_id")
    default_language: Language | None = related(LANGUAGE, "default_language_id")


@strawberry.type(name="Group")
class Group:
    id: strawberry.ID | None
    label: str | None
    description: str | None
    is_restricted: bool | None
    last_communication_at: datetime | None

    users: list[User | None] | None = related(USERS_OF_GROUP, "id")
    contacts: list[ContactRef | None] | None = related(CONTACTS_OF_GROUP, "id")

    @strawberry.field
    async def users_count(self, info: Info) -> int | None:
        row: Any = self
        return len(await info.context.fetch(USERS_OF_GROUP.name, row.id))

    @strawberry.field
    async def contacts_count(self, info: Info) -> int | None:
        row: Any = self
        return len(await info.context.fetch(CONTACTS_OF_GROUP.name, row.id))


@strawberry.type(name="User")
class User:
    id: strawberry.ID | None
    name: str | None
    phone: str | None
    email: str | None
    inserted_at: datetime | None
    updated_at: datetime | None

    @strawberry.field
    def roles(self) -> list[RoleLabel | None] | None:
        row: Any = self
        return [RoleLabel(label) for label in role_labels(row.roles or [])]

    @strawberry.field
    def is_restricted(self, info: Info) -> bool | None:
        row: Any = self
        return None if info.context.is_staff else row.is_restricted

    contact: ContactRef | None = related(CONTACT, "contact_id")
    language: Language | None = related(LANGUAGE, "language_id")
    groups: list[Group | None] | None = related(GROUPS_OF_USER, "id")

    @strawberry.field
    def access_roles(self, info: Info) -> list[AccessRole | None] | None:
        row: Any = self
        return info.context.lookup(ACCESS_ROLES_OF_USER.name, row)

    organization: Organization | None = related(ORGANIZATION, "organization_id")


@strawberry.type(name="UserResult")
class UserResult:
    user: User | None = None
    errors: list[InputError | None] | None = None
