"""`User`, `Group`, `AccessRole`, `Organization`: the people and places around contacts."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from resolvers import organization_view as view
from resolvers.roles import role_labels
from schema.enums import OrganizationStatusEnum
from schema.loaders import (
    ACCESS_ROLES_OF_USER,
    CONTACT,
    CONTACTS_OF_GROUP,
    GROUPS_OF_USER,
    LANGUAGE,
    MESSAGES_OF_GROUP,
    ORGANIZATION,
    USERS_OF_GROUP,
    WA_GROUPS_OF_GROUP,
)
from schema.scalars import JsonValue, RoleLabel
from schema.types.common import COLUMNS, InputError, related
from schema.types.language import Language
from schema.types.organization import OutOfOffice, Provider, RegxFlow, Setting

if TYPE_CHECKING:
    from schema.types.contact import Contact
    from schema.types.message import Message
    from schema.types.wa_group import WaGroup

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

    @strawberry.field
    async def active_languages(self, info: Info) -> list[Language | None] | None:
        row: Any = self
        return await info.context.read(lambda s: view.active_languages(s, row))

    @strawberry.field
    async def bsp(self, info: Info) -> Provider | None:
        row: Any = self
        return Provider.of(await info.context.read(lambda s: view.bsp(s, row.id)))

    @strawberry.field
    def out_of_office(self) -> OutOfOffice | None:
        row: Any = self
        return OutOfOffice.of(view.out_of_office(row))

    @strawberry.field
    def setting(self) -> Setting | None:
        row: Any = self
        return Setting(**view.setting(row))

    @strawberry.field
    def regx_flow(self) -> RegxFlow | None:
        row: Any = self
        found = view.regx_flow(row)
        return (
            None
            if found is None
            else RegxFlow(
                flow_id=found.get("flow_id"), regx=found.get("regx"), regx_opt=found.get("regx_opt")
            )
        )

    @strawberry.field
    def newcontact_flow_id(self) -> strawberry.ID | None:
        row: Any = self
        found = view.flow_setting(row, "newcontact_flow_id")
        return None if found is None else strawberry.ID(found)

    @strawberry.field
    def optin_flow_id(self) -> strawberry.ID | None:
        row: Any = self
        found = view.flow_setting(row, "optin_flow_id")
        return None if found is None else strawberry.ID(found)

    @strawberry.field
    def signature_phrase(self, info: Info) -> str | None:
        row: Any = self
        return view.signature_phrase(row, staff_only=info.context.is_staff)

    @strawberry.field
    def is_suspended(self) -> bool | None:
        row: Any = self
        return row.status in ("suspended", "forced_suspension")

    # Glific's trial, suspension and feature columns: fixed here (no trials, no
    # suspensions; the features are off, as `organizationServices` says).
    @strawberry.field(metadata={COLUMNS: ()})
    def suspended_until(self) -> datetime | None:
        return None

    @strawberry.field(metadata={COLUMNS: ()})
    def session_limit(self) -> int | None:
        return 60

    @strawberry.field(metadata={COLUMNS: ()})
    def last_communication_at(self) -> datetime | None:
        return None

    @strawberry.field(metadata={COLUMNS: ()})
    def is_trial_org(self) -> bool | None:
        return False

    @strawberry.field(metadata={COLUMNS: ()})
    def trial_expiration_date(self) -> datetime | None:
        return None

    @strawberry.field(metadata={COLUMNS: ()})
    def is_flow_uuid_display(self) -> bool | None:
        return False

    @strawberry.field(metadata={COLUMNS: ()})
    def is_roles_and_permission(self) -> bool | None:
        return False

    @strawberry.field(metadata={COLUMNS: ()})
    def is_ticketing_enabled(self) -> bool | None:
        return False

    @strawberry.field(metadata={COLUMNS: ()})
    def is_auto_translation_enabled(self) -> bool | None:
        return False

    @strawberry.field(metadata={COLUMNS: ()})
    def is_whatsapp_group_enabled(self) -> bool | None:
        return False

    @strawberry.field(metadata={COLUMNS: ()})
    def is_certificate_enabled(self) -> bool | None:
        return False

    @strawberry.field(metadata={COLUMNS: ()})
    def is_whatsapp_forms_enabled(self) -> bool | None:
        return False

    @strawberry.field(metadata={COLUMNS: ()})
    def is_copy_node_enabled(self) -> bool | None:
        return False

    @strawberry.field(metadata={COLUMNS: ()})
    def assistant_config_versions_enabled(self) -> bool | None:
        return False

    @strawberry.field(metadata={COLUMNS: ()})
    def is_prompt_generator_enabled(self) -> bool | None:
        return False

    @strawberry.field(metadata={COLUMNS: ()})
    def is_template_v2_enabled(self) -> bool | None:
        return False

    @strawberry.field(metadata={COLUMNS: ()})
    def is_template_library_enabled(self) -> bool | None:
        return False


@strawberry.type(name="OrganizationResult")
class OrganizationResult:
    organization: Organization | None = None
    errors: list[InputError | None] | None = None


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

    wa_groups: list[Annotated[WaGroup, strawberry.lazy("schema.types.wa_group")] | None] | None = (
        related(WA_GROUPS_OF_GROUP, "id", description="The WhatsApp groups it holds.")
    )

    @strawberry.field(metadata={COLUMNS: ("id",)}, description="The WA groups it holds.")
    async def wa_groups_count(self, info: Info) -> int | None:
        from schema.types.wa_group import WA_GROUPS_COUNT  # (it imports this module)

        row: Any = self
        return int(await info.context.fetch(WA_GROUPS_COUNT.name, row.id) or 0)

    messages: list[Annotated[Message, strawberry.lazy("schema.types.message")] | None] | None = (
        related(MESSAGES_OF_GROUP, "id", description="Messages sent to the collection as a whole.")
    )

    @strawberry.field(
        metadata={COLUMNS: ()},
        description="Always empty here: collections are not limited to dynamic roles.",
    )
    def roles(self) -> list[AccessRole | None] | None:
        return []


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
