"""The chat screen's conversation list (Glific's `search`), its search box (`searchMulti`,
`search_multi`), saved searches and their counts (`savedSearches`, `savedSearch`,
`countSavedSearches`, `savedSearchCount`, `collectionStats`, create/update/delete).

A conversation is a contact with messages (`last_message_number > 0`; asking for contacts by
`id`/`ids` lists them even without any), newest communication first: `last_communication_at
DESC NULLS LAST, id DESC`, never a blocked contact, only WhatsApp Business contacts. Contact
matching (`term`, groups, what a restricted staff user may see, masked phones) is the
contacts list's own filter (`resolvers.contacts`), so whatever serves that list serves this.

Paging. With `contactOpts.offset` the list is paged by OFFSET, as Glific's clients ask. Without
one it is paged by keyset: every conversation carries a `cursor` (its contact's
`last_communication_at` and id), and `filter.cursor` set to the last one seen continues
strictly after it; no page reads the rows of the pages before it. A contact whose
conversation moves to the top meanwhile is not shown twice.

The latest messages of all the page's contacts come from one query (ROW_NUMBER() over each
contact's messages, newest first: SQLite and PostgreSQL alike). `messageOpts.limit` defaults
to 20 and is capped at 250; `messageOpts.offset` skips that many of a conversation's newest
messages, except for a single contact (`filter.id`), where, as in Glific, it is the message
number the page starts at.

Reserved saved searches (All, Unread, Not replied, Not Responded, Optin, Optout: Glific's
seeds) are created with each organization (`seed_reserved`, called by
`organizations.create_organization`); migration 0008 seeds the organizations that existed
before it. Tags and flow labels are not kept: `includeTags` matches nothing (as the contacts
list), `includeLabels` and `dateExpression` are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import (
    Contact,
    Group,
    Message,
    Read,
    SavedSearch,
    guarded,
    prepared,
    read_rows,
    records,
)
from resolvers import contacts, group_sends
from resolvers import validation as v
from resolvers.contacts import Viewer
from resolvers.errors import ClientError, InputErrors, not_found
from resolvers.querying import (
    ListOpts,
    StatementCache,
    apply_opts,
    as_list,
    by_id,
    grouped_by,
    ilike,
    in_ids,
    in_ids_param,
    int_ids,
    one_or,
    to_int_id,
)

ENTITY = "Searches.SavedSearch"
DEFAULT_CONTACTS, MAX_CONTACTS = 25, 250
DEFAULT_MESSAGES, MAX_MESSAGES = 20, 250
BUSINESS_TYPES = ("WABA", "WABA+WA")

# Glific's `SearchFilter.status` values and the contacts each one selects.
_STATUS: dict[str, Any] = {
    "Unread": col(Contact.is_org_read).is_(False),
    "Not replied": col(Contact.is_org_replied).is_(False),
    "Not Responded": col(Contact.is_contact_replied).is_(False),
    "Optin": col(Contact.optin_status).is_(True),
    "Optout": col(Contact.optout_time).is_not(None),
}

RESERVED: tuple[tuple[str, str], ...] = (
    ("All conversations", "All"),
    ("All unread conversations", "Unread"),
    ("Conversations read but not replied", "Not replied"),
    ("Conversations read but not responded", "Not Responded"),
    ("Conversations where the contact has opted in", "Optin"),
    ("Conversations where the contact has opted out", "Optout"),
)


def reserved_args(shortcode: str) -> dict[str, Any]:
    """The `search` variables Glific seeds for a reserved saved search."""
    if shortcode == "All":
        return {"filter": {}, "contactOpts": {"limit": 25}, "messageOpts": {"limit": 20}}
    return {
        "filter": {"status": shortcode, "term": ""},
        "contactOpts": {"limit": 25, "offset": 0},
        "messageOpts": {"limit": 20, "offset": 0},
    }


async def seed_reserved(session: AsyncSession, org_id: int) -> None:
    """The reserved saved searches of a new organization."""
    for label, shortcode in RESERVED:
        session.add(
            SavedSearch(
                organization_id=org_id,
                label=label,
                shortcode=shortcode,
                args=reserved_args(shortcode),
                is_reserved=True,
            )
        )


# --- conversations ---------------------------------------------------------------------------


@dataclass
class Conversation:
    """One entry of the conversation list: a contact's (or a group's) latest messages."""

    id: str | None
    contact: Any = None
    group: Any = None
    messages: list[Any] = field(default_factory=list)
    cursor: str | None = None


@dataclass(frozen=True)
class Columns:
    """What the caller reads of the contacts and messages (None: every column)."""

    contact: frozenset[str] | None = None
    message: frozenset[str] | None = None
    group: frozenset[str] | None = None


def cursor_of(last_communication_at: datetime | None, contact_id: int) -> str:
    stamp = last_communication_at.isoformat() if last_communication_at is not None else ""
    return f"{stamp}|{contact_id}"


def _parse_cursor(value: Any) -> tuple[datetime | None, int]:
    try:
        stamp, _, raw_id = str(value).partition("|")
        return (datetime.fromisoformat(stamp) if stamp else None), to_int_id(raw_id)
    except (ValueError, InputErrors):
        raise ClientError("cursor: is not a cursor this search returned") from None


def _after(cursor: tuple[datetime | None, int]) -> Any:
    """Rows strictly after `cursor` in `last_communication_at DESC NULLS LAST, id DESC`."""
    stamp, contact_id = cursor
    at, cid = col(Contact.last_communication_at), col(Contact.id)
    if stamp is None:
        return and_(at.is_(None), cid < contact_id)
    return or_(at < stamp, and_(at == stamp, cid < contact_id), at.is_(None))


def _day_bounds(date_range: dict[str, Any]) -> tuple[datetime | None, datetime | None]:
    start, end = date_range.get("from_"), date_range.get("to")
    low = datetime.combine(start, time.min) if isinstance(start, date) else None
    high = datetime.combine(end, time.max) if isinstance(end, date) else None
    return low, high


def _in_days(column: Any, bounds: tuple[datetime | None, datetime | None]) -> list[Any]:
    low, high = bounds
    conditions = []
    if low is not None:
        conditions.append(column >= low)
    if high is not None:
        conditions.append(column <= high)
    return conditions


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def _snake_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {_snake(str(k)): _snake_keys(v) for k, v in value.items()}
    return value


def _opts(raw: Any, fallback: ListOpts) -> ListOpts:
    if not isinstance(raw, dict):
        return fallback
    limit, offset = raw.get("limit"), raw.get("offset")
    return ListOpts(
        limit=limit if isinstance(limit, int) else fallback.limit,
        offset=offset if isinstance(offset, int) else 0,
    )


async def _saved_args(
    session: AsyncSession, org_id: int, raw_id: Any
) -> tuple[dict[str, Any], ListOpts, ListOpts]:
    found = await _saved_for_write(session, org_id, raw_id)
    args = _snake_keys(found.args or {})
    flt = args.get("filter") if isinstance(args.get("filter"), dict) else {}
    stored_dates = flt.get("date_range")
    if isinstance(stored_dates, dict):  # stored as JSON: dates are strings
        flt["date_range"] = {
            "from_": _iso_date(stored_dates.get("from")),
            "to": _iso_date(stored_dates.get("to")),
        }
    contact_opts = _opts(args.get("contact_opts"), ListOpts(limit=DEFAULT_CONTACTS))
    message_opts = _opts(args.get("message_opts"), ListOpts(limit=DEFAULT_MESSAGES))
    return flt, contact_opts, message_opts


def _iso_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) and value else None
    except ValueError:
        return None


async def resolve_filter(
    session: AsyncSession,
    org_id: int,
    flt: dict[str, Any],
    contact_opts: ListOpts,
    message_opts: ListOpts,
) -> tuple[dict[str, Any], ListOpts, ListOpts]:
    """`filter.savedSearchId` stands for the saved search's stored filter (the request's own
    `term` and `cursor` still apply; its paging options are the request's)."""
    if flt.get("saved_search_id") is None:
        return flt, contact_opts, message_opts
    stored, _, _ = await _saved_args(session, org_id, flt["saved_search_id"])
    merged = {k: v for k, v in stored.items() if k not in ("saved_search_id", "cursor")}
    for key in ("term", "cursor"):
        if flt.get(key):
            merged[key] = flt[key]
    return merged, contact_opts, message_opts


