"""Contacts: lookup, lists with Glific's filters, create/update/delete, opt-in, location.

Writes to `fields` and `language_id` go through `profiles.write_contact_fields` /
`write_contact_language` so the active profile always follows the contact; setting
`activeProfileId` is a real switch (fields and language are copied, history is written).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from enum import StrEnum
from typing import Any

from sqlalchemy import false, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped
from sqlmodel import col

from models import (
    Contact,
    ContactGroup,
    ContactWaGroup,
    Location,
    Organization,
    Read,
    UserGroup,
    guarded,
    prepared,
    read_rows,
    records,
    saved_id,
    utcnow,
)
from resolvers import history, profiles
from resolvers import validation as v
from resolvers.auth import AuthUser
from resolvers.config import settings_of
from resolvers.contact_search import contains, contains_values, counted_contacts, term_shape
from resolvers.errors import ClientError, InputErrors
from resolvers.phones import is_simulator_phone, lookup_phone, normalize_phone
from resolvers.querying import (
    ListOpts,
    StatementCache,
    apply_opts,
    as_list,
    by_id,
    by_ids,
    fetch_for_write,
    in_ids,
    keyed_by_id,
    one_or,
    to_int_id,
)


class ContactStatus(StrEnum):
    BLOCKED = "blocked"
    FAILED = "failed"
    INVALID = "invalid"
    PROCESSING = "processing"
    VALID = "valid"


class ProviderStatus(StrEnum):
    """What the WhatsApp provider lets us send the contact (`bsp_status`)."""

    NONE = "none"
    SESSION = "session"
    SESSION_AND_HSM = "session_and_hsm"
    HSM = "hsm"


STATUSES = tuple(s.value for s in ContactStatus)
BSP_STATUSES = tuple(s.value for s in ProviderStatus)
DEFAULT_LIMIT, MAX_LIMIT = 25, 50

_COLUMNS: dict[str, Mapped[Any]] = {
    "id": col(Contact.id),
    "name": col(Contact.name),
    "phone": col(Contact.phone),
    "status": col(Contact.status),
    "bsp_status": col(Contact.bsp_status),
    "language_id": col(Contact.language_id),
    "optin_time": col(Contact.optin_time),
    "optout_time": col(Contact.optout_time),
    "last_message_at": col(Contact.last_message_at),
    "last_communication_at": col(Contact.last_communication_at),
    "inserted_at": col(Contact.inserted_at),
    "updated_at": col(Contact.updated_at),
}
_DATE_COLUMNS = (
    "inserted_at",
    "updated_at",
    "last_message_at",
    "last_communication_at",
    "optin_time",
    "optout_time",
)


@dataclass(frozen=True)
class Viewer:
    """Who is looking. A restricted staff user sees only contacts in the groups assigned to
    them, their own contact and the organization's contact (Glific's `is_restricted`).
    `phones_masked`: the viewer never sees a whole phone number, nor finds contacts by part
    of one (see `_as_seen_by`)."""

    user_id: int
    contact_id: int | None = None
    restricted: bool = False
    phones_masked: bool = False
    # How to read a phone number the viewer types without a country code.
    phone_region: str = ""


def viewer_for(user: AuthUser, phone_region: str = "") -> Viewer:
    """Glific's rules (spec §4.3): `is_restricted` narrows staff users only, and anyone
    holding the staff role sees phones masked (`Contact.phone` is "" for them)."""
    staff = "staff" in user.roles
    return Viewer(
        user_id=user.id,
        contact_id=user.contact_id,
        restricted=user.is_restricted and staff,
        phones_masked=staff,
        phone_region=phone_region,
    )


def _visible_to(stmt: Any, org_id: int, viewer: Viewer | None) -> Any:
    if viewer is None or not viewer.restricted:
        return stmt
    in_my_groups = select(col(ContactGroup.contact_id)).where(
        col(ContactGroup.group_id).in_(
            select(col(UserGroup.group_id)).where(col(UserGroup.user_id) == viewer.user_id)
        )
    )
    org_contact = select(col(Organization.contact_id)).where(col(Organization.id) == org_id)
    return stmt.where(
        or_(
            col(Contact.id).in_(in_my_groups),
            col(Contact.id) == (viewer.contact_id or 0),
            col(Contact.id).in_(org_contact.scalar_subquery()),
        )
    )


def visible_contact_ids(org_id: int, viewer: Viewer) -> Any:
    """The ids of the organization's contacts `viewer` may see, as a subquery (for what
    belongs to a contact: its messages)."""
    return _visible_to(
        select(col(Contact.id)).where(col(Contact.organization_id) == org_id), org_id, viewer
    )


# --- reading -------------------------------------------------------------------------------


_MISSING = ("Contact", "Contact not found or permission denied.")


def _missing() -> InputErrors:
    return InputErrors.raw(*_MISSING)


def contact_read(org_id: int, raw_id: Any, viewer: Viewer | None = None) -> Read[Any]:
    """`contact(id)`: one contact the viewer may see; a miss is Glific's "Contact not
    found ..."."""
    try:
        cid = to_int_id(raw_id)
    except InputErrors:
        raise _missing() from None
    if viewer is None or not viewer.restricted:
        return Read(by_id(Contact), {"id": cid, "org": org_id}, one_or(_missing))
    stmt = records(Contact).where(col(Contact.id) == cid, col(Contact.organization_id) == org_id)
    return Read(guarded(_visible_to(stmt, org_id, viewer)), {}, one_or(_missing))


