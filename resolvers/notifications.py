"""Notifications: written by the system in the transaction of what they report (`notify`),
listed and counted for the organization's staff, marked read all at once (Glific's
`markNotificationAsRead` takes no argument: every unread one of the organization)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Notification, utcnow
from resolvers.querying import ListOpts, apply_opts, ilike

# Glific's categories for what this backend reports.
MESSAGE = "Message"
FLOW = "Flow"
WEBHOOK = "Webhook"
IMPORT = "Contact Upload"

ERROR = "Error"
WARNING = "Warning"
INFO = "Info"

_COLUMNS = {
    "id": Notification.id,
    "category": Notification.category,
    "message": Notification.message,
    "severity": Notification.severity,
    "inserted_at": Notification.inserted_at,
    "updated_at": Notification.updated_at,
}


async def notify(
    session: AsyncSession,
    org_id: int,
    category: str,
    message: str,
    entity: dict[str, Any] | None = None,
    *,
    severity: str = ERROR,
) -> None:
    """Add a notification in the caller's write transaction."""
    now = utcnow()
    session.add(
        Notification(
            organization_id=org_id,
            category=category,
            message=message[:2000],
            entity=entity or {},
            severity=severity,
            is_read=False,
            inserted_at=now,
            updated_at=now,
        )
    )


def _filtered(stmt: Any, org_id: int, flt: dict[str, Any]) -> Any:
    stmt = stmt.where(col(Notification.organization_id) == org_id)
    for key in ("message", "category", "severity"):
        if flt.get(key):
            stmt = stmt.where(ilike(getattr(Notification, key), str(flt[key])))
    if flt.get("is_read") is not None:
        stmt = stmt.where(col(Notification.is_read).is_(bool(flt["is_read"])))
    return stmt


async def list_notifications(
    session: AsyncSession, org_id: int, flt: dict[str, Any], opts: ListOpts
) -> list[Notification]:
    stmt = apply_opts(
        _filtered(select(Notification), org_id, flt),
        opts,
        columns=_COLUMNS,
        default_field="inserted_at",
        tiebreak=Notification.id,
    )
    return list((await session.scalars(stmt)).all())


async def count_notifications(session: AsyncSession, org_id: int, flt: dict[str, Any]) -> int:
    stmt = _filtered(select(func.count()).select_from(Notification), org_id, flt)
    return int((await session.execute(stmt)).scalar_one())


async def mark_all_read(session: AsyncSession, org_id: int) -> bool:
    await session.execute(
        update(Notification)
        .where(col(Notification.organization_id) == org_id, col(Notification.is_read).is_(False))
        .values(is_read=True, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return True