def _matching(flt: dict[str, Any], viewer: Viewer | None) -> dict[str, Any]:
    """The part of `flt` that the contacts list's own filter answers, as `viewer` sees it."""
    # contacts._as_seen_by/_filtered are the `contacts` list's filter (visibility, masked
    # phones, the search index for `term`); they have no public name yet.
    matching: dict[str, Any] = {"term": flt.get("term") or None}
    for key in ("include_groups", "include_tags"):
        if flt.get(key):
            matching[key] = flt[key]
    return contacts._as_seen_by(matching, viewer)


def _conversation_contacts(
    org_id: int, flt: dict[str, Any], viewer: Viewer | None, select_from: Any
) -> Any:
    """The contacts `flt` selects, through the contacts list's own filter; the values of
    its parameters are `contacts.filter_values(_matching(flt, viewer))`."""
    stmt = contacts._filtered(select_from, org_id, _matching(flt, viewer), viewer)
    stmt = stmt.where(col(Contact.contact_type).in_(BUSINESS_TYPES))
    ids = [flt["id"]] if flt.get("id") is not None else flt.get("ids")
    if ids is not None:
        stmt = stmt.where(in_ids(Contact.id, ids))
    else:
        stmt = stmt.where(col(Contact.last_message_number) > 0)
    status = flt.get("status")
    if status in _STATUS:
        stmt = stmt.where(_STATUS[status])
    if flt.get("include_users"):
        sent_by = select(col(Message.id)).where(
            col(Message.contact_id) == col(Contact.id),
            in_ids(Message.user_id, flt["include_users"]),
        )
        stmt = stmt.where(exists(sent_by))
    bounds = _day_bounds(flt.get("date_range") or {})
    if any(bounds):
        in_range = select(col(Message.id)).where(
            col(Message.contact_id) == col(Contact.id), *_in_days(col(Message.inserted_at), bounds)
        )
        stmt = stmt.where(exists(in_range))
    return stmt


