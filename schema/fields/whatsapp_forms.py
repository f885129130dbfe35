"""WhatsApp forms (Meta's Flows, Glific's `whatsappForms`): not kept here, so the lists are
empty. Glific's web app asks for them on screens that are not behind the feature's flag
(the HSM template form offers a form as a button), and a field it asks for that the schema
lacks fails the whole query."""

from __future__ import annotations

from enum import StrEnum

import strawberry

from schema.permissions import Staff
from schema.scalars import JsonValue


@strawberry.enum(name="WhatsappFormStatusEnum")
class WhatsappFormStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    INACTIVE = "inactive"


@strawberry.type(name="Sheet", description="A Google sheet: not kept here.")
class Sheet:
    id: strawberry.ID | None
    label: str | None
    url: str | None


@strawberry.type(name="WhatsappFormRevision")
class WhatsappFormRevision:
    id: strawberry.ID | None
    whatsapp_form_id: strawberry.ID | None
    definition: JsonValue | None
    revision_number: int | None
    user_id: strawberry.ID | None
    is_current: bool | None


@strawberry.type(name="WhatsappForm")
class WhatsappForm:
    id: strawberry.ID | None
    name: str | None
    status: WhatsappFormStatus | None
    description: str | None
    meta_flow_id: str | None
    categories: list[str | None] | None
    sheet_id: strawberry.ID | None
    revision_id: int | None
    inserted_at: str | None
    updated_at: str | None
    sheet: Sheet | None
    revision: WhatsappFormRevision | None


@strawberry.input(name="WhatsappFormFilter")
class WhatsappFormFilter:
    name: str | None = strawberry.UNSET
    meta_flow_id: str | None = strawberry.UNSET
    status: WhatsappFormStatus | None = strawberry.UNSET


@strawberry.type
class WhatsappFormQuery:
    @strawberry.field(
        permission_classes=[Staff], description="Always empty: WhatsApp forms are not kept here."
    )
    def list_whatsapp_forms(
        self, filter: WhatsappFormFilter | None = None
    ) -> list[WhatsappForm | None] | None:
        return []

    @strawberry.field(
        permission_classes=[Staff], description="Always 0: WhatsApp forms are not kept here."
    )
    def count_whatsapp_forms(self, filter: WhatsappFormFilter | None = None) -> int | None:
        return 0
