"""Groups ("collections"): membership lookups for contacts and users, and adding members."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Contact, ContactGroup, Group, User, UserGroup, saved_id


async def _members(
    session: AsyncSession, key: Any, link: Any, model: Any, ids: list[int], *order: Any
) -> dict[int, list[Any]]:
    """Rows of `model` reached through the join table column `link`, grouped by `key`."""
    rows = await session.execute(
        select(key, model).join(model, model.id == link).where(key.in_(ids)).order_by(*order)
    )
    out: dict[int, list[Any]] = {i: [] for i in ids}
    for owner, member in rows:
        out[owner].append(member)
    return out


async def groups_for_contacts(session: AsyncSession, ids: list[int]) -> dict[int, list[Group]]:
    return await _members(
        session, ContactGroup.contact_id, ContactGroup.group_id, Group, ids, Group.label, Group.id
    )


async def groups_for_users(session: AsyncSession, ids: list[int]) -> dict[int, list[Group]]:
    return await _members(
        session, UserGroup.user_id, UserGroup.group_id, Group, ids, Group.label, Group.id
    )


async def users_for_groups(session: AsyncSession, ids: list[int]) -> dict[int, list[User]]:
    return await _members(
        session, UserGroup.group_id, UserGroup.user_id, User, ids, User.name, User.id
    )


async def contacts_for_groups(session: AsyncSession, ids: list[int]) -> dict[int, list[Contact]]:
    return await _members(
        session,
        ContactGroup.group_id,
        ContactGroup.contact_id,
        Contact,
        ids,
        Contact.name,
        Contact.id,
    )


async def group_by_label(
    session: AsyncSession, org_id: int, label: str, *, create: bool = False
) -> Group | None:
    found = select(Group).where(col(Group.organization_id) == org_id, col(Group.label) == label)
    group = await session.scalar(found)
    if group is None and create:
        try:
            # Two flows may add contacts to a new group at the same moment: the loser of
            # the race uses the winner's group.
            async with session.begin_nested():
                group = Group(organization_id=org_id, label=label)
                session.add(group)
                await session.flush()
        except IntegrityError:
            group = await session.scalar(found)
    return group


async def add_contact(session: AsyncSession, group: Group, contact_id: int) -> bool:
    """Add a contact to a group; False if it was already a member."""
    exists = await session.scalar(
        select(col(ContactGroup.id)).where(
            col(ContactGroup.group_id) == group.id, col(ContactGroup.contact_id) == contact_id
        )
    )
    if exists is not None:
        return False
    session.add(
        ContactGroup(
            organization_id=group.organization_id,
            group_id=saved_id(group),
            contact_id=contact_id,
        )
    )
    await session.flush()
    return True
