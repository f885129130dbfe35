"""Profiles: the people behind one phone number, and the rules that keep them consistent.

Invariant: while a profile is active, `contact.fields == profile.fields` and
`contact.language_id == profile.language_id`. Switching copies the profile onto the contact;
every later write to the contact's fields or language is written to the active profile too
(`write_contact_fields`, `write_contact_language`), and editing the active profile writes
through to the contact.

Every function takes an `AsyncSession` (opened for the organization) and the organization id,
so GraphQL, the flow engine and the WhatsApp webhook all call the same rules.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from sqlalchemy import and_, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import (
    Contact,
    Profile,
    Read,
    guarded,
    prepared,
    records,
    saved_id,
    utcnow,
    utcnow_seconds,
    write_rows,
)
from resolvers import history
from resolvers import validation as v
from resolvers.errors import InputErrors, not_found
from resolvers.querying import (
    ListOpts,
    apply_opts,
    as_list,
    by_id,
    by_ids,
    fetch_for_write,
    grouped_by,
    ilike,
    int_ids,
    keyed_by_id,
    lookup_id,
    one_or,
    to_int_id,
)

API_METHOD = "Switched profile via API"
DUPLICATE_MESSAGE = "Sorry, a profile with same name and type already exists"
DEFAULT_NOT_DELETED = (
    "The default profile cannot be deleted: it is the contact's own identity "
    "(delete the contact instead)"
)
DEFAULT_NOT_DEACTIVATED = "The default profile cannot be deactivated"

_COLUMNS = {
    "id": Profile.id,
    "name": Profile.name,
    "type": Profile.type,
    "is_active": Profile.is_active,
    "is_default": Profile.is_default,
    "contact_id": Profile.contact_id,
    "language_id": Profile.language_id,
    "inserted_at": Profile.inserted_at,
    "updated_at": Profile.updated_at,
}
# The order of `Contact.profiles` and of the 1-based index used to switch (active ones only).
MENU_ORDER = (col(Profile.is_default).desc(), col(Profile.id).asc())


# --- reading -------------------------------------------------------------------------------


# The API's hot read of a page's profiles, built once (see models.guarded, models.records).
@cache
def _of_contacts() -> Any:
    return prepared(
        guarded(
            records(Profile)
            .where(col(Profile.contact_id).in_(bindparam("ids", expanding=True)))
            .order_by(col(Profile.contact_id), *MENU_ORDER)
        )
    )


def _missing() -> InputErrors:
    return InputErrors.raw("Profile", "Profile not found or permission denied.")


def profile_read(org_id: int, raw_id: Any) -> Read[Any]:
    """`profile(id)`: a miss is `Profile not found or permission denied.`"""
    pid = lookup_id(raw_id)
    return Read(by_id(Profile), {"id": pid, "org": org_id}, one_or(_missing))


async def get_profile(session: AsyncSession, org_id: int, raw_id: Any) -> Any:
    """`profile_read`, every column."""
    return await profile_read(org_id, raw_id).fetch(session)


async def fetch_profile(session: AsyncSession, org_id: int, raw_id: Any) -> Profile:
    """A profile to change, with its contact locked first (every profile write locks the
    contact, then touches profiles: one order, so two writers never wait on each other in
    a circle). Loaded after the lock, so it is what the last writer committed. A miss is
    Glific's `Elixir.Glific.Profiles.Profile` / `Resource not found`."""
    entity = "Profiles.Profile"
    try:
        pid = to_int_id(raw_id)
    except InputErrors:
        raise not_found(entity) from None
    contact_id = await session.scalar(
        select(col(Profile.contact_id)).where(
            col(Profile.id) == pid, col(Profile.organization_id) == org_id
        )
    )
    if contact_id is None or await lock_contact(session, org_id, contact_id) is None:
        raise not_found(entity)
    return await fetch_for_write(session, Profile, org_id, pid, entity, lock=True)


def _filtered(stmt: Any, org_id: int, flt: dict[str, Any]) -> Any:
    stmt = stmt.where(Profile.organization_id == org_id)
    # A client-supplied organization id can only narrow the result, never widen it.
    if flt.get("organization_id") is not None and int_ids([flt["organization_id"]]) != [org_id]:
        stmt = stmt.where(False)
    if flt.get("contact_id") is not None:
        stmt = stmt.where(col(Profile.contact_id).in_(int_ids([flt["contact_id"]])))
    if flt.get("name"):
        stmt = stmt.where(ilike(Profile.name, flt["name"]))
    if flt.get("is_active") is not None:
        stmt = stmt.where(Profile.is_active == flt["is_active"])
    return stmt


