"""The automatic organization filter (models.db): even a query that forgets its
`organization_id` condition cannot read or change another tenant's rows."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
from sqlalchemy import bindparam, create_engine, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import (
    Contact,
    Language,
    OrganizationScopeError,
    Profile,
    guarded,
    orm_direct,
    prepared,
    read_rows,
    records,
    unscoped,
    utcnow,
    write_rows,
)
from resolvers import history as contact_history
from resolvers import profiles
from tests.utils.tenants import Tenant

T = TypeVar("T")


def _in_org(
    tenant: Tenant,
    org_id: int,
    work: Callable[[AsyncSession], Awaitable[T]],
    *,
    write: bool = False,
) -> T:
    db = tenant.server.db

    async def go() -> T:
        if write:
            async with db.transaction(org_id) as session:
                return await work(session)
        async with db.session(org_id) as session:
            return await work(session)

    return tenant.server.run(go)


def test_a_query_without_an_organization_condition_sees_only_its_own_tenant(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs = other_tenant.create_contact("Theirs")
    mine = tenant.create_contact("Mine")

    async def unfiltered(session: AsyncSession) -> set[int | None]:
        ids = {int(theirs["id"]), int(mine["id"])}
        return set(await session.scalars(select(col(Contact.id)).where(col(Contact.id).in_(ids))))

    assert _in_org(tenant, tenant.org_id, unfiltered) == {int(mine["id"])}
    assert _in_org(tenant, other_tenant.org_id, unfiltered) == {int(theirs["id"])}


def test_updates_and_deletes_without_an_organization_condition_cannot_cross_tenants(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs = other_tenant.create_contact("Theirs")
    cid = int(theirs["id"])

    async def vandalise(session: AsyncSession) -> None:
        await session.execute(
            update(Contact)
            .where(col(Contact.id) == cid)
            .values(name="Hacked")
            .execution_options(synchronize_session=False)
        )
        await session.execute(
            delete(Contact)
            .where(col(Contact.id) == cid)
            .execution_options(synchronize_session=False)
        )

    _in_org(tenant, tenant.org_id, vandalise, write=True)
    data = other_tenant.data(
        "query($id: ID!) { contact(id: $id) { contact { name } } }", {"id": cid}
    )
    assert data["contact"]["contact"] == {"name": "Theirs"}


def test_a_resolver_handed_another_tenants_id_is_stopped_by_the_session_guard(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs = other_tenant.create_contact("Theirs")

    async def count_profiles(session: AsyncSession) -> int | None:
        return await session.scalar(select(func.count()).select_from(Profile))

    async def switch(session: AsyncSession) -> Contact:
        # A bug passing the wrong organization id to a resolver: the explicit filter would
        # let it through, the session (opened for `tenant`) does not.
        return await profiles.switch_profile(session, other_tenant.org_id, theirs["id"], index=1)

    from resolvers.errors import InputErrors

    with pytest.raises(InputErrors):
        _in_org(tenant, tenant.org_id, switch, write=True)
    # Nothing was created on the other tenant's contact.
    assert _in_org(tenant, other_tenant.org_id, count_profiles) == 0


def test_a_session_without_an_organization_refuses_tenant_tables(tenant: Tenant) -> None:
    db = tenant.server.db

    async def go() -> None:
        async with db.session() as session:
            await session.execute(select(col(Contact.id)).limit(1))

    with pytest.raises(OrganizationScopeError):
        tenant.server.run(go)


def test_a_count_without_an_organization_is_refused_too(tenant: Tenant) -> None:
    # select_from(...) names no ORM entity in its columns; the guard must still see it.
    db = tenant.server.db

    async def go() -> None:
        async with db.session() as session:
            await session.execute(select(func.count()).select_from(Profile))

    with pytest.raises(OrganizationScopeError):
        tenant.server.run(go)


# --- the read path's guard (models.db.read_rows) and unscoped() ------------------------------


def test_unscoped_is_refused_for_a_statement_over_tenant_tables(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    """unscoped() once let a statement over contacts skip the guard: a session of one
    organization read another's contact."""
    theirs = other_tenant.create_contact("Theirs")
    for statement in (
        records(Contact).where(col(Contact.id) == int(theirs["id"])),
        select(col(Language.id)).join(Contact, col(Contact.language_id) == Language.id),
        select(col(Language.id)).where(col(Language.id).in_(select(col(Profile.language_id)))),
    ):
        with pytest.raises(OrganizationScopeError, match="global tables only"):
            unscoped(statement)
    # Global tables alone are fine.
    languages = _in_org(
        tenant,
        tenant.org_id,
        lambda s: read_rows(s, unscoped(records(Language).where(col(Language.locale) == "en")), {}),
    )
    assert [row.locale for row in languages] == ["en"]


