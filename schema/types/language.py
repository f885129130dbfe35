"""`Language` and `LanguageResult`."""

from __future__ import annotations

import strawberry

from schema.types.common import InputError


@strawberry.type(name="Language")
class Language:
    id: strawberry.ID | None
    label: str | None
    label_locale: str | None
    locale: str | None
    is_active: bool | None
    localized: bool | None


@strawberry.type(name="LanguageResult")
class LanguageResult:
    language: Language | None = None
    errors: list[InputError | None] | None = None
