"""Profiles over GraphQL: Glific's queries and mutations, and our semantics (the default
profile, creating activates, switching by id/index/name, the contact <-> active profile
invariant, deactivate/reactivate, delete), plus the resolvers called directly as the flow
engine and the webhook will call them."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from models import Contact, Profile, saved_id
from resolvers import contacts, profiles
from resolvers.errors import InputErrors
from tests.utils.contact_ops import (
    ERRORS,
    PROFILE,
    as_json,
    assert_in_sync,
    contact,
    create_profile,
    decoded,
    existing_profile,
    field,
    history,
    in_org_transaction,
    new_profile,
    profile,
    profile_mutation,
    switch,
    update_contact,
    update_profile,
)
from tests.utils.tenants import Tenant, unique_phone

NOT_FOUND = [{"key": "Elixir.Glific.Profiles.Profile", "message": "Resource not found"}]
PROFILE_MISS = [{"key": "Profile", "message": "Profile not found or permission denied."}]
DUPLICATE = [
    {"key": "name", "message": "Name: Sorry, a profile with same name and type already exists"}
]


def names(state: dict[str, Any]) -> list[str]:
    return [p["name"] for p in state["profiles"]]


def switches(tenant: Tenant, contact_id: Any) -> list[dict[str, Any]]:
    return history(
        tenant, {"contactId": contact_id, "eventType": "profile_switched"}, {"order": "ASC"}
    )


# --- Glific's profile queries --------------------------------------------------------------


def test_profile_by_id_returns_the_profile_with_its_contact_and_language(tenant: Tenant) -> None:
    asha = tenant.create_contact("Asha")
    hindi = tenant.language_id("hi")
    ravi = new_profile(
        tenant, asha["id"], "Ravi", type="student", languageId=hindi, fields={"age": field("9")}
    )

    found = tenant.data(
        "query($id: ID!) { profile(id: $id) { profile { id name type fields isActive isDefault"
        " contact { id language { label } } language { id label } } errors { key message } } }",
        {"id": ravi["id"]},
        role="staff",
    )["profile"]
    assert found["errors"] is None
    got = found["profile"]
    assert got["id"] == ravi["id"] and isinstance(got["id"], str)
    assert (got["name"], got["type"], got["isActive"], got["isDefault"]) == (
        "Ravi",
        "student",
        True,
        False,
    )
    assert decoded(got["fields"]) == {"age": field("9")}
    assert got["contact"]["id"] == asha["id"]
    assert got["language"] == {"id": hindi, "label": "Hindi"}


@pytest.mark.parametrize("missing", ["123456789", "not-a-number", "0"])
def test_profile_miss_is_a_payload_error(tenant: Tenant, missing: str) -> None:
    result = tenant.data(
        f"query($id: ID!) {{ profile(id: $id) {{ profile {{ id }} {ERRORS} }} }}", {"id": missing}
    )["profile"]
    assert result == {"profile": None, "errors": PROFILE_MISS}


def test_another_organizations_profile_is_not_found(tenant: Tenant, other_tenant: Tenant) -> None:
    theirs = other_tenant.create_contact("Theirs")
    their_profile = new_profile(other_tenant, theirs["id"], "Secret")
    result = tenant.data(
        f"query($id: ID!) {{ profile(id: $id) {{ profile {{ id }} {ERRORS} }} }}",
        {"id": their_profile["id"]},
    )["profile"]
    assert result == {"profile": None, "errors": PROFILE_MISS}


def _profiles(
    tenant: Tenant, filter: dict[str, Any] | None, opts: dict[str, Any] | None = None
) -> list[str]:
    rows = tenant.data(
        "query($filter: ProfileFilter, $opts: Opts) {"
        " profiles(filter: $filter, opts: $opts) { name } }",
        {"filter": filter, "opts": opts},
        role="staff",
    )["profiles"]
    return [r["name"] for r in rows]


def test_profiles_filters(tenant: Tenant, other_tenant: Tenant) -> None:
    asha = tenant.create_contact("Asha")
    kiran = tenant.create_contact("Kiran")
    new_profile(tenant, asha["id"], "Ravi")
    meena = new_profile(tenant, asha["id"], "Meena")
    new_profile(tenant, kiran["id"], "RAVI kumar")
    assert profile_mutation(tenant, "deactivateProfile", meena["id"])["errors"] is None
    other_tenant.create_contact("Ravi elsewhere")

    everything = _profiles(tenant, None, {"order": "ASC"})
    # Inactive profiles are included unless filtered; only this organization's appear.
    assert everything == ["Asha", "Kiran", "Meena", "Ravi", "RAVI kumar"]
    assert sorted(_profiles(tenant, {"contactId": asha["id"]})) == ["Asha", "Meena", "Ravi"]
    assert sorted(_profiles(tenant, {"name": "ravi"})) == ["RAVI kumar", "Ravi"]
    assert _profiles(tenant, {"isActive": False}) == ["Meena"]
    assert sorted(_profiles(tenant, {"isActive": True, "contactId": asha["id"]})) == [
        "Asha",
        "Ravi",
    ]
    assert _profiles(tenant, {"contactId": "99999999"}) == []
    # organizationId only narrows: this organization's id changes nothing, another's empties.
    assert sorted(_profiles(tenant, {"organizationId": tenant.org_id})) == sorted(everything)
    assert _profiles(tenant, {"organizationId": other_tenant.org_id}) == []
    count = tenant.data(
        "query($f: ProfileFilter) { countProfiles(filter: $f) }", {"f": {"contactId": asha["id"]}}
    )["countProfiles"]
    assert count == 3


def test_profiles_ordering_with_opts(tenant: Tenant) -> None:
    asha = tenant.create_contact("asha")
    for name in ["bela", "Chitra", "Arun"]:
        new_profile(tenant, asha["id"], name)
    flt = {"contactId": asha["id"]}
    # lower(name): case does not decide the order.
    assert _profiles(tenant, flt, {"order": "ASC"}) == ["Arun", "asha", "bela", "Chitra"]
    assert _profiles(tenant, flt, {"order": "DESC"}) == ["Chitra", "bela", "asha", "Arun"]
    assert _profiles(tenant, flt, {"order": "DESC", "orderWith": "is_default"})[0] == "asha"
    assert _profiles(tenant, flt, {"order": "ASC", "limit": 2, "offset": 1}) == ["asha", "bela"]


def test_profiles_snake_case_fields_and_arguments_echo_the_clients_spelling(tenant: Tenant) -> None:
    asha = tenant.create_contact("Asha")
    new_profile(tenant, asha["id"], "Ravi")
    body = tenant.data(
        "query($filter: ProfileFilter) {"
        " profiles(filter: $filter) { id name fields is_active is_default } }",
        {"filter": {"contact_id": int(asha["id"]), "is_active": True}},
        role="staff",
    )
    rows = sorted(body["profiles"], key=lambda r: r["name"])
    assert [(r["name"], r["is_active"], r["is_default"]) for r in rows] == [
        ("Asha", True, True),
        ("Ravi", True, False),
    ]
    assert set(rows[0]) == {"id", "name", "fields", "is_active", "is_default"}


# --- Glific's profile mutations ------------------------------------------------------------


def test_create_profile_accepts_snake_case_input_and_integer_ids(tenant: Tenant) -> None:
    asha = tenant.create_contact("Asha")
    hindi = tenant.language_id("hi")
    result = tenant.data(
        "mutation($input: ProfileInput!) { createProfile(input: $input)"
        f" {{ profile {{ {PROFILE} }} {ERRORS} }} }}",
        {
            "input": {
                "name": "Tom",
                "type": "student",
                "contact_id": int(asha["id"]),
                "language_id": int(hindi),
            }
        },
    )["createProfile"]
    assert result["errors"] is None
    created = result["profile"]
    assert (created["name"], created["type"], created["isActive"], created["isDefault"]) == (
        "Tom",
        "student",
        True,
        False,
    )
    assert created["language"]["id"] == hindi
    assert created["contact"]["id"] == asha["id"]


def test_create_profile_without_a_contact_is_a_changeset_error(tenant: Tenant) -> None:
    result = tenant.data(
        f'mutation {{ createProfile(input: {{name: "Tom"}}) {{ profile {{ id }} {ERRORS} }} }}'
    )["createProfile"]
    assert result == {
        "profile": None,
        "errors": [{"key": "contact_id", "message": "Contact_id: can't be blank"}],
    }


def test_create_profile_on_an_unknown_or_foreign_contact(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs = other_tenant.create_contact("Theirs")
    for cid in ["99999999", theirs["id"]]:
        result = create_profile(tenant, cid, "Tom")
        assert result == {
            "profile": None,
            "errors": [{"key": "contact_id", "message": "Contact_id: does not exist"}],
        }
    assert contact(other_tenant, theirs["id"])["profiles"] == []


def test_create_profile_needs_a_manager(tenant: Tenant) -> None:
    asha = tenant.create_contact("Asha")
    body = tenant.gql(
        "mutation($input: ProfileInput!) { createProfile(input: $input) { profile { id } } }",
        {"input": {"contactId": asha["id"], "name": "Tom"}},
        role="staff",
    )
    assert body["data"] == {"createProfile": None}
    assert [e["message"] for e in body["errors"]] == ["Unauthorized"]
    assert contact(tenant, asha["id"])["profiles"] == []


def test_duplicate_name_and_type_is_refused_and_nothing_is_written(tenant: Tenant) -> None:
    asha = tenant.create_contact("Asha")
    ravi = new_profile(tenant, asha["id"], "Ravi", type="student")
    other = new_profile(tenant, asha["id"], "Meena")
    before = contact(tenant, asha["id"])

    assert create_profile(tenant, asha["id"], "Ravi", type="student") == {
        "profile": None,
        "errors": DUPLICATE,
    }
    # No type counts as one value: the same name without a type twice is refused too.
    assert create_profile(tenant, asha["id"], "Meena") == {"profile": None, "errors": DUPLICATE}
    assert contact(tenant, asha["id"]) == before
    assert before["activeProfile"]["id"] == other["id"]

    # Same name with another type, or on another contact, is fine.
    assert create_profile(tenant, asha["id"], "Ravi", type="parent")["errors"] is None
    kiran = tenant.create_contact("Kiran")
    assert create_profile(tenant, kiran["id"], "Ravi", type="student")["errors"] is None
    assert ravi["id"] != other["id"]


def test_update_profile_changes_name_and_type(tenant: Tenant) -> None:
    asha = tenant.create_contact("Asha")
    ravi = new_profile(tenant, asha["id"], "Ravi", type="student")
    result = update_profile(tenant, ravi["id"], name="another user", type="user profile")
    assert result["errors"] is None
    assert (result["profile"]["name"], result["profile"]["type"]) == (
        "another user",
        "user profile",
    )
    assert existing_profile(tenant, ravi["id"])["name"] == "another user"


def test_update_profile_misses_and_renames_onto_a_duplicate(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs = other_tenant.create_contact("Theirs")
    their_profile = new_profile(other_tenant, theirs["id"], "Secret")
    for pid in ["123456789", their_profile["id"]]:
        assert update_profile(tenant, pid, name="x") == {"profile": None, "errors": NOT_FOUND}
    assert existing_profile(other_tenant, their_profile["id"])["name"] == "Secret"

    asha = tenant.create_contact("Asha")
    ravi = new_profile(tenant, asha["id"], "Ravi")
    assert update_profile(tenant, ravi["id"], name="Asha") == {"profile": None, "errors": DUPLICATE}
    assert existing_profile(tenant, ravi["id"])["name"] == "Ravi"


def test_delete_profile_returns_nulls_and_removes_it(tenant: Tenant) -> None:
    asha = tenant.create_contact("Asha")
    ravi = new_profile(tenant, asha["id"], "Ravi")
    meena = new_profile(tenant, asha["id"], "Meena")
    assert profile_mutation(tenant, "deleteProfile", ravi["id"]) == {
        "profile": None,
        "errors": None,
    }
    assert profile(tenant, ravi["id"]) is None
    state = contact(tenant, asha["id"])
    assert names(state) == ["Asha", "Meena"]
    assert state["activeProfile"]["id"] == meena["id"]
    assert profile_mutation(tenant, "deleteProfile", "123456789") == {
        "profile": None,
        "errors": NOT_FOUND,
    }


def test_delete_profile_needs_a_manager(tenant: Tenant) -> None:
    asha = tenant.create_contact("Asha")
    ravi = new_profile(tenant, asha["id"], "Ravi")
    body = tenant.gql(
        "mutation($id: ID!) { deleteProfile(id: $id) { errors { key } } }",
        {"id": ravi["id"]},
        "staff",
    )
    assert [e["message"] for e in body["errors"]] == ["Unauthorized"]
    assert profile(tenant, ravi["id"]) is not None


# --- the default profile and creating ------------------------------------------------------


def test_a_contact_without_profiles_is_a_plain_contact(tenant: Tenant) -> None:
    asha = tenant.create_contact("Asha", fields=as_json({"city": field("Pune")}))
    state = contact(tenant, asha["id"])
    assert state["activeProfile"] is None
    assert state["profiles"] == []
    updated = update_contact(
        tenant, asha["id"], fields={"city": field("Delhi")}, languageId=tenant.language_id("hi")
    )
    assert updated["errors"] is None
    state = contact(tenant, asha["id"])
    assert decoded(state["fields"]) == {"city": field("Delhi")}
    assert state["language"]["id"] == tenant.language_id("hi")
    assert (state["activeProfile"], state["profiles"]) == (None, [])
    assert history(tenant, {"contactId": asha["id"]}) == []


def test_first_profile_creates_the_default_from_the_contact_and_activates_the_new_one(
    tenant: Tenant,
) -> None:
    hindi, english = tenant.language_id("hi"), tenant.language_id("en")
    original = {"city": field("Pune", "City")}
    asha = tenant.create_contact("Asha", fields=as_json(original), languageId=hindi)

    ravi = new_profile(
        tenant, asha["id"], "Ravi", type="student", languageId=english, fields={"age": field("9")}
    )

    state = contact(tenant, asha["id"])
    default, second = state["profiles"]
    assert (default["name"], default["type"], default["isDefault"], default["isActive"]) == (
        "Asha",
        None,
        True,
        True,
    )
    assert (second["id"], second["isDefault"]) == (ravi["id"], False)
    # The default profile is a copy of the contact as it was.
    assert decoded(existing_profile(tenant, default["id"])["fields"]) == original
    assert existing_profile(tenant, default["id"])["language"]["id"] == hindi
    # The new profile is active: the contact now carries its fields and language.
    assert state["activeProfile"]["id"] == ravi["id"]
    assert decoded(state["fields"]) == {"age": field("9")}
    assert state["language"]["id"] == english
    assert state["name"] == "Asha"
    assert_in_sync(state)
    # Creating is a switch: history says so, stamped with the new profile.
    assert [(h["eventLabel"], h["profile"]["id"]) for h in switches(tenant, asha["id"])] == [
        ("Switched profile to Ravi", ravi["id"])
    ]
    # The default profile is index 1: switching to it restores the contact.
    back = switch(tenant, asha["id"], index=1)
    assert back["errors"] is None
    assert decoded(back["contact"]["fields"]) == original
    assert back["contact"]["language"]["id"] == hindi


def test_new_profile_language_defaults_to_the_contacts(tenant: Tenant) -> None:
    hindi = tenant.language_id("hi")
    asha = tenant.create_contact("Asha", languageId=hindi)
    ravi = new_profile(tenant, asha["id"], "Ravi")
    assert ravi["language"]["id"] == hindi
    assert decoded(ravi["fields"]) == {}


def test_second_profile_does_not_make_a_second_default(tenant: Tenant) -> None:
    asha = tenant.create_contact("Asha")
    new_profile(tenant, asha["id"], "Ravi")
    new_profile(tenant, asha["id"], "Meena")
    state = contact(tenant, asha["id"])
    assert names(state) == ["Asha", "Ravi", "Meena"]
    assert [p["isDefault"] for p in state["profiles"]] == [True, False, False]
    assert state["activeProfile"]["name"] == "Meena"


def test_create_with_activate_false_keeps_the_current_profile(tenant: Tenant) -> None:
    original = {"city": field("Pune")}
    asha = tenant.create_contact("Asha", fields=as_json(original))
    result = create_profile(tenant, asha["id"], "Ravi", activate=False, fields={"age": field("9")})
    assert result["errors"] is None
    state = contact(tenant, asha["id"])
    # Nothing was active, so the default profile is.
    assert state["activeProfile"]["name"] == "Asha" and state["activeProfile"]["isDefault"]
    assert decoded(state["fields"]) == original
    assert_in_sync(state)

    meena = new_profile(tenant, asha["id"], "Meena")
    assert create_profile(tenant, asha["id"], "Kiran", activate=False)["errors"] is None
    state = contact(tenant, asha["id"])
    assert state["activeProfile"]["id"] == meena["id"]
    assert names(state) == ["Asha", "Ravi", "Meena", "Kiran"]


# --- switching -----------------------------------------------------------------------------


def _family(tenant: Tenant) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Asha (default, Hindi, city) with Ravi (English, age) and Meena (no fields)."""
    hindi, english = tenant.language_id("hi"), tenant.language_id("en")
    asha = tenant.create_contact("Asha", fields=as_json({"city": field("Pune")}), languageId=hindi)
    ravi = new_profile(tenant, asha["id"], "Ravi", languageId=english, fields={"age": field("9")})
    meena = new_profile(tenant, asha["id"], "Meena", languageId=hindi)
    default = contact(tenant, asha["id"])["profiles"][0]
    return asha, {"Asha": default, "Ravi": ravi, "Meena": meena}


