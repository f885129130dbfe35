"""WhatsApp groups on the API (Glific's WA groups through Maytapi): listing and counting the
organization's groups, its managed phones and the groups' members; the WA chat screen's
conversation list (`wa_search`) and search box (`wa_search_multi`); and putting WA groups in
and out of collections (`wa_groups_collections`). The batches behind the types' relations
live here too.

Conversations (`wa_search`) are WA groups, newest communication first
(`last_communication_at DESC NULLS LAST, id DESC`), paged by the group options, each with its
latest messages (not direct messages to a managed phone), newest first: one ROW_NUMBER()
query for the whole page of groups (at most MAX_GROUPS, also when no limit is given). The
message limit defaults to 20 and is capped at 250;
the offset skips that many of a group's newest messages, except for a single group
(`filter.id`), where, as in Glific, it is the message number the page starts at. With
`search_group` the conversations are the collections holding WA groups, each with the
messages sent to the collection as a whole (`wa_messages.group_id`).

Collection changes lock the collection (or the WA group) they change, check every id first
(an id of another organization is as unknown as a missing one: nothing is written) and add
idempotently: adding a pair twice keeps one row, even when two requests race.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import (
    Contact,
    ContactWaGroup,
    Group,
    UserGroup,
    WaGroup,
    WaGroupCollection,
    WaManagedPhone,
    WaMessage,
    saved_id,
)
from resolvers.contacts import Viewer
from resolvers.errors import ClientError, InputErrors, not_found
from resolvers.groups import members_through
from resolvers.querying import ListOpts, apply_opts, ilike, int_ids, to_int_id

WA_GROUP = "Groups.WAGroup"
GROUP = "Groups.Group"
DEFAULT_MESSAGES, MAX_MESSAGES = 20, 250
# Conversations in one answer at most (and when the client names no limit): a page's
# messages are ranked for its groups only.
MAX_GROUPS = 500

_GROUP_COLUMNS = {
    "id": WaGroup.id,
    "label": WaGroup.label,
    "bsp_id": WaGroup.bsp_id,
    "last_communication_at": WaGroup.last_communication_at,
    "inserted_at": WaGroup.inserted_at,
    "updated_at": WaGroup.updated_at,
}
_PHONE_COLUMNS = {
    "id": WaManagedPhone.id,
    "label": WaManagedPhone.label,
    "phone": WaManagedPhone.phone,
    "status": WaManagedPhone.status,
    "inserted_at": WaManagedPhone.inserted_at,
    "updated_at": WaManagedPhone.updated_at,
}
_MEMBER_COLUMNS = {
    "id": ContactWaGroup.id,
    "inserted_at": ContactWaGroup.inserted_at,
    "updated_at": ContactWaGroup.updated_at,
}


# --- relations (the types' DataLoaders) --------------------------------------------------------


async def wa_groups_by_ids(session: AsyncSession, ids: list[int]) -> dict[int, WaGroup]:
    rows = await session.scalars(select(WaGroup).where(col(WaGroup.id).in_(ids)))
    return {saved_id(row): row for row in rows}


async def wa_phones_by_ids(session: AsyncSession, ids: list[int]) -> dict[int, WaManagedPhone]:
    rows = await session.scalars(select(WaManagedPhone).where(col(WaManagedPhone.id).in_(ids)))
    return {saved_id(row): row for row in rows}


async def contacts_of_wa_groups(session: AsyncSession, ids: list[int]) -> dict[int, list[Contact]]:
    return await members_through(
        session,
        col(ContactWaGroup.wa_group_id),
        col(ContactWaGroup.contact_id),
        Contact,
        ids,
        col(Contact.name),
        col(Contact.id),
    )


async def groups_of_wa_groups(session: AsyncSession, ids: list[int]) -> dict[int, list[Group]]:
    return await members_through(
        session,
        col(WaGroupCollection.wa_group_id),
        col(WaGroupCollection.group_id),
        Group,
        ids,
        col(Group.label),
        col(Group.id),
    )


async def wa_groups_of_contacts(session: AsyncSession, ids: list[int]) -> dict[int, list[WaGroup]]:
    """{contact id: the WA groups it is a member of}, for `Contact.waGroups`."""
    return await members_through(
        session,
        col(ContactWaGroup.contact_id),
        col(ContactWaGroup.wa_group_id),
        WaGroup,
        ids,
        col(WaGroup.label),
        col(WaGroup.id),
    )


async def wa_groups_seen_by(session: AsyncSession, user_ids: list[int]) -> dict[int, list[int]]:
    """{user id: the ids of the WA groups in the collections assigned to that user}: all a
    restricted staff user may see of WA groups (`_visible`), for the fields that list a
    contact's groups (`Contact.waGroups`)."""
    rows = await session.execute(
        select(col(UserGroup.user_id), col(WaGroupCollection.wa_group_id))
        .join(WaGroupCollection, col(WaGroupCollection.group_id) == col(UserGroup.group_id))
        .where(col(UserGroup.user_id).in_(user_ids))
    )
    seen: dict[int, list[int]] = {user_id: [] for user_id in user_ids}
    for user_id, wa_group_id in rows.all():
        seen[int(user_id)].append(int(wa_group_id))
    return seen


