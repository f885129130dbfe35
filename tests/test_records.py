"""Read-only records (models.records): JSON columns are selected as text and decoded when
read, to the same value the ORM gives; a records() statement cannot run through the ORM
path, where its JSON would arrive as text."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from models import Contact, guarded, read_rows, records
from tests.utils.tenants import Tenant

FIELDS = {
    "age": {"value": "9", "label": "Age", "type": "string", "inserted_at": "2026-01-01T00:00:00Z"},
    "note": {"value": 'ünïcode ✓ "quoted"', "label": "Note", "type": "string"},
    "nested": {"value": [1, 2.5, None, True, {"k": "v"}], "label": "N", "type": "json"},
}


def test_json_columns_of_records_read_as_the_orm_reads_them(tenant: Tenant) -> None:
    contact = tenant.create_contact("Records", fields=json.dumps(FIELDS))
    cid = int(contact["id"])

    async def read(session):  # type: ignore[no-untyped-def]
        statement = guarded(records(Contact).where(Contact.id == cid))
        (record,) = await read_rows(session, statement, {})
        orm = await session.scalar(select(Contact).where(Contact.id == cid))
        return record, orm

    async def go():  # type: ignore[no-untyped-def]
        async with tenant.server.db.session(tenant.org_id) as session:
            return await read(session)

    record, orm = tenant.server.run(go)
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