async def get_contact(
    session: AsyncSession, org_id: int, raw_id: Any, viewer: Viewer | None = None
) -> Any:
    """`contact_read`, every column."""
    return await contact_read(org_id, raw_id, viewer).fetch(session)


async def contact_by_phone(
    session: AsyncSession, org_id: int, phone: str, viewer: Viewer | None = None
) -> Any:
    stored = lookup_phone(phone, default_region=settings_of(session).default_phone_region)
    stmt = records(Contact).where(
        col(Contact.phone) == stored, col(Contact.organization_id) == org_id
    )
    read = Read(guarded(_visible_to(stmt, org_id, viewer)), {}, one_or(_missing))
    return await read.fetch(session)


async def fetch_contact(session: AsyncSession, org_id: int, raw_id: Any) -> Contact:
    """For writes: a miss is Glific's `Elixir.Glific.Contacts.Contact` / `Resource not found`.
    The contact stays locked until the transaction ends: which profile is active, and so
    where a field write must also go, is part of what a write to a contact reads."""
    return await fetch_for_write(session, Contact, org_id, raw_id, "Contacts.Contact", lock=True)


def contacts_by_ids_read(ids: list[int]) -> Read[dict[int, Any]]:
    return Read(by_ids(Contact), {"ids": ids}, keyed_by_id)


async def contacts_by_ids(session: AsyncSession, ids: list[int]) -> dict[int, Any]:
    return await contacts_by_ids_read(ids).fetch(session)


def _end_of_day(value: datetime) -> datetime:
    return datetime.combine(value.date(), time.max) if value.time() == time.min else value


def _as_seen_by(flt: dict[str, Any], viewer: Viewer | None) -> dict[str, Any]:
    """For a viewer who sees phones masked, `phone` and `term` match a phone only as a whole
    number (normalised as phones are stored): a substring match would give the number away
    digit by digit. A term still searches names."""
    if viewer is None or not viewer.phones_masked or not (flt.get("phone") or flt.get("term")):
        return flt
    seen = dict(flt)
    if flt.get("phone"):
        seen["phone"] = None
        seen["whole_phone"] = lookup_phone(flt["phone"], default_region=viewer.phone_region)
    if flt.get("term"):
        seen["term_whole_phone"] = lookup_phone(flt["term"], default_region=viewer.phone_region)
    return seen