def profiles_read(org_id: int, flt: dict[str, Any], opts: ListOpts) -> Read[list[Any]]:
    """`profiles(filter, opts)`."""
    stmt = apply_opts(
        _filtered(records(Profile), org_id, flt),
        opts,
        columns=_COLUMNS,
        default_field="name",
        tiebreak=Profile.id,
    )
    return Read(guarded(stmt), {}, as_list)


async def list_profiles(
    session: AsyncSession, org_id: int, flt: dict[str, Any], opts: ListOpts
) -> list[Any]:
    return await profiles_read(org_id, flt, opts).fetch(session)


async def count_profiles(session: AsyncSession, org_id: int, flt: dict[str, Any]) -> int:
    stmt = _filtered(select(func.count()).select_from(Profile), org_id, flt)
    return int((await session.execute(stmt)).scalar_one())


def profiles_by_ids_read(ids: list[int]) -> Read[dict[int, Any]]:
    return Read(by_ids(Profile), {"ids": ids}, keyed_by_id)


async def profiles_by_ids(session: AsyncSession, ids: list[int]) -> dict[int, Any]:
    return await profiles_by_ids_read(ids).fetch(session)


def profiles_of_contacts_read(contact_ids: list[int]) -> Read[dict[int, list[Any]]]:
    """All profiles of each contact (inactive ones too), default first, then oldest first."""
    return Read(
        _of_contacts(),
        {"ids": contact_ids},
        grouped_by("contact_id", contact_ids),
        frozenset({"contact_id"}),
    )


async def profiles_for_contacts(
    session: AsyncSession, contact_ids: list[int]
) -> dict[int, list[Any]]:
    return await profiles_of_contacts_read(contact_ids).fetch(session)


async def indexed_profiles(session: AsyncSession, contact_id: int) -> list[Profile]:
    """The active profiles in menu order; position i (1-based) is what "i" picks in a flow."""
    rows = await session.scalars(
        select(Profile)
        .where(col(Profile.contact_id) == contact_id, col(Profile.is_active).is_(True))
        .order_by(*MENU_ORDER)
    )
    return list(rows.all())


# --- the default profile and switching -----------------------------------------------------