def test_switch_by_id_index_and_name_copies_fields_and_language(tenant: Tenant) -> None:
    asha, people = _family(tenant)
    hindi, english = tenant.language_id("hi"), tenant.language_id("en")

    by_id = switch(tenant, asha["id"], profileId=people["Ravi"]["id"])
    assert by_id["errors"] is None
    state = by_id["contact"]
    assert state["activeProfile"]["id"] == people["Ravi"]["id"]
    # Replaced, not merged: the default's "city" is gone.
    assert decoded(state["fields"]) == {"age": field("9")}
    assert state["language"]["id"] == english
    assert_in_sync(state)

    by_index = switch(tenant, asha["id"], index=3)
    assert by_index["errors"] is None
    assert by_index["contact"]["activeProfile"]["name"] == "Meena"
    assert decoded(by_index["contact"]["fields"]) == {}
    assert by_index["contact"]["language"]["id"] == hindi

    by_name = switch(tenant, asha["id"], name="  asha ")
    assert by_name["errors"] is None
    assert by_name["contact"]["activeProfile"]["id"] == people["Asha"]["id"]
    assert decoded(by_name["contact"]["fields"]) == {"city": field("Pune")}

    # The stored contact agrees with what the mutation returned.
    assert contact(tenant, asha["id"], role="staff") == by_name["contact"]


