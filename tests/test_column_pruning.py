"""Reads select only the columns an operation can read (schema/columns.py). Whatever the
selection, every field answers exactly what it answers when the whole row is read; rows
shared between fields through the request's caches carry what each of them needs."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.utils.server import LiveServer
from tests.utils.tenants import Tenant

CONTACT_LEAVES = [
    "name",
    "phone",
    "maskedPhone",
    "status",
    "bspStatus",
    "isOrgRead",
    "isOrgReplied",
    "isContactReplied",
    "lastMessageNumber",
    "optinTime",
    "optoutTime",
    "optinMethod",
    "optoutMethod",
    "fields",
    "settings",
    "lastMessageAt",
    "lastCommunicationAt",
    "insertedAt",
    "updatedAt",
]
PROFILE_LEAVES = ["name", "type", "fields", "isActive", "isDefault", "insertedAt", "updatedAt"]
RELATIONS = {
    "activeProfile": "{ id name fields }",
    "profiles": "{ id name isActive }",
    "language": "{ id label }",
    "groups": "{ id label }",
}
ALL_CONTACT = " ".join(
    CONTACT_LEAVES
    + [f"{name} {sub}" for name, sub in RELATIONS.items()]
    + ["profilesWhole: profiles { id " + " ".join(PROFILE_LEAVES) + " }"]
)


@pytest.fixture
def household(tenant: Tenant) -> Tenant:
    fields = {"age": {"value": "9", "label": "Age", "type": "string"}}
    for name in ("Pruning A", "Pruning B"):
        contact = tenant.create_contact(name, fields=json.dumps(fields))
        for child in ("Asha", "Ravi"):
            tenant.data(
                "mutation($input: ProfileInput!) {"
                " createProfile(input: $input) { errors { message } } }",
                {"input": {"contactId": contact["id"], "name": child, "type": "student"}},
            )
    return tenant


def _contacts(tenant: Tenant, selection: str, role: str = "manager") -> list[dict[str, Any]]:
    query = (
        '{ contacts(filter: {name: "Pruning"}, opts: {limit: 10, order: ASC}) { id '
        + selection
        + " } }"
    )
    return tenant.data(query, role=role)["contacts"]


@pytest.mark.parametrize("role", ["manager", "staff"])
def test_each_field_alone_answers_as_with_the_whole_row(household: Tenant, role: str) -> None:
    whole = {row["id"]: row for row in _contacts(household, ALL_CONTACT, role)}
    assert len(whole) == 2
    for field in CONTACT_LEAVES:
        for row in _contacts(household, field, role):
            assert row[field] == whole[row["id"]][field], field
    for name, sub in RELATIONS.items():
        for row in _contacts(household, f"{name} {sub}", role):
            assert row[name] == whole[row["id"]][name], name
    for field in PROFILE_LEAVES:
        for row in _contacts(household, f"profiles {{ id {field} }}", role):
            expected = [{"id": p["id"], field: p[field]} for p in whole[row["id"]]["profilesWhole"]]
            assert row["profiles"] == expected, field


def test_rows_shared_between_fields_carry_what_each_reads(household: Tenant) -> None:
    # `profiles` primes the profile rows that `activeProfile` then reuses: though `profiles`
    # asks only for names, the active profile's fields and type must be there.
    rows = _contacts(household, "profiles { name } activeProfile { type fields insertedAt }")
    whole = _contacts(household, ALL_CONTACT)
    for row, full in zip(rows, whole, strict=True):
        assert row["activeProfile"]["type"] == "student"
        active = next(p for p in full["profilesWhole"] if p["id"] == full["activeProfile"]["id"])
        assert row["activeProfile"] == {k: active[k] for k in ("type", "fields", "insertedAt")}
    # The same rows reached from another root field of the same operation.
    first = rows[0]["id"]
    data = household.data(
        'query($id: ID!) { contacts(filter: {name: "Pruning"}) { profiles { name } }'
        " contact(id: $id) { contact { phone profiles { fields isDefault } } } }",
        {"id": first},
    )
    profiles = data["contact"]["contact"]["profiles"]
    assert [p["isDefault"] for p in profiles] == [True, False, False]
    # The default profile holds the contact's fields.
    assert json.loads(profiles[0]["fields"])["age"]["value"] == "9"
    assert data["contact"]["contact"]["phone"]


def test_fragments_count_towards_what_is_read(household: Tenant) -> None:
    query = """
      fragment P on Profile { type fields }
      query { contacts(filter: {name: "Pruning"}) { ... on Contact { maskedPhone }
        profiles { name ...P } } }"""
    for row in household.data(query)["contacts"]:
        assert "******" in row["maskedPhone"]
        assert [p["type"] for p in row["profiles"]] == [None, "student", "student"]


def _select_list(statements: list[str], table: str) -> str:
    """The columns of the one counted statement that reads `table`."""
    (sql,) = [s for s in statements if s.startswith(f"SELECT {table}.id")]
    return re.split(r"\sFROM\s", sql)[0]


def test_reads_select_only_the_columns_the_operation_reads(
    server: LiveServer, household: Tenant
) -> None:
    counter = server.count_statements()
    try:
        household.data('{ contacts(filter: {name: "Pruning"}) { name profiles { name } } }')
    finally:
        server.stop_counting(counter)
    contacts = _select_list(counter.statements, "contacts")
    assert "contacts.name" in contacts
    assert "phone" not in contacts and "fields" not in contacts
    profiles = _select_list(counter.statements, "profiles")
    assert "profiles.name" in profiles and "profiles.contact_id" in profiles  # grouped by it
    assert "fields" not in profiles and "type" not in profiles


def test_fields_computed_from_their_row_read_the_columns_they_declare(
    server: LiveServer, household: Tenant
) -> None:
    """`maskedPhone` (computed from the row) and `phone` (from the row and the viewer)
    declare the one column they read: the list reads that one, not the whole row."""
    for leaf in ("maskedPhone", "phone"):
        counter = server.count_statements()
        try:
            household.data('{ contacts(filter: {name: "Pruning"}) { ' + leaf + " } }")
        finally:
            server.stop_counting(counter)
        contacts = _select_list(counter.statements, "contacts")
        assert "contacts.phone" in contacts, leaf
        assert "fields" not in contacts and "contacts.name" not in contacts, leaf