async def lock_contact(session: AsyncSession, org_id: int, contact_id: int) -> Contact | None:
    """Load the contact for a profile operation and keep it locked until the transaction
    ends (`SELECT ... FOR UPDATE` on PostgreSQL; SQLite has one writer at a time): which
    profile is active is read here, and every write that depends on it comes after."""
    return await session.scalar(
        select(Contact)
        .where(col(Contact.id) == contact_id, col(Contact.organization_id) == org_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def ensure_default_profile(session: AsyncSession, contact: Contact) -> Profile:
    """The contact's default profile, created on the first profile operation from the
    contact's own name, fields and language."""
    existing = await _designate_default(session, contact)
    if existing is not None:
        return existing
    profile = Profile(
        organization_id=contact.organization_id,
        contact_id=saved_id(contact),
        language_id=contact.language_id,
        name=contact.name,
        type=None,
        fields=copy.deepcopy(contact.fields or {}),
        is_active=True,
        is_default=True,
    )
    session.add(profile)
    await session.flush()
    return profile


async def _designate_default(
    session: AsyncSession, contact: Contact, *, exclude_id: int | None = None
) -> Profile | None:
    """The existing default profile, or None if the contact has no profiles (besides
    `exclude_id`, the one being deleted). Profiles made before defaults existed (Glific data)
    keep their data: the oldest of them is marked default instead, as Glific does."""
    stmt = select(Profile).where(col(Profile.contact_id) == contact.id)
    if exclude_id is not None:
        stmt = stmt.where(col(Profile.id) != exclude_id)
    existing = await session.scalar(stmt.order_by(*MENU_ORDER).limit(1))
    if existing is not None and (not existing.is_default or not existing.is_active):
        existing.is_default = True
        existing.is_active = True
        existing.updated_at = utcnow_seconds()
        await session.flush()
    return existing


async def _activate(
    session: AsyncSession, contact: Contact, profile: Profile, method: str
) -> Contact:
    """Make `profile` the contact's active profile: its fields and language become the
    contact's, and a `profile_switched` history row is stamped with the new profile."""
    contact.active_profile_id = profile.id
    contact.fields = copy.deepcopy(profile.fields or {})
    contact.language_id = profile.language_id
    contact.updated_at = utcnow()
    await session.flush()
    await history.record(
        session,
        contact,
        history.PROFILE_SWITCHED,
        # Glific interpolates a missing name as "".
        f"Switched profile to {profile.name or ''}",
        {"method": method},
    )
    return contact


async def _pick(
    session: AsyncSession,
    contact: Contact,
    *,
    profile_id: Any = None,
    index: Any = None,
    name: str | None = None,
) -> Profile:
    chosen = [
        k
        for k, val in (("profile_id", profile_id), ("index", index), ("name", name))
        if val is not None
    ]
    if len(chosen) != 1:
        raise InputErrors.field("profile_id", "give exactly one of profileId, index or name")
    if profile_id is not None:
        pid = to_int_id(profile_id, "profile_id")
        profile = await session.scalar(
            select(Profile).where(col(Profile.id) == pid, col(Profile.contact_id) == contact.id)
        )
        if profile is None:
            raise InputErrors.field("profile_id", "does not exist for this contact")
        if not profile.is_active:
            raise InputErrors.field("profile_id", "is deactivated; reactivate it first")
        return profile
    menu = await indexed_profiles(session, saved_id(contact))
    if index is not None:
        position = parse_index(index)
        if position is None or not 1 <= position <= len(menu):
            raise InputErrors.field(
                "index", f"no active profile at position {index} (this contact has {len(menu)})"
            )
        return menu[position - 1]
    wanted = (name or "").strip().lower()
    matches = [p for p in menu if (p.name or "").strip().lower() == wanted]
    if not matches:
        raise InputErrors.field("name", f"no active profile is named '{name}'")
    if len(matches) > 1:
        raise InputErrors.field(
            "name", f"several active profiles are named '{name}'; use the index"
        )
    return matches[0]


def parse_index(value: Any) -> int | None:
    """Glific's `parse_maybe_integer`: an int, or a string that is exactly an integer."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return None


async def switch_profile(
    session: AsyncSession,
    org_id: int,
    contact_id: Any,
    *,
    profile_id: Any = None,
    index: Any = None,
    name: str | None = None,
    method: str = API_METHOD,
) -> Contact:
    """Switch the contact to one of its active profiles, picked by id, 1-based index or name."""
    try:
        cid = to_int_id(contact_id, "contact_id")
    except InputErrors:
        raise not_found("Contacts.Contact") from None
    contact = await lock_contact(session, org_id, cid)
    if contact is None:
        raise not_found("Contacts.Contact")
    await ensure_default_profile(session, contact)
    profile = await _pick(session, contact, profile_id=profile_id, index=index, name=name)
    return await _activate(session, contact, profile, method)


async def _fall_back_to_default(
    session: AsyncSession, contact: Contact, leaving: Profile, method: str
) -> None:
    """`leaving` is being deactivated or deleted: if it was the active profile, the contact
    switches to its default profile (never to `leaving` itself)."""
    if contact.active_profile_id != leaving.id:
        return
    default = await _designate_default(session, contact, exclude_id=leaving.id)
    if default is not None:
        await _activate(session, contact, default, method)
        return
    # Only possible with Glific data (no default, `leaving` the last profile): the contact
    # becomes a plain contact again and keeps its fields.
    contact.active_profile_id = None
    contact.updated_at = utcnow()
    await session.flush()


# --- writing -------------------------------------------------------------------------------


async def _check_unique(
    session: AsyncSession,
    contact_id: int,
    name: str | None,
    type_: str | None,
    exclude_id: int | None = None,
) -> None:
    clash = await session.scalar(
        select(col(Profile.id)).where(
            col(Profile.contact_id) == contact_id,
            func.coalesce(Profile.name, "") == (name or ""),
            func.coalesce(Profile.type, "") == (type_ or ""),
            col(Profile.id) != (exclude_id or 0),
        )
    )
    if clash is not None:
        raise InputErrors.field("name", DUPLICATE_MESSAGE)


async def _flush_unique(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError:
        # A concurrent writer won the race for the same name and type.
        raise InputErrors.field("name", DUPLICATE_MESSAGE) from None


async def create_profile(
    session: AsyncSession,
    org_id: int,
    params: dict[str, Any],
    *,
    activate: bool = True,
    method: str = API_METHOD,
) -> Profile:
    """Create a profile on a contact. The contact's default profile is made first if it has
    none. The new profile becomes the active one unless `activate` is False (then the default
    profile is activated if nothing was)."""
    if params.get("contact_id") is None:
        raise InputErrors.field("contact_id", "can't be blank")
    contact = await lock_contact(session, org_id, to_int_id(params["contact_id"], "contact_id"))
    if contact is None:
        raise InputErrors.field("contact_id", "does not exist")
    name = v.text(params, "name")
    type_ = v.text(params, "type")
    fields = v.json_map(params, "fields", values_are_maps=True)
    language = (
        await v.language_id(session, params)
        if params.get("language_id") is not None
        else contact.language_id
    )
    default = await ensure_default_profile(session, contact)
    await _check_unique(session, saved_id(contact), name, type_)
    profile = Profile(
        organization_id=org_id,
        contact_id=saved_id(contact),
        language_id=language,
        name=name,
        type=type_,
        fields=fields,
        is_active=True,
        is_default=False,
    )
    session.add(profile)
    await _flush_unique(session)
    if activate:
        await _activate(session, contact, profile, method)
    elif contact.active_profile_id is None:
        await _activate(session, contact, default, method)
    return profile


async def update_profile(
    session: AsyncSession, org_id: int, raw_id: Any, params: dict[str, Any]
) -> Profile:
    """Change name, type, fields or language. Editing the active profile writes through to
    the contact, so the two never disagree."""
    profile = await fetch_profile(session, org_id, raw_id)
    if params.get("contact_id") is not None and int_ids([params["contact_id"]]) != [
        profile.contact_id
    ]:
        raise InputErrors.field("contact_id", "cannot be changed: a profile stays on its contact")
    if "name" in params:
        profile.name = v.text(params, "name")
    if "type" in params:
        profile.type = v.text(params, "type")
    if "fields" in params:
        profile.fields = v.json_map(params, "fields", values_are_maps=True)
    if params.get("language_id") is not None:
        profile.language_id = await v.language_id(session, params)
    if "name" in params or "type" in params:
        await _check_unique(session, profile.contact_id, profile.name, profile.type, profile.id)
    profile.updated_at = utcnow_seconds()
    await _flush_unique(session)
    if "fields" in params or params.get("language_id") is not None:
        await session.execute(
            update(Contact)
            .where(
                col(Contact.id) == profile.contact_id, col(Contact.active_profile_id) == profile.id
            )
            .values(
                fields=copy.deepcopy(profile.fields),
                language_id=profile.language_id,
                updated_at=utcnow(),
            )
            .execution_options(synchronize_session=False)
        )
    return profile


async def delete_profile(
    session: AsyncSession, org_id: int, raw_id: Any, *, method: str = API_METHOD
) -> None:
    """Delete a profile. The default profile is the contact's own identity and is kept
    (delete the contact instead). If the deleted profile was active, the contact falls back
    to its default profile; history rows keep existing with no profile."""
    profile = await fetch_profile(session, org_id, raw_id)
    if profile.is_default:
        raise InputErrors.raw("profile", DEFAULT_NOT_DELETED)
    contact = await session.get(Contact, profile.contact_id)  # locked by fetch_profile
    if contact is not None:
        await _fall_back_to_default(session, contact, profile, method)
    await session.delete(profile)
    await session.flush()


async def set_profile_active(
    session: AsyncSession, org_id: int, raw_id: Any, active: bool, *, method: str = API_METHOD
) -> Profile:
    """Deactivate (it leaves the switch menu; if it was active the contact falls back to the
    default profile) or reactivate a profile. The default profile cannot be deactivated."""
    profile = await fetch_profile(session, org_id, raw_id)
    if profile.is_active == active:
        return profile
    contact = await session.get(Contact, profile.contact_id)  # locked by fetch_profile
    if not active and contact is not None:
        # A profile operation: the default is settled first (with Glific data the oldest
        # profile becomes it, and then it is the one that cannot be deactivated).
        await ensure_default_profile(session, contact)
    if not active and profile.is_default:
        raise InputErrors.raw("profile", DEFAULT_NOT_DEACTIVATED)
    profile.is_active = active
    profile.updated_at = utcnow_seconds()
    await session.flush()
    if not active and contact is not None:
        await _fall_back_to_default(session, contact, profile, method)
    return profile


# --- writes to a contact that must reach its active profile --------------------------------


async def write_contact_fields(
    session: AsyncSession, contact: Contact, fields: dict[str, Any]
) -> None:
    """Replace the contact's fields; the active profile gets the same copy."""
    contact.fields = fields
    await _write_through(session, contact, fields=copy.deepcopy(fields))


async def write_contact_language(session: AsyncSession, contact: Contact, language_id: int) -> None:
    """Change the contact's language; the active profile's language follows."""
    contact.language_id = language_id
    await _write_through(session, contact, language_id=language_id)


# A flow step writes a field on most messages: built once, run through the driver.
_WRITE_THROUGH = {
    name: prepared(
        guarded(
            update(Profile)
            .where(col(Profile.id) == bindparam("profile"))
            .values({name: bindparam(name), "updated_at": bindparam("updated_at")})
        )
    )
    for name in ("fields", "language_id")
}


async def _write_through(session: AsyncSession, contact: Contact, **values: Any) -> None:
    contact.updated_at = utcnow()
    if contact.active_profile_id is not None:
        ((name, value),) = values.items()
        await write_rows(
            session,
            _WRITE_THROUGH[name],
            {"profile": contact.active_profile_id, name: value, "updated_at": utcnow_seconds()},
        )


async def profile_of_contact(
    session: AsyncSession, contact_id: int, profile_id: int
) -> Profile | None:
    return await session.scalar(
        select(Profile).where(
            and_(col(Profile.id) == profile_id, col(Profile.contact_id) == contact_id)
        )
    )
