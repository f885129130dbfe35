"""Users (staff of an organization): creation, lookups, and their access roles."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import AccessRole, Contact, Organization, User, saved_id
from resolvers import auth
from resolvers import validation as v
from resolvers.config import settings_of
from resolvers.errors import InputErrors
from resolvers.phones import normalize_phone
from resolvers.querying import ListOpts, apply_opts, ilike
from resolvers.roles import ROLE_ORDER, role_labels


async def create_user(
    session: AsyncSession,
    org: Organization,
    *,
    phone: str,
    password: str,
    name: str,
    roles: list[str],
    email: str | None = None,
) -> User:
    """A user of `org`, linked to the contact with the same phone (created if missing)."""
    unknown = [r for r in roles if r not in ROLE_ORDER]
    if unknown:
        raise InputErrors.field("roles", f"unknown role(s): {', '.join(unknown)}")
    if len(password) < 8:
        raise InputErrors.field("password", "should be at least 8 character(s)")
    stored = normalize_phone(phone, default_region=settings_of(session).default_phone_region)
    org_id = saved_id(org)
    clash = select(col(User.id)).where(
        col(User.phone) == stored, col(User.organization_id) == org_id
    )
    await v.refuse_taken(session, "phone", clash)
    contact = await session.scalar(
        select(Contact).where(col(Contact.phone) == stored, col(Contact.organization_id) == org_id)
    )
    if contact is None:
        contact = Contact(
            organization_id=org_id,
            phone=stored,
            name=name,
            language_id=org.default_language_id,
        )
        session.add(contact)
        await session.flush()
    user = User(
        organization_id=org_id,
        name=name,
        phone=stored,
        email=email,
        password_hash=await auth.make_password_hash(password, settings_of(session)),
        roles=roles,
        contact_id=contact.id,
        language_id=org.default_language_id,
    )
    session.add(user)
    await v.flush_unique(session, "phone")
    return user


async def get_user(
    session: AsyncSession, org_id: int, user_id: int, *, lock: bool = False
) -> User | None:
    """The organization's user; with `lock`, its row stays locked until the transaction ends."""
    stmt = select(User).where(col(User.id) == user_id, col(User.organization_id) == org_id)
    return await session.scalar(stmt.with_for_update() if lock else stmt)


async def users_by_ids(session: AsyncSession, ids: list[int]) -> dict[int, User]:
    rows = await session.scalars(select(User).where(col(User.id).in_(ids)))
    return {saved_id(row): row for row in rows}


async def access_roles_for_users(
    session: AsyncSession, users: list[User]
) -> dict[int, list[AccessRole]]:
    """Each user's roles as the organization's reserved access-role rows."""
    org_ids = {u.organization_id for u in users}
    rows = list(
        await session.scalars(
            select(AccessRole)
            .where(col(AccessRole.organization_id).in_(org_ids))
            .order_by(col(AccessRole.id))
        )
    )
    out: dict[int, list[AccessRole]] = {}
    for user in users:
        labels = set(role_labels(user.roles))
        out[saved_id(user)] = [
            r for r in rows if r.organization_id == user.organization_id and r.label in labels
        ]
    return out


_ACCESS_ROLE_COLUMNS = {
    "id": AccessRole.id,
    "label": AccessRole.label,
    "description": AccessRole.description,
    "inserted_at": AccessRole.inserted_at,
}


async def list_access_roles(
    session: AsyncSession, org_id: int, flt: dict[str, Any], opts: ListOpts
) -> list[AccessRole]:
    """Glific's `accessRoles(filter: {label, description, isReserved})`: the organization's
    roles, label and description matched as substrings."""
    stmt = select(AccessRole).where(col(AccessRole.organization_id) == org_id)
    for key in ("label", "description"):
        if flt.get(key):
            stmt = stmt.where(ilike(getattr(AccessRole, key), str(flt[key])))
    if flt.get("is_reserved") is not None:
        stmt = stmt.where(col(AccessRole.is_reserved).is_(bool(flt["is_reserved"])))
    stmt = apply_opts(
        stmt, opts, columns=_ACCESS_ROLE_COLUMNS, default_field="label", tiebreak=AccessRole.id
    )
    return list((await session.scalars(stmt)).all())
