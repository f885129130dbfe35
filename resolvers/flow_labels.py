"""Flow labels (what a flow's "add label" action tags messages with): `flowLabels` and
`countFlowLabels`, and the label a flow action names, created on first use."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import FlowLabel, Read, guarded, records
from resolvers.querying import ListOpts, apply_opts, as_list, ilike

_COLUMNS = {
    "id": FlowLabel.id,
    "name": FlowLabel.name,
    "inserted_at": FlowLabel.inserted_at,
    "updated_at": FlowLabel.updated_at,
}


def _filtered(stmt: Any, org_id: int, flt: dict[str, Any]) -> Any:
    stmt = stmt.where(FlowLabel.organization_id == org_id)
    if flt.get("name"):
        stmt = stmt.where(ilike(FlowLabel.name, flt["name"]))
    return stmt


def flow_labels_read(org_id: int, flt: dict[str, Any], opts: ListOpts) -> Read[list[Any]]:
    stmt = apply_opts(
        _filtered(records(FlowLabel), org_id, flt),
        opts,
        columns=_COLUMNS,
        default_field="name",
        tiebreak=FlowLabel.id,
    )
    return Read(guarded(stmt), {}, as_list)


async def count_flow_labels(session: AsyncSession, org_id: int, flt: dict[str, Any]) -> int:
    stmt = _filtered(select(func.count()).select_from(FlowLabel), org_id, flt)
    return int((await session.execute(stmt)).scalar_one())


async def ensure_label(session: AsyncSession, org_id: int, name: str) -> FlowLabel:
    """The organization's label called `name`, created when missing (a concurrent creator
    of the same label wins and its row is returned)."""
    name = name.strip()
    stmt = select(FlowLabel).where(
        col(FlowLabel.organization_id) == org_id, col(FlowLabel.name) == name
    )
    label = await session.scalar(stmt)
    if label is not None:
        return label
    label = FlowLabel(organization_id=org_id, uuid=str(uuid.uuid4()), name=name)
    try:
        async with session.begin_nested():
            session.add(label)
            await session.flush()
    except IntegrityError:
        found = await session.scalar(stmt)
        assert found is not None
        return found
    return label
