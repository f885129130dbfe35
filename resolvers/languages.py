"""Languages: global rows shared by every organization; only glific_admin may change them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from models import Contact, Language, Organization, Profile, unscoped
from resolvers import validation as v
from resolvers.errors import InputErrors
from resolvers.querying import ListOpts, apply_opts, ilike, records, to_int_id

_COLUMNS = {
    "id": Language.id,
    "label": Language.label,
    "label_locale": Language.label_locale,
    "locale": Language.locale,
    "is_active": Language.is_active,
    "localized": Language.localized,
    "inserted_at": Language.inserted_at,
    "updated_at": Language.updated_at,
}


def _not_found(raw_id: Any) -> InputErrors:
    return InputErrors.raw(f"Elixir.Glific.Settings.Language {raw_id}", "Resource not found")


async def get_language(session: AsyncSession, raw_id: Any) -> Language:
    try:
        lid = to_int_id(raw_id)
    except InputErrors:
        raise _not_found(raw_id) from None
    language = await session.get(Language, lid)
    if language is None:
        raise _not_found(raw_id)
    return language


_BY_IDS = unscoped(records(Language).where(Language.id.in_(bindparam("ids", expanding=True))))


async def languages_by_ids(session: AsyncSession, ids: list[int]) -> dict[int, Any]:
    rows = await session.execute(_BY_IDS, {"ids": ids})
    return {row.id: row for row in rows}


async def language_by_locale(session: AsyncSession, locale: str) -> Language | None:
    return await session.scalar(
        select(Language).where(func.lower(Language.locale) == locale.lower()).order_by(Language.id)
    )


def _filtered(stmt: Any, flt: dict[str, Any]) -> Any:
    if flt.get("label"):
        stmt = stmt.where(
            or_(ilike(Language.label, flt["label"]), ilike(Language.label_locale, flt["label"]))
        )
    if flt.get("locale"):
        stmt = stmt.where(ilike(Language.locale, flt["locale"]))
    if flt.get("localized") is not None:
        stmt = stmt.where(Language.localized == flt["localized"])
    return stmt


async def list_languages(
    session: AsyncSession, flt: dict[str, Any], opts: ListOpts
) -> list[Language]:
    stmt = apply_opts(
        _filtered(select(Language), flt),
        opts,
        columns=_COLUMNS,
        default_field="label",
        tiebreak=Language.id,
    )
    return list((await session.scalars(stmt)).all())


async def count_languages(session: AsyncSession, flt: dict[str, Any]) -> int:
    stmt = _filtered(select(func.count()).select_from(Language), flt)
    return int((await session.execute(stmt)).scalar_one())


def _apply(language: Language, params: dict[str, Any], *, creating: bool) -> None:
    for key in ("label", "label_locale", "locale"):
        if creating or key in params:
            setattr(language, key, v.text(params, key, required=True))
    if "description" in params:
        language.description = v.text(params, "description", max_len=10_000)
    for key in ("is_active", "is_reserved", "localized"):
        value = v.boolean(params, key)
        if value is not None:
            setattr(language, key, value)


async def _save(session: AsyncSession, language: Language) -> Language:
    clash = await session.scalar(
        select(Language.id).where(
            Language.label == language.label,
            Language.locale == language.locale,
            Language.id != (language.id or 0),
        )
    )
    if clash is not None:
        raise InputErrors.field("label", "has already been taken")
    session.add(language)
    try:
        await session.flush()
    except IntegrityError:
        raise InputErrors.field("label", "has already been taken") from None
    return language


async def create_language(session: AsyncSession, params: dict[str, Any]) -> Language:
    language = Language()
    _apply(language, params, creating=True)
    return await _save(session, language)


async def update_language(session: AsyncSession, raw_id: Any, params: dict[str, Any]) -> Language:
    language = await get_language(session, raw_id)
    _apply(language, params, creating=False)
    return await _save(session, language)


async def delete_language(session: AsyncSession, raw_id: Any) -> None:
    """Refused while anyone, in any organization, still uses the language (run this on a
    session opened with `all_organizations=True`)."""
    language = await get_language(session, raw_id)
    users = (
        select(Contact.id).where(Contact.language_id == language.id),
        select(Profile.id).where(Profile.language_id == language.id),
        select(Organization.id).where(Organization.default_language_id == language.id),
    )
    for stmt in users:
        if await session.scalar(stmt.limit(1)) is not None:
            raise InputErrors.field(
                "language", "is still used by contacts, profiles or organizations"
            )
    await session.delete(language)
    await session.flush()