async def wa_groups_of_collections(
    session: AsyncSession, ids: list[int]
) -> dict[int, list[WaGroup]]:
    """{collection id: the WA groups it holds}, for `Group.waGroups`."""
    return await members_through(
        session,
        col(WaGroupCollection.group_id),
        col(WaGroupCollection.wa_group_id),
        WaGroup,
        ids,
        col(WaGroup.label),
        col(WaGroup.id),
    )


async def wa_groups_counts(session: AsyncSession, group_ids: list[int]) -> dict[int, int]:
    """{collection id: how many WA groups it holds}, for `Group.waGroupsCount`."""
    rows = await session.execute(
        select(col(WaGroupCollection.group_id), func.count())
        .where(col(WaGroupCollection.group_id).in_(group_ids))
        .group_by(col(WaGroupCollection.group_id))
    )
    counts = {int(group_id): int(n) for group_id, n in rows.all()}
    return {group_id: counts.get(group_id, 0) for group_id in group_ids}


# --- WA groups --------------------------------------------------------------------------------


def _my_collections(viewer: Viewer) -> Any:
    return select(col(UserGroup.group_id)).where(col(UserGroup.user_id) == viewer.user_id)


def _visible(stmt: Any, viewer: Viewer | None) -> Any:
    """A restricted staff user sees only the WA groups of the collections assigned to them,
    as they see only those collections' contacts (Glific's WA group queries do not narrow
    them: a deliberate difference, for the members' privacy)."""
    if viewer is None or not viewer.restricted:
        return stmt
    mine = select(col(WaGroupCollection.wa_group_id)).where(
        col(WaGroupCollection.group_id).in_(_my_collections(viewer))
    )
    return stmt.where(col(WaGroup.id).in_(mine))


def _groups_filtered(
    stmt: Any, org_id: int, flt: dict[str, Any], viewer: Viewer | None = None
) -> Any:
    stmt = _visible(stmt.where(col(WaGroup.organization_id) == org_id), viewer)
    include = int_ids(flt.get("include_groups"))
    if include:
        stmt = stmt.where(
            col(WaGroup.id).in_(
                select(col(WaGroupCollection.wa_group_id)).where(
                    col(WaGroupCollection.group_id).in_(include)
                )
            )
        )
    exclude = int_ids(flt.get("exclude_groups"))
    if exclude:
        stmt = stmt.where(
            col(WaGroup.id).not_in(
                select(col(WaGroupCollection.wa_group_id)).where(
                    col(WaGroupCollection.group_id).in_(exclude)
                )
            )
        )
    for key in ("term", "label"):
        if flt.get(key):
            stmt = stmt.where(ilike(col(WaGroup.label), str(flt[key])))
    return stmt


async def list_wa_groups(
    session: AsyncSession,
    org_id: int,
    flt: dict[str, Any],
    opts: ListOpts,
    viewer: Viewer | None = None,
) -> list[WaGroup]:
    stmt = apply_opts(
        _groups_filtered(select(WaGroup), org_id, flt, viewer),
        opts,
        columns=_GROUP_COLUMNS,
        default_field="label",
        tiebreak=WaGroup.id,
    )
    return list((await session.scalars(stmt)).all())


