"""Groups ("collections"): membership lookups for contacts and users, adding members (flows),
and the collections screen: list, count, read, create, change and delete collections, and
move contacts and users in and out of them. A restricted staff user sees only the
collections assigned to them (Glific's `is_restricted`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Contact, ContactGroup, Group, User, UserGroup, saved_id, utcnow
from resolvers import history
from resolvers import validation as v
from resolvers.errors import InputErrors, not_found
from resolvers.querying import ListOpts, apply_opts, ilike, int_ids, to_int_id

if TYPE_CHECKING:
    from resolvers.contacts import Viewer


async def members_through(
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
    return await members_through(
        session, ContactGroup.contact_id, ContactGroup.group_id, Group, ids, Group.label, Group.id
    )


async def groups_for_users(session: AsyncSession, ids: list[int]) -> dict[int, list[Group]]:
    return await members_through(
        session, UserGroup.user_id, UserGroup.group_id, Group, ids, Group.label, Group.id
    )


async def users_for_groups(session: AsyncSession, ids: list[int]) -> dict[int, list[User]]:
    return await members_through(
        session, UserGroup.group_id, UserGroup.user_id, User, ids, User.name, User.id
    )


async def contacts_for_groups(session: AsyncSession, ids: list[int]) -> dict[int, list[Contact]]:
    return await members_through(
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


# --- the collections screen -------------------------------------------------------------------

_COLUMNS = {
    "id": Group.id,
    "label": Group.label,
    "description": Group.description,
    "inserted_at": Group.inserted_at,
    "updated_at": Group.updated_at,
    "last_communication_at": Group.last_communication_at,
}


def _visible(stmt: Any, org_id: int, viewer: Viewer | None) -> Any:
    """The organization's groups; a restricted staff user's only the ones assigned to them."""
    stmt = stmt.where(col(Group.organization_id) == org_id)
    if viewer is not None and viewer.restricted:
        mine = select(col(UserGroup.group_id)).where(col(UserGroup.user_id) == viewer.user_id)
        stmt = stmt.where(col(Group.id).in_(mine))
    return stmt


def _filtered(stmt: Any, org_id: int, flt: dict[str, Any], viewer: Viewer | None) -> Any:
    stmt = _visible(stmt, org_id, viewer)
    if flt.get("label"):
        stmt = stmt.where(ilike(Group.label, str(flt["label"])))
    return stmt


async def list_groups(
    session: AsyncSession,
    org_id: int,
    flt: dict[str, Any],
    opts: ListOpts,
    viewer: Viewer | None = None,
) -> list[Group]:
    stmt = apply_opts(
        _filtered(select(Group), org_id, flt, viewer),
        opts,
        columns=_COLUMNS,
        default_field="label",
        tiebreak=Group.id,
    )
    return list((await session.scalars(stmt)).all())


async def count_groups(
    session: AsyncSession, org_id: int, flt: dict[str, Any], viewer: Viewer | None = None
) -> int:
    stmt = _filtered(select(func.count()).select_from(Group), org_id, flt, viewer)
    return int((await session.execute(stmt)).scalar_one())


async def get_group(
    session: AsyncSession,
    org_id: int,
    group_id: Any,
    viewer: Viewer | None = None,
    *,
    lock: bool = False,
) -> Group:
    stmt = _visible(select(Group), org_id, viewer).where(col(Group.id) == to_int_id(group_id))
    found: Group | None = await session.scalar(stmt.with_for_update() if lock else stmt)
    if found is None:
        raise not_found("Groups.Group")
    return found


def _apply(group: Group, params: dict[str, Any], *, creating: bool) -> None:
    label = v.text(params, "label", required=creating)
    if label is not None:
        if not label:
            raise InputErrors.field("label", "can't be blank")
        group.label = label
    if "description" in params:
        group.description = v.text(params, "description", max_len=10_000) or None
    restricted = v.boolean(params, "is_restricted")
    if restricted is not None:
        group.is_restricted = restricted


async def create_group(session: AsyncSession, org_id: int, params: dict[str, Any]) -> Group:
    group = Group(organization_id=org_id, label="")
    _apply(group, params, creating=True)
    clash = select(col(Group.id)).where(
        col(Group.organization_id) == org_id, col(Group.label) == group.label
    )
    await v.refuse_taken(session, "label", clash)
    session.add(group)
    await v.flush_unique(session, "label")
    return group


async def update_group(
    session: AsyncSession, org_id: int, group_id: Any, params: dict[str, Any]
) -> Group:
    group = await get_group(session, org_id, group_id, lock=True)
    before = group.label
    _apply(group, params, creating=False)
    if group.label != before:
        clash = select(col(Group.id)).where(
            col(Group.organization_id) == org_id,
            col(Group.label) == group.label,
            col(Group.id) != group.id,
        )
        await v.refuse_taken(session, "label", clash)
    group.updated_at = utcnow()
    await v.flush_unique(session, "label")
    return group


async def delete_group(session: AsyncSession, org_id: int, group_id: Any) -> Group:
    """The collection goes; its contacts and users stay (only their membership goes)."""
    group = await get_group(session, org_id, group_id, lock=True)
    await session.delete(group)
    await session.flush()
    return group


async def _contacts_of_org(session: AsyncSession, org_id: int, raw: list[Any]) -> list[Contact]:
    ids = int_ids(raw)
    if not ids:
        return []
    rows = await session.scalars(
        select(Contact).where(col(Contact.organization_id) == org_id, col(Contact.id).in_(ids))
    )
    return list(rows)


async def update_group_contacts(
    session: AsyncSession, org_id: int, params: dict[str, Any]
) -> tuple[list[ContactGroup], int]:
    """Add and remove contacts of a collection (ids of other organizations' contacts are
    ignored, as Glific does); the memberships added and how many were removed. Each change
    is in the contact's history."""
    group = await get_group(session, org_id, params.get("group_id"), lock=True)
    for contact in await _contacts_of_org(session, org_id, params.get("add_contact_ids") or []):
        if await add_contact(session, group, saved_id(contact)):
            await history.record(
                session, contact, "contact_groups_updated", f'Added to collection: "{group.label}"'
            )
    removed = 0
    for contact in await _contacts_of_org(session, org_id, params.get("delete_contact_ids") or []):
        result = await session.execute(
            delete(ContactGroup).where(
                col(ContactGroup.group_id) == group.id,
                col(ContactGroup.contact_id) == contact.id,
            )
        )
        if getattr(result, "rowcount", 0):
            removed += 1
            await history.record(
                session,
                contact,
                "contact_groups_updated",
                f'Removed from collection: "{group.label}"',
            )
    added = list(
        await session.scalars(
            select(ContactGroup)
            .where(
                col(ContactGroup.group_id) == group.id,
                col(ContactGroup.contact_id).in_(int_ids(params.get("add_contact_ids") or [])),
            )
            .order_by(col(ContactGroup.id))
        )
    )
    return added, removed