def test_switch_writes_profile_switched_history_stamped_with_the_new_profile(
    tenant: Tenant,
) -> None:
    asha, people = _family(tenant)
    before = len(switches(tenant, asha["id"]))
    switch(tenant, asha["id"], index=2)
    rows = switches(tenant, asha["id"])
    assert len(rows) == before + 1
    last = rows[-1]
    assert last["eventType"] == "profile_switched"
    assert last["eventLabel"] == "Switched profile to Ravi"
    assert last["profile"] == {"id": people["Ravi"]["id"], "name": "Ravi"}
    assert decoded(last["eventMeta"])["method"]


def test_switch_index_order_is_default_first_then_oldest(tenant: Tenant) -> None:
    asha, people = _family(tenant)
    # Renaming does not reorder: the menu is by creation, not by name.
    update_profile(tenant, people["Meena"]["id"], name="Aarti")
    picked = [
        switch(tenant, asha["id"], index=i)["contact"]["activeProfile"]["name"] for i in (1, 2, 3)
    ]
    assert picked == ["Asha", "Ravi", "Aarti"]


@pytest.mark.parametrize("index", [0, 4, -1])
def test_switch_to_a_missing_index_is_a_payload_error_and_changes_nothing(
    tenant: Tenant, index: int
) -> None:
    asha, _people = _family(tenant)
    before = contact(tenant, asha["id"])
    history_before = history(tenant, {"contactId": asha["id"]})
    result = switch(tenant, asha["id"], index=index)
    assert result["contact"] is None
    assert [e["key"] for e in result["errors"]] == ["index"]
    assert str(index) in result["errors"][0]["message"]
    assert contact(tenant, asha["id"]) == before
    assert history(tenant, {"contactId": asha["id"]}) == history_before


