"""Tenant isolation (spec §4.4): a user of organization B — manager or even glific_admin —
cannot read, count, update, switch or delete anything of organization A, whether A's rows
are named by id, reached through a filter, or asked for with A's `organizationId`; and A's
data is unchanged afterwards (checked as A)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.utils.builders import contact_with_profiles, make_contact, make_field, snapshot
from tests.utils.tenants import Tenant

CONTACT_MISS = [{"key": "Contact", "message": "Contact not found or permission denied."}]
PROFILE_MISS = [{"key": "Profile", "message": "Profile not found or permission denied."}]
WRITE_CONTACT_MISS = [{"key": "Elixir.Glific.Contacts.Contact", "message": "Resource not found"}]
WRITE_PROFILE_MISS = [{"key": "Elixir.Glific.Profiles.Profile", "message": "Resource not found"}]
OUTSIDERS = ("manager", "glific_admin")


@pytest.fixture
def victim(tenant: Tenant) -> dict[str, Any]:
    """Organization A's data: a contact with two profiles, history, a contact field."""
    contact = contact_with_profiles(tenant, "Zubeida Victim")
    field = make_field(tenant)
    return {**contact, "field": field}


def _payload(body: dict[str, Any], field: str) -> dict[str, Any]:
    assert "errors" not in body, body
    return body["data"][field]


def _is_miss(errors: list[dict[str, str]] | None) -> bool:
    """A payload error saying the object is not there (whatever the exact key)."""
    if not errors:
        return False
    return all(
        "not found" in e["message"].lower() or "does not exist" in e["message"].lower()
        for e in errors
    )


@pytest.mark.parametrize("role", OUTSIDERS)
def test_reads_by_id_miss(
    tenant: Tenant, other_tenant: Tenant, victim: dict[str, Any], role: str
) -> None:
    b = other_tenant
    got = b.gql(
        "query($id: ID!) { contact(id: $id) { contact { id name } errors { key message } } }",
        {"id": victim["id"]},
        role,
    )
    assert _payload(got, "contact") == {"contact": None, "errors": CONTACT_MISS}

    got = b.gql(
        "query($p: String!) { contactByPhone(phone: $p) {"
        " contact { id } errors { key message } } }",
        {"p": victim["phone"]},
        role,
    )
    assert _payload(got, "contactByPhone") == {"contact": None, "errors": CONTACT_MISS}

    for pid in (victim["kid_id"], victim["default_profile_id"]):
        got = b.gql(
            "query($id: ID!) { profile(id: $id) { profile { id name } errors { key message } } }",
            {"id": pid},
            role,
        )
        assert _payload(got, "profile") == {"profile": None, "errors": PROFILE_MISS}

    got = b.gql(
        "query($id: ID!) { contactsField(id: $id) {"
        " contactsField { id } errors { key message } } }",
        {"id": victim["field"]["id"]},
        role,
    )
    result = _payload(got, "contactsField")
    assert result["contactsField"] is None and _is_miss(result["errors"]), result

    got = b.gql(
        "query($id: ID!) { contactLocation(id: $id) { latitude } }", {"id": victim["id"]}, role
    )
    assert _payload(got, "contactLocation") is None


@pytest.mark.parametrize("role", OUTSIDERS)
def test_history_of_another_org_is_empty(
    tenant: Tenant, other_tenant: Tenant, victim: dict[str, Any], role: str
) -> None:
    # A's history exists...
    a_rows = tenant.data(
        "query($c: ID!) { contactHistory(filter: {contactId: $c}) { id } }", {"c": victim["id"]}
    )["contactHistory"]
    assert a_rows
    # ...but B sees none of it, by contact or by profile.
    for flt in ({"contactId": victim["id"]}, {"profileId": victim["kid_id"]}):
        data = other_tenant.data(
            "query($f: ContactsHistoryFilter) { contactHistory(filter: $f) { id }"
            " countContactHistory(filter: $f) }",
            {"f": flt},
            role,
        )
        assert data == {"contactHistory": [], "countContactHistory": 0}, flt
    everything = other_tenant.data("{ contactHistory { id } }", role=role)["contactHistory"]
    assert not {row["id"] for row in everything} & {row["id"] for row in a_rows}


