"""Contact field definitions (the labels and shortcodes of `contacts.fields` keys).

Renaming or deleting a definition rewrites the matching key in the organization's contacts
*and* profiles (Glific rewrites only contacts, which would break the rule that an active
profile's fields equal its contact's).
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import (
    Contact,
    ContactsField,
    Profile,
    guarded,
    prepared,
    read_rows,
    records,
    saved_id,
    utcnow,
    write_rows,
)
from resolvers import validation as v
from resolvers.errors import InputErrors
from resolvers.querying import ListOpts, apply_opts, fetch_for_write, ilike


class ValueType(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"


class Scope(StrEnum):
    CONTACT = "contact"
    GLOBALS = "globals"
    WA_GROUP = "wa_group"


VALUE_TYPES = tuple(t.value for t in ValueType)
SCOPES = tuple(s.value for s in Scope)
_COLUMNS = {
    "id": ContactsField.id,
    "name": ContactsField.name,
    "shortcode": ContactsField.shortcode,
    "value_type": ContactsField.value_type,
    "scope": ContactsField.scope,
    "inserted_at": ContactsField.inserted_at,
    "updated_at": ContactsField.updated_at,
}
_BATCH = 500


def snake_case(text: str) -> str:
    """Glific's `string_snake_case`: runs of whitespace become `_`, then lower-case."""
    return re.sub(r"\s+", "_", text.strip()).lower()


def variable_of(field: ContactsField) -> str:
    prefix = "@wa_group.fields." if field.scope == "wa_group" else "@contact.fields."
    return prefix + field.shortcode


async def fetch_field(session: AsyncSession, org_id: int, raw_id: Any) -> ContactsField:
    return await fetch_for_write(session, ContactsField, org_id, raw_id, "Contacts.ContactsField")


def _filtered(stmt: Any, org_id: int, flt: dict[str, Any]) -> Any:
    stmt = stmt.where(ContactsField.organization_id == org_id)
    if flt.get("name"):
        stmt = stmt.where(ilike(ContactsField.name, flt["name"]))
    if flt.get("shortcode"):
        stmt = stmt.where(ContactsField.shortcode == flt["shortcode"])
    if flt.get("scope"):
        stmt = stmt.where(ContactsField.scope == flt["scope"])
    return stmt


async def list_fields(
    session: AsyncSession, org_id: int, flt: dict[str, Any], opts: ListOpts
) -> list[ContactsField]:
    stmt = apply_opts(
        _filtered(select(ContactsField), org_id, flt),
        opts,
        columns=_COLUMNS,
        default_field="inserted_at",
        tiebreak=ContactsField.id,
    )
    return list((await session.scalars(stmt)).all())


async def count_fields(session: AsyncSession, org_id: int, flt: dict[str, Any]) -> int:
    stmt = _filtered(select(func.count()).select_from(ContactsField), org_id, flt)
    return int((await session.execute(stmt)).scalar_one())


def _choice(params: dict[str, Any], key: str, allowed: tuple[str, ...]) -> str | None:
    value = params.get(key)
    if value is None:
        return None
    if value not in allowed:
        raise InputErrors.field(key, "is invalid")
    return str(value)


async def _check_unique(session: AsyncSession, field: ContactsField) -> None:
    for key, column in (("name", ContactsField.name), ("shortcode", ContactsField.shortcode)):
        clash = select(col(ContactsField.id)).where(
            col(ContactsField.organization_id) == field.organization_id,
            col(ContactsField.scope) == field.scope,
            column == getattr(field, key),
            col(ContactsField.id) != (field.id or 0),
        )
        await v.refuse_taken(session, key, clash)


async def _save(session: AsyncSession, field: ContactsField) -> ContactsField:
    await _check_unique(session, field)
    session.add(field)
    await v.flush_unique(session, "shortcode")
    return field


async def create_field(session: AsyncSession, org_id: int, params: dict[str, Any]) -> ContactsField:
    name = v.text(params, "name", required=True)
    shortcode = snake_case(v.text(params, "shortcode", required=True))
    if not shortcode:
        raise InputErrors.field("shortcode", "can't be blank")
    field = ContactsField(
        organization_id=org_id,
        name=name,
        shortcode=shortcode,
        value_type=_choice(params, "value_type", VALUE_TYPES) or "text",
        scope=_choice(params, "scope", SCOPES) or "contact",
    )
    return await _save(session, field)


