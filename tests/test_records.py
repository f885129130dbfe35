"""Read-only records (models.records): JSON columns are selected as text and decoded when
read, to the same value the ORM gives; a records() statement cannot run through the ORM
path, where its JSON would arrive as text. Domain callers get whole rows whose JSON they own
(models.reads)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Contact, Profile, guarded, read_rows, records
from resolvers import contacts, profiles
from resolvers.querying import ListOpts
from tests.utils.tenants import Tenant

FIELDS: dict[str, dict[str, Any]] = {
    "age": {"value": "9", "label": "Age", "type": "string", "inserted_at": "2026-01-01T00:00:00Z"},
    "note": {"value": 'ünïcode ✓ "quoted"', "label": "Note", "type": "string"},
    "nested": {"value": [1, 2.5, None, True, {"k": "v"}], "label": "N", "type": "json"},
}


def test_json_columns_of_records_read_as_the_orm_reads_them(tenant: Tenant) -> None:
    contact = tenant.create_contact("Records", fields=json.dumps(FIELDS))
    cid = int(contact["id"])

    async def read(session: AsyncSession) -> tuple[Any, Contact | None]:
        statement = guarded(records(Contact).where(col(Contact.id) == cid))
        (record,) = await read_rows(session, statement, {})
        orm = await session.scalar(select(Contact).where(col(Contact.id) == cid))
        return record, orm

    async def go() -> tuple[Any, Contact | None]:
        async with tenant.server.db.session(tenant.org_id) as session:
            return await read(session)

    record, orm = tenant.server.run(go)
    assert orm is not None
    assert record.fields == orm.fields
    assert record.fields["nested"]["value"] == [1, 2.5, None, True, {"k": "v"}]
    assert record.fields["note"]["value"] == 'ünïcode ✓ "quoted"'
    assert record.settings == orm.settings
    assert record.name == "Records" and record.id == cid
    # Each read is a fresh value: changing one cannot change what the next reader sees.
    record.fields["age"]["value"] = "10"
    assert record.fields["age"]["value"] == "9"
    # Over the API the same document comes back.
    got = tenant.data("query($id: ID!) { contact(id: $id) { contact { fields } } }", {"id": cid})
    assert json.loads(got["contact"]["contact"]["fields"]) == orm.fields


def test_a_records_statement_is_refused_outside_read_rows(tenant: Tenant) -> None:
    async def go() -> None:
        async with tenant.server.db.session(tenant.org_id) as session:
            await session.execute(records(Contact).limit(1))

    with pytest.raises(TypeError, match="read_rows"):
        tenant.server.run(go)


def test_domain_reads_hand_back_whole_rows_the_caller_may_edit(tenant: Tenant) -> None:
    # The API's read path selects only some columns and decodes JSON each time it is read;
    # resolvers' own read functions, which the flow engine and the webhook call, do neither.
    contact = tenant.create_contact("Whole Rows", fields=json.dumps(FIELDS))
    cid = int(contact["id"])
    tenant.data(  # the contact keeps its fields, which its default profile copies
        "mutation($input: ProfileInput!) {"
        " createProfile(input: $input, activate: false) { errors { message } } }",
        {"input": {"contactId": contact["id"], "name": "Kid", "type": "child"}},
    )

    async def read(session: AsyncSession) -> tuple[list[Any], list[Any], Contact | None]:
        org = tenant.org_id
        of_contact = (await profiles.profiles_for_contacts(session, [cid]))[cid]
        return (
            [
                await contacts.get_contact(session, org, cid),
                (await contacts.list_contacts(session, org, {"name": "Whole"}, ListOpts()))[0],
                (await contacts.contacts_by_ids(session, [cid]))[cid],
            ],
            [
                of_contact[0],  # the default profile, which holds the contact's fields
                await profiles.get_profile(session, org, of_contact[0].id),
                (await profiles.list_profiles(session, org, {"name": "Whole"}, ListOpts()))[0],
                (await profiles.profiles_by_ids(session, [of_contact[0].id]))[of_contact[0].id],
            ],
            await session.scalar(select(Contact).where(col(Contact.id) == cid)),
        )

    async def go() -> tuple[list[Any], list[Any], Contact | None]:
        async with tenant.server.db.session(tenant.org_id) as session:
            return await read(session)

    contact_rows, profile_rows, orm = tenant.server.run(go)
    assert orm is not None
    # (SQLModel's typing does not declare the `__table__` that every table model has.)
    for rows, table in ((contact_rows, Contact.__table__), (profile_rows, Profile.__table__)):  # type: ignore[attr-defined]
        for row in rows:
            assert row._fields == tuple(c.key for c in table.columns)
            row.fields["age"]["value"] = "10"
            assert row.fields["age"]["value"] == "10"  # the edit is not silently dropped
    assert contact_rows[0].fields == {**orm.fields, "age": {**FIELDS["age"], "value": "10"}}