def test_read_rows_takes_only_statements_that_declare_their_scope(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    """A statement that declares no scope runs only on a session opened for all
    organizations (the sign-in check reads a token's user so), as the ORM runs it there."""
    theirs = other_tenant.create_contact("Theirs")
    mine = tenant.create_contact("Mine")
    ids = [int(theirs["id"]), int(mine["id"])]
    plain = records(Contact).where(col(Contact.id).in_(ids)).order_by(col(Contact.id))
    with pytest.raises(ValueError, match=r"guarded\(\) or unscoped\(\)"):
        _in_org(tenant, tenant.org_id, lambda s: read_rows(s, plain, {}))
    db = tenant.server.db

    async def go(**scope: Any) -> Any:
        async with db.session(**scope) as session:
            return await read_rows(session, plain, {})

    with pytest.raises(ValueError, match=r"guarded\(\) or unscoped\(\)"):
        tenant.server.run(go)
    found = tenant.server.run(lambda: go(all_organizations=True))
    assert sorted(row.name for row in found) == ["Mine", "Theirs"]


def test_a_guarded_read_needs_an_organization(tenant: Tenant) -> None:
    statement = guarded(records(Contact).limit(1))
    db = tenant.server.db

    async def go(**scope: Any) -> Any:
        async with db.session(**scope) as session:
            return await read_rows(session, statement, {})

    with pytest.raises(OrganizationScopeError, match="needs a session opened for"):
        tenant.server.run(go)
    with pytest.raises(OrganizationScopeError, match="needs a session opened for"):
        tenant.server.run(lambda: go(all_organizations=True))


def test_a_guarded_read_sees_only_its_organization(tenant: Tenant, other_tenant: Tenant) -> None:
    theirs = other_tenant.create_contact("Theirs")
    mine = tenant.create_contact("Mine")
    ids = [int(theirs["id"]), int(mine["id"])]
    statement = guarded(records(Contact).where(col(Contact.id).in_(ids)))
    found = _in_org(tenant, tenant.org_id, lambda s: read_rows(s, statement, {}))
    assert [row.name for row in found] == ["Mine"]


def test_the_guard_leaves_postgresqls_row_estimates_alone() -> None:
    """On PostgreSQL the guard compares the plain column, which the planner merges with a
    resolver's own `organization_id = :org` (the `organization_id + 0` it used to add made
    the planner expect 0.5% of the rows: a page of 25 contacts became a scan and a sort).
    SQLite keeps `+organization_id`, which keeps the guard out of its choice of index."""
    statement = guarded(records(Contact).where(col(Contact.organization_id) == 1))
    where = {
        name: str(statement.compile(dialect=create_engine(url).dialect)).split("WHERE", 1)[1]
        for name, url in (("postgresql", "postgresql+psycopg://"), ("sqlite", "sqlite://"))
    }
    assert where["postgresql"].split(" AND ") == [
        " contacts.organization_id = %(organization_id_1)s::BIGINT",
        "contacts.organization_id = %(guard_organization_id)s::BIGINT",
    ]
    assert where["sqlite"].split(" AND ") == [
        " contacts.organization_id = ?",
        "+contacts.organization_id = ?",
    ]


# --- prepared writes through the driver (models.write_rows, models.orm_direct) --------------

_RENAME = prepared(
    guarded(
        update(Contact)
        .where(col(Contact.id) == bindparam("cid"))
        .values(name=bindparam("name"), updated_at=bindparam("now"))
        .returning(col(Contact.id))
    )
)


def _names(tenant: Tenant, *contacts: dict[str, Any]) -> list[str]:
    return [
        tenant.data("query($id: ID!) { contact(id: $id) { contact { name } } }", {"id": c["id"]})[
            "contact"
        ]["contact"]["name"]
        for c in contacts
    ]


def test_a_guarded_write_changes_only_its_organizations_rows(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs = other_tenant.create_contact("Theirs")
    mine = tenant.create_contact("Mine")

    async def rename(session: AsyncSession, contact: dict[str, Any]) -> list[Any]:
        return await write_rows(
            session, _RENAME, {"cid": int(contact["id"]), "name": "Renamed", "now": utcnow()}
        )

    assert _in_org(tenant, tenant.org_id, lambda s: rename(s, theirs), write=True) == []
    [row] = _in_org(tenant, tenant.org_id, lambda s: rename(s, mine), write=True)
    assert row.id == int(mine["id"])
    assert _names(other_tenant, theirs) == ["Theirs"]
    assert _names(tenant, mine) == ["Renamed"]


def test_a_write_must_declare_its_organization(tenant: Tenant, other_tenant: Tenant) -> None:
    mine = tenant.create_contact("Mine")
    unguarded = prepared(
        update(Contact).where(col(Contact.id) == bindparam("cid")).values(name=bindparam("name"))
    )
    history = contact_history._INSERT  # the history row every inbound message may write
    now = utcnow()
    planted: dict[str, Any] = {
        "organization_id": other_tenant.org_id,
        "contact_id": int(mine["id"]),
        "profile_id": None,
        "event_type": "planted",
        "event_label": "planted",
        "event_meta": {},
        "event_datetime": now,
        "inserted_at": now,
        "updated_at": now,
    }
    with pytest.raises(ValueError, match="must be guarded"):
        _in_org(
            tenant,
            tenant.org_id,
            lambda s: write_rows(s, unguarded, {"cid": int(mine["id"]), "name": "x"}),
            write=True,
        )
    with pytest.raises(OrganizationScopeError, match="another organization"):
        _in_org(tenant, tenant.org_id, lambda s: write_rows(s, history, planted), write=True)
    assert _names(tenant, mine) == ["Mine"]


def test_a_prepared_write_must_set_its_update_defaults_itself(tenant: Tenant) -> None:
    # SQLAlchemy would compute `updated_at` once, when the statement is first rendered.
    forgetful = prepared(
        guarded(
            update(Contact).where(col(Contact.id) == bindparam("cid")).values(name=bindparam("n"))
        )
    )
    mine = tenant.create_contact("Mine")
    with pytest.raises(TypeError, match="updated_at"):
        _in_org(
            tenant,
            tenant.org_id,
            lambda s: write_rows(s, forgetful, {"cid": int(mine["id"]), "n": "x"}),
            write=True,
        )


def test_an_object_loaded_and_saved_through_the_driver_behaves_as_an_orm_object(
    tenant: Tenant,
) -> None:
    mine = tenant.create_contact("Mine")
    statement = prepared(guarded(records(Contact).where(col(Contact.id) == bindparam("cid"))))
    city = {"city": {"value": "Pune", "label": "City"}}
    before = utcnow()

    async def edit(session: AsyncSession) -> Any:
        contact = await orm_direct.load(session, Contact, statement, {"cid": int(mine["id"])})
        assert contact is not None
        # A persistent object of the session.
        assert await session.get(Contact, contact.id) is contact
        contact.name = "Saved"
        contact.fields = city
        contact.last_message_number += 3
        await orm_direct.save(session, contact)
        # Nothing is left for the ORM's flush to write.
        assert not session.dirty
        contact.status = "invalid"  # a change after save(): the flush writes it
        return contact.updated_at

    stamped = _in_org(tenant, tenant.org_id, edit, write=True)
    assert stamped >= before.replace(microsecond=0)  # the update default was applied

    async def read(session: AsyncSession) -> tuple[Any, ...]:
        found = await orm_direct.load(session, Contact, statement, {"cid": int(mine["id"])})
        assert found is not None
        return found.name, found.fields, found.last_message_number, found.status, found.updated_at

    *values, updated_at = _in_org(tenant, tenant.org_id, read)
    assert values == ["Saved", city, 3, "invalid"]
    assert updated_at >= stamped  # (the flush of `status` stamped it again)
