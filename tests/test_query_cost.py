"""N+1-free reads: the number of SQL statements a query costs does not grow with the number
of rows it returns (every relation is fetched in one batch).

Statements are counted where they reach the database driver (tests/utils/server.py), so the
prepared reads that run on the SQLite connection itself count like any other; transaction
control (BEGIN/COMMIT) is not counted. Each query runs once unmeasured first: the process
caches language rows for a minute (resolvers/languages.py), and the measured runs must all
see the same cache."""

from __future__ import annotations

from typing import Any

import pytest

from tests.utils.server import LiveServer
from tests.utils.tenants import Tenant

LIST = """query($limit: Int) { contacts(filter: {name: "Parent"}, opts: {limit: $limit}) {
  id name activeProfile { name } profiles { name } } }"""
DEEP = """query($limit: Int) { contacts(filter: {name: "Parent"}, opts: {limit: $limit}) {
  id name fields language { label } groups { label }
  activeProfile { id name language { label } }
  profiles { id name isActive language { locale } contact { id name } } } }"""
ONE = """query($id: ID!) { contact(id: $id) { contact {
  id name phone fields language { label } activeProfile { id name }
  profiles { id name isActive } } } }"""


def _statements(server: LiveServer, tenant: Tenant, query: str, variables: dict[str, Any]) -> int:
    tenant.data(query, variables)
    counter = server.count_statements()
    try:
        tenant.data(query, variables)
    finally:
        server.stop_counting(counter)
    return counter.count


@pytest.fixture
def family_tenant(tenant: Tenant) -> Tenant:
    """Twelve households, each with two children's profiles (one active)."""
    for i in range(12):
        contact = tenant.create_contact(f"Parent {i:02d}")
        for child in ("Asha", "Ravi"):
            result = tenant.data(
                "mutation($input: ProfileInput!) {"
                " createProfile(input: $input) { errors { message } } }",
                {"input": {"contactId": contact["id"], "name": child, "type": "student"}},
            )
            assert result["createProfile"]["errors"] is None
    return tenant


@pytest.mark.parametrize("query", [LIST, DEEP], ids=["list", "deep"])
def test_list_cost_is_constant_whatever_the_limit(
    server: LiveServer, family_tenant: Tenant, query: str
) -> None:
    few = _statements(server, family_tenant, query, {"limit": 2})
    many = _statements(server, family_tenant, query, {"limit": 12})
    assert few == many
    rows = family_tenant.data(query, {"limit": 12})["contacts"]
    assert len(rows) == 12
    assert all(len(r["profiles"]) == 3 for r in rows)  # default + two children


def test_list_query_costs_three_statements(server: LiveServer, family_tenant: Tenant) -> None:
    # sign-in check, the contacts, their profiles (the active one is among them)
    assert _statements(server, family_tenant, LIST, {"limit": 25}) == 3


def test_deep_list_query_costs_four_statements(server: LiveServer, family_tenant: Tenant) -> None:
    # sign-in check, the contacts, their profiles (each profile's contact is among the
    # contacts), their groups; languages come from the process's cache
    assert _statements(server, family_tenant, DEEP, {"limit": 25}) == 4


def test_single_contact_cost_is_constant(server: LiveServer, family_tenant: Tenant) -> None:
    ids = [c["id"] for c in family_tenant.data(LIST, {"limit": 12})["contacts"]]
    costs = {_statements(server, family_tenant, ONE, {"id": cid}) for cid in ids[:5]}
    assert len(costs) == 1
    assert costs.pop() == 3  # sign-in, contact, profiles (the language is cached)
