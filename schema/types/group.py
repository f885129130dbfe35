"""What the collections screen's mutations answer: memberships (`ContactGroup`,
`UserGroup`) and how many were removed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from schema.loaders import CONTACT, GROUP, USER
from schema.types.common import COLUMNS, InputError, related
from schema.types.user import Group, User

if TYPE_CHECKING:
    from schema.types.contact import Contact

ContactRef = Annotated["Contact", strawberry.lazy("schema.types.contact")]


@strawberry.type(name="ContactGroup")
class ContactGroup:
    id: strawberry.ID | None
    contact: ContactRef | None = related(CONTACT, "contact_id")
    group: Group | None = related(GROUP, "group_id")

    @strawberry.field(metadata={COLUMNS: ()})
    def value(self) -> str | None:
        return None


@strawberry.type(name="UserGroup")
class UserGroup:
    id: strawberry.ID | None
    user: User | None = related(USER, "user_id")
    group: Group | None = related(GROUP, "group_id")

    @strawberry.field(metadata={COLUMNS: ()})
    def value(self) -> str | None:
        return None


@strawberry.type(name="GroupResult")
class GroupResult:
    group: Group | None = None
    errors: list[InputError | None] | None = None


@strawberry.type(name="GroupContacts")
class GroupContacts:
    number_deleted: int | None = 0
    group_contacts: list[ContactGroup | None] | None = None


@strawberry.type(name="ContactGroups")
class ContactGroups:
    number_deleted: int | None = 0
    contact_groups: list[ContactGroup | None] | None = None


@strawberry.type(name="GroupUsers")
class GroupUsers:
    number_deleted: int | None = 0
    group_users: list[UserGroup | None] | None = None


@strawberry.type(name="ExportCollectionResult")
class ExportCollectionResult:
    status: str | None = None
    errors: list[InputError | None] | None = None