def _limit(opts: ListOpts, default: int, most: int, name: str) -> int:
    """`opts.limit` (`default` without one) up to `most`; negative paging is refused."""
    limit = opts.limit if opts.limit is not None else default
    if limit < 0 or opts.offset < 0:
        raise ClientError(f"{name}: limit and offset must not be negative")
    return min(limit, most)


def _newest_first(stmt: Any) -> Any:
    """Conversations in the list's order: latest communication first."""
    return stmt.order_by(
        col(Contact.last_communication_at).desc().nulls_last(), col(Contact.id).desc()
    )


def _paged(stmt: Any, flt: dict[str, Any], opts: ListOpts) -> Any:
    limit = _limit(opts, DEFAULT_CONTACTS, MAX_CONTACTS, "contactOpts")
    stmt = _newest_first(stmt).limit(limit)
    if opts.offset:
        return stmt.offset(opts.offset)
    if flt.get("cursor"):
        stmt = stmt.where(_after(_parse_cursor(flt["cursor"])))
    return stmt


_PAGES = StatementCache()
_LATEST = StatementCache()


def _page(
    org_id: int, flt: dict[str, Any], viewer: Viewer | None, opts: ListOpts
) -> tuple[Any, dict[str, Any]]:
    """The statement of a page of conversations and its parameters' values. A statement is
    built once for the same filter (its term aside), paging and viewer: the first page of a
    conversation list is asked for again and again, and a name search for many names."""
    matching = _matching(flt, viewer)

    def build() -> Any:
        stmt = _conversation_contacts(org_id, flt, viewer, records(Contact))
        return guarded(_paged(stmt, flt, opts))

    values = contacts.filter_values(matching)
    if len(flt.get("ids") or ()) > 64 or contacts._long_id_lists(flt):
        return prepared(build()), values  # (a client's long id list is not kept in the cache)
    sees = viewer if viewer is not None and (viewer.restricted or viewer.phones_masked) else None
    shape = (contacts.filter_shape(flt), contacts.filter_shape(matching))
    return _PAGES.get((org_id, shape, opts, sees), build), values