async def ensure_field(
    session: AsyncSession, org_id: int, shortcode: str, label: str | None = None
) -> Any:
    """The definition for `shortcode` (a read-only record), created when a flow (or an
    import) first writes the field. Two writers may create it at the same moment: the
    insert does nothing for the second, which then reads the first's definition."""
    code = snake_case(shortcode)
    field = await _contact_field(session, org_id, code)
    if field is not None:
        return field
    params = {"name": label or code, "shortcode": code}
    name = v.text(params, "name", required=True)
    if not v.text(params, "shortcode", required=True):
        raise InputErrors.field("shortcode", "can't be blank")
    now = utcnow().replace(microsecond=0)
    values = {"organization_id": org_id, "name": name, "shortcode": code, "now": now}
    dialect = session.get_bind().dialect.name
    created = await write_rows(session, _insert_field(dialect), values)
    if created:
        return created[0]
    field = await _contact_field(session, org_id, code)
    if field is None:
        # The label is another definition's name (the unique index said no).
        raise InputErrors.field("name", "has already been taken")
    return field


@cache
def _insert_field(dialect: str) -> Any:
    """A flow-created definition (text, contact scope), built once per dialect; a clash
    with either unique index inserts nothing."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return prepared(
        insert(ContactsField)
        .values(
            organization_id=bindparam("organization_id"),
            name=bindparam("name"),
            shortcode=bindparam("shortcode"),
            value_type=ValueType.TEXT.value,
            scope=Scope.CONTACT.value,
            inserted_at=bindparam("now"),
            updated_at=bindparam("now"),
        )
        .on_conflict_do_nothing()
        .returning(*records(ContactsField).selected_columns)
    )


# Looked up whenever a flow writes a field: built once, run through the driver.
_FIELD_BY_CODE = prepared(
    guarded(
        records(ContactsField).where(
            col(ContactsField.organization_id) == bindparam("org"),
            col(ContactsField.scope) == "contact",
            col(ContactsField.shortcode) == bindparam("code"),
        )
    )
)


async def _contact_field(session: AsyncSession, org_id: int, code: str) -> Any:
    """The contact field definition with this shortcode, as a read-only record."""
    found = await read_rows(session, _FIELD_BY_CODE, {"org": org_id, "code": code})
    return found[0] if found else None


async def update_field(
    session: AsyncSession, org_id: int, raw_id: Any, params: dict[str, Any]
) -> ContactsField:
    """Update a definition; a new shortcode or label is carried into every stored value."""
    field = await fetch_field(session, org_id, raw_id)
    old_code, old_name = field.shortcode, field.name
    if "name" in params:
        field.name = v.text(params, "name", required=True)
    if "shortcode" in params:
        code = snake_case(v.text(params, "shortcode", required=True))
        if not code:
            raise InputErrors.field("shortcode", "can't be blank")
        field.shortcode = code
    value_type = _choice(params, "value_type", VALUE_TYPES)
    if value_type:
        field.value_type = value_type
    scope = _choice(params, "scope", SCOPES)
    if scope:
        field.scope = scope
    field.updated_at = utcnow().replace(microsecond=0)
    await _save(session, field)
    if field.scope == "contact" and (field.shortcode != old_code or field.name != old_name):
        await _rewrite_stored_values(session, org_id, old_code, field.shortcode, field.name)
    return field


async def delete_field(
    session: AsyncSession, org_id: int, raw_id: Any, *, delete_assoc: bool = False
) -> None:
    """Delete a definition; with `delete_assoc` the key is removed from every contact and
    profile of the organization too."""
    field = await fetch_field(session, org_id, raw_id)
    if delete_assoc and field.scope == "contact":
        await _rewrite_stored_values(session, org_id, field.shortcode, None, None)
    await session.delete(field)
    await session.flush()


async def _rewrite_stored_values(
    session: AsyncSession, org_id: int, old_code: str, new_code: str | None, label: str | None
) -> None:
    """Move (or, with no `new_code`, drop) the key `old_code` in every contact's and every
    profile's fields, in batches."""
    await _rewrite_table(session, Contact, org_id, old_code, new_code, label)
    await _rewrite_table(session, Profile, org_id, old_code, new_code, label)


_WithFields = TypeVar("_WithFields", Contact, Profile)


async def _rewrite_table(
    session: AsyncSession,
    table: type[_WithFields],
    org_id: int,
    old_code: str,
    new_code: str | None,
    label: str | None,
) -> None:
    last_id = 0
    while True:
        rows = list(
            await session.scalars(
                select(table)
                .where(col(table.organization_id) == org_id, col(table.id) > last_id)
                .order_by(col(table.id))
                .limit(_BATCH)
            )
        )
        if not rows:
            break
        last_id = saved_id(rows[-1])
        for row in rows:
            fields = row.fields or {}
            if old_code not in fields:
                continue
            fields = dict(fields)
            value = fields.pop(old_code)
            if new_code is not None:
                if isinstance(value, dict) and label is not None:
                    value = {**value, "label": label}
                fields[new_code] = value
            row.fields = fields
        await session.flush()
