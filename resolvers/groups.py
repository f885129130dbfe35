"""Groups ("collections"): membership lookups for contacts and users, and adding members."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Contact, ContactGroup, Group, User, UserGroup


async def groups_for_contacts(
    session: AsyncSession, contact_ids: list[int]
) -> dict[int, list[Group]]:
    rows = await session.execute(
        select(ContactGroup.contact_id, Group)
        .join(Group, Group.id == ContactGroup.group_id)
        .where(ContactGroup.contact_id.in_(contact_ids))
        .order_by(Group.label, Group.id)
    )
    out: dict[int, list[Group]] = {cid: [] for cid in contact_ids}
    for contact_id, group in rows:
        out[contact_id].append(group)
    return out


async def groups_for_users(session: AsyncSession, user_ids: list[int]) -> dict[int, list[Group]]:
    rows = await session.execute(
        select(UserGroup.user_id, Group)
        .join(Group, Group.id == UserGroup.group_id)
        .where(UserGroup.user_id.in_(user_ids))
        .order_by(Group.label, Group.id)
    )
    out: dict[int, list[Group]] = {uid: [] for uid in user_ids}
    for user_id, group in rows:
        out[user_id].append(group)
    return out


async def users_for_groups(session: AsyncSession, group_ids: list[int]) -> dict[int, list[User]]:
    rows = await session.execute(
        select(UserGroup.group_id, User)
        .join(User, User.id == UserGroup.user_id)
        .where(UserGroup.group_id.in_(group_ids))
        .order_by(User.name, User.id)
    )
    out: dict[int, list[User]] = {gid: [] for gid in group_ids}
    for group_id, user in rows:
        out[group_id].append(user)
    return out


async def contacts_for_groups(
    session: AsyncSession, group_ids: list[int]
) -> dict[int, list[Contact]]:
    rows = await session.execute(
        select(ContactGroup.group_id, Contact)
        .join(Contact, Contact.id == ContactGroup.contact_id)
        .where(ContactGroup.group_id.in_(group_ids))
        .order_by(Contact.name, Contact.id)
    )
    out: dict[int, list[Contact]] = {gid: [] for gid in group_ids}
    for group_id, contact in rows:
        out[group_id].append(contact)
    return out


async def group_by_label(
    session: AsyncSession, org_id: int, label: str, *, create: bool = False
) -> Group | None:
    group = await session.scalar(
        select(Group).where(Group.organization_id == org_id, Group.label == label)
    )
    if group is None and create:
        group = Group(organization_id=org_id, label=label)
        session.add(group)
        await session.flush()
    return group


async def add_contact(session: AsyncSession, group: Group, contact_id: int) -> bool:
    """Add a contact to a group; False if it was already a member."""
    exists = await session.scalar(
        select(ContactGroup.id).where(
            ContactGroup.group_id == group.id, ContactGroup.contact_id == contact_id
        )
    )
    if exists is not None:
        return False
    session.add(
        ContactGroup(
            organization_id=group.organization_id,
            group_id=group.id,  # type: ignore[arg-type]
            contact_id=contact_id,
        )
    )
    await session.flush()
    return True


async def remove_contact(session: AsyncSession, group: Group, contact_id: int) -> bool:
    row = await session.scalar(
        select(ContactGroup).where(
            ContactGroup.group_id == group.id, ContactGroup.contact_id == contact_id
        )
    )
    if row is None:
        return False
    await session.delete(row)
    await session.flush()
    return True