def _latest_messages(
    org_id: int, contact_ids: list[int], flt: dict[str, Any], opts: ListOpts
) -> Read[dict[int, list[Any]]]:
    limit = _limit(opts, DEFAULT_MESSAGES, MAX_MESSAGES, "messageOpts")
    bounds = _day_bounds(flt.get("date_range") or {})
    # One conversation: Glific's offset is the message number the page starts at.
    by_number = bool(opts.offset) and flt.get("id") is not None

    def build() -> Any:
        number = func.row_number().over(
            partition_by=col(Message.contact_id), order_by=col(Message.id).desc()
        )
        conditions = [
            col(Message.organization_id) == org_id,
            in_ids_param(Message.contact_id, "contact_ids"),
            *_in_days(col(Message.inserted_at), bounds),
        ]
        ranked = (
            select(col(Message.id).label("id"), number.label("n")).where(*conditions).subquery()
        )
        if by_number:
            chosen = select(ranked.c.id).where(ranked.c.n >= 1)
            stmt = records(Message).where(
                col(Message.id).in_(chosen),
                col(Message.message_number) >= opts.offset,
                col(Message.message_number) <= opts.offset + limit,
            )
        else:
            chosen = select(ranked.c.id).where(
                ranked.c.n > opts.offset, ranked.c.n <= opts.offset + limit
            )
            stmt = records(Message).where(col(Message.id).in_(chosen))
        return guarded(stmt.order_by(col(Message.contact_id), col(Message.id).desc()))

    statement = _LATEST.get((org_id, limit, opts.offset, by_number, bounds), build)
    return Read(
        statement,
        {"contact_ids": frozenset(contact_ids)},
        grouped_by("contact_id", contact_ids),
        frozenset({"contact_id"}),
    )


async def search(
    session: AsyncSession,
    org_id: int,
    viewer: Viewer | None,
    flt: dict[str, Any],
    contact_opts: ListOpts,
    message_opts: ListOpts,
    columns: Columns = Columns(),
) -> list[Conversation]:
    """`search(filter, contactOpts, messageOpts)`: the conversation list."""
    flt, contact_opts, message_opts = await resolve_filter(
        session, org_id, flt, contact_opts, message_opts
    )
    if flt.get("search_group"):
        return await _group_conversations(session, org_id, flt, contact_opts, message_opts, columns)
    page, values = _page(org_id, flt, viewer, contact_opts)
    found = await Read(page, values, as_list, frozenset({"last_communication_at"})).project(
        session, columns.contact
    )
    if not found:
        return []
    ids = [row.id for row in found]
    messages = await _latest_messages(org_id, ids, flt, message_opts).project(
        session, columns.message
    )
    return [
        Conversation(
            id=f"contact_{row.id}",
            contact=row,
            messages=messages[row.id],
            cursor=cursor_of(row.last_communication_at, row.id),
        )
        for row in found
    ]


@dataclass
class Found:
    """Glific's `searchMulti` answer: contacts whose name or phone holds the term, messages
    whose body holds it, messages whose flow label holds it (`labels`); `tags` stays empty
    (messages are not tagged here)."""

    contacts: list[Any] = field(default_factory=list)
    messages: list[Any] = field(default_factory=list)
    tags: list[Any] = field(default_factory=list)
    labels: list[Any] = field(default_factory=list)


async def search_multi(
    session: AsyncSession,
    org_id: int,
    viewer: Viewer | None,
    flt: dict[str, Any],
    contact_opts: ListOpts,
    message_opts: ListOpts,
) -> Found:
    """`searchMulti(filter, contactOpts, messageOpts)`: the chat screen's search box. Contacts
    come from the contacts list's own term filter (what the viewer may see, masked phones),
    newest conversation first; messages, newest first, only of contacts the viewer may see.
    Without a term there is nothing to look for."""
    term = (flt.get("term") or "").strip()
    if not term:
        return Found()
    contact_limit = _limit(contact_opts, DEFAULT_CONTACTS, MAX_CONTACTS, "contactOpts")
    message_limit = _limit(message_opts, DEFAULT_MESSAGES, MAX_MESSAGES, "messageOpts")
    seen = contacts._as_seen_by({"term": term}, viewer)
    matching = contacts._filtered(records(Contact), org_id, seen, viewer)
    page = guarded(_newest_first(matching).limit(contact_limit).offset(contact_opts.offset))
    found = Found(
        contacts=await read_rows(session, page, contacts.filter_values(seen)),
        messages=await _messages_holding(
            session, org_id, viewer, Message.body, term, message_limit, message_opts.offset
        ),
        labels=await _messages_holding(
            session, org_id, viewer, Message.flow_label, term, message_limit, message_opts.offset
        ),
    )
    return found


async def _messages_holding(
    session: AsyncSession,
    org_id: int,
    viewer: Viewer | None,
    column: Any,
    term: str,
    limit: int,
    offset: int,
) -> list[Any]:
    stmt = records(Message).where(col(Message.organization_id) == org_id, ilike(column, term))
    if viewer is not None and viewer.restricted:
        visible = contacts._visible_to(
            select(col(Contact.id)).where(col(Contact.organization_id) == org_id), org_id, viewer
        )
        stmt = stmt.where(col(Message.contact_id).in_(visible))
    stmt = stmt.order_by(col(Message.id).desc()).limit(limit).offset(offset)
    return await read_rows(session, guarded(stmt), {})