def _filtered(stmt: Any, org_id: int, flt: dict[str, Any], viewer: Viewer | None) -> Any:
    """`stmt` narrowed to the contacts `flt` selects as `viewer` sees them; its parameters'
    values are `filter_values(flt)`. Statements of one `filter_shape` are the same."""
    stmt = _visible_to(stmt.where(Contact.organization_id == org_id), org_id, viewer)
    if flt.get("status"):
        stmt = stmt.where(Contact.status == flt["status"])
    else:
        stmt = stmt.where(Contact.status != "blocked")
    if flt.get("bsp_status"):
        stmt = stmt.where(Contact.bsp_status == flt["bsp_status"])
    # Substring filters are answered from the contact search index (resolvers.contact_search),
    # their terms bound as parameters (`filter_values`).
    for key, term, names in _substring_filters(flt):
        condition = contains(key, term, *names)
        if key == "term" and flt.get("term_whole_phone"):
            condition = or_(condition, col(Contact.phone) == flt["term_whole_phone"])
        stmt = stmt.where(condition)
    if flt.get("whole_phone"):
        stmt = stmt.where(Contact.phone == flt["whole_phone"])
    # Members of collections, and of WhatsApp groups, in or out.
    for kind, member, group in (
        ("groups", ContactGroup.contact_id, ContactGroup.group_id),
        ("wa_groups", ContactWaGroup.contact_id, ContactWaGroup.wa_group_id),
    ):
        for included in (True, False):
            ids = flt.get(f"{'include' if included else 'exclude'}_{kind}")
            if ids:
                members = select(col(member)).where(in_ids(group, ids))
                found = col(Contact.id).in_(members)
                stmt = stmt.where(found if included else ~found)
    # Tags are not modelled on contacts: no contact carries one, so asking for contacts
    # that do matches nothing, and excluding them removes nothing.
    if flt.get("include_tags"):
        stmt = stmt.where(false())
    date_range = flt.get("date_range") or {}
    if date_range:
        column_name = date_range.get("column") or "inserted_at"
        if column_name not in _DATE_COLUMNS:
            raise ClientError(f"dateRange.column: cannot filter on '{column_name}'")
        column = _COLUMNS[column_name]
        if date_range.get("from_"):
            stmt = stmt.where(column >= date_range["from_"])
        if date_range.get("to"):
            stmt = stmt.where(column <= _end_of_day(date_range["to"]))
    return stmt


def _substring_filters(flt: dict[str, Any]) -> list[tuple[str, str, tuple[str, ...]]]:
    """(filter, term, columns it looks in) of each substring filter: `term` looks in names
    and phones (names only for a viewer who sees phones masked, see `_as_seen_by`)."""
    found: list[tuple[str, str, tuple[str, ...]]] = []
    if flt.get("term"):
        names = ("name",) if flt.get("term_whole_phone") else ("name", "phone")
        found.append(("term", flt["term"], names))
    for key in ("name", "phone"):
        if flt.get(key):
            found.append((key, flt[key], (key,)))
    return found


def filter_values(flt: dict[str, Any]) -> dict[str, Any]:
    """The values of the parameters of `_filtered`'s statement for `flt`."""
    values: dict[str, Any] = {}
    for key, term, names in _substring_filters(flt):
        values.update(contains_values(key, term, *names))
    return values


# The filters whose terms `_filtered` binds as parameters.
_SUBSTRINGS = ("term", "name", "phone")


def filter_shape(flt: dict[str, Any]) -> str:
    """What `_filtered` builds for `flt` depends on this alone (a statement cache's key):
    the filter with each substring term replaced by whether the index can answer it."""
    shaped = {
        key: term_shape(value) if key in _SUBSTRINGS and isinstance(value, str) and value else value
        for key, value in flt.items()
    }
    return repr(sorted(shaped.items()))


_LISTS = StatementCache()


def contacts_read(
    org_id: int, flt: dict[str, Any], opts: ListOpts, viewer: Viewer | None = None
) -> Read[list[Any]]:
    """`contacts(filter, opts)` as the viewer may see them."""
    flt = _as_seen_by(flt, viewer)

    def build() -> Any:
        stmt = apply_opts(
            _filtered(records(Contact), org_id, flt, viewer),
            opts,
            columns=_COLUMNS,
            default_field="name",
            default_limit=DEFAULT_LIMIT,
            max_limit=MAX_LIMIT,
            tiebreak=Contact.id,
        )
        return guarded(stmt)

    values = filter_values(flt)
    if _long_id_lists(flt):
        # Built afresh: as a cache key and a cached statement, a client's long id list would
        # stay in memory (the statement itself binds it as one value, see in_ids).
        return Read(build(), values, as_list)
    restricted = viewer if viewer is not None and viewer.restricted else None
    key = (org_id, filter_shape(flt), opts, restricted)
    return Read(_LISTS.get(key, build), values, as_list)


async def list_contacts(
    session: AsyncSession,
    org_id: int,
    flt: dict[str, Any],
    opts: ListOpts,
    viewer: Viewer | None = None,
) -> list[Any]:
    return await contacts_read(org_id, flt, opts, viewer).fetch(session)


