"""Tags on flows (Glific's tags): listed, counted, created, changed and deleted per
organization; the flow list filters flows by them (`FlowFilter.tagIds`). A shortcode is
derived from the label when none is given; deleting a tag leaves its flows untagged."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Flow, Tag, saved_id, utcnow
from resolvers import validation as v
from resolvers.errors import InputErrors, not_found
from resolvers.querying import ListOpts, apply_opts, ilike, to_int_id

_COLUMNS = {
    "id": Tag.id,
    "label": Tag.label,
    "shortcode": Tag.shortcode,
    "description": Tag.description,
    "inserted_at": Tag.inserted_at,
    "updated_at": Tag.updated_at,
}


def _filtered(stmt: Any, org_id: int, flt: dict[str, Any]) -> Any:
    stmt = stmt.where(col(Tag.organization_id) == org_id)
    for key in ("label", "shortcode", "description"):
        if flt.get(key):
            stmt = stmt.where(ilike(getattr(Tag, key), str(flt[key])))
    for key in ("is_active", "is_reserved"):
        if flt.get(key) is not None:
            stmt = stmt.where(getattr(Tag, key).is_(bool(flt[key])))
    return stmt


async def list_tags(
    session: AsyncSession, org_id: int, flt: dict[str, Any], opts: ListOpts
) -> list[Tag]:
    stmt = apply_opts(
        _filtered(select(Tag), org_id, flt),
        opts,
        columns=_COLUMNS,
        default_field="label",
        tiebreak=Tag.id,
    )
    return list((await session.scalars(stmt)).all())


async def count_tags(session: AsyncSession, org_id: int, flt: dict[str, Any]) -> int:
    stmt = _filtered(select(func.count()).select_from(Tag), org_id, flt)
    return int((await session.execute(stmt)).scalar_one())


async def tags_by_ids(session: AsyncSession, ids: list[int]) -> dict[int, Tag]:
    rows = await session.scalars(select(Tag).where(col(Tag.id).in_(ids)))
    return {saved_id(row): row for row in rows}


async def get_tag(session: AsyncSession, org_id: int, raw_id: Any, *, lock: bool = False) -> Tag:
    stmt = select(Tag).where(col(Tag.organization_id) == org_id, col(Tag.id) == to_int_id(raw_id))
    found: Tag | None = await session.scalar(stmt.with_for_update() if lock else stmt)
    if found is None:
        raise not_found("Tags.Tag")
    return found


def _shortcode_of(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_") or "tag"


def _apply(tag: Tag, params: dict[str, Any], *, creating: bool) -> None:
    label = v.text(params, "label", required=creating)
    if label is not None:
        if not label:
            raise InputErrors.field("label", "can't be blank")
        tag.label = label
    shortcode = v.text(params, "shortcode")
    if shortcode:
        tag.shortcode = shortcode
    elif creating:
        tag.shortcode = _shortcode_of(tag.label)
    if "description" in params:
        tag.description = v.text(params, "description", max_len=10_000) or None
    color = v.text(params, "color_code", max_len=32)
    if color:
        tag.color_code = color
    for key in ("is_active", "is_reserved"):
        value = v.boolean(params, key)
        if value is not None:
            setattr(tag, key, value)
    if params.get("keywords") is not None:
        words = [str(w).strip().lower() for w in params["keywords"] if w and str(w).strip()]
        tag.keywords = list(dict.fromkeys(words))


async def _check_unique(session: AsyncSession, tag: Tag) -> None:
    clash = select(col(Tag.id)).where(
        col(Tag.organization_id) == tag.organization_id,
        col(Tag.shortcode) == tag.shortcode,
        col(Tag.id) != (tag.id or 0),
    )
    await v.refuse_taken(session, "shortcode", clash)


async def create_tag(session: AsyncSession, org_id: int, params: dict[str, Any]) -> Tag:
    tag = Tag(organization_id=org_id, label="", shortcode="")
    _apply(tag, params, creating=True)
    await _check_unique(session, tag)
    session.add(tag)
    await v.flush_unique(session, "shortcode")
    return tag


async def update_tag(
    session: AsyncSession, org_id: int, raw_id: Any, params: dict[str, Any]
) -> Tag:
    tag = await get_tag(session, org_id, raw_id, lock=True)
    _apply(tag, params, creating=False)
    await _check_unique(session, tag)
    tag.updated_at = utcnow()
    await v.flush_unique(session, "shortcode")
    return tag


async def delete_tag(session: AsyncSession, org_id: int, raw_id: Any) -> Tag:
    tag = await get_tag(session, org_id, raw_id, lock=True)
    await session.execute(
        update(Flow)
        .where(col(Flow.organization_id) == org_id, col(Flow.tag_id) == tag.id)
        .values(tag_id=None)
        .execution_options(synchronize_session=False)
    )
    await session.delete(tag)
    await session.flush()
    return tag
