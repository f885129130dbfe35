"""`SessionTemplate` (Glific's message templates) and `SessionTemplateResult`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from resolvers import messages
from schema.enums import MessageTypeEnum
from schema.loaders import LANGUAGE
from schema.scalars import JsonValue
from schema.types.common import COLUMNS, InputError, related
from schema.types.language import Language


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

    language: Language | None = related(LANGUAGE, "language_id")

    @strawberry.field(metadata={COLUMNS: ("type",)})
    def type(self) -> MessageTypeEnum | None:
        row: Any = self
        return messages.type_of(row.type)


@strawberry.type(name="SessionTemplateResult")
class SessionTemplateResult:
    session_template: SessionTemplate | None = None
    errors: list[InputError | None] | None = None