def _long_id_lists(flt: dict[str, Any]) -> bool:
    keys = ("include_groups", "exclude_groups", "include_wa_groups", "exclude_wa_groups")
    return sum(len(flt.get(key) or ()) for key in keys) > 64


async def count_contacts(
    session: AsyncSession, org_id: int, flt: dict[str, Any], viewer: Viewer | None = None
) -> int:
    flt = _as_seen_by(flt, viewer)
    if not (viewer is not None and viewer.restricted) and not any(
        value for key, value in flt.items() if key != "status"
    ):
        counted = await counted_contacts(session, org_id, flt.get("status"))
        if counted is not None:
            return counted

    def build() -> Any:
        counted = select(func.count().label("n")).select_from(Contact)
        return guarded(_filtered(counted, org_id, flt, viewer))

    values = filter_values(flt)
    if _long_id_lists(flt):
        statement = prepared(build())
    else:
        restricted = viewer if viewer is not None and viewer.restricted else None
        statement = _COUNTS.get((org_id, filter_shape(flt), restricted), build)
    return int((await read_rows(session, statement, values))[0].n)


_COUNTS = StatementCache()


async def contact_location(session: AsyncSession, org_id: int, raw_id: Any) -> Location | None:
    """The last location the contact shared, or None."""
    contact = await fetch_for_write(session, Contact, org_id, raw_id, "Contacts.Contact")
    return await session.scalar(
        select(Location)
        .where(col(Location.contact_id) == contact.id)
        .order_by(col(Location.inserted_at).desc(), col(Location.id).desc())
        .limit(1)
    )


# --- writing -------------------------------------------------------------------------------


def _enum(params: dict[str, Any], key: str, allowed: tuple[str, ...]) -> str | None:
    value = params.get(key)
    if value is None:
        return None
    if value not in allowed:
        raise InputErrors.field(key, "is invalid")
    return str(value)


async def _apply_common(session: AsyncSession, contact: Contact, params: dict[str, Any]) -> None:
    if "name" in params:
        contact.name = v.text(params, "name")
    status = _enum(params, "status", STATUSES)
    if status:
        contact.status = status
    bsp_status = _enum(params, "bsp_status", BSP_STATUSES)
    if bsp_status:
        contact.bsp_status = bsp_status
    if "settings" in params:
        contact.settings = v.json_map(params, "settings")


async def _flush_phone(session: AsyncSession) -> None:
    await v.flush_unique(session, "phone")


async def create_contact(session: AsyncSession, org_id: int, params: dict[str, Any]) -> Contact:
    """Create a contact. The phone is normalised to E.164 digits; the language defaults to
    the organization's. A new contact has no profiles, so `active_profile_id` is refused."""
    phone = normalize_phone(
        params.get("phone"), default_region=settings_of(session).default_phone_region
    )
    if params.get("active_profile_id") is not None:
        raise InputErrors.field("active_profile_id", "does not belong to this contact")
    if params.get("language_id") is not None:
        language_id = await v.language_id(session, params)
    else:
        default_language_id = await session.scalar(
            select(col(Organization.default_language_id)).where(col(Organization.id) == org_id)
        )
        if default_language_id is None:
            raise RuntimeError(f"organization {org_id} does not exist")
        language_id = default_language_id
    await v.refuse_taken(
        session,
        "phone",
        select(col(Contact.id)).where(
            col(Contact.phone) == phone, col(Contact.organization_id) == org_id
        ),
    )
    now = utcnow()
    contact = Contact(
        organization_id=org_id,
        phone=phone,
        language_id=language_id,
        fields=v.json_map(params, "fields", values_are_maps=True),
        last_communication_at=now,
        inserted_at=now,
        updated_at=now,
    )
    await _apply_common(session, contact, params)
    session.add(contact)
    await _flush_phone(session)
    return contact