async def _group_conversations(
    session: AsyncSession,
    org_id: int,
    flt: dict[str, Any],
    opts: ListOpts,
    message_opts: ListOpts,
    columns: Columns,
) -> list[Conversation]:
    """Collections (`searchGroup: true`): the organization's groups, most recent first, each
    with the latest messages sent to it as a whole (resolvers.group_sends)."""
    stmt = records(Group).where(col(Group.organization_id) == org_id)
    ids = [flt["id"]] if flt.get("id") is not None else flt.get("ids")
    if ids is not None:
        stmt = stmt.where(in_ids(Group.id, ids))
    if flt.get("term"):
        stmt = stmt.where(ilike(Group.label, flt["term"]))
    limit = opts.limit if opts.limit is not None else DEFAULT_CONTACTS
    stmt = (
        stmt.order_by(col(Group.last_communication_at).desc().nulls_last(), col(Group.id).desc())
        .limit(min(max(limit, 0), MAX_CONTACTS))
        .offset(max(opts.offset, 0))
    )
    rows = await Read(guarded(stmt), {}, as_list).project(session, columns.group)
    first = message_opts.offset
    last = first + _limit(message_opts, DEFAULT_MESSAGES, MAX_MESSAGES, "messageOpts")
    sent = await group_sends.group_messages(session, [row.id for row in rows])
    return [
        Conversation(id=f"group_{row.id}", group=row, messages=sent[row.id][first:last])
        for row in rows
    ]


async def count_conversations(
    session: AsyncSession, org_id: int, viewer: Viewer | None, flt: dict[str, Any]
) -> int:
    stmt = _conversation_contacts(org_id, flt, viewer, select(func.count()).select_from(Contact))
    values = contacts.filter_values(_matching(flt, viewer))
    return int((await session.execute(stmt, values)).scalar_one())


async def saved_search_count(
    session: AsyncSession, org_id: int, viewer: Viewer | None, raw_id: Any, term: str | None
) -> int:
    """`savedSearchCount(id, term)`: how many conversations the saved search finds."""
    flt, _, _ = await _saved_args(session, org_id, raw_id)
    if term:
        flt["term"] = term
    return await count_conversations(session, org_id, viewer, flt)


async def collection_stats(session: AsyncSession, org_id: int) -> dict[str, dict[str, int]]:
    """`collectionStats`: {org id: {reserved shortcode: number of conversations}}."""
    talked = col(Contact.last_message_number) > 0
    counts = {
        "All": talked,
        "Unread": and_(talked, _STATUS["Unread"]),
        "Not replied": and_(talked, _STATUS["Not replied"]),
        "Not Responded": and_(talked, _STATUS["Not Responded"]),
        "Optin": _STATUS["Optin"],
        "Optout": _STATUS["Optout"],
    }
    stmt = select(
        *(func.coalesce(func.sum(case((cond, 1), else_=0)), 0) for cond in counts.values())
    ).where(
        col(Contact.organization_id) == org_id,
        col(Contact.status) != "blocked",
        col(Contact.contact_type).in_(BUSINESS_TYPES),
    )
    row = (await session.execute(stmt)).one()
    return {str(org_id): {key: int(value) for key, value in zip(counts, row, strict=True)}}


# --- saved searches --------------------------------------------------------------------------

_COLUMNS = {
    "id": SavedSearch.id,
    "label": SavedSearch.label,
    "shortcode": SavedSearch.shortcode,
    "is_reserved": SavedSearch.is_reserved,
    "inserted_at": SavedSearch.inserted_at,
    "updated_at": SavedSearch.updated_at,
}


def _saved_filtered(stmt: Any, org_id: int, flt: dict[str, Any]) -> Any:
    stmt = stmt.where(col(SavedSearch.organization_id) == org_id)
    if flt.get("label"):
        stmt = stmt.where(ilike(SavedSearch.label, flt["label"]))
    if flt.get("shortcode"):
        stmt = stmt.where(ilike(SavedSearch.shortcode, flt["shortcode"]))
    if flt.get("is_reserved") is not None:
        stmt = stmt.where(col(SavedSearch.is_reserved).is_(bool(flt["is_reserved"])))
    return stmt


