"""`Contact`, its history and location, and the contact result/report types."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from resolvers.phones import mask_phone
from schema.enums import ContactProviderStatusEnum, ContactStatusEnum
from schema.loaders import (
    GROUPS_OF_CONTACT,
    HISTORY_OF_CONTACT,
    LANGUAGE,
    PROFILE,
    PROFILES_OF_CONTACT,
    WA_GROUPS_OF_CONTACT,
    WA_GROUPS_SEEN_BY,
)
from schema.scalars import JsonValue
from schema.types.common import COLUMNS, InputError, contextual, related
from schema.types.language import Language
from schema.types.profile import Profile

if TYPE_CHECKING:
    from schema.types.user import Group
    from schema.types.wa_group import WaGroup


@strawberry.type(name="ContactHistory")
class ContactHistory:
    id: strawberry.ID | None
    event_type: str | None
    event_label: str | None
    event_meta: JsonValue | None
    event_datetime: datetime | None
    inserted_at: datetime | None
    updated_at: datetime | None

    profile: Profile | None = related(PROFILE, "profile_id")


def _phone_seen_by(row: Any, context: Any) -> str | None:
    """A staff user is never shown a contact's number."""
    return "" if context.is_staff else row.phone


@strawberry.type(name="Contact")
class Contact:
    id: strawberry.ID | None
    name: str | None
    status: ContactStatusEnum | None
    bsp_status: ContactProviderStatusEnum | None
    is_org_read: bool | None
    is_org_replied: bool | None
    is_contact_replied: bool | None
    last_message_number: int | None
    optin_time: datetime | None
    optout_time: datetime | None
    optin_method: str | None
    optout_method: str | None
    fields: JsonValue | None
    settings: JsonValue | None
    last_message_at: datetime | None
    last_communication_at: datetime | None
    inserted_at: datetime | None
    updated_at: datetime | None

    phone: str | None = contextual(_phone_seen_by, columns=("phone",))

    @strawberry.field(metadata={COLUMNS: ("phone",)})
    def masked_phone(self) -> str | None:
        row: Any = self
        return mask_phone(row.phone)

    active_profile: Profile | None = related(PROFILE, "active_profile_id")
    profiles: list[Profile | None] | None = related(
        PROFILES_OF_CONTACT,
        "id",
        description="All profiles of this contact, the default one first.",
    )
    language: Language | None = related(LANGUAGE, "language_id")
    groups: list[Annotated[Group, strawberry.lazy("schema.types.user")] | None] | None = related(
        GROUPS_OF_CONTACT, "id"
    )
    history: list[ContactHistory | None] | None = related(HISTORY_OF_CONTACT, "id")

    @strawberry.field(
        metadata={COLUMNS: ("id",)},
        description="The WhatsApp groups it is in; for a restricted staff user, only those of"
        " the collections assigned to them.",
    )
    async def wa_groups(
        self, info: Info
    ) -> list[Annotated[WaGroup, strawberry.lazy("schema.types.wa_group")] | None] | None:
        row: Any = self
        groups = await info.context.fetch(WA_GROUPS_OF_CONTACT.name, row.id)
        viewer = info.context.viewer
        if not viewer.restricted:
            return list(groups)
        seen = set(await info.context.fetch(WA_GROUPS_SEEN_BY.name, viewer.user_id))
        return [group for group in groups if group.id in seen]


@strawberry.type(name="ContactResult")
class ContactResult:
    contact: Contact | None = None
    errors: list[InputError | None] | None = None


@strawberry.type(name="Location")
class Location:
    longitude: float | None
    latitude: float | None


@strawberry.type(name="ImportResult")
class ImportResult:
    status: str | None = None
    errors: list[InputError | None] | None = None
    user_job_id: strawberry.ID | None = strawberry.field(
        default=None, description="Pass to getContactUploadReport for the per-row report."
    )


@strawberry.type(name="ContactUploadReport")
class ContactUploadReport:
    csv_rows: str | None = None
    error: str | None = None