@pytest.mark.parametrize("role", OUTSIDERS)
def test_filters_never_reach_another_org(
    tenant: Tenant, other_tenant: Tenant, victim: dict[str, Any], role: str
) -> None:
    b = other_tenant
    own = make_contact(b, "Bilal Own")
    for flt in (
        {"term": victim["phone"]},
        {"phone": victim["phone"]},
        {"name": "Zubeida Victim"},
        {"term": "Zubeida"},
    ):
        data = b.data(
            "query($f: ContactFilter) { contacts(filter: $f) { id } countContacts(filter: $f) }",
            {"f": flt},
            role,
        )
        assert data == {"contacts": [], "countContacts": 0}, flt

    ids = {c["id"] for c in b.data("{ contacts(opts: {limit: 50}) { id } }", role=role)["contacts"]}
    assert own["id"] in ids and victim["id"] not in ids

    for flt in (
        {"contactId": victim["id"]},
        {"name": "Kid", "contactId": victim["id"]},
        {"organizationId": str(tenant.org_id)},
        {"organizationId": tenant.org_id, "contactId": victim["id"]},
    ):
        data = b.data(
            "query($f: ProfileFilter) { profiles(filter: $f) { id } countProfiles(filter: $f) }",
            {"f": flt},
            role,
        )
        assert data == {"profiles": [], "countProfiles": 0}, flt

    # Naming one's own organization changes nothing; a foreign one only ever narrows.
    mine = b.data(
        "query($o: ID) { profiles(filter: {organizationId: $o}) { id contact { id } } }",
        {"o": b.org_id},
        role,
    )["profiles"]
    unfiltered = b.data("{ profiles { id contact { id } } }", role=role)["profiles"]
    assert mine == unfiltered
    assert all(p["contact"]["id"] != victim["id"] for p in unfiltered)

    fields = b.data(
        "query($s: String) { contactsFields(filter: {shortcode: $s}) { id }"
        " countContactsFields(filter: {shortcode: $s}) }",
        {"s": victim["field"]["shortcode"]},
        role,
    )
    assert fields == {"contactsFields": [], "countContactsFields": 0}