def test_switch_refusals(tenant: Tenant, other_tenant: Tenant) -> None:
    asha, people = _family(tenant)
    kiran = tenant.create_contact("Kiran")
    kirans = new_profile(tenant, kiran["id"], "Kiran jr")
    theirs = other_tenant.create_contact("Theirs")
    their_profile = new_profile(other_tenant, theirs["id"], "Secret")
    assert profile_mutation(tenant, "deactivateProfile", people["Ravi"]["id"])["errors"] is None
    before = contact(tenant, asha["id"])
    history_before = history(tenant, {"contactId": asha["id"]})

    attempts: list[dict[str, Any]] = [
        {"name": "Nobody"},
        {"name": "Ravi"},  # deactivated
        {"profileId": people["Ravi"]["id"]},  # deactivated
        {"profileId": kirans["id"]},  # another contact's
        {"profileId": their_profile["id"]},  # another organization's
        {"profileId": "123456789"},
        {},  # nothing to switch to
        {"index": 1, "name": "Asha"},  # ambiguous request
    ]
    for by in attempts:
        result = switch(tenant, asha["id"], **by)
        assert result["contact"] is None, by
        assert result["errors"] and result["errors"][0]["message"], by
    assert contact(tenant, asha["id"]) == before
    assert history(tenant, {"contactId": asha["id"]}) == history_before

    # A contact of another organization cannot be switched at all.
    result = switch(tenant, theirs["id"], index=1)
    assert result == {
        "contact": None,
        "errors": [{"key": "Elixir.Glific.Contacts.Contact", "message": "Resource not found"}],
    }
    assert contact(other_tenant, theirs["id"])["activeProfile"]["id"] == their_profile["id"]


def test_switch_on_a_contact_without_profiles_makes_the_default(tenant: Tenant) -> None:
    asha = tenant.create_contact("Asha", fields=as_json({"city": field("Pune")}))
    result = switch(tenant, asha["id"], index=1)
    assert result["errors"] is None
    state = result["contact"]
    assert names(state) == ["Asha"]
    assert state["activeProfile"]["isDefault"] is True
    assert_in_sync(state)


def test_switch_is_staff_level(tenant: Tenant) -> None:
    asha, _ = _family(tenant)
    assert switch(tenant, asha["id"], role="staff", index=1)["errors"] is None
    body = tenant.gql(
        "mutation($c: ID!) { switchProfile(contactId: $c, index: 1) { errors { key } } }",
        {"c": asha["id"]},
        role="none",
    )
    assert [e["message"] for e in body["errors"]] == ["Unauthorized"]


# --- the invariant: contact.fields/language == active profile's ----------------------------


