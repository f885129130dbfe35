"""Prepared statements read directly through the driver (models/direct.py: the embedded
SQLite connection, or psycopg's) return exactly what SQLAlchemy's own path returns: same
rows, same order, same Python values (dates, booleans, JSON), whatever the filters, list
sizes and literal values."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Double, Float, Numeric, literal, select

from models import Contact, prepared, read_rows, unscoped
from models.direct import PREPARED
from models.records import projected
from resolvers import contacts, profiles
from resolvers.querying import ListOpts, by_id, by_ids
from tests.utils.tenants import Tenant


def _both(tenant: Tenant, statement: Any, params: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    plain = statement.execution_options(**{PREPARED: False})

    async def go() -> tuple[list[Any], list[Any]]:
        async with tenant.server.db.session(tenant.org_id) as session:
            direct = await read_rows(session, statement, params)
            through_sqlalchemy = await read_rows(session, plain, params)
            return direct, through_sqlalchemy

    return tenant.server.run(go)


def _values(records: list[Any]) -> list[dict[str, Any]]:
    return [{name: getattr(r, name) for name in r._fields} for r in records]


@pytest.fixture
def people(tenant: Tenant) -> list[int]:
    fields = {"age": {"value": "9", "label": "Age", "type": "string"}}
    ids = []
    for name in ("Direct Asha", "Direct Ravi", "Direct Meena"):
        contact = tenant.create_contact(name, fields=json.dumps(fields))
        ids.append(int(contact["id"]))
        tenant.data(
            "mutation($input: ProfileInput!) {"
            " createProfile(input: $input) { errors { message } } }",
            {"input": {"contactId": contact["id"], "name": "Child", "type": "student"}},
        )
    return ids


def _sorted(values: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(values, key=lambda v: v["id"])


def _narrowed(statement: Any, only: frozenset[str] | None) -> Any:
    return statement if only is None else projected(statement, only)


def test_reads_by_id_and_by_ids(tenant: Tenant, people: list[int]) -> None:
    for only in (None, frozenset({"name"}), frozenset({"fields", "inserted_at", "is_org_read"})):
        direct, reference = _both(tenant, _narrowed(by_ids(Contact), only), {"ids": people})
        # A read by ids promises no order (PostgreSQL may answer the two reads differently).
        assert len(direct) == 3 and _sorted(_values(direct)) == _sorted(_values(reference))
        direct, reference = _both(
            tenant, _narrowed(by_id(Contact), only), {"id": people[1], "org": tenant.org_id}
        )
        assert len(direct) == 1 and _values(direct) == _values(reference)
    whole = _both(tenant, by_ids(Contact), {"ids": people})[0]
    assert isinstance(whole[0].inserted_at, datetime)
    assert isinstance(whole[0].is_org_read, bool)
    assert isinstance(whole[0].fields, dict)  # JSON decoded (the active profile's fields)


def test_profiles_of_contacts_in_menu_order(tenant: Tenant, people: list[int]) -> None:
    statement = profiles._of_contacts()
    for ids in (people, people[:1], [*people, 10**9]):
        direct, reference = _both(tenant, statement, {"ids": ids})
        assert _values(direct) == _values(reference)
    rows = _both(tenant, statement, {"ids": people})[0]
    assert [r.is_default for r in rows if r.contact_id == people[0]] == [True, False]


def test_contact_lists_with_filters_and_literal_values(tenant: Tenant, people: list[int]) -> None:
    now = datetime.utcnow()
    filters: list[dict[str, Any]] = [
        {},
        {"name": "direct"},
        {"term": "Ravi"},
        {"status": "valid"},
        {"date_range": {"from_": now - timedelta(days=1), "to": now + timedelta(days=1)}},
        {"date_range": {"from_": now + timedelta(days=1)}},
        {"include_groups": ["1", "2"]},
        {"exclude_groups": ["1"]},
    ]
    for flt in filters:
        for opts in (ListOpts(limit=2), ListOpts(limit=10, offset=1, order="desc")):

            async def go(flt: dict[str, Any] = flt, opts: ListOpts = opts) -> list[Any]:
                async with tenant.server.db.session(tenant.org_id) as session:
                    return await contacts.list_contacts(session, tenant.org_id, flt, opts)

            direct = tenant.server.run(go)
            # The statement that list built, through SQLAlchemy's own path.
            key = (tenant.org_id, contacts.filter_shape(flt), opts, None)
            statement = contacts._LISTS.get(key, lambda: None)
            assert statement.get_execution_options().get(PREPARED)
            reference = _both(tenant, statement, contacts.filter_values(flt))[1]
            assert _values(direct) == _values(reference), flt
    # The date filters select rows: their values were bound as SQLite stores dates.
    assert len(tenant.server.run(lambda: _listed(tenant, filters[4]))) == 3
    assert tenant.server.run(lambda: _listed(tenant, filters[5])) == []


async def _listed(tenant: Tenant, flt: dict[str, Any]) -> list[Any]:
    async with tenant.server.db.session(tenant.org_id) as session:
        flt = {**flt, "name": "direct"}
        return await contacts.list_contacts(session, tenant.org_id, flt, ListOpts(limit=10))


def test_prepared_reads_take_the_direct_path(tenant: Tenant, people: list[int]) -> None:
    from models import direct

    statement = projected(by_ids(Contact), frozenset({"phone"}))
    direct._plans.clear()
    _both(tenant, statement, {"ids": people})
    assert any(entry[0] is statement for entry in direct._plans.values())


def test_numbers_read_as_sqlalchemy_reads_them(tenant: Tenant) -> None:
    """Float and numeric columns (a location's coordinates, a send slot's time): on
    PostgreSQL SQLAlchemy's conversion depends on the result's type code, which the direct
    path does not have; it read them with an error before."""
    statement = prepared(
        unscoped(
            select(
                literal(1.5, Float).label("f"),
                literal(2.5, Double).label("d"),
                literal(Decimal("3.25"), Numeric(10, 2)).label("n"),
                literal(Decimal("4.75"), Numeric(10, 2, asdecimal=False)).label("nf"),
            )
        )
    )
    direct, through_sqlalchemy = _both(tenant, statement, {})
    assert _values(direct) == _values(through_sqlalchemy)
    assert [(type(v), v) for v in _values(direct)[0].values()] == [
        (float, 1.5),
        (float, 2.5),
        (Decimal, Decimal("3.25")),
        (float, 4.75),
    ]


def test_statements_of_one_shape_share_a_plan_with_their_own_values(
    tenant: Tenant, people: list[int]
) -> None:
    """A list's statement is built afresh for each filter value; each one reads with its
    own values through the one plan of its shape (models.direct._shaped)."""
    from models import direct

    now = datetime.utcnow()

    async def names(flt: dict[str, Any]) -> list[str]:
        async with tenant.server.db.session(tenant.org_id) as session:
            rows = await contacts.list_contacts(session, tenant.org_id, flt, ListOpts(limit=10))
        return sorted(row.name for row in rows)

    def listed(flt: dict[str, Any]) -> list[str]:
        found: list[str] = tenant.server.run(lambda: names(flt))
        return found

    direct._shaped.clear()
    for name, expected in (("asha", ["Direct Asha"]), ("Ravi", ["Direct Ravi"]), ("nobody", [])):
        assert listed({"name": name}) == expected
    assert len(direct._shaped) == 1
    for days, expected_count in ((-1, 3), (1, 0), (-2, 3)):
        flt = {"name": "direct", "date_range": {"from_": now + timedelta(days=days)}}
        assert len(listed(flt)) == expected_count
    assert len(direct._shaped) == 2