@pytest.mark.parametrize("role", OUTSIDERS)
def test_writes_to_another_org_fail_and_change_nothing(
    tenant: Tenant, other_tenant: Tenant, victim: dict[str, Any], role: str
) -> None:
    b = other_tenant
    before = snapshot(tenant)
    own = contact_with_profiles(b, "Bilal Own")
    cid, kid, default = victim["id"], victim["kid_id"], victim["default_profile_id"]

    got = b.gql(
        'mutation($id: ID!) { updateContact(id: $id, input: {name: "Hacked"}) {'
        " contact { id } errors { key message } } }",
        {"id": cid},
        role,
    )
    assert _payload(got, "updateContact") == {"contact": None, "errors": WRITE_CONTACT_MISS}

    got = b.gql(
        "mutation($id: ID!) { deleteContact(id: $id) { contact { id } errors { key message } } }",
        {"id": cid},
        role,
    )
    assert _payload(got, "deleteContact") == {"contact": None, "errors": WRITE_CONTACT_MISS}

    for pid in (kid, default):
        for mutation, extra in (
            ("updateProfile", ', input: {name: "Hacked", fields: "{}"}'),
            ("deleteProfile", ""),
            ("deactivateProfile", ""),
            ("reactivateProfile", ""),
        ):
            got = b.gql(
                f"mutation($id: ID!) {{ {mutation}(id: $id{extra}) {{"
                " profile { id } errors { key message } } }",
                {"id": pid},
                role,
            )
            result = _payload(got, mutation)
            assert result["profile"] is None, (mutation, result)
            assert _is_miss(result["errors"]), (mutation, result)

    # Switching A's contact, by index, by name or by id.
    for args in ("index: 1", "index: 2", 'name: "Kid"', f"profileId: {kid}"):
        got = b.gql(
            f"mutation($c: ID!) {{ switchProfile(contactId: $c, {args}) {{"
            " contact { id } errors { key message } } }",
            {"c": cid},
            role,
        )
        result = _payload(got, "switchProfile")
        assert result["contact"] is None and _is_miss(result["errors"]), (args, result)

    # B's own contact cannot be switched onto A's profile, by switch or by updateContact.
    got = b.gql(
        "mutation($c: ID!, $p: ID) { switchProfile(contactId: $c, profileId: $p) {"
        " contact { id } errors { key message } } }",
        {"c": own["id"], "p": kid},
        role,
    )
    result = _payload(got, "switchProfile")
    assert result["contact"] is None and result["errors"], result
    got = b.gql(
        "mutation($c: ID!, $p: ID) { updateContact(id: $c, input: {activeProfileId: $p}) {"
        " contact { id activeProfile { id } } errors { key message } } }",
        {"c": own["id"], "p": kid},
        role,
    )
    result = _payload(got, "updateContact")
    assert result["contact"] is None and result["errors"], result

    # A profile cannot be created on A's contact.
    got = b.gql(
        "mutation($i: ProfileInput!) { createProfile(input: $i) {"
        " profile { id } errors { key message } } }",
        {"i": {"contactId": cid, "name": "Intruder", "type": "x"}},
        role,
    )
    result = _payload(got, "createProfile")
    assert result == {
        "profile": None,
        "errors": [{"key": "contact_id", "message": "Contact_id: does not exist"}],
    }

    # A's contact field can be neither renamed nor deleted.
    fid = victim["field"]["id"]
    for mutation, extra in (
        ("updateContactsField", ', input: {name: "Hacked"}'),
        ("deleteContactsField", ", deleteAssoc: true"),
    ):
        got = b.gql(
            f"mutation($id: ID!) {{ {mutation}(id: $id{extra}) {{"
            " contactsField { id } errors { key message } } }",
            {"id": fid},
            role,
        )
        result = _payload(got, mutation)
        assert result["contactsField"] is None and _is_miss(result["errors"]), result

    # B creating a contact with A's phone makes B's own contact and leaves A's alone.
    created = b.gql(
        'mutation($p: String) { createContact(input: {name: "Same phone", phone: $p}) {'
        " contact { id } errors { key message } } }",
        {"p": victim["phone"]},
        role,
    )
    made = _payload(created, "createContact")
    assert made["errors"] is None and made["contact"]["id"] != cid

    assert snapshot(tenant) == before
    # A still sees its contact exactly as before, as A.
    seen = tenant.data(
        "query($id: ID!) { contact(id: $id) { contact { name activeProfile { id }"
        " profiles { id name isActive } } } }",
        {"id": cid},
    )["contact"]["contact"]
    assert seen["name"] == "Zubeida Victim"
    assert seen["activeProfile"] == {"id": kid}
    assert {p["id"] for p in seen["profiles"]} == {kid, default}
    assert all(p["isActive"] for p in seen["profiles"])


def test_organization_comes_from_the_token_not_the_host(
    tenant: Tenant, other_tenant: Tenant, victim: dict[str, Any]
) -> None:
    """A client naming A's subdomain in Host still gets only its own organization."""
    response = other_tenant.client.post(
        "/api",
        json={
            "query": "query($id: ID!) { contact(id: $id) { contact { id } errors { key } } }",
            "variables": {"id": victim["id"]},
        },
        headers={
            "authorization": other_tenant.token("manager"),
            "host": f"api.{tenant.shortcode}.glific.test",
        },
    )
    assert response.status_code == 200
    assert response.json()["data"]["contact"]["contact"] is None


def test_current_user_is_the_token_owner(tenant: Tenant, other_tenant: Tenant) -> None:
    for t in (tenant, other_tenant):
        user = t.data("{ currentUser { user { id organization { id } } } }")["currentUser"]["user"]
        assert user == {"id": str(t.users["manager"]["id"]), "organization": {"id": str(t.org_id)}}


def test_organization_id_is_not_an_input(other_tenant: Tenant, tenant: Tenant) -> None:
    """Create inputs take no organizationId: a client cannot plant rows in another org."""
    body = other_tenant.gql(
        'mutation($o: ID) { createContact(input: {name: "X", phone: "919800000001",'
        " organizationId: $o}) { contact { id } } }",
        {"o": tenant.org_id},
    )
    assert body["data"] is None
    assert "organizationId" in body["errors"][0]["message"]