async def count_wa_groups(
    session: AsyncSession, org_id: int, flt: dict[str, Any], viewer: Viewer | None = None
) -> int:
    stmt = _groups_filtered(select(func.count()).select_from(WaGroup), org_id, flt, viewer)
    return int((await session.execute(stmt)).scalar_one())


async def get_wa_group(
    session: AsyncSession,
    org_id: int,
    raw_id: Any,
    *,
    lock: bool = False,
    viewer: Viewer | None = None,
) -> WaGroup:
    try:
        wa_group_id = to_int_id(raw_id)
    except InputErrors:
        raise not_found(WA_GROUP) from None
    stmt = _visible(
        select(WaGroup).where(
            col(WaGroup.organization_id) == org_id, col(WaGroup.id) == wa_group_id
        ),
        viewer,
    )
    if lock:
        stmt = stmt.with_for_update(key_share=True).execution_options(populate_existing=True)
    found: WaGroup | None = await session.scalar(stmt)
    if found is None:
        raise not_found(WA_GROUP)
    return found


# --- managed phones and members ---------------------------------------------------------------


def _phones_filtered(stmt: Any, org_id: int, flt: dict[str, Any]) -> Any:
    stmt = stmt.where(col(WaManagedPhone.organization_id) == org_id)
    for key in ("label", "phone"):
        if flt.get(key):
            stmt = stmt.where(ilike(getattr(WaManagedPhone, key), str(flt[key])))
    return stmt


async def list_wa_managed_phones(
    session: AsyncSession, org_id: int, flt: dict[str, Any], opts: ListOpts
) -> list[WaManagedPhone]:
    stmt = apply_opts(
        _phones_filtered(select(WaManagedPhone), org_id, flt),
        opts,
        columns=_PHONE_COLUMNS,
        default_field="inserted_at",
        tiebreak=WaManagedPhone.id,
    )
    return list((await session.scalars(stmt)).all())


async def count_wa_managed_phones(session: AsyncSession, org_id: int, flt: dict[str, Any]) -> int:
    stmt = _phones_filtered(select(func.count()).select_from(WaManagedPhone), org_id, flt)
    return int((await session.execute(stmt)).scalar_one())


def _members_filtered(
    stmt: Any, org_id: int, flt: dict[str, Any], viewer: Viewer | None = None
) -> Any:
    stmt = stmt.where(col(ContactWaGroup.organization_id) == org_id)
    if viewer is not None and viewer.restricted:
        seen = _visible(select(col(WaGroup.id)), viewer)
        stmt = stmt.where(col(ContactWaGroup.wa_group_id).in_(seen))
    if flt.get("wa_group_id") is not None:
        stmt = stmt.where(col(ContactWaGroup.wa_group_id).in_(int_ids([flt["wa_group_id"]])))
    span = flt.get("date_range") or {}
    start, end = span.get("from_"), span.get("to")
    if isinstance(start, datetime):
        stmt = stmt.where(col(ContactWaGroup.inserted_at) >= start.replace(tzinfo=None))
    if isinstance(end, datetime):
        stmt = stmt.where(col(ContactWaGroup.inserted_at) <= end.replace(tzinfo=None))
    return stmt


async def list_contact_wa_groups(
    session: AsyncSession,
    org_id: int,
    flt: dict[str, Any],
    opts: ListOpts,
    viewer: Viewer | None = None,
) -> list[ContactWaGroup]:
    stmt = apply_opts(
        _members_filtered(select(ContactWaGroup), org_id, flt, viewer),
        opts,
        columns=_MEMBER_COLUMNS,
        default_field="id",
        tiebreak=ContactWaGroup.id,
    )
    return list((await session.scalars(stmt)).all())


async def count_contact_wa_groups(
    session: AsyncSession, org_id: int, flt: dict[str, Any], viewer: Viewer | None = None
) -> int:
    counted = select(func.count()).select_from(ContactWaGroup)
    stmt = _members_filtered(counted, org_id, flt, viewer)
    return int((await session.execute(stmt)).scalar_one())


# --- the WA chat screen -----------------------------------------------------------------------


@dataclass
class WaConversation:
    """One WA group (or, with `search_group`, one collection) and its latest messages."""

    id: str
    group: Group | None = None
    wa_group: WaGroup | None = None
    wa_messages: list[WaMessage] = field(default_factory=list)