def test_update_contact_writes_fields_and_language_to_the_active_profile(tenant: Tenant) -> None:
    asha, people = _family(tenant)
    english = tenant.language_id("en")
    switch(tenant, asha["id"], name="Meena")
    result = update_contact(tenant, asha["id"], fields={"grade": field("4")}, languageId=english)
    assert result["errors"] is None
    assert_in_sync(result["contact"])
    assert_in_sync(contact(tenant, asha["id"]))
    meena = existing_profile(tenant, people["Meena"]["id"])
    assert decoded(meena["fields"]) == {"grade": field("4")}
    assert meena["language"]["id"] == english
    # Other profiles are untouched; switching away and back restores each person's data.
    assert decoded(existing_profile(tenant, people["Ravi"]["id"])["fields"]) == {"age": field("9")}
    assert decoded(switch(tenant, asha["id"], name="Ravi")["contact"]["fields"]) == {
        "age": field("9")
    }
    back = switch(tenant, asha["id"], name="Meena")["contact"]
    assert decoded(back["fields"]) == {"grade": field("4")}
    assert back["language"]["id"] == english


def test_update_contact_name_does_not_rename_the_profile(tenant: Tenant) -> None:
    asha, _people = _family(tenant)
    result = update_contact(tenant, asha["id"], name="Asha Devi")
    assert result["errors"] is None
    assert result["contact"]["name"] == "Asha Devi"
    assert result["contact"]["activeProfile"]["name"] == "Meena"


def test_update_profile_of_the_active_profile_writes_through_to_the_contact(tenant: Tenant) -> None:
    asha, people = _family(tenant)
    english = tenant.language_id("en")
    result = update_profile(
        tenant, people["Meena"]["id"], fields={"grade": field("5")}, languageId=english
    )
    assert result["errors"] is None
    state = contact(tenant, asha["id"])
    assert decoded(state["fields"]) == {"grade": field("5")}
    assert state["language"]["id"] == english
    assert_in_sync(state)


def test_update_profile_of_an_inactive_profile_leaves_the_contact_alone(tenant: Tenant) -> None:
    asha, people = _family(tenant)
    before = contact(tenant, asha["id"])
    result = update_profile(
        tenant,
        people["Ravi"]["id"],
        fields={"age": field("10")},
        languageId=tenant.language_id("hi"),
    )
    assert result["errors"] is None
    after = contact(tenant, asha["id"])
    assert (after["fields"], after["language"]) == (before["fields"], before["language"])
    assert decoded(switch(tenant, asha["id"], name="Ravi")["contact"]["fields"]) == {
        "age": field("10")
    }


def test_update_profile_with_a_bad_language_or_fields_changes_nothing(tenant: Tenant) -> None:
    asha, people = _family(tenant)
    before = contact(tenant, asha["id"])
    bad_language = update_profile(tenant, people["Meena"]["id"], name="X", languageId="99999999")
    assert bad_language == {
        "profile": None,
        "errors": [{"key": "language_id", "message": "Language_id: does not exist"}],
    }
    bad_fields = update_profile(tenant, people["Meena"]["id"], fields={"grade": "5"})
    assert bad_fields["profile"] is None
    assert bad_fields["errors"] == [{"key": "fields", "message": "Fields: value should be a map"}]
    assert contact(tenant, asha["id"]) == before


def test_update_contact_active_profile_id_is_a_real_switch(tenant: Tenant) -> None:
    asha, people = _family(tenant)
    result = update_contact(tenant, asha["id"], activeProfileId=people["Ravi"]["id"])
    assert result["errors"] is None
    state = result["contact"]
    assert state["activeProfile"]["id"] == people["Ravi"]["id"]
    assert decoded(state["fields"]) == {"age": field("9")}
    assert_in_sync(state)
    assert switches(tenant, asha["id"])[-1]["eventLabel"] == "Switched profile to Ravi"


def test_update_contact_switch_and_fields_together_go_to_the_new_profile(tenant: Tenant) -> None:
    asha, people = _family(tenant)
    result = update_contact(
        tenant, asha["id"], active_profile_id=people["Ravi"]["id"], fields={"age": field("11")}
    )
    assert result["errors"] is None
    assert_in_sync(result["contact"])
    assert decoded(existing_profile(tenant, people["Ravi"]["id"])["fields"]) == {"age": field("11")}
    assert decoded(existing_profile(tenant, people["Meena"]["id"])["fields"]) == {}


def test_update_contact_with_another_contacts_profile_is_refused(tenant: Tenant) -> None:
    asha, _people = _family(tenant)
    kiran = tenant.create_contact("Kiran")
    kirans = new_profile(tenant, kiran["id"], "Kiran jr")
    before = contact(tenant, asha["id"])
    result = update_contact(tenant, asha["id"], activeProfileId=kirans["id"])
    assert result["contact"] is None
    assert result["errors"] == [
        {
            "key": "active_profile_id",
            "message": "Active_profile_id: does not belong to this contact",
        }
    ]
    assert contact(tenant, asha["id"]) == before


def test_update_contact_switch_then_failure_rolls_the_switch_back(tenant: Tenant) -> None:
    asha, people = _family(tenant)
    before = contact(tenant, asha["id"])
    history_before = history(tenant, {"contactId": asha["id"]})
    result = update_contact(
        tenant, asha["id"], activeProfileId=people["Ravi"]["id"], languageId="99999999"
    )
    assert result["contact"] is None
    assert result["errors"] == [{"key": "language_id", "message": "Language_id: does not exist"}]
    assert contact(tenant, asha["id"]) == before
    assert history(tenant, {"contactId": asha["id"]}) == history_before


# --- deactivate and reactivate -------------------------------------------------------------


def test_the_default_profile_cannot_be_deactivated(tenant: Tenant) -> None:
    _asha, people = _family(tenant)
    result = profile_mutation(tenant, "deactivateProfile", people["Asha"]["id"])
    assert result["profile"] is None
    assert (
        len(result["errors"]) == 1 and "default profile" in result["errors"][0]["message"].lower()
    )
    assert existing_profile(tenant, people["Asha"]["id"])["isActive"] is True


