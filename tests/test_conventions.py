"""Glific's API conventions as a client sees them (spec §0, §5, §6): snake_case and camelCase
names, the Json string scalar, enums, IDs, DateTime, Opts, maskedPhone, GET queries,
GraphiQL outside production, CORS, health."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from graphql import get_introspection_query
from sqlalchemy.ext.asyncio import AsyncSession

from models import Contact
from settings import Settings
from tests.utils.builders import contact_with_profiles, make_contact
from tests.utils.server import LiveServer, start_server
from tests.utils.tenants import Tenant, unique_phone

# --- snake_case and camelCase ---------------------------------------------------------------


def test_snake_case_fields_echo_the_client_spelling(tenant: Tenant) -> None:
    family = contact_with_profiles(tenant)
    data = tenant.data(
        "query($c: ID) { profiles(filter: {contactId: $c}) {"
        " id is_active isActive is_default inserted_at active: is_active } }",
        {"c": family["id"]},
    )
    assert data["profiles"]
    for row in data["profiles"]:
        assert list(row) == ["id", "is_active", "isActive", "is_default", "inserted_at", "active"]
        assert row["is_active"] is row["isActive"] is row["active"] is True
    kinds = {row["id"]: row["is_default"] for row in data["profiles"]}
    assert kinds == {family["default_profile_id"]: True, family["kid_id"]: False}


def test_snake_case_root_fields_nested_fields_and_fragments(tenant: Tenant) -> None:
    family = contact_with_profiles(tenant)
    data = tenant.data(
        "query($p: String!) { contact_by_phone(phone: $p) { contact { ...C } } count_contacts }"
        " fragment C on Contact { id masked_phone active_profile { id is_default }"
        " bsp_status last_communication_at }",
        {"p": family["phone"]},
    )
    contact = data["contact_by_phone"]["contact"]
    assert set(contact) == {
        "id",
        "masked_phone",
        "active_profile",
        "bsp_status",
        "last_communication_at",
    }
    assert contact["active_profile"] == {"id": family["kid_id"], "is_default": False}
    assert isinstance(data["count_contacts"], int)


def test_snake_case_arguments_and_inline_input_keys(tenant: Tenant) -> None:
    family = contact_with_profiles(tenant)
    # Argument names.
    switched = tenant.data(
        "mutation($c: ID!, $p: ID) { switchProfile(contact_id: $c, profile_id: $p) {"
        " contact { active_profile { id } } errors { key } } }",
        {"c": family["id"], "p": family["default_profile_id"]},
    )["switchProfile"]
    assert switched == {
        "contact": {"active_profile": {"id": family["default_profile_id"]}},
        "errors": None,
    }
    # Inline input-object keys, both spellings.
    for flt in ("{is_active: false, contact_id: $c}", "{isActive: false, contactId: $c}"):
        rows = tenant.data(
            f"query($c: ID) {{ profiles(filter: {flt}) {{ id }} }}", {"c": family["id"]}
        )
        assert rows == {"profiles": []}, flt
    hindi = tenant.language_id("hi")
    created = tenant.data(
        'mutation($c: ID, $l: ID) { createProfile(input: {contact_id: $c, name: "Tara",'
        " language_id: $l}) { profile { language { locale } } errors { key } } }",
        {"c": family["id"], "l": hindi},
    )["createProfile"]
    assert created == {"profile": {"language": {"locale": "hi"}}, "errors": None}


def test_snake_case_keys_in_variables(tenant: Tenant) -> None:
    contact = make_contact(tenant, "Vars")
    hindi = tenant.language_id("hi")
    created = tenant.data(
        "mutation($input: ProfileInput!) { createProfile(input: $input) {"
        " profile { name language { locale } contact { id } } errors { key message } } }",
        {"input": {"contact_id": contact["id"], "name": "Ravi", "language_id": hindi}},
    )["createProfile"]
    assert created["errors"] is None
    assert created["profile"] == {
        "name": "Ravi",
        "language": {"locale": "hi"},
        "contact": {"id": contact["id"]},
    }
    listed = tenant.data(
        "query($f: ProfileFilter, $o: Opts) { profiles(filter: $f, opts: $o) { name } }",
        {"f": {"contact_id": contact["id"], "is_active": True}, "o": {"order_with": "id"}},
    )["profiles"]
    assert [p["name"] for p in listed] == ["Vars", "Ravi"]
    # Mixed spellings inside one variable are fine too.
    mixed = tenant.data(
        "query($f: ProfileFilter) { profiles(filter: $f) { name } }",
        {"f": {"contactId": contact["id"], "is_active": True, "name": "rav"}},
    )["profiles"]
    assert mixed == [{"name": "Ravi"}]


def test_introspection_shows_camel_case(tenant: Tenant) -> None:
    data = tenant.data('{ __type(name: "Profile") { fields { name } } }')
    names = {f["name"] for f in data["__type"]["fields"]}
    assert {"isActive", "isDefault", "insertedAt"} <= names
    assert not any("_" in name for name in names)


# --- scalars and enums --------------------------------------------------------------------------


def test_json_is_a_string_both_ways(tenant: Tenant) -> None:
    plain = tenant.create_contact("Plain")
    assert plain["fields"] == "{}"
    value = {"age": {"value": "9", "label": "Age", "type": "string"}}
    made = tenant.create_contact("Rich", fields=json.dumps(value))
    assert isinstance(made["fields"], str)
    assert json.loads(made["fields"]) == value
    settings = tenant.data(
        "query($id: ID!) { contact(id: $id) { contact { settings } } }", {"id": plain["id"]}
    )["contact"]["contact"]["settings"]
    assert settings == "{}"
    # An object where a Json string is expected is refused.
    body = tenant.gql(
        "mutation($i: ContactInput!) { createContact(input: $i) { contact { id } } }",
        {"i": {"phone": unique_phone(), "fields": value}},
    )
    assert body["data"] is None and "JSON-encoded string" in body["errors"][0]["message"]
    # Explicit null is accepted and means "no value".
    cleared = tenant.data(
        "mutation($id: ID!) { updateContact(id: $id, input: {fields: null}) {"
        " contact { fields } errors { key message } } }",
        {"id": made["id"]},
    )["updateContact"]
    assert cleared["errors"] is None
    assert cleared["contact"]["fields"] in ("{}", None)


def test_history_event_meta_is_a_json_string(tenant: Tenant) -> None:
    family = contact_with_profiles(tenant)
    rows = tenant.data(
        "query($c: ID) { contactHistory(filter: {contactId: $c}) { eventType eventMeta } }",
        {"c": family["id"]},
    )["contactHistory"]
    switched = [r for r in rows if r["eventType"] == "profile_switched"]
    assert switched
    assert isinstance(switched[0]["eventMeta"], str)
    assert isinstance(json.loads(switched[0]["eventMeta"]), dict)


def test_enums_are_upper_case(tenant: Tenant) -> None:
    contact = make_contact(tenant)
    seen = tenant.data(
        "query($id: ID!) { contact(id: $id) { contact { status bspStatus } } }",
        {"id": contact["id"]},
    )["contact"]["contact"]
    assert seen == {"status": "VALID", "bspStatus": "NONE"}
    blocked = tenant.data(
        "mutation($id: ID!) { updateContact(id: $id, input: {status: BLOCKED}) {"
        " contact { status } } }",
        {"id": contact["id"]},
    )["updateContact"]["contact"]
    assert blocked == {"status": "BLOCKED"}
    # As a variable too.
    rows = tenant.data(
        "query($s: ContactStatusEnum) { contacts(filter: {status: $s}) { id status } }",
        {"s": "BLOCKED"},
    )["contacts"]
    assert {"id": contact["id"], "status": "BLOCKED"} in rows
    body = tenant.gql(
        "query($s: ContactStatusEnum) { contacts(filter: {status: $s}) { id } }", {"s": "blocked"}
    )
    assert body["data"] is None and "ContactStatusEnum" in body["errors"][0]["message"]


def test_ids_are_strings_out_and_int_or_string_in(tenant: Tenant) -> None:
    contact = make_contact(tenant)
    assert isinstance(contact["id"], str) and contact["id"].isdigit()
    number = int(contact["id"])
    inline_int = tenant.data(f"{{ contact(id: {number}) {{ contact {{ id }} }} }}")
    inline_str = tenant.data(f'{{ contact(id: "{number}") {{ contact {{ id }} }} }}')
    var_int = tenant.data("query($id: ID!) { contact(id: $id) { contact { id } } }", {"id": number})
    for data in (inline_int, inline_str, var_int):
        assert data == {"contact": {"contact": {"id": contact["id"]}}}
    lang = tenant.data("{ languages { id } }")["languages"][0]["id"]
    assert isinstance(lang, str)


def test_datetimes_end_with_z(tenant: Tenant) -> None:
    contact = make_contact(tenant)
    seen = tenant.data(
        "query($id: ID!) { contact(id: $id) { contact { insertedAt updatedAt"
        " lastCommunicationAt } } }",
        {"id": contact["id"]},
    )["contact"]["contact"]
    now = datetime.now(UTC)
    for value in seen.values():
        assert value.endswith("Z"), value
        parsed = datetime.fromisoformat(value[:-1]).replace(tzinfo=UTC)
        assert abs((now - parsed).total_seconds()) < 600
    # Input needs an offset; +05:30 is converted to UTC.
    today = now.strftime("%Y-%m-%d")
    rows = tenant.data(
        "query($f: DateTime) { contacts(filter: {dateRange: {from: $f}}, opts: {limit: 50})"
        " { id } }",
        {"f": f"{today}T00:00:00+05:30"},
    )["contacts"]
    assert {"id": contact["id"]} in rows
    future = tenant.data(
        '{ contacts(filter: {dateRange: {from: "2999-01-01T00:00:00Z"}}) { id } }'
    )["contacts"]
    assert future == []


# --- Opts -----------------------------------------------------------------------------------------


def _names(tenant: Tenant, tag: str, opts: dict[str, Any] | None) -> list[str]:
    rows = tenant.data(
        "query($t: String, $o: Opts) { contacts(filter: {term: $t}, opts: $o) { name } }",
        {"t": tag, "o": opts},
    )["contacts"]
    return [row["name"].split()[0] for row in rows]


def test_opts_ordering_limit_and_offset(tenant: Tenant) -> None:
    tag = f"zq{secrets.token_hex(3)}"
    for name in ("Charlie", "alpha", "Bravo"):
        make_contact(tenant, f"{name} {tag}")
    # No opts: no client ordering (insertion order here).
    assert _names(tenant, tag, None) == ["Charlie", "alpha", "Bravo"]
    # Any opts: lower(name) ascending by default.
    assert _names(tenant, tag, {}) == ["alpha", "Bravo", "Charlie"]
    assert _names(tenant, tag, {"order": "DESC"}) == ["Charlie", "Bravo", "alpha"]
    assert _names(tenant, tag, {"orderWith": "id", "order": "DESC"}) == [
        "Bravo",
        "alpha",
        "Charlie",
    ]
    assert _names(tenant, tag, {"limit": 2}) == ["alpha", "Bravo"]
    assert _names(tenant, tag, {"limit": 2, "offset": 1}) == ["Bravo", "Charlie"]
    assert _names(tenant, tag, {"offset": 3}) == []


def test_profiles_order_by_name_with_opts(tenant: Tenant) -> None:
    contact = make_contact(tenant, "delta")
    for name in ("Echo", "bravo"):
        tenant.data(
            "mutation($i: ProfileInput!) { createProfile(input: $i) { errors { key } } }",
            {"i": {"contactId": contact["id"], "name": name}},
        )
    query = "query($o: Opts, $c: ID) { profiles(filter: {contactId: $c}, opts: $o) { name } }"
    plain = tenant.data(query, {"c": contact["id"], "o": None})["profiles"]
    assert [p["name"] for p in plain] == ["delta", "Echo", "bravo"]
    ordered = tenant.data(query, {"c": contact["id"], "o": {}})["profiles"]
    assert [p["name"] for p in ordered] == ["bravo", "delta", "Echo"]
    by_default = tenant.data(
        query, {"c": contact["id"], "o": {"orderWith": "is_default", "order": "DESC"}}
    )["profiles"]
    assert by_default[0]["name"] == "delta"


def test_contacts_default_limit_25_max_50(tenant: Tenant) -> None:
    tag = f"bulk{secrets.token_hex(3)}"
    language_id = int(tenant.language_id("en"))

    async def add(session: AsyncSession) -> None:
        for i in range(60):
            session.add(
                Contact(
                    organization_id=tenant.org_id,
                    name=f"{tag} {i:02d}",
                    phone=unique_phone(),
                    language_id=language_id,
                )
            )

    tenant.server.in_transaction(add)
    query = "query($t: String, $o: Opts) { contacts(filter: {term: $t}, opts: $o) { id } }"
    assert len(tenant.data(query, {"t": tag, "o": None})["contacts"]) == 25
    assert len(tenant.data(query, {"t": tag, "o": {}})["contacts"]) == 25
    assert len(tenant.data(query, {"t": tag, "o": {"limit": 40}})["contacts"]) == 40
    assert len(tenant.data(query, {"t": tag, "o": {"limit": 500}})["contacts"]) == 50
    assert tenant.data("query($t: String) { countContacts(filter: {term: $t}) }", {"t": tag}) == {
        "countContacts": 60
    }


def test_masked_phone(tenant: Tenant) -> None:
    phone = unique_phone()
    contact = make_contact(tenant, phone=phone)
    seen = tenant.data(
        "query($id: ID!) { contact(id: $id) { contact { phone maskedPhone } } }",
        {"id": contact["id"]},
    )["contact"]["contact"]
    assert seen == {"phone": phone, "maskedPhone": f"{phone[:4]}******{phone[-2:]}"}


# --- transport ----------------------------------------------------------------------------------


def test_get_works_for_queries(tenant: Tenant) -> None:
    contact = make_contact(tenant)
    response = tenant.client.get(
        "/api",
        params={
            "query": "query($id: ID!) { contact(id: $id) { contact { id } } }",
            "variables": json.dumps({"id": contact["id"]}),
        },
        headers={"authorization": tenant.token()},
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"contact": {"contact": {"id": contact["id"]}}}}


def test_get_refuses_mutations(tenant: Tenant) -> None:
    before = tenant.data("{ countContacts }")
    response = tenant.client.get(
        "/api",
        params={
            "query": f'mutation {{ createContact(input: {{phone: "{unique_phone()}"}})'
            " { contact { id } } }"
        },
        headers={"authorization": tenant.token()},
    )
    assert 400 <= response.status_code < 500
    assert "mutation" in response.text.lower()
    assert tenant.data("{ countContacts }") == before


def test_graphql_errors_are_http_200(tenant: Tenant) -> None:
    response = tenant.post({"query": "{ nope }"})
    assert response.status_code == 200
    assert response.json()["data"] is None


def test_graphiql_outside_production(server: LiveServer) -> None:
    response = server.client.get("/graphiql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]
    assert "graphiql" in response.text.lower()


@pytest.fixture
def production(tmp_path: Path) -> Any:
    live = start_server(
        f"sqlite+aiosqlite:///{tmp_path / 'prod.db'}",
        environment="production",
        secret_key=secrets.token_hex(32),
        admin_password=secrets.token_hex(16),
    )
    try:
        yield live
    finally:
        live.stop()


def test_no_graphiql_in_production(production: LiveServer) -> None:
    response = production.client.get("/graphiql", headers={"accept": "text/html"})
    assert response.status_code == 404
    # /api does not serve the IDE either: a browser GET without a token is a 401.
    api = production.client.get("/api", headers={"accept": "text/html"})
    assert api.status_code == 401
    assert "graphiql" not in api.text.lower()
    assert production.client.get("/health").json() == {"status": "ok"}


def test_production_refuses_the_placeholder_secret(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="SECRET_KEY"):
        Settings(environment="production", database_url=f"sqlite+aiosqlite:///{tmp_path}/x.db")


ORIGIN = "http://frontend.test"  # CORS_ORIGINS of the test server


@pytest.mark.parametrize("path", ["/api", "/api/v1/session", "/api/v1/session/renew"])
def test_cors_preflight_from_an_allowed_origin(server: LiveServer, path: str) -> None:
    response = server.client.options(
        path,
        headers={
            "origin": ORIGIN,
            "access-control-request-method": "POST",
            "access-control-request-headers": "authorization, content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed
    assert "POST" in response.headers["access-control-allow-methods"]


def test_cors_preflight_for_sign_out(server: LiveServer) -> None:
    response = server.client.options(
        "/api/v1/session",
        headers={
            "origin": ORIGIN,
            "access-control-request-method": "DELETE",
            "access-control-request-headers": "authorization",
        },
    )
    assert response.status_code == 200
    assert "DELETE" in response.headers["access-control-allow-methods"]


def test_cors_actual_request_from_an_allowed_origin(tenant: Tenant) -> None:
    response = tenant.client.post(
        "/api",
        json={"query": "{ countContacts }"},
        headers={"authorization": tenant.token(), "origin": ORIGIN},
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    # Even a 401 carries the header, so the browser can show the error to the frontend.
    refused = tenant.client.post(
        "/api", json={"query": "{ countContacts }"}, headers={"origin": ORIGIN}
    )
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == ORIGIN


def test_cors_foreign_origin_gets_no_cors_headers(tenant: Tenant) -> None:
    foreign = "http://evil.test"
    preflight = tenant.client.options(
        "/api",
        headers={
            "origin": foreign,
            "access-control-request-method": "POST",
            "access-control-request-headers": "authorization",
        },
    )
    assert "access-control-allow-origin" not in preflight.headers
    response = tenant.client.post(
        "/api",
        json={"query": "{ countContacts }"},
        headers={"authorization": tenant.token(), "origin": foreign},
    )
    assert "access-control-allow-origin" not in response.headers


def test_health(server: LiveServer) -> None:
    response = server.client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert server.client.post("/health").status_code == 405


def test_full_introspection_fits_the_limits(tenant: Tenant) -> None:
    """GraphiQL and codegen tools send the standard introspection query; the depth, alias and
    token limits must leave room for it."""
    data = tenant.data(get_introspection_query(descriptions=True), role="staff")
    names = {t["name"] for t in data["__schema"]["types"]}
    assert {"Contact", "Profile", "Json", "DateTime"} <= names