@dataclass
class WaSearchCup:
    wa_groups: list[WaGroup]
    wa_messages: list[WaMessage]


def _limit(opts: ListOpts, default: int | None, cap: int | None, name: str) -> int | None:
    limit = opts.limit if opts.limit is not None else default
    if (limit is not None and limit < 0) or opts.offset < 0:
        raise ClientError(f"{name}: limit and offset must not be negative")
    return limit if limit is None or cap is None else min(limit, cap)


def _newest_first(stmt: Any, last: Any, ident: Any) -> Any:
    return stmt.order_by(last.desc().nulls_last(), ident.desc())


def _page(stmt: Any, limit: int | None, offset: int) -> Any:
    if limit is not None:
        stmt = stmt.limit(limit)
    return stmt.offset(offset) if offset else stmt


async def wa_search(
    session: AsyncSession,
    org_id: int,
    flt: dict[str, Any],
    group_opts: ListOpts,
    message_opts: ListOpts,
    viewer: Viewer | None = None,
) -> list[WaConversation]:
    group_limit = _limit(group_opts, MAX_GROUPS, MAX_GROUPS, "waGroupOpts")
    message_limit = _limit(message_opts, DEFAULT_MESSAGES, MAX_MESSAGES, "waMessageOpts")
    assert message_limit is not None
    if flt.get("search_group"):
        return await _collection_conversations(
            session,
            org_id,
            flt,
            group_limit,
            group_opts.offset,
            message_limit,
            message_opts,
            viewer,
        )
    stmt = _visible(select(WaGroup).where(col(WaGroup.organization_id) == org_id), viewer)
    if flt.get("id") is not None:
        stmt = stmt.where(col(WaGroup.id).in_(int_ids([flt["id"]])))
    if flt.get("ids") is not None:
        stmt = stmt.where(col(WaGroup.id).in_(int_ids(flt["ids"])))
    if flt.get("wa_phone_ids") is not None:
        stmt = stmt.where(col(WaGroup.wa_managed_phone_id).in_(int_ids(flt["wa_phone_ids"])))
    for key in ("term", "group_label"):
        if flt.get(key):
            stmt = stmt.where(ilike(col(WaGroup.label), str(flt[key])))
    stmt = _newest_first(stmt, col(WaGroup.last_communication_at), col(WaGroup.id))
    wa_groups = list((await session.scalars(_page(stmt, group_limit, group_opts.offset))).all())
    ids = [saved_id(g) for g in wa_groups]
    by_number = bool(message_opts.offset) and flt.get("id") is not None
    latest = await _latest(
        session,
        org_id,
        col(WaMessage.wa_group_id),
        ids,
        message_limit,
        message_opts.offset,
        by_number=by_number,
    )
    return [
        WaConversation(id=f"wa_group_{g.id}", wa_group=g, wa_messages=latest[saved_id(g)])
        for g in wa_groups
    ]


async def _latest(
    session: AsyncSession,
    org_id: int,
    owner: Any,
    ids: list[int],
    limit: int,
    offset: int,
    *,
    by_number: bool = False,
) -> dict[int, list[WaMessage]]:
    """The newest messages of each of `ids` (`owner` is the column naming them), newest
    first, in one statement: ROW_NUMBER() over each owner's messages."""
    out: dict[int, list[WaMessage]] = {i: [] for i in ids}
    if not ids or limit == 0:
        return out
    conditions = [
        col(WaMessage.organization_id) == org_id,
        owner.in_(ids),
        col(WaMessage.is_dm).is_(False),
    ]
    if by_number:
        # One group: Glific's offset is the message number the page starts at.
        conditions += [
            col(WaMessage.message_number) >= offset,
            col(WaMessage.message_number) <= offset + limit,
        ]
        stmt = select(WaMessage).where(*conditions)
    else:
        number = func.row_number().over(partition_by=owner, order_by=col(WaMessage.id).desc())
        ranked = select(col(WaMessage.id).label("id"), number.label("n")).where(*conditions)
        page = ranked.subquery()
        chosen = select(page.c.id).where(page.c.n > offset, page.c.n <= offset + limit)
        stmt = select(WaMessage).where(col(WaMessage.id).in_(chosen))
    rows = await session.scalars(stmt.order_by(col(WaMessage.id).desc()))
    key = owner.key
    for message in rows:
        out[getattr(message, key)].append(message)
    return out