def saved_searches_read(org_id: int, flt: dict[str, Any], opts: ListOpts) -> Read[list[Any]]:
    """`savedSearches(filter, opts)`: ordered by lower(label) with opts (Glific), else by id."""
    stmt = _saved_filtered(records(SavedSearch), org_id, flt)
    stmt = apply_opts(
        stmt, opts, columns=_COLUMNS, default_field="label", tiebreak=col(SavedSearch.id)
    )
    return Read(guarded(stmt), {}, as_list)


async def count_saved_searches(session: AsyncSession, org_id: int, flt: dict[str, Any]) -> int:
    stmt = _saved_filtered(select(func.count()).select_from(SavedSearch), org_id, flt)
    return int((await session.execute(stmt)).scalar_one())


def saved_search_read(org_id: int, raw_id: Any) -> Read[Any]:
    """`savedSearch(id)`: a miss is `Elixir.Glific.Searches.SavedSearch` / `Resource not
    found`."""
    ids = int_ids([raw_id])
    return Read(
        by_id(SavedSearch),
        {"id": ids[0] if ids else 0, "org": org_id},
        one_or(lambda: not_found(ENTITY)),
    )


async def _saved_for_write(session: AsyncSession, org_id: int, raw_id: Any) -> SavedSearch:
    ids = int_ids([raw_id])
    found = None
    if ids:
        found = await session.scalar(
            select(SavedSearch).where(
                col(SavedSearch.id) == ids[0], col(SavedSearch.organization_id) == org_id
            )
        )
    if found is None:
        raise not_found(ENTITY)
    return found


async def _apply(
    session: AsyncSession, org_id: int, row: SavedSearch, params: dict[str, Any], new: bool
) -> SavedSearch:
    errors: list[tuple[str, str]] = []
    for key in ("label", "shortcode"):
        if new or key in params:
            try:
                setattr(row, key, v.text(params, key, required=True))
            except InputErrors as exc:
                errors += exc.errors
    if new or "args" in params:
        args = params.get("args")
        if isinstance(args, dict):
            row.args = args
        else:
            errors.append(("args", "Args: can't be blank" if args is None else "Args: is invalid"))
    if errors:
        raise InputErrors(errors)
    clash = select(col(SavedSearch.id)).where(
        col(SavedSearch.organization_id) == org_id,
        col(SavedSearch.shortcode) == row.shortcode,
        col(SavedSearch.id) != (row.id or 0),
    )
    await v.refuse_taken(session, "shortcode", clash)
    session.add(row)
    await v.flush_unique(session, "shortcode")
    return row


async def create_saved_search(
    session: AsyncSession, org_id: int, params: dict[str, Any]
) -> SavedSearch:
    """`createSavedSearch(input)`: label, shortcode and args are required; a shortcode is
    unique in the organization."""
    row = SavedSearch(organization_id=org_id, label="", shortcode="")
    return await _apply(session, org_id, row, params, new=True)


async def update_saved_search(
    session: AsyncSession, org_id: int, raw_id: Any, params: dict[str, Any]
) -> SavedSearch:
    row = await _saved_for_write(session, org_id, raw_id)
    return await _apply(session, org_id, row, params, new=False)


async def delete_saved_search(session: AsyncSession, org_id: int, raw_id: Any) -> None:
    row = await _saved_for_write(session, org_id, raw_id)
    await session.delete(row)
    await session.flush()


async def save_search(
    session: AsyncSession,
    org_id: int,
    params: dict[str, Any],
    args: dict[str, Any],
) -> SavedSearch:
    """`search(saveSearchInput: {label, shortcode})`: the search's own arguments saved
    under that label (Glific saves them before it searches)."""
    return await create_saved_search(session, org_id, {**params, "args": args})


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _as_json(value: Any) -> Any:
    if isinstance(value, dict):
        # `from_` is DateInput's `from` (a Python keyword).
        return {_camel(k.rstrip("_")): _as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_json(v) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def stored_args(
    flt: dict[str, Any], contact_opts: dict[str, Any], message_opts: dict[str, Any]
) -> dict[str, Any]:
    """A search's arguments as a saved search keeps them: the variables the web app runs
    `search` with when the saved search is chosen (camelCase keys, dates as ISO strings;
    of the options, the paging, as Glific's seeds keep them)."""

    def paging(opts: dict[str, Any]) -> dict[str, Any]:
        return {k: opts[k] for k in ("limit", "offset") if opts.get(k) is not None}

    return {
        "filter": _as_json({k: v for k, v in flt.items() if k != "cursor"}),
        "contactOpts": paging(contact_opts),
        "messageOpts": paging(message_opts),
    }