async def update_contact(
    session: AsyncSession, org_id: int, raw_id: Any, params: dict[str, Any]
) -> Contact:
    """Update a contact. `phone` is read-only (Glific's top-level error). `activeProfileId`
    switches profile; then `fields` and `languageId` are written to the contact and to the
    now-active profile."""
    if "phone" in params:
        raise ClientError("Cannot modify read-only fields")
    contact = await fetch_contact(session, org_id, raw_id)
    if params.get("active_profile_id") is not None:
        target = to_int_id(params["active_profile_id"], "active_profile_id")
        if target != contact.active_profile_id:
            profile = await profiles.profile_of_contact(session, saved_id(contact), target)
            if profile is None:
                raise InputErrors.field("active_profile_id", "does not belong to this contact")
            if not profile.is_active:
                raise InputErrors.field("active_profile_id", "is deactivated; reactivate it first")
            contact = await profiles.switch_profile(session, org_id, contact.id, profile_id=target)
    await _apply_common(session, contact, params)
    if "fields" in params:
        await profiles.write_contact_fields(
            session, contact, v.json_map(params, "fields", values_are_maps=True)
        )
    if params.get("language_id") is not None:
        await profiles.write_contact_language(
            session, contact, await v.language_id(session, params)
        )
    contact.updated_at = utcnow()
    await session.flush()
    return contact


async def delete_contact(session: AsyncSession, org_id: int, raw_id: Any) -> None:
    """Delete a contact with its profiles and history. The organization's own contact and the
    simulator contacts are refused, as in Glific."""
    contact = await fetch_contact(session, org_id, raw_id)
    org_contact = await session.scalar(
        select(col(Organization.contact_id)).where(col(Organization.id) == org_id)
    )
    if contact.id == org_contact:
        raise ClientError("Sorry, this is your chatbot number and hence cannot be deleted.")
    if is_simulator_phone(contact.phone):
        raise ClientError("Sorry, this is simulator number and hence cannot be deleted.")
    # Break the contact -> active profile reference first: the profile is deleted by the
    # same cascade and PostgreSQL refuses to SET NULL on a row it is deleting.
    await session.execute(
        update(Contact)
        .where(col(Contact.id) == contact.id)
        .values(active_profile_id=None)
        .execution_options(synchronize_session=False)
    )
    await session.delete(contact)
    await session.flush()


async def optin_contact(
    session: AsyncSession,
    org_id: int,
    phone: str,
    name: str | None = None,
    *,
    method: str = "BSP",
    at: datetime | None = None,
) -> Contact:
    """Record that a phone number opted in (creating the contact if it is new)."""
    stored = normalize_phone(phone, default_region=settings_of(session).default_phone_region)
    now = at or utcnow()
    contact = await session.scalar(
        select(Contact)
        .where(col(Contact.phone) == stored, col(Contact.organization_id) == org_id)
        .with_for_update()
    )
    if contact is None:
        contact = await create_contact(session, org_id, {"phone": stored, "name": name})
    elif name:
        contact.name = v.text({"name": name}, "name")
    await mark_opted_in(session, contact, method=method, at=now)
    return contact


async def mark_opted_in(
    session: AsyncSession, contact: Contact, *, method: str, at: datetime | None = None
) -> None:
    """Record that this (locked) contact opted in."""
    now = at or utcnow()
    contact.optin_time = now.replace(microsecond=0)
    contact.optin_status = True
    contact.optin_method = method
    contact.optout_time = None
    contact.optout_method = None
    contact.status = "valid"
    contact.bsp_status = "session_and_hsm" if contact.bsp_status == "session" else "hsm"
    contact.updated_at = utcnow()  # `at` may be an old opt-in date from an import
    await _flush_phone(session)
    await history.record(
        session,
        contact,
        history.CONTACT_OPTED_IN,
        f"contact opted in, via {method}",
        {"method": method, "optin_time": contact.optin_time.isoformat() + "Z"},
    )


async def optout_contact(session: AsyncSession, contact: Contact, *, method: str = "BSP") -> None:
    """Record that a contact opted out (a flow's `settings: optout`, a provider's event).
    Simulator contacts cannot opt out (Glific)."""
    if is_simulator_phone(contact.phone):
        return
    contact.optout_time = utcnow().replace(microsecond=0)
    contact.optout_method = method
    contact.optin_time = None
    contact.optin_status = False
    contact.status = "invalid"
    contact.bsp_status = "none"
    contact.updated_at = utcnow()
    await session.flush()
    await history.record(
        session,
        contact,
        history.CONTACT_OPTED_OUT,
        f"contact opted out, via {method}",
        {"method": method, "optout_time": contact.optout_time.isoformat() + "Z"},
    )