def test_deactivating_the_active_profile_falls_back_to_the_default(tenant: Tenant) -> None:
    asha, people = _family(tenant)
    assert contact(tenant, asha["id"])["activeProfile"]["id"] == people["Meena"]["id"]
    result = profile_mutation(tenant, "deactivateProfile", people["Meena"]["id"])
    assert result["errors"] is None
    assert (result["profile"]["id"], result["profile"]["isActive"]) == (
        people["Meena"]["id"],
        False,
    )
    state = contact(tenant, asha["id"])
    assert state["activeProfile"]["id"] == people["Asha"]["id"]
    assert decoded(state["fields"]) == {"city": field("Pune")}
    assert_in_sync(state)
    assert switches(tenant, asha["id"])[-1]["eventLabel"] == "Switched profile to Asha"
    # Still listed, as inactive.
    assert [(p["name"], p["isActive"]) for p in state["profiles"]] == [
        ("Asha", True),
        ("Ravi", True),
        ("Meena", False),
    ]


def test_deactivating_another_profile_keeps_the_active_one_and_shifts_indices(
    tenant: Tenant,
) -> None:
    asha, people = _family(tenant)
    assert profile_mutation(tenant, "deactivateProfile", people["Ravi"]["id"])["errors"] is None
    state = contact(tenant, asha["id"])
    assert state["activeProfile"]["id"] == people["Meena"]["id"]
    # Ravi left the menu: Meena is now 2, and 3 does not exist.
    assert switch(tenant, asha["id"], index=2)["contact"]["activeProfile"]["name"] == "Meena"
    assert switch(tenant, asha["id"], index=3)["errors"][0]["key"] == "index"


def test_reactivate_puts_a_profile_back_in_its_place(tenant: Tenant) -> None:
    asha, people = _family(tenant)
    profile_mutation(tenant, "deactivateProfile", people["Ravi"]["id"])
    result = profile_mutation(tenant, "reactivateProfile", people["Ravi"]["id"])
    assert result["errors"] is None and result["profile"]["isActive"] is True
    # Reactivating does not switch.
    assert contact(tenant, asha["id"])["activeProfile"]["id"] == people["Meena"]["id"]
    assert switch(tenant, asha["id"], index=2)["contact"]["activeProfile"]["name"] == "Ravi"
    assert switch(tenant, asha["id"], profileId=people["Ravi"]["id"])["errors"] is None


def test_deactivate_and_reactivate_misses_and_roles(tenant: Tenant) -> None:
    _asha, people = _family(tenant)
    for name in ("deactivateProfile", "reactivateProfile"):
        assert profile_mutation(tenant, name, "123456789") == {"profile": None, "errors": NOT_FOUND}
        body = tenant.gql(
            f"mutation($id: ID!) {{ {name}(id: $id) {{ errors {{ key }} }} }}",
            {"id": people["Ravi"]["id"]},
            "staff",
        )
        assert [e["message"] for e in body["errors"]] == ["Unauthorized"]
    assert existing_profile(tenant, people["Ravi"]["id"])["isActive"] is True


# --- delete --------------------------------------------------------------------------------


def test_the_default_profile_cannot_be_deleted(tenant: Tenant) -> None:
    asha, people = _family(tenant)
    before = contact(tenant, asha["id"])
    result = profile_mutation(tenant, "deleteProfile", people["Asha"]["id"])
    assert result["profile"] is None
    assert (
        len(result["errors"]) == 1 and "default profile" in result["errors"][0]["message"].lower()
    )
    # Glific would have deleted the whole contact; we keep everything.
    assert contact(tenant, asha["id"]) == before


def test_deleting_the_active_profile_falls_back_to_default_and_keeps_its_history(
    tenant: Tenant,
) -> None:
    asha, people = _family(tenant)
    meena_rows = history(tenant, {"profileId": people["Meena"]["id"]})
    assert meena_rows, "switching to Meena wrote history stamped with her"
    assert profile_mutation(tenant, "deleteProfile", people["Meena"]["id"]) == {
        "profile": None,
        "errors": None,
    }

    state = contact(tenant, asha["id"])
    assert state["activeProfile"]["id"] == people["Asha"]["id"]
    assert decoded(state["fields"]) == {"city": field("Pune")}
    assert_in_sync(state)
    assert names(state) == ["Asha", "Ravi"]
    # Her history rows are still there, now with no profile.
    rows = {h["id"]: h for h in history(tenant, {"contactId": asha["id"]})}
    for row in meena_rows:
        assert rows[row["id"]]["profile"] is None
        assert rows[row["id"]]["eventLabel"] == row["eventLabel"]
    assert history(tenant, {"profileId": people["Meena"]["id"]}) == []


def test_deleting_an_inactive_profile_keeps_the_active_one(tenant: Tenant) -> None:
    asha, people = _family(tenant)
    before = contact(tenant, asha["id"])
    assert profile_mutation(tenant, "deleteProfile", people["Ravi"]["id"])["errors"] is None
    after = contact(tenant, asha["id"])
    assert after["activeProfile"] == before["activeProfile"]
    assert after["fields"] == before["fields"]
    assert names(after) == ["Asha", "Meena"]
    # Indices close up.
    assert switch(tenant, asha["id"], index=2)["contact"]["activeProfile"]["name"] == "Meena"


def test_deleting_a_profile_frees_its_name(tenant: Tenant) -> None:
    asha, people = _family(tenant)
    profile_mutation(tenant, "deleteProfile", people["Ravi"]["id"])
    again = new_profile(tenant, asha["id"], "Ravi")
    assert again["id"] != people["Ravi"]["id"]


# --- atomicity -----------------------------------------------------------------------------


def test_create_profile_with_a_bad_language_leaves_no_default_behind(tenant: Tenant) -> None:
    asha = tenant.create_contact("Asha")
    result = create_profile(tenant, asha["id"], "Ravi", languageId="99999999")
    assert result == {
        "profile": None,
        "errors": [{"key": "language_id", "message": "Language_id: does not exist"}],
    }
    state = contact(tenant, asha["id"])
    assert (state["activeProfile"], state["profiles"]) == (None, [])
    assert history(tenant, {"contactId": asha["id"]}) == []


def test_a_duplicate_first_profile_leaves_no_default_behind(tenant: Tenant) -> None:
    # The default profile would be "Asha" with no type: creating "Asha" clashes with it.
    asha = tenant.create_contact("Asha")
    assert create_profile(tenant, asha["id"], "Asha") == {"profile": None, "errors": DUPLICATE}
    state = contact(tenant, asha["id"])
    assert (state["activeProfile"], state["profiles"]) == (None, [])