async def _collection_conversations(
    session: AsyncSession,
    org_id: int,
    flt: dict[str, Any],
    limit: int | None,
    offset: int,
    message_limit: int,
    message_opts: ListOpts,
    viewer: Viewer | None = None,
) -> list[WaConversation]:
    """Collections holding WA groups, newest communication first, each with the messages
    sent to the collection as a whole."""
    holding = select(col(WaGroupCollection.group_id))
    stmt = select(Group).where(col(Group.organization_id) == org_id, col(Group.id).in_(holding))
    if viewer is not None and viewer.restricted:
        stmt = stmt.where(col(Group.id).in_(_my_collections(viewer)))
    chosen: list[int] | None = None
    if flt.get("include_groups") is not None:
        chosen = int_ids(flt["include_groups"])
    elif flt.get("ids") is not None:
        chosen = int_ids(flt["ids"])
    elif flt.get("id") is not None:
        chosen = int_ids([flt["id"]])
    if chosen is not None:
        stmt = stmt.where(col(Group.id).in_(chosen))
    elif flt.get("group_label"):
        stmt = stmt.where(ilike(col(Group.label), str(flt["group_label"])))
    stmt = _newest_first(stmt, col(Group.last_communication_at), col(Group.id))
    groups = list((await session.scalars(_page(stmt, limit, offset))).all())
    ids = [saved_id(g) for g in groups]
    latest = await _latest(
        session, org_id, col(WaMessage.group_id), ids, message_limit, message_opts.offset
    )
    return [
        WaConversation(id=f"group_{g.id}", group=g, wa_messages=latest[saved_id(g)]) for g in groups
    ]


async def wa_search_multi(
    session: AsyncSession,
    org_id: int,
    flt: dict[str, Any],
    group_opts: ListOpts,
    message_opts: ListOpts,
    viewer: Viewer | None = None,
) -> WaSearchCup:
    """The WA search box: groups whose label holds the term, and group messages whose body
    holds it, each newest first."""
    term = str(flt.get("term") or "")
    group_limit = _limit(group_opts, MAX_GROUPS, MAX_GROUPS, "waGroupOpts")
    message_limit = _limit(message_opts, DEFAULT_MESSAGES, MAX_MESSAGES, "waMessageOpts")
    groups = _visible(select(WaGroup).where(col(WaGroup.organization_id) == org_id), viewer)
    messages = select(WaMessage).where(
        col(WaMessage.organization_id) == org_id, col(WaMessage.wa_group_id).is_not(None)
    )
    if viewer is not None and viewer.restricted:
        seen = _visible(select(col(WaGroup.id)), viewer)
        messages = messages.where(col(WaMessage.wa_group_id).in_(seen))
    if term:
        groups = groups.where(ilike(col(WaGroup.label), term))
        messages = messages.where(ilike(col(WaMessage.body), term))
    groups = _newest_first(groups, col(WaGroup.last_communication_at), col(WaGroup.id))
    messages = _newest_first(messages, col(WaMessage.inserted_at), col(WaMessage.id))
    found_groups = await session.scalars(_page(groups, group_limit, group_opts.offset))
    found_messages = await session.scalars(_page(messages, message_limit, message_opts.offset))
    return WaSearchCup(list(found_groups.all()), list(found_messages.all()))


# --- collections of WA groups -----------------------------------------------------------------


async def _collection(
    session: AsyncSession, org_id: int, raw_id: Any, *, lock: bool = False
) -> Group:
    try:
        group_id = to_int_id(raw_id)
    except InputErrors:
        raise not_found(GROUP) from None
    stmt = select(Group).where(col(Group.organization_id) == org_id, col(Group.id) == group_id)
    if lock:
        stmt = stmt.with_for_update(key_share=True)
    found: Group | None = await session.scalar(stmt)
    if found is None:
        raise not_found(GROUP)
    return found


