"""Bad input gets a clear error and changes nothing: unknown and foreign ids, malformed Json,
wrong types, bad phones, missing input, duplicates, impossible switches, oversized documents
and bodies. Never an HTTP 500, never a stack trace; a crash shows only Glific's generic
message."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.utils.builders import contact_with_profiles, make_contact, snapshot
from tests.utils.server import LiveServer, start_server
from tests.utils.tenants import Tenant, create_tenant, unique_phone

GENERIC = (
    "Something unexpected has happened, please reach out to Glific team over discord "
    "to get this resolved"
)
LEAKS = ("Traceback", "sqlalchemy", 'File "', "psycopg", "aiosqlite", "SELECT ", "INSERT ")
CONTACT_MISS = [{"key": "Contact", "message": "Contact not found or permission denied."}]
PROFILE_MISS = [{"key": "Profile", "message": "Profile not found or permission denied."}]
WRITE_CONTACT_MISS = [{"key": "Elixir.Glific.Contacts.Contact", "message": "Resource not found"}]
WRITE_PROFILE_MISS = [{"key": "Elixir.Glific.Profiles.Profile", "message": "Resource not found"}]
CREATE_CONTACT = (
    "mutation($i: ContactInput!) { createContact(input: $i) {"
    " contact { id } errors { key message } } }"
)
CREATE_PROFILE = (
    "mutation($i: ProfileInput!) { createProfile(input: $i) {"
    " profile { id } errors { key message } } }"
)


def by_id(kind: str, field: str, result: str) -> str:
    """`<kind>($id: ID!) { <field>(id: $id) { <result> { id } errors { key message } } }`"""
    return (
        f"{kind}($id: ID!) {{ {field}(id: $id) {{ {result} {{ id }} errors {{ key message }} }} }}"
    )


def clean(response: httpx2.Response) -> None:
    """No server error and nothing of the implementation in the body."""
    assert response.status_code != 500, response.text
    for leak in LEAKS:
        assert leak not in response.text, response.text


def call(tenant: Tenant, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    response = tenant.post({"query": query, "variables": variables or {}})
    clean(response)
    assert response.status_code == 200, response.text
    return response.json()


def top_error(body: dict[str, Any]) -> str:
    """The single top-level error message of a refused document."""
    assert body.get("errors"), body
    assert len(body["errors"]) == 1, body
    return body["errors"][0]["message"]


def payload_errors(body: dict[str, Any], field: str) -> list[dict[str, str]]:
    assert "errors" not in body, body
    result = body["data"][field]
    assert result[next(k for k in result if k != "errors")] is None, result
    return result["errors"]


@pytest.fixture
def family(tenant: Tenant) -> dict[str, Any]:
    return contact_with_profiles(tenant)


# --- unknown, malformed and foreign ids ----------------------------------------------------

BAD_IDS = ["999999999", "0", "-1", "abc", "", "1.5", "99999999999999999999999", 987654321]


@pytest.mark.parametrize("bad", BAD_IDS, ids=repr)
def test_unknown_or_malformed_ids(tenant: Tenant, bad: Any) -> None:
    v = {"id": bad}
    body = call(
        tenant, "query($id: ID!) { contact(id: $id) { contact { id } errors { key message } } }", v
    )
    assert payload_errors(body, "contact") == CONTACT_MISS
    body = call(
        tenant, "query($id: ID!) { profile(id: $id) { profile { id } errors { key message } } }", v
    )
    assert payload_errors(body, "profile") == PROFILE_MISS
    body = call(
        tenant,
        'mutation($id: ID!) { updateContact(id: $id, input: {name: "X"}) {'
        " contact { id } errors { key message } } }",
        v,
    )
    assert payload_errors(body, "updateContact") == WRITE_CONTACT_MISS
    body = call(tenant, by_id("mutation", "deleteContact", "contact"), v)
    assert payload_errors(body, "deleteContact") == WRITE_CONTACT_MISS
    for mutation in ("updateProfile", "deleteProfile", "deactivateProfile", "reactivateProfile"):
        body = call(tenant, by_id("mutation", mutation, "profile"), v)
        assert payload_errors(body, mutation) == WRITE_PROFILE_MISS, mutation
    body = call(
        tenant,
        "mutation($id: ID!) { switchProfile(contactId: $id, index: 1) {"
        " contact { id } errors { key message } } }",
        v,
    )
    # A malformed id is reported as invalid, a well-formed unknown one as not found.
    assert payload_errors(body, "switchProfile") in (
        WRITE_CONTACT_MISS,
        [{"key": "contact_id", "message": "Contact_id: is invalid"}],
    )
    body = call(tenant, by_id("query", "contactsField", "contactsField"), v)
    errors = payload_errors(body, "contactsField")
    assert [e["message"] for e in errors] == ["Resource not found"]
    body = call(
        tenant,
        "query($id: ID!) { language(id: $id) { language { id } errors { key message } } }",
        v,
    )
    errors = payload_errors(body, "language")
    assert [e["message"] for e in errors] == ["Resource not found"]
    # Filters with ids that cannot exist simply match nothing.
    body = call(
        tenant,
        "query($id: ID) { profiles(filter: {contactId: $id}) { id }"
        " contactHistory(filter: {contactId: $id, profileId: $id}) { id } }",
        v,
    )
    assert body == {"data": {"profiles": [], "contactHistory": []}}


def test_ids_of_another_organization_are_unknown(tenant: Tenant, other_tenant: Tenant) -> None:
    theirs = contact_with_profiles(other_tenant)
    body = call(
        tenant,
        'mutation($id: ID!) { updateProfile(id: $id, input: {name: "Mine now"}) {'
        " profile { id } errors { key message } } }",
        {"id": theirs["kid_id"]},
    )
    assert payload_errors(body, "updateProfile") == WRITE_PROFILE_MISS
    body = call(tenant, CREATE_PROFILE, {"i": {"contactId": theirs["id"], "name": "Kid2"}})
    assert payload_errors(body, "createProfile") == [
        {"key": "contact_id", "message": "Contact_id: does not exist"}
    ]


def test_reference_to_a_missing_language(tenant: Tenant, family: dict[str, Any]) -> None:
    before = snapshot(tenant)
    body = call(tenant, CREATE_CONTACT, {"i": {"phone": unique_phone(), "languageId": "99999999"}})
    assert payload_errors(body, "createContact") == [
        {"key": "language_id", "message": "Language_id: does not exist"}
    ]
    body = call(
        tenant,
        "mutation($id: ID!) { updateProfile(id: $id, input: {languageId: 99999999}) {"
        " profile { id } errors { key message } } }",
        {"id": family["kid_id"]},
    )
    assert payload_errors(body, "updateProfile") == [
        {"key": "language_id", "message": "Language_id: does not exist"}
    ]
    assert snapshot(tenant) == before


# --- Json -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        ("{not json", "not valid JSON"),
        ('{"a": ', "not valid JSON"),
        ("", "not valid JSON"),
    ],
    ids=["broken", "truncated", "empty"],
)
def test_malformed_json_string(tenant: Tenant, value: str, expected: str) -> None:
    before = snapshot(tenant)
    # As a variable...
    body = call(tenant, CREATE_CONTACT, {"i": {"phone": unique_phone(), "fields": value}})
    message = top_error(body)
    assert "Json" in message and expected in message and "fields" in message, message
    assert body["data"] is None
    # ...and inline.
    inline = json.dumps(value)
    body = call(
        tenant,
        f'mutation {{ createContact(input: {{phone: "{unique_phone()}", fields: {inline}}}) {{'
        " contact { id } errors { key message } } }",
    )
    assert expected in top_error(body)
    assert snapshot(tenant) == before


def test_json_given_as_an_object_is_refused(tenant: Tenant) -> None:
    before = snapshot(tenant)
    body = call(tenant, CREATE_CONTACT, {"i": {"phone": unique_phone(), "fields": {"a": 1}}})
    assert "JSON-encoded string" in top_error(body)
    body = call(
        tenant,
        f'mutation {{ createContact(input: {{phone: "{unique_phone()}", fields: {{a: 1}}}}) {{'
        " contact { id } } }",
    )
    assert "JSON-encoded string" in top_error(body)
    assert snapshot(tenant) == before


@pytest.mark.parametrize(
    "fields, message",
    [
        ("[1, 2]", "Fields: should be a JSON object"),
        ('"text"', "Fields: should be a JSON object"),
        ('{"age": 9}', "Fields: value should be a map"),
    ],
)
def test_json_of_the_wrong_shape(tenant: Tenant, fields: str, message: str) -> None:
    before = snapshot(tenant)
    body = call(tenant, CREATE_CONTACT, {"i": {"phone": unique_phone(), "fields": fields}})
    assert payload_errors(body, "createContact") == [{"key": "fields", "message": message}]
    assert snapshot(tenant) == before


@pytest.mark.parametrize(
    "fields",
    [
        '{"a": {"value": NaN}}',
        '{"a": {"value": Infinity}}',
        '{"a": {"value": 1e400}}',
        '{"a": {"value": "x\\u0000y"}}',
        '{"a": {"value": "\\ud800"}}',
    ],
    ids=["NaN", "Infinity", "overflow", "escaped-NUL", "lone-surrogate"],
)
def test_json_that_is_not_portable_json_is_refused(tenant: Tenant, fields: str) -> None:
    """Python's json module accepts these, but they are not JSON (RFC 8259) or cannot be
    stored by PostgreSQL; accepting them means a crash there, or unparseable output."""
    before = snapshot(tenant)
    body = call(tenant, CREATE_CONTACT, {"i": {"phone": unique_phone(), "fields": fields}})
    assert "errors" in body, body
    messages = " ".join(e["message"] for e in body["errors"])
    assert GENERIC not in messages, body
    assert "Json" in messages or "JSON" in messages, body
    assert snapshot(tenant) == before


def test_strings_that_cannot_be_stored_as_text_are_refused(tenant: Tenant) -> None:
    """NUL cannot be stored by PostgreSQL and a lone surrogate cannot be encoded at all."""
    before = snapshot(tenant)
    body = call(tenant, CREATE_CONTACT, {"i": {"phone": unique_phone(), "name": "A\u0000B"}})
    assert "NUL" in top_error(body)
    body = call(tenant, '{ contacts(filter: {term: "a\\u0000b"}) { id } }')
    assert "NUL" in top_error(body)
    # Sent as raw JSON: the escape is valid JSON, but the string it makes is not text.
    raw = json.dumps({"query": CREATE_CONTACT, "variables": {"i": {"phone": unique_phone()}}})
    raw = raw.replace('"phone"', '"name": "a\\ud800b", "phone"')
    response = tenant.client.post(
        "/api",
        content=raw.encode(),
        headers={"authorization": tenant.token(), "content-type": "application/json"},
    )
    clean(response)
    assert "surrogate" in top_error(response.json())
    assert snapshot(tenant) == before


# --- wrong types ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query, variables, words",
    [
        ('{ contacts(opts: {limit: "ten"}) { id } }', {}, ["Int", "ten"]),
        ("query($l: Int) { contacts(opts: {limit: $l}) { id } }", {"l": "ten"}, ["Int", "ten"]),
        ("{ contact(id: 1.5) { contact { id } } }", {}, ["ID", "1.5"]),
        ("{ contact(id: true) { contact { id } } }", {}, ["ID", "true"]),
        ("query($id: ID!) { contact(id: $id) { contact { id } } }", {"id": {"a": 1}}, ["ID"]),
        ("query($id: ID!) { contact(id: $id) { contact { id } } }", {"id": None}, ["$id"]),
        (
            'mutation { switchProfile(contactId: 1, index: "2") { contact { id } } }',
            {},
            ["Int", "2"],
        ),
        ('{ profiles(filter: {isActive: "yes"}) { id } }', {}, ["Boolean", "yes"]),
        ("{ contacts(filter: {status: valid}) { id } }", {}, ["ContactStatusEnum", "valid"]),
        ('{ contacts(filter: {status: "VALID"}) { id } }', {}, ["ContactStatusEnum"]),
        ("{ contacts(opts: {limit: 2147483648}) { id } }", {}, ["Int", "2147483648"]),
        ('{ contacts(filter: {dateRange: {from: "yesterday"}}) { id } }', {}, ["DateTime"]),
        (
            '{ contacts(filter: {dateRange: {from: "2024-01-01T00:00:00"}}) { id } }',
            {},
            ["offset"],
        ),
        ("{ contacts { nope } }", {}, ["nope", "Contact"]),
        ("{ contacts(bogus: 1) { id } }", {}, ["bogus"]),
        (
            "query($i: ContactInput!) { createContact(input: $i) { contact { id } } }",
            {"i": {"phone": "919800000000"}},
            ["createContact", "RootQueryType"],
        ),
        (
            "mutation($i: ContactInput!) { createContact(input: $i) { contact { id } } }",
            {"i": {"phone": "919800000000", "bogus": 1}},
            ["bogus"],
        ),
    ],
)
def test_wrong_types_name_the_problem(
    tenant: Tenant, query: str, variables: dict[str, Any], words: list[str]
) -> None:
    before = snapshot(tenant)
    body = call(tenant, query, variables)
    assert body["data"] is None, body
    message = top_error(body)
    for word in words:
        assert word in message, message
    assert snapshot(tenant) == before


@pytest.mark.parametrize(
    "opts, words",
    [
        ({"limit": -5}, ["limit"]),
        ({"offset": -1}, ["offset"]),
        ({"orderWith": "nonexistent"}, ["orderWith", "nonexistent"]),
        ({"orderWith": "password_hash"}, ["orderWith"]),
    ],
)
def test_impossible_list_options(tenant: Tenant, opts: dict[str, Any], words: list[str]) -> None:
    body = call(tenant, "query($o: Opts) { contacts(opts: $o) { id } }", {"o": opts})
    assert body["data"] == {"contacts": None}
    message = top_error(body)
    assert message != GENERIC
    for word in words:
        assert word in message


# --- phones, required input, duplicates -------------------------------------------------------


@pytest.mark.parametrize("phone", ["hello", "123", "+1 555", "91 98", "9" * 40, "   "])
def test_a_phone_that_is_not_a_phone(tenant: Tenant, phone: str) -> None:
    before = snapshot(tenant)
    body = call(tenant, CREATE_CONTACT, {"i": {"name": "X", "phone": phone}})
    errors = payload_errors(body, "createContact")
    assert [e["key"] for e in errors] == ["phone"]
    assert errors[0]["message"] in ("Phone: is not a valid phone number", "Phone: can't be blank")
    body = call(
        tenant,
        "mutation($p: String!) { optinContact(phone: $p) {"
        " contact { id } errors { key message } } }",
        {"p": phone},
    )
    assert [e["key"] for e in payload_errors(body, "optinContact")] == ["phone"]
    assert snapshot(tenant) == before


def test_missing_required_input(tenant: Tenant) -> None:
    before = snapshot(tenant)
    body = call(
        tenant, "mutation { createContact(input: {}) { contact { id } errors { key message } } }"
    )
    assert payload_errors(body, "createContact") == [
        {"key": "phone", "message": "Phone: can't be blank"}
    ]
    body = call(tenant, "mutation { createContact { contact { id } } }")
    message = top_error(body)
    assert "input" in message and "required" in message
    body = call(tenant, CREATE_PROFILE, {"i": {"name": "Nobody"}})
    assert payload_errors(body, "createProfile") == [
        {"key": "contact_id", "message": "Contact_id: can't be blank"}
    ]
    body = call(tenant, 'mutation { createLanguage(input: {label: "X"}) { language { id } } }')
    assert body["data"] is None
    messages = " ".join(e["message"] for e in body["errors"])
    assert "labelLocale" in messages and "locale" in messages
    body = call(tenant, "mutation { switchProfile(index: 1) { contact { id } } }")
    assert "contactId" in top_error(body)
    assert snapshot(tenant) == before


def test_duplicate_phone_and_duplicate_profile(tenant: Tenant, family: dict[str, Any]) -> None:
    before = snapshot(tenant)
    body = call(tenant, CREATE_CONTACT, {"i": {"name": "Twin", "phone": family["phone"]}})
    assert payload_errors(body, "createContact") == [
        {"key": "phone", "message": "Phone: has already been taken"}
    ]
    body = call(
        tenant, CREATE_PROFILE, {"i": {"contactId": family["id"], "name": "Kid", "type": "child"}}
    )
    assert payload_errors(body, "createProfile") == [
        {"key": "name", "message": "Name: Sorry, a profile with same name and type already exists"}
    ]
    # Renaming the default profile onto the other one clashes the same way.
    body = call(
        tenant,
        'mutation($id: ID!) { updateProfile(id: $id, input: {name: "Kid", type: "child"}) {'
        " profile { id } errors { key message } } }",
        {"id": family["default_profile_id"]},
    )
    assert payload_errors(body, "updateProfile") == [
        {"key": "name", "message": "Name: Sorry, a profile with same name and type already exists"}
    ]
    assert snapshot(tenant) == before


# --- switching ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, key, words",
    [
        ("index: 3", "index", ["3", "2"]),
        ("index: 0", "index", ["0"]),
        ("index: -1", "index", ["-1"]),
        ('name: "Nobody"', "name", ["Nobody"]),
        ("profileId: 99999999", "profile_id", ["does not exist"]),
        ("", "profile_id", ["exactly one"]),
        ('index: 1, name: "Kid"', "profile_id", ["exactly one"]),
    ],
)
def test_impossible_switch(
    tenant: Tenant, family: dict[str, Any], args: str, key: str, words: list[str]
) -> None:
    before = snapshot(tenant)
    sep = ", " if args else ""
    body = call(
        tenant,
        f"mutation($c: ID!) {{ switchProfile(contactId: $c{sep}{args}) {{"
        " contact { id } errors { key message } } }",
        {"c": family["id"]},
    )
    errors = payload_errors(body, "switchProfile")
    assert [e["key"] for e in errors] == [key]
    for word in words:
        assert word in errors[0]["message"], errors
    assert snapshot(tenant) == before


def test_switch_to_a_deactivated_profile(tenant: Tenant, family: dict[str, Any]) -> None:
    tenant.data(
        "mutation($id: ID!) { deactivateProfile(id: $id) { errors { key } } }",
        {"id": family["kid_id"]},
    )
    before = snapshot(tenant)
    body = call(
        tenant,
        "mutation($c: ID!, $p: ID) { switchProfile(contactId: $c, profileId: $p) {"
        " contact { id } errors { key message } } }",
        {"c": family["id"], "p": family["kid_id"]},
    )
    errors = payload_errors(body, "switchProfile")
    assert errors[0]["key"] == "profile_id" and "deactivated" in errors[0]["message"]
    body = call(
        tenant,
        "mutation($c: ID!) { switchProfile(contactId: $c, index: 2) {"
        " contact { id } errors { key message } } }",
        {"c": family["id"]},
    )
    assert payload_errors(body, "switchProfile")[0]["key"] == "index"
    assert snapshot(tenant) == before


# --- a failed mutation changes nothing -----------------------------------------------------


def test_failed_profile_mutations_leave_no_trace(tenant: Tenant) -> None:
    """Steps that ran before the failure (making the default profile, switching) are
    rolled back with it."""
    plain = make_contact(tenant, "Meera")
    before = snapshot(tenant)
    # The default profile is made from the contact's name first, then the clash is found.
    body = call(tenant, CREATE_PROFILE, {"i": {"contactId": plain["id"], "name": "Meera"}})
    assert payload_errors(body, "createProfile")[0]["key"] == "name"
    # Switching a contact that has no profiles would make its default profile first.
    body = call(
        tenant,
        "mutation($c: ID!) { switchProfile(contactId: $c, index: 2) {"
        " contact { id } errors { key message } } }",
        {"c": plain["id"]},
    )
    assert payload_errors(body, "switchProfile")[0]["key"] == "index"
    # A valid profile with a language that does not exist.
    body = call(
        tenant,
        CREATE_PROFILE,
        {"i": {"contactId": plain["id"], "name": "Other", "languageId": "99999999"}},
    )
    assert payload_errors(body, "createProfile")[0]["key"] == "language_id"
    assert snapshot(tenant) == before


def test_failed_update_contact_does_not_switch(tenant: Tenant, family: dict[str, Any]) -> None:
    before = snapshot(tenant)
    body = call(
        tenant,
        "mutation($id: ID!, $i: ContactInput) { updateContact(id: $id, input: $i) {"
        " contact { id } errors { key message } } }",
        {
            "id": family["id"],
            "i": {
                "activeProfileId": family["default_profile_id"],
                "fields": '{"age": {"value": "10"}}',
                "languageId": "99999999",
            },
        },
    )
    assert payload_errors(body, "updateContact") == [
        {"key": "language_id", "message": "Language_id: does not exist"}
    ]
    assert snapshot(tenant) == before
    # And a read-only field is a top-level error that changes nothing either.
    body = call(
        tenant,
        'mutation($id: ID!) { updateContact(id: $id, input: {name: "New", phone: "919800000000"})'
        " { contact { id } errors { key message } } }",
        {"id": family["id"]},
    )
    assert top_error(body) == "Cannot modify read-only fields"
    assert body["data"] == {"updateContact": None}
    assert snapshot(tenant) == before


def test_deleting_the_default_profile_is_refused(tenant: Tenant, family: dict[str, Any]) -> None:
    before = snapshot(tenant)
    body = call(
        tenant, by_id("mutation", "deleteProfile", "profile"), {"id": family["default_profile_id"]}
    )
    errors = payload_errors(body, "deleteProfile")
    assert errors and "default" in errors[0]["message"].lower()
    body = call(
        tenant,
        by_id("mutation", "deactivateProfile", "profile"),
        {"id": family["default_profile_id"]},
    )
    errors = payload_errors(body, "deactivateProfile")
    assert errors and "default" in errors[0]["message"].lower()
    assert snapshot(tenant) == before


# --- oversized documents and bodies -----------------------------------------------------------


def _deep(levels: int) -> str:
    inner = "id"
    for i in range(levels):
        inner = f"contact {{ {inner} }}" if i % 2 == 0 else f"activeProfile {{ {inner} }}"
    return "{ contacts { " + inner + " } }"


def test_a_depth_20_query_is_refused(tenant: Tenant) -> None:
    body = call(tenant, _deep(20))
    assert body["data"] is None
    assert "depth" in top_error(body)


def test_a_reasonable_depth_is_fine(tenant: Tenant) -> None:
    assert "errors" not in call(tenant, _deep(6))


def test_a_thousand_aliases_are_refused(tenant: Tenant) -> None:
    query = "{ " + " ".join(f"a{i}: countContacts" for i in range(1000)) + " }"
    body = call(tenant, query)
    assert body["data"] is None
    assert "aliases" in top_error(body)


def test_a_few_aliases_are_fine(tenant: Tenant) -> None:
    body = call(tenant, "{ a: countContacts b: countContacts c: countProfiles }")
    assert set(body["data"]) == {"a", "b", "c"}


def test_too_many_tokens_are_refused(tenant: Tenant) -> None:
    query = "{ countContacts " + "__typename " * 30_000 + "}"
    body = call(tenant, query)
    assert body["data"] is None
    assert "tokens" in top_error(body)


def test_a_5mb_body_is_413(tenant: Tenant) -> None:
    big = {"query": "{ countContacts }", "variables": {"pad": "a" * 5_000_000}}
    response = tenant.post(big)
    clean(response)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == 413


def test_a_5mb_streamed_body_without_length_is_413(tenant: Tenant) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"query": "{ countContacts }", "variables": {"pad": "'
        for _ in range(50):
            yield b"a" * 100_000
        yield b'"}}'

    response = tenant.client.post(
        "/api",
        content=chunks(),
        headers={"authorization": tenant.token(), "content-type": "application/json"},
    )
    clean(response)
    assert response.status_code == 413


def test_sign_in_body_is_limited_too(server: LiveServer) -> None:
    response = server.client.post(
        "/api/v1/session", json={"user": {"phone": "1" * 5_000_000, "password": "x"}}
    )
    assert response.status_code == 413


@pytest.mark.parametrize(
    "content, content_type",
    [
        (b"{not json", "application/json"),
        (b"[1, 2]", "application/json"),
        (b'{"query": 5}', "application/json"),
        (b'{"query": "{ countContacts }", "variables": [1]}', "application/json"),
        (b"{}", "application/json"),
        (b"\xff\xfe", "application/json"),
        (b"query", "text/plain"),
    ],
    ids=[
        "not-json",
        "batch",
        "query-not-string",
        "variables-not-object",
        "no-query",
        "bytes",
        "plain",
    ],
)
def test_malformed_http_bodies(tenant: Tenant, content: bytes, content_type: str) -> None:
    response = tenant.client.post(
        "/api",
        content=content,
        headers={"authorization": tenant.token(), "content-type": content_type},
    )
    clean(response)
    assert 400 <= response.status_code < 500
    assert response.text.strip()


def test_unknown_operation_name(tenant: Tenant) -> None:
    response = tenant.post(
        {"query": "query A { countContacts } query B { countProfiles }", "operationName": "C"}
    )
    clean(response)
    assert response.status_code in (200, 400)
    assert 'operation named "C"' in response.text


# --- a crash shows only the generic message ----------------------------------------------------


@pytest.fixture
def breakable(tmp_path: Path) -> Iterator[LiveServer]:
    """A server of its own on its own SQLite file, so its database can be damaged."""
    live = start_server(f"sqlite+aiosqlite:///{tmp_path / 'breakable.db'}")
    try:
        yield live
    finally:
        live.stop()


def test_a_resolver_crash_shows_only_the_generic_message(breakable: LiveServer) -> None:
    """Damage the database under the running server (a table disappears): the resolvers that
    touch it crash, the client sees Glific's generic message on that field only, and nothing
    of the failure (SQL, table names, exception text) leaks."""
    tenant = create_tenant(breakable)
    make_contact(tenant)
    count = tenant.data("{ countContacts }")["countContacts"]

    async def damage(session: AsyncSession) -> None:
        await session.execute(text("ALTER TABLE contacts_fields RENAME TO contacts_fields_gone"))

    breakable.in_transaction(damage)
    response = tenant.post({"query": "{ countContacts contactsFields { id } }"})
    clean(response)
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"countContacts": count, "contactsFields": None}
    assert [e["message"] for e in body["errors"]] == [GENERIC]
    assert body["errors"][0]["path"] == ["contactsFields"]
    assert "contacts_fields" not in response.text

    response = tenant.post(
        {
            "query": 'mutation { createContactsField(input: {name: "Age", shortcode: "age"})'
            " { contactsField { id } errors { key message } } }"
        }
    )
    clean(response)
    body = response.json()
    assert body["data"] == {"createContactsField": None}
    assert [e["message"] for e in body["errors"]] == [GENERIC]
    # The server keeps serving.
    assert tenant.data("{ countContacts }") == {"countContacts": count}