def test_a_failed_switch_on_a_plain_contact_leaves_it_plain(tenant: Tenant) -> None:
    asha = tenant.create_contact("Asha")
    result = switch(tenant, asha["id"], index=2)
    assert result["contact"] is None and result["errors"][0]["key"] == "index"
    state = contact(tenant, asha["id"])
    assert (state["activeProfile"], state["profiles"]) == (None, [])
    assert history(tenant, {"contactId": asha["id"]}) == []


@pytest.mark.parametrize(
    "fields",
    ['{"age": "9"}', "[1, 2]", '"text"'],
    ids=["value-not-a-map", "a-list", "a-string"],
)
def test_create_profile_with_bad_fields_is_refused(tenant: Tenant, fields: str) -> None:
    asha = tenant.create_contact("Asha")
    result = create_profile(tenant, asha["id"], "Ravi", fields=fields)
    assert result["profile"] is None
    assert [e["key"] for e in result["errors"]] == ["fields"]
    assert contact(tenant, asha["id"])["profiles"] == []


def test_malformed_json_fields_is_a_clear_top_level_error(tenant: Tenant) -> None:
    asha = tenant.create_contact("Asha")
    body = tenant.gql(
        "mutation($input: ProfileInput!) { createProfile(input: $input) { errors { key } } }",
        {"input": {"contactId": asha["id"], "name": "Ravi", "fields": "{not json"}},
    )
    assert body.get("data") is None
    assert "not valid JSON" in body["errors"][0]["message"]
    assert contact(tenant, asha["id"])["profiles"] == []


# --- the rules as plain async functions ----------------------------------------------------


def test_resolvers_are_plain_functions_other_callers_can_use(tenant: Tenant) -> None:
    """The flow engine and the webhook call the same rules with a session and an organization."""
    asha = tenant.create_contact("Asha", fields=as_json({"city": field("Pune")}))
    org_id, cid = tenant.org_id, int(asha["id"])

    async def create(session: AsyncSession) -> int:
        made = await profiles.create_profile(
            session,
            org_id,
            {"contact_id": cid, "name": "Ravi", "fields": {"age": field("9")}},
            method="flow",
        )
        return saved_id(made)

    ravi_id = in_org_transaction(tenant, create)
    state = contact(tenant, asha["id"])
    assert state["activeProfile"]["id"] == str(ravi_id)
    assert names(state) == ["Asha", "Ravi"]
    assert_in_sync(state)

    async def choose_first(session: AsyncSession) -> None:
        switched = await profiles.switch_profile(session, org_id, cid, index="1", method="flow")
        assert switched.active_profile_id != ravi_id

    in_org_transaction(tenant, choose_first)
    state = contact(tenant, asha["id"])
    assert state["activeProfile"]["name"] == "Asha"
    assert decoded(state["fields"]) == {"city": field("Pune")}

    async def set_field(session: AsyncSession) -> None:
        await contacts.update_contact(session, org_id, cid, {"fields": {"city": field("Delhi")}})

    in_org_transaction(tenant, set_field)
    state = contact(tenant, asha["id"])
    assert decoded(state["fields"]) == {"city": field("Delhi")}
    assert_in_sync(state)

    last = switches(tenant, asha["id"])[-1]
    assert last["eventLabel"] == "Switched profile to Asha"
    assert decoded(last["eventMeta"]) == {"method": "flow"}


def test_a_direct_call_that_fails_raises_input_errors_and_writes_nothing(tenant: Tenant) -> None:
    asha = tenant.create_contact("Asha")
    org_id, cid = tenant.org_id, int(asha["id"])

    async def bad_switch(session: AsyncSession) -> None:
        await profiles.switch_profile(session, org_id, cid, index="two")

    with pytest.raises(InputErrors) as caught:
        in_org_transaction(tenant, bad_switch)
    assert caught.value.errors[0][0] == "index"
    state = contact(tenant, asha["id"])
    assert (state["activeProfile"], state["profiles"]) == (None, [])


# --- profiles made before default profiles existed (Glific data) ---------------------------


def _legacy_contact(
    tenant: Tenant, *, active: str | None = None
) -> tuple[dict[str, Any], dict[str, int]]:
    """A contact as Glific leaves it: profiles "user" (oldest) and "Profile 2", none of them
    default, `active` (a name) or nothing active, and the contact's fields untouched."""
    asha = tenant.create_contact("Asha", fields=as_json({"city": field("Pune")}))
    cid, language = int(asha["id"]), int(tenant.language_id("en"))

    async def seed(session: AsyncSession) -> dict[str, int]:
        made = {}
        for name, fields in (
            ("user", {"role": field("user")}),
            ("Profile 2", {"role": field("two")}),
        ):
            row = Profile(
                organization_id=tenant.org_id,
                contact_id=cid,
                language_id=language,
                name=name,
                type="profile",
                fields=fields,
            )
            session.add(row)
            await session.flush()
            made[name] = saved_id(row)
        if active is not None:
            contact = await session.get(Contact, cid)
            assert contact is not None
            contact.active_profile_id = made[active]
            contact.fields = {"role": field("user" if active == "user" else "two")}
        return made

    return asha, tenant.server.in_transaction(seed)


def test_legacy_profiles_the_oldest_becomes_the_default_on_first_switch(tenant: Tenant) -> None:
    asha, ids = _legacy_contact(tenant)
    result = switch(tenant, asha["id"], index=1)
    assert result["errors"] is None
    state = result["contact"]
    assert [(p["name"], p["isDefault"]) for p in state["profiles"]] == [
        ("user", True),
        ("Profile 2", False),
    ]
    assert state["activeProfile"]["id"] == str(ids["user"])
    assert decoded(state["fields"]) == {"role": field("user")}
    assert_in_sync(state)


