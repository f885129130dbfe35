"""`Profile` and `ProfileResult`."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from schema.loaders import CONTACT, LANGUAGE
from schema.scalars import JsonValue
from schema.types.common import InputError, related
from schema.types.language import Language

if TYPE_CHECKING:
    from schema.types.contact import Contact


@strawberry.type(name="Profile")
class Profile:
    id: strawberry.ID | None
    name: str | None
    type: str | None
    fields: JsonValue | None
    is_active: bool | None
    is_default: bool | None
    inserted_at: datetime | None
    updated_at: datetime | None

    language: Language | None = related(LANGUAGE, "language_id")
    contact: Annotated[Contact, strawberry.lazy("schema.types.contact")] | None = related(
        CONTACT, "contact_id"
    )


@strawberry.type(name="ProfileResult")
class ProfileResult:
    profile: Profile | None = None
    errors: list[InputError | None] | None = None
