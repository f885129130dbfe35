"""The automatic organization filter (models.db): even a query that forgets its
`organization_id` condition cannot read or change another tenant's rows."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select, update

from models import Contact, OrganizationScopeError, Profile
from resolvers import profiles
from tests.utils.tenants import Tenant


def _in_org(tenant: Tenant, org_id: int, work, *, write: bool = False):  # type: ignore[no-untyped-def]
    db = tenant.server.db

    async def go():  # type: ignore[no-untyped-def]
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

    async def unfiltered(session):  # type: ignore[no-untyped-def]
        ids = {int(theirs["id"]), int(mine["id"])}
        return set(await session.scalars(select(Contact.id).where(Contact.id.in_(ids))))

    assert _in_org(tenant, tenant.org_id, unfiltered) == {int(mine["id"])}
    assert _in_org(tenant, other_tenant.org_id, unfiltered) == {int(theirs["id"])}


def test_updates_and_deletes_without_an_organization_condition_cannot_cross_tenants(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs = other_tenant.create_contact("Theirs")
    cid = int(theirs["id"])

    async def vandalise(session):  # type: ignore[no-untyped-def]
        await session.execute(
            update(Contact)
            .where(Contact.id == cid)
            .values(name="Hacked")
            .execution_options(synchronize_session=False)
        )
        await session.execute(
            delete(Contact).where(Contact.id == cid).execution_options(synchronize_session=False)
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

    async def count_profiles(session):  # type: ignore[no-untyped-def]
        return await session.scalar(select(func.count()).select_from(Profile))

    async def switch(session):  # type: ignore[no-untyped-def]
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
            await session.execute(select(Contact.id).limit(1))

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
