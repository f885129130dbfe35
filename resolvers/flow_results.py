"""Per-profile flow results (beyond Glific, which has no GraphQL for them): one row per run
and profile, so `flowResults(filter: {profileId})` is exactly what that person answered."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import FlowResult, Read, guarded, records
from resolvers.querying import ListOpts, apply_opts, as_list, in_ids

_COLUMNS = {
    "id": FlowResult.id,
    "flow_id": FlowResult.flow_id,
    "contact_id": FlowResult.contact_id,
    "profile_id": FlowResult.profile_id,
    "flow_version": FlowResult.flow_version,
    "inserted_at": FlowResult.inserted_at,
    "updated_at": FlowResult.updated_at,
}


def _filtered(stmt: Any, org_id: int, flt: dict[str, Any]) -> Any:
    stmt = stmt.where(FlowResult.organization_id == org_id)
    for key, column in (
        ("flow_id", FlowResult.flow_id),
        ("contact_id", FlowResult.contact_id),
        ("profile_id", FlowResult.profile_id),
    ):
        if flt.get(key) is not None:
            stmt = stmt.where(in_ids(column, [flt[key]]))
    return stmt


def flow_results_read(org_id: int, flt: dict[str, Any], opts: ListOpts) -> Read[list[Any]]:
    """`flowResults(filter, opts)`: oldest first by default."""
    stmt = apply_opts(
        _filtered(records(FlowResult), org_id, flt),
        opts,
        columns=_COLUMNS,
        default_field="inserted_at",
        tiebreak=FlowResult.id,
    )
    return Read(guarded(stmt), {}, as_list)


async def count_flow_results(session: AsyncSession, org_id: int, flt: dict[str, Any]) -> int:
    stmt = _filtered(select(func.count()).select_from(FlowResult), org_id, flt)
    return int((await session.execute(stmt)).scalar_one())
