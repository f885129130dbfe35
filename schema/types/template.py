"""`SessionTemplate` (Glific's message templates) and `SessionTemplateResult`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from resolvers import messages, templates
from schema.enums import MessageTypeEnum, TemplateButtonTypeEnum
from schema.loaders import LANGUAGE, TAG
from schema.scalars import JsonValue
from schema.types.common import COLUMNS, InputError, related
from schema.types.flow import Tag
from schema.types.language import Language
from schema.types.message import MessageMedia


@strawberry.type(
    name="SessionTemplate",
    description="A saved message; an HSM one stands for a template the provider approved "
    "(`uuid`, its id there), the only message that may go outside the 24-hour window.",
)
class SessionTemplate:
    id: strawberry.ID | None
    label: str | None
    body: str | None
    shortcode: str | None
    is_hsm: bool | None
    number_parameters: int | None
    is_reserved: bool | None
    is_active: bool | None
    is_source: bool | None
    translations: JsonValue | None
    uuid: str | None
    status: str | None
    category: str | None
    example: str | None
    inserted_at: datetime | None
    updated_at: datetime | None
    footer: str | None
    has_buttons: bool | None
    buttons: JsonValue | None

    language: Language | None = related(LANGUAGE, "language_id")
    tag: Tag | None = related(TAG, "tag_id")

    @strawberry.field(metadata={COLUMNS: ("type",)})
    def type(self) -> MessageTypeEnum | None:
        row: Any = self
        return messages.type_of(row.type)

    @strawberry.field(metadata={COLUMNS: ("button_type",)})
    def button_type(self) -> TemplateButtonTypeEnum | None:
        row: Any = self
        return templates.ButtonType(row.button_type) if row.button_type else None

    @strawberry.field(
        metadata={COLUMNS: ("uuid",)},
        description="The provider's id of the template (Glific's `bsp_id`): `uuid` here.",
    )
    def bsp_id(self) -> str | None:
        row: Any = self
        return str(row.uuid) if row.uuid is not None else None

    @strawberry.field(metadata={COLUMNS: ()}, description="Meta's quality rating: not kept here.")
    def quality(self) -> str | None:
        return None

    @strawberry.field(
        metadata={COLUMNS: ()},
        description="Why the provider rejected the template: templates are approved at the "
        "provider and recorded here approved, so never one.",
    )
    def reason(self) -> str | None:
        return None

    @strawberry.field(
        metadata={COLUMNS: ()}, description=f"Always null: {templates.MEDIA_NOT_KEPT}."
    )
    def message_media(self) -> MessageMedia | None:
        return None

    @strawberry.field(
        name="MessageMedia",
        metadata={COLUMNS: ()},
        description="`messageMedia` by the name Glific's web app asks for it (Absinthe reads "
        "both).",
    )
    def message_media_as_the_web_app_names_it(self) -> MessageMedia | None:
        return None


@strawberry.type(name="SessionTemplateResult")
class SessionTemplateResult:
    session_template: SessionTemplate | None = None
    errors: list[InputError | None] | None = None