def test_legacy_profiles_the_oldest_cannot_be_deactivated_as_it_becomes_the_default(
    tenant: Tenant,
) -> None:
    asha, ids = _legacy_contact(tenant)
    result = profile_mutation(tenant, "deactivateProfile", ids["user"])
    assert result["profile"] is None and "default profile" in result["errors"][0]["message"].lower()
    assert existing_profile(tenant, ids["user"])["isActive"] is True
    # Deactivating the other one works, and leaves "user" as the default.
    assert profile_mutation(tenant, "deactivateProfile", ids["Profile 2"])["errors"] is None
    state = contact(tenant, asha["id"])
    assert [(p["name"], p["isDefault"], p["isActive"]) for p in state["profiles"]] == [
        ("user", True, True),
        ("Profile 2", False, False),
    ]


def test_legacy_profiles_deleting_the_active_oldest_falls_back_to_another(tenant: Tenant) -> None:
    asha, ids = _legacy_contact(tenant, active="user")
    assert profile_mutation(tenant, "deleteProfile", ids["user"]) == {
        "profile": None,
        "errors": None,
    }
    state = contact(tenant, asha["id"])
    assert [(p["name"], p["isDefault"]) for p in state["profiles"]] == [("Profile 2", True)]
    assert state["activeProfile"]["id"] == str(ids["Profile 2"])
    assert decoded(state["fields"]) == {"role": field("two")}
    assert_in_sync(state)


def test_legacy_profiles_create_keeps_the_oldest_as_default(tenant: Tenant) -> None:
    asha, ids = _legacy_contact(tenant, active="Profile 2")
    assert create_profile(tenant, asha["id"], "Kid", activate=False)["errors"] is None
    state = contact(tenant, asha["id"])
    assert [(p["name"], p["isDefault"]) for p in state["profiles"]] == [
        ("user", True),
        ("Profile 2", False),
        ("Kid", False),
    ]
    assert state["activeProfile"]["id"] == str(ids["Profile 2"])
    # The oldest keeps its own fields: it is not overwritten by the contact's.
    assert decoded(existing_profile(tenant, ids["user"])["fields"]) == {"role": field("user")}


# --- edges ---------------------------------------------------------------------------------


def test_update_contact_to_a_deactivated_profile_is_refused(tenant: Tenant) -> None:
    asha, people = _family(tenant)
    profile_mutation(tenant, "deactivateProfile", people["Ravi"]["id"])
    before = contact(tenant, asha["id"])
    result = update_contact(tenant, asha["id"], activeProfileId=people["Ravi"]["id"])
    assert result["contact"] is None
    assert [e["key"] for e in result["errors"]] == ["active_profile_id"]
    assert "deactivated" in result["errors"][0]["message"]
    assert contact(tenant, asha["id"]) == before


def test_update_profile_cannot_move_a_profile_to_another_contact(tenant: Tenant) -> None:
    asha, people = _family(tenant)
    kiran = tenant.create_contact("Kiran")
    result = update_profile(tenant, people["Ravi"]["id"], contactId=kiran["id"], name="Moved")
    assert result["profile"] is None and [e["key"] for e in result["errors"]] == ["contact_id"]
    assert existing_profile(tenant, people["Ravi"]["id"])["contact"]["id"] == asha["id"]
    assert existing_profile(tenant, people["Ravi"]["id"])["name"] == "Ravi"


def test_a_contact_without_a_name_gets_a_nameless_default_profile(tenant: Tenant) -> None:
    nameless = tenant.data(
        "mutation($input: ContactInput!) { createContact(input: $input) { contact { id name } } }",
        {"input": {"phone": unique_phone()}},
    )["createContact"]["contact"]
    assert nameless["name"] is None
    new_profile(tenant, nameless["id"], "Ravi")
    switch(tenant, nameless["id"], index=1)
    state = contact(tenant, nameless["id"])
    assert state["activeProfile"]["name"] is None and state["activeProfile"]["isDefault"]
    # Glific renders a missing name as an empty string.
    assert switches(tenant, nameless["id"])[-1]["eventLabel"] == "Switched profile to "


def test_concurrent_creates_on_a_fresh_contact_make_one_default(tenant: Tenant) -> None:
    asha = tenant.create_contact("Asha")
    kids = [f"Kid {i}" for i in range(6)]
    with ThreadPoolExecutor(max_workers=len(kids)) as pool:
        results = list(pool.map(lambda n: create_profile(tenant, asha["id"], n), [*kids, "Kid 0"]))
    assert sum(r["errors"] is None for r in results) == len(kids)
    assert [r["errors"] for r in results if r["errors"]] == [DUPLICATE]
    state = contact(tenant, asha["id"])
    assert sorted(names(state)) == sorted(["Asha", *kids])
    assert [p["isDefault"] for p in state["profiles"]].count(True) == 1
    assert_in_sync(state)


def test_lists_show_the_same_profiles_as_the_single_contact(tenant: Tenant) -> None:
    asha, _people = _family(tenant)
    switch(tenant, asha["id"], name="Ravi")
    kiran = tenant.create_contact("Kiran")
    rows = tenant.data(
        "query($f: ContactFilter) { contacts(filter: $f, opts: {order: ASC}) {"
        " name fields activeProfile { name fields language { id } } language { id }"
        " profiles { name isDefault isActive } } }",
        {"f": {"term": "a"}},
    )["contacts"]
    by_name = {r["name"]: r for r in rows}
    assert by_name["Asha"]["activeProfile"]["name"] == "Ravi"
    assert_in_sync(by_name["Asha"])
    assert [p["name"] for p in by_name["Asha"]["profiles"]] == ["Asha", "Ravi", "Meena"]
    assert (by_name["Kiran"]["activeProfile"], by_name["Kiran"]["profiles"]) == (None, [])
    # And from the profile side.
    listed = tenant.data(
        "query($f: ProfileFilter) {"
        " profiles(filter: $f) { name contact { id activeProfile { name } } } }",
        {"f": {"contactId": asha["id"]}},
    )["profiles"]
    assert {p["contact"]["activeProfile"]["name"] for p in listed} == {"Ravi"}
    assert kiran["id"] not in {p["contact"]["id"] for p in listed}