async def _known(
    session: AsyncSession, org_id: int, model: Any, raw: list[Any] | None, entity: str
) -> list[int]:
    """The ids of `raw`, each the organization's row of `model`; one that is not (another
    organization's, missing, or no id at all) refuses the whole change."""
    ids: list[int] = []
    for value in raw or []:
        try:
            ids.append(to_int_id(value))
        except InputErrors:
            raise not_found(entity) from None
    unique = sorted(set(ids))
    if unique:
        found = set(
            await session.scalars(
                select(model.id).where(model.organization_id == org_id, model.id.in_(unique))
            )
        )
        if len(found) != len(unique):
            raise not_found(entity)
    return unique


async def _link(session: AsyncSession, org_id: int, group_id: int, wa_group_id: int) -> None:
    """The collection holds the WA group (a row already there is kept; one written by a
    concurrent request meanwhile wins)."""
    exists = await session.scalar(
        select(col(WaGroupCollection.id)).where(
            col(WaGroupCollection.group_id) == group_id,
            col(WaGroupCollection.wa_group_id) == wa_group_id,
        )
    )
    if exists is not None:
        return
    try:
        async with session.begin_nested():
            session.add(
                WaGroupCollection(
                    organization_id=org_id, group_id=group_id, wa_group_id=wa_group_id
                )
            )
    except IntegrityError:
        pass


async def _links(
    session: AsyncSession, org_id: int, group_ids: list[int], wa_group_ids: list[int]
) -> list[WaGroupCollection]:
    if not group_ids or not wa_group_ids:
        return []
    rows = await session.scalars(
        select(WaGroupCollection)
        .where(
            col(WaGroupCollection.organization_id) == org_id,
            col(WaGroupCollection.group_id).in_(group_ids),
            col(WaGroupCollection.wa_group_id).in_(wa_group_ids),
        )
        .order_by(col(WaGroupCollection.id))
    )
    return list(rows.all())


async def create_wa_groups_collection(
    session: AsyncSession, org_id: int, params: dict[str, Any]
) -> WaGroupCollection:
    """Put one WA group in one collection; asking again answers the row already there."""
    group = await _collection(session, org_id, params.get("group_id"), lock=True)
    wa_group = await get_wa_group(session, org_id, params.get("wa_group_id"))
    await _link(session, org_id, saved_id(group), saved_id(wa_group))
    made = await _links(session, org_id, [saved_id(group)], [saved_id(wa_group)])
    return made[0]


async def update_collection_wa_groups(
    session: AsyncSession, org_id: int, params: dict[str, Any]
) -> tuple[list[WaGroupCollection], int]:
    """Add WA groups to one collection and remove others: the rows for the added ones (old or
    new) and how many were removed."""
    group = await _collection(session, org_id, params.get("group_id"), lock=True)
    group_id = saved_id(group)
    add = await _known(session, org_id, WaGroup, params.get("add_wa_group_ids"), WA_GROUP)
    remove = await _known(session, org_id, WaGroup, params.get("delete_wa_group_ids"), WA_GROUP)
    for wa_group_id in add:
        await _link(session, org_id, group_id, wa_group_id)
    removed = 0
    if remove:
        result = await session.execute(
            delete(WaGroupCollection).where(
                col(WaGroupCollection.group_id) == group_id,
                col(WaGroupCollection.wa_group_id).in_(remove),
            )
        )
        removed = int(getattr(result, "rowcount", 0) or 0)
    await session.flush()
    return await _links(session, org_id, [group_id], add), removed


async def update_wa_group_collections(
    session: AsyncSession, org_id: int, params: dict[str, Any]
) -> tuple[list[WaGroupCollection], int]:
    """Put one WA group in some collections and take it out of others."""
    wa_group = await get_wa_group(session, org_id, params.get("wa_group_id"), lock=True)
    wa_group_id = saved_id(wa_group)
    add = await _known(session, org_id, Group, params.get("add_group_ids"), GROUP)
    remove = await _known(session, org_id, Group, params.get("delete_group_ids"), GROUP)
    for group_id in add:
        await _link(session, org_id, group_id, wa_group_id)
    removed = 0
    if remove:
        result = await session.execute(
            delete(WaGroupCollection).where(
                col(WaGroupCollection.wa_group_id) == wa_group_id,
                col(WaGroupCollection.group_id).in_(remove),
            )
        )
        removed = int(getattr(result, "rowcount", 0) or 0)
    await session.flush()
    return await _links(session, org_id, add, [wa_group_id]), removed