async def update_group_users(
    session: AsyncSession, org_id: int, params: dict[str, Any]
) -> tuple[list[UserGroup], int]:
    group = await get_group(session, org_id, params.get("group_id"), lock=True)
    add_ids = int_ids(params.get("add_user_ids") or [])
    users: set[int] = set(
        await session.scalars(
            select(col(User.id)).where(
                col(User.organization_id) == org_id, col(User.id).in_(add_ids)
            )
        )
    )
    have: set[int] = set(
        await session.scalars(
            select(col(UserGroup.user_id)).where(col(UserGroup.group_id) == group.id)
        )
    )
    for user_id in sorted(users - have):
        session.add(UserGroup(organization_id=org_id, user_id=user_id, group_id=saved_id(group)))
    result = await session.execute(
        delete(UserGroup).where(
            col(UserGroup.group_id) == group.id,
            col(UserGroup.user_id).in_(int_ids(params.get("delete_user_ids") or [])),
        )
    )
    await session.flush()
    added = list(
        await session.scalars(
            select(UserGroup)
            .where(col(UserGroup.group_id) == group.id, col(UserGroup.user_id).in_(list(users)))
            .order_by(col(UserGroup.id))
        )
    )
    return added, int(getattr(result, "rowcount", 0) or 0)


async def update_contact_groups(
    session: AsyncSession, org_id: int, params: dict[str, Any]
) -> tuple[list[ContactGroup], int]:
    """One contact joins and leaves collections (the chat header's picker)."""
    found = await _contacts_of_org(session, org_id, [params.get("contact_id")])
    if not found:
        raise not_found("Contacts.Contact")
    contact = found[0]
    removed = 0
    contact_id = saved_id(contact)
    for gid in int_ids(params.get("add_group_ids") or []):
        group = await get_group(session, org_id, gid, lock=True)
        await update_group_contacts(
            session, org_id, {"group_id": group.id, "add_contact_ids": [contact_id]}
        )
    for gid in int_ids(params.get("delete_group_ids") or []):
        group = await get_group(session, org_id, gid, lock=True)
        _, gone = await update_group_contacts(
            session, org_id, {"group_id": group.id, "delete_contact_ids": [contact_id]}
        )
        removed += gone
    added = list(
        await session.scalars(
            select(ContactGroup)
            .where(
                col(ContactGroup.contact_id) == contact_id,
                col(ContactGroup.group_id).in_(int_ids(params.get("add_group_ids") or [])),
            )
            .order_by(col(ContactGroup.id))
        )
    )
    return added, removed


async def group_info(session: AsyncSession, org_id: int, group_id: Any) -> dict[str, int]:
    """Glific's `groupInfo`: the collection's contacts by WhatsApp status, and in all."""
    group = await get_group(session, org_id, group_id)
    rows = await session.execute(
        select(col(Contact.bsp_status), func.count())
        .join(ContactGroup, col(ContactGroup.contact_id) == col(Contact.id))
        .where(col(ContactGroup.group_id) == group.id)
        .group_by(col(Contact.bsp_status))
    )
    counts = {str(status): int(n) for status, n in rows.all()}
    return {"total": sum(counts.values()), **counts}


async def groups_by_ids(session: AsyncSession, ids: list[int]) -> dict[int, Group]:
    rows = await session.scalars(select(Group).where(col(Group.id).in_(ids)))
    return {saved_id(row): row for row in rows}
