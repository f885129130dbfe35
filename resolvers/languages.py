"""Languages: global rows shared by every organization; only glific_admin may change them."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import bindparam, event, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlmodel import col

from models import (
    Contact,
    Language,
    Organization,
    Profile,
    prepared,
    read_rows,
    records,
    unscoped,
)
from resolvers import validation as v
from resolvers.config import settings_of
from resolvers.errors import InputErrors
from resolvers.querying import ListOpts, apply_opts, ilike, to_int_id

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


_BY_IDS = prepared(
    unscoped(records(Language).where(col(Language.id).in_(bindparam("ids", expanding=True))))
)
# Languages are reference data that nearly every query shows (`contact { language { label } }`)
# and only glific_admin changes: rows are kept per database for LANGUAGE_CACHE_SECONDS. This
# process forgets them when a change commits; other processes may show an old label until then.
_cache: dict[tuple[str, int], tuple[float, Any]] = {}


def _database(session: AsyncSession) -> str:
    bind = session.bind
    if isinstance(bind, AsyncConnection):
        bind = bind.engine
    return str(bind.url) if bind is not None else ""


async def languages_by_ids(session: AsyncSession, ids: list[int]) -> dict[int, Any]:
    now, database = time.monotonic(), _database(session)
    found: dict[int, Any] = {}
    missing: list[int] = []
    for lid in ids:
        hit = _cache.get((database, lid))
        if hit is not None and hit[0] > now:
            found[lid] = hit[1]
        else:
            missing.append(lid)
    if missing:
        ttl = settings_of(session).language_cache_seconds
        for row in await read_rows(session, _BY_IDS, {"ids": missing}):
            found[row.id] = row
            if ttl > 0:
                _cache[(database, row.id)] = (now + ttl, row)
    return found


# Every language, per database (what a flow's set_contact_language looks up), kept as above.
_all_cache: dict[str, tuple[float, list[Any]]] = {}
_ALL = prepared(unscoped(records(Language).order_by(col(Language.id))))


async def all_languages(session: AsyncSession) -> list[Any]:
    now, database = time.monotonic(), _database(session)
    hit = _all_cache.get(database)
    if hit is not None and hit[0] > now:
        return hit[1]
    rows = list(await read_rows(session, _ALL, {}))
    ttl = settings_of(session).language_cache_seconds
    if ttl > 0:
        _all_cache[database] = (now + ttl, rows)
    return rows


def _forget_after_commit(session: AsyncSession) -> None:
    database = _database(session)

    def forget(_: Any) -> None:
        for key in [k for k in _cache if k[0] == database]:
            _cache.pop(key, None)
        _all_cache.pop(database, None)

    event.listen(session.sync_session, "after_commit", forget, once=True)


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
    _forget_after_commit(session)
    await v.refuse_taken(
        session,
        "label",
        select(col(Language.id)).where(
            col(Language.label) == language.label,
            col(Language.locale) == language.locale,
            col(Language.id) != (language.id or 0),
        ),
    )
    session.add(language)
    await v.flush_unique(session, "label")
    return language


async def create_language(session: AsyncSession, params: dict[str, Any]) -> Language:
    # A table model is not validated when it is built: _apply sets the required columns.
    language = Language()  # type: ignore[call-arg]
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
    _forget_after_commit(session)
    users = (
        select(col(Contact.id)).where(col(Contact.language_id) == language.id),
        select(col(Profile.id)).where(col(Profile.language_id) == language.id),
        select(col(Organization.id)).where(col(Organization.default_language_id) == language.id),
    )
    for stmt in users:
        if await session.scalar(stmt.limit(1)) is not None:
            raise InputErrors.field(
                "language", "is still used by contacts, profiles or organizations"
            )
    await session.delete(language)
    await session.flush()
