"""The role matrix of spec §4.3 for every operation that exists: who may call what, the exact
refusal ("Unauthorized", field null, nothing changed), and the role-dependent fields
(`Contact.phone` hidden from staff, `User.roles` labels)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from models import User
from tests.utils.builders import (
    contact_with_profiles,
    make_contact,
    make_field,
    make_language,
    snapshot,
)
from tests.utils.tenants import ROLES, Tenant, unique_phone

Doc = tuple[str, dict[str, Any]]
RANK = {"none": 0, "staff": 1, "manager": 2, "admin": 3, "glific_admin": 4}

CONTACT_SEL = "contact { id } errors { key message }"
PROFILE_SEL = "profile { id } errors { key message }"
FIELD_SEL = "contactsField { id } errors { key message }"
LANGUAGE_SEL = "language { id } errors { key message }"


def _contact(t: Tenant) -> Doc:
    c = make_contact(t)
    return f"query($id: ID!) {{ contact(id: $id) {{ {CONTACT_SEL} }} }}", {"id": c["id"]}


def _contact_by_phone(t: Tenant) -> Doc:
    c = make_contact(t)
    return (
        f"query($p: String!) {{ contactByPhone(phone: $p) {{ {CONTACT_SEL} }} }}",
        {"p": c["phone"]},
    )


def _contacts(t: Tenant) -> Doc:
    make_contact(t)
    return "{ contacts(opts: {limit: 5}) { id name } }", {}


def _count_contacts(t: Tenant) -> Doc:
    return "{ countContacts }", {}


def _contact_history(t: Tenant) -> Doc:
    c = contact_with_profiles(t)
    return (
        "query($c: ID!) { contactHistory(filter: {contactId: $c}) { id eventType } }",
        {"c": c["id"]},
    )


def _count_contact_history(t: Tenant) -> Doc:
    c = contact_with_profiles(t)
    return "query($c: ID!) { countContactHistory(filter: {contactId: $c}) }", {"c": c["id"]}


def _contact_location(t: Tenant) -> Doc:
    c = make_contact(t)
    return "query($id: ID!) { contactLocation(id: $id) { latitude longitude } }", {"id": c["id"]}


def _profile(t: Tenant) -> Doc:
    c = contact_with_profiles(t)
    return f"query($id: ID!) {{ profile(id: $id) {{ {PROFILE_SEL} }} }}", {"id": c["kid_id"]}


def _profiles(t: Tenant) -> Doc:
    c = contact_with_profiles(t)
    return (
        "query($c: ID!) { profiles(filter: {contactId: $c}) { id name } }",
        {"c": c["id"]},
    )


def _count_profiles(t: Tenant) -> Doc:
    return "{ countProfiles }", {}


def _contacts_field(t: Tenant) -> Doc:
    f = make_field(t)
    return f"query($id: ID!) {{ contactsField(id: $id) {{ {FIELD_SEL} }} }}", {"id": f["id"]}


def _contacts_fields(t: Tenant) -> Doc:
    make_field(t)
    return "{ contactsFields { id shortcode } }", {}


def _count_contacts_fields(t: Tenant) -> Doc:
    return "{ countContactsFields }", {}


def _language(t: Tenant) -> Doc:
    lang = t.language_id("en")
    return f"query($id: ID!) {{ language(id: $id) {{ {LANGUAGE_SEL} }} }}", {"id": lang}


def _languages(t: Tenant) -> Doc:
    return "{ languages { id locale } }", {}


def _count_languages(t: Tenant) -> Doc:
    return "{ countLanguages }", {}


def _current_user(t: Tenant) -> Doc:
    return "{ currentUser { user { id roles } errors { key message } } }", {}


def _create_contact(t: Tenant) -> Doc:
    return (
        f"mutation($i: ContactInput!) {{ createContact(input: $i) {{ {CONTACT_SEL} }} }}",
        {"i": {"name": "New", "phone": unique_phone()}},
    )


def _update_contact(t: Tenant) -> Doc:
    c = make_contact(t)
    return (
        f'mutation($id: ID!) {{ updateContact(id: $id, input: {{name: "Renamed"}})'
        f" {{ {CONTACT_SEL} }} }}",
        {"id": c["id"]},
    )


def _delete_contact(t: Tenant) -> Doc:
    c = make_contact(t)
    return f"mutation($id: ID!) {{ deleteContact(id: $id) {{ {CONTACT_SEL} }} }}", {"id": c["id"]}


def _optin_contact(t: Tenant) -> Doc:
    return (
        f'mutation($p: String!) {{ optinContact(phone: $p, name: "Opt") {{ {CONTACT_SEL} }} }}',
        {"p": unique_phone()},
    )


def _create_profile(t: Tenant) -> Doc:
    c = make_contact(t)
    return (
        f"mutation($i: ProfileInput!) {{ createProfile(input: $i) {{ {PROFILE_SEL} }} }}",
        {"i": {"contactId": c["id"], "name": "Sibling", "type": "child"}},
    )


def _update_profile(t: Tenant) -> Doc:
    c = contact_with_profiles(t)
    return (
        f'mutation($id: ID!) {{ updateProfile(id: $id, input: {{name: "Renamed"}})'
        f" {{ {PROFILE_SEL} }} }}",
        {"id": c["kid_id"]},
    )


def _delete_profile(t: Tenant) -> Doc:
    c = contact_with_profiles(t)
    return f"mutation($id: ID!) {{ deleteProfile(id: $id) {{ {PROFILE_SEL} }} }}", {
        "id": c["kid_id"]
    }


def _switch_profile(t: Tenant) -> Doc:
    c = contact_with_profiles(t)
    return (
        f"mutation($c: ID!) {{ switchProfile(contactId: $c, index: 1) {{ {CONTACT_SEL} }} }}",
        {"c": c["id"]},
    )


def _deactivate_profile(t: Tenant) -> Doc:
    c = contact_with_profiles(t)
    return f"mutation($id: ID!) {{ deactivateProfile(id: $id) {{ {PROFILE_SEL} }} }}", {
        "id": c["kid_id"]
    }


def _reactivate_profile(t: Tenant) -> Doc:
    c = contact_with_profiles(t)
    t.data(
        "mutation($id: ID!) { deactivateProfile(id: $id) { errors { key } } }", {"id": c["kid_id"]}
    )
    return f"mutation($id: ID!) {{ reactivateProfile(id: $id) {{ {PROFILE_SEL} }} }}", {
        "id": c["kid_id"]
    }


def _create_contacts_field(t: Tenant) -> Doc:
    code = f"f_{secrets.token_hex(3)}"
    return (
        f"mutation($i: ContactsFieldInput!) {{ createContactsField(input: $i) {{ {FIELD_SEL} }} }}",
        {"i": {"name": f"Field {code}", "shortcode": code, "valueType": "TEXT"}},
    )


def _update_contacts_field(t: Tenant) -> Doc:
    f = make_field(t)
    return (
        f"mutation($id: ID!, $n: String) {{ updateContactsField(id: $id, input: {{name: $n}})"
        f" {{ {FIELD_SEL} }} }}",
        {"id": f["id"], "n": f"Renamed {secrets.token_hex(3)}"},
    )


def _delete_contacts_field(t: Tenant) -> Doc:
    f = make_field(t)
    return f"mutation($id: ID!) {{ deleteContactsField(id: $id) {{ {FIELD_SEL} }} }}", {
        "id": f["id"]
    }


def _create_language(t: Tenant) -> Doc:
    code = f"x{secrets.token_hex(3)}"
    return (
        f"mutation($i: LanguageInput!) {{ createLanguage(input: $i) {{ {LANGUAGE_SEL} }} }}",
        {"i": {"label": f"L {code}", "labelLocale": f"L {code}", "locale": code}},
    )


def _update_language(t: Tenant) -> Doc:
    lang = make_language(t)
    code = f"x{secrets.token_hex(3)}"
    return (
        f"mutation($id: ID!, $i: LanguageInput) {{ updateLanguage(id: $id, input: $i)"
        f" {{ {LANGUAGE_SEL} }} }}",
        {"id": lang["id"], "i": {"label": f"L {code}", "labelLocale": "x", "locale": code}},
    )


def _delete_language(t: Tenant) -> Doc:
    lang = make_language(t)
    return f"mutation($id: ID!) {{ deleteLanguage(id: $id) {{ {LANGUAGE_SEL} }} }}", {
        "id": lang["id"]
    }


# field name -> (least role that may call it, builder of a valid call)
OPERATIONS: dict[str, tuple[str, Callable[[Tenant], Doc]]] = {
    "contact": ("staff", _contact),
    "contactByPhone": ("staff", _contact_by_phone),
    "contacts": ("staff", _contacts),
    "countContacts": ("staff", _count_contacts),
    "contactHistory": ("staff", _contact_history),
    "countContactHistory": ("staff", _count_contact_history),
    "contactLocation": ("manager", _contact_location),
    "profile": ("staff", _profile),
    "profiles": ("staff", _profiles),
    "countProfiles": ("staff", _count_profiles),
    "contactsField": ("manager", _contacts_field),
    "contactsFields": ("manager", _contacts_fields),
    "countContactsFields": ("manager", _count_contacts_fields),
    "language": ("staff", _language),
    "languages": ("staff", _languages),
    "countLanguages": ("staff", _count_languages),
    "currentUser": ("staff", _current_user),
    "createContact": ("manager", _create_contact),
    "updateContact": ("staff", _update_contact),
    "deleteContact": ("manager", _delete_contact),
    "optinContact": ("manager", _optin_contact),
    "createProfile": ("manager", _create_profile),
    "updateProfile": ("staff", _update_profile),
    "deleteProfile": ("manager", _delete_profile),
    "switchProfile": ("staff", _switch_profile),
    "deactivateProfile": ("manager", _deactivate_profile),
    "reactivateProfile": ("manager", _reactivate_profile),
    "createContactsField": ("manager", _create_contacts_field),
    "updateContactsField": ("manager", _update_contacts_field),
    "deleteContactsField": ("manager", _delete_contacts_field),
    "createLanguage": ("glific_admin", _create_language),
    "updateLanguage": ("glific_admin", _update_language),
    "deleteLanguage": ("glific_admin", _delete_language),
}
LANGUAGE_QUERY = "{ languages { id label locale } }"


def _assert_allowed(body: dict[str, Any], field: str) -> None:
    assert "errors" not in body, body
    value = body["data"][field]
    if isinstance(value, dict) and "errors" in value:
        assert value["errors"] is None, body


def _assert_refused(body: dict[str, Any], field: str) -> None:
    assert body["data"] == {field: None}, body
    assert len(body["errors"]) == 1, body
    error = body["errors"][0]
    assert error["message"] == "Unauthorized"
    assert error["path"] == [field]
    assert set(error) <= {"message", "locations", "path"}


@pytest.mark.parametrize("field", list(OPERATIONS))
def test_role_matrix(tenant: Tenant, field: str) -> None:
    least, build = OPERATIONS[field]
    for role in ROLES:
        document, variables = build(tenant)
        before = snapshot(tenant)
        languages_before = tenant.data(LANGUAGE_QUERY, role="glific_admin")
        body = tenant.gql(document, variables, role=role)
        if RANK[role] >= RANK[least]:
            _assert_allowed(body, field)
        else:
            _assert_refused(body, field)
            assert snapshot(tenant) == before, f"{field} refused for {role} but changed data"
            assert tenant.data(LANGUAGE_QUERY, role="glific_admin") == languages_before


def test_refusal_nulls_only_that_field(tenant: Tenant) -> None:
    """A staff user asking for an allowed and a forbidden field gets the allowed one."""
    body = tenant.gql("{ countContacts countContactsFields }", role="staff")
    assert body["data"]["countContactsFields"] is None
    assert isinstance(body["data"]["countContacts"], int)
    assert [e["message"] for e in body["errors"]] == ["Unauthorized"]
    assert body["errors"][0]["path"] == ["countContactsFields"]


def test_user_with_no_access_is_refused_everything_at_once(tenant: Tenant) -> None:
    """Every operation refuses `none` (test_role_matrix); in one document each field is
    refused on its own and nothing else leaks."""
    fields = {
        "contacts": "contacts { id }",
        "countContacts": "countContacts",
        "contactHistory": "contactHistory { id }",
        "profiles": "profiles { id }",
        "countProfiles": "countProfiles",
        "contactsFields": "contactsFields { id }",
        "languages": "languages { id }",
        "countLanguages": "countLanguages",
        "currentUser": "currentUser { user { id } }",
    }
    body = tenant.gql("{ " + " ".join(fields.values()) + " }", role="none")
    assert body["data"] == dict.fromkeys(fields)
    assert sorted(e["path"][0] for e in body["errors"]) == sorted(fields)
    assert {e["message"] for e in body["errors"]} == {"Unauthorized"}


def test_staff_see_phone_as_empty_managers_see_the_number(tenant: Tenant) -> None:
    contact = make_contact(tenant)
    query = "query($id: ID!) { contact(id: $id) { contact { phone maskedPhone } } }"
    expected_mask = f"{contact['phone'][:4]}******{contact['phone'][-2:]}"
    for role, phone in (
        ("staff", ""),
        ("manager", contact["phone"]),
        ("admin", contact["phone"]),
        ("glific_admin", contact["phone"]),
    ):
        seen = tenant.data(query, {"id": contact["id"]}, role=role)["contact"]["contact"]
        assert seen == {"phone": phone, "maskedPhone": expected_mask}, role
    listed = tenant.data("{ contacts(opts: {limit: 50}) { id phone } }", role="staff")["contacts"]
    assert listed and all(row["phone"] == "" for row in listed)
    by_phone = tenant.data(
        "query($p: String!) { contactByPhone(phone: $p) { contact { id phone } } }",
        {"p": contact["phone"]},
        role="staff",
    )["contactByPhone"]["contact"]
    assert by_phone == {"id": contact["id"], "phone": ""}


@pytest.mark.parametrize(
    "role, label",
    [
        ("staff", "Staff"),
        ("manager", "Manager"),
        ("admin", "Admin"),
        ("glific_admin", "Glific_admin"),
    ],
)
def test_current_user_role_labels(tenant: Tenant, role: str, label: str) -> None:
    user = tenant.data("{ currentUser { user { id roles isRestricted } } }", role=role)[
        "currentUser"
    ]["user"]
    assert user["id"] == str(tenant.users[role]["id"])
    assert user["roles"] == [label]
    # Glific hides isRestricted from staff.
    assert user["isRestricted"] is (None if role == "staff" else False)


def test_no_access_label(tenant: Tenant) -> None:
    """`none` renders as "No access" (seen by a user holding it next to a real role)."""

    async def grant(session: AsyncSession) -> None:
        await session.execute(
            update(User)
            .where(User.id == tenant.users["none"]["id"])
            .values(roles=["none", "staff"])
        )

    tenant.server.in_transaction(grant)
    user = tenant.data("{ currentUser { user { roles } } }", role="none")["currentUser"]["user"]
    assert user["roles"] == ["No access", "Staff"]


def test_staff_role_hides_phones_even_next_to_a_higher_role(tenant: Tenant) -> None:
    """Glific checks "roles include staff", not the highest role."""
    contact = make_contact(tenant)

    async def grant(session: AsyncSession) -> None:
        await session.execute(
            update(User)
            .where(User.id == tenant.users["none"]["id"])
            .values(roles=["staff", "manager"])
        )

    tenant.server.in_transaction(grant)
    seen = tenant.data(
        "query($id: ID!) { contact(id: $id) { contact { phone } } }",
        {"id": contact["id"]},
        role="none",
    )["contact"]["contact"]
    assert seen == {"phone": ""}
    # The manager part of the roles still allows manager operations.
    assert "errors" not in tenant.gql("{ countContactsFields }", role="none")
