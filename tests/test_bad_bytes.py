"""Hostile bytes get a 4xx (or a GraphQL error) that says what was wrong, never an HTTP 500 or
a trace: JSON that is not an object, JSON nested a thousand deep, bytes that are not UTF-8,
phones that cannot be text, and id lists longer than PostgreSQL takes parameters."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from models import ContactGroup, Group, saved_id
from tests.test_bad_input import clean
from tests.utils.server import LiveServer
from tests.utils.tenants import Tenant

BAD_LOGIN = {"error": {"status": 401, "message": "Invalid phone or password"}}
DEEP = 1_000
DEEP_LIST = "[" * DEEP + "]" * DEEP
DEEP_OBJECT = '{"a":' * DEEP + "1" + "}" * DEEP


def post_raw(tenant: Tenant, content: bytes, **headers: str) -> Any:
    headers = {"authorization": tenant.token(), "content-type": "application/json", **headers}
    response = tenant.client.post("/api", content=content, headers=headers)
    clean(response)
    return response


@pytest.mark.parametrize(
    "content, words",
    [
        (b"null", ["JSON object"]),
        (b"true", ["JSON object"]),
        (b"123", ["JSON object"]),
        (b'""', ["JSON object"]),
        (DEEP_LIST.encode(), ["deep"]),
        (DEEP_OBJECT.encode(), ["deep"]),
        (
            ('{"query": "{ countContacts }", "variables": {"a": ' + DEEP_LIST + "}}").encode(),
            ["deep"],
        ),
        (('{"query": "{ countContacts }", "variables": ' + DEEP_OBJECT + "}").encode(), ["deep"]),
        (('{"query": "{ countContacts }", "extensions": ' + DEEP_OBJECT + "}").encode(), ["deep"]),
        (b"\xff\xfe\xfd", ["UTF-8"]),
        (b'{"query": "{ countContacts }", "variables": {"a": "\xff"}}', ["UTF-8"]),
    ],
    ids=[
        "null",
        "true",
        "number",
        "string",
        "deep-list",
        "deep-object",
        "deep-variables-list",
        "deep-variables-object",
        "deep-extensions",
        "not-utf8",
        "not-utf8-inside",
    ],
)
def test_api_bodies_that_are_not_a_graphql_request(
    tenant: Tenant, content: bytes, words: list[str]
) -> None:
    response = post_raw(tenant, content)
    assert response.status_code == 400, response.text
    for word in words:
        assert word in response.text, response.text


@pytest.mark.parametrize(
    "params, words",
    [
        ({"variables": DEEP_LIST}, ["deep"]),
        ({"variables": '{"a": ' + DEEP_OBJECT + "}"}, ["deep"]),
        ({"extensions": DEEP_OBJECT}, ["deep"]),
        ({"variables": "{not json"}, ["JSON"]),
    ],
    ids=["deep-list", "deep-object", "deep-extensions", "broken"],
)
def test_get_with_bad_variables(tenant: Tenant, params: dict[str, str], words: list[str]) -> None:
    response = tenant.client.get(
        "/api",
        params={"query": "{ countContacts }", **params},
        headers={"authorization": tenant.token()},
    )
    clean(response)
    assert response.status_code == 400, response.text
    for word in words:
        assert word in response.text, response.text


def test_get_with_bytes_that_are_not_utf8(tenant: Tenant) -> None:
    response = tenant.client.get(
        "/api?query=%7B%20countContacts%20%7D&variables=%FF%FE%FD",
        headers={"authorization": tenant.token()},
    )
    clean(response)
    assert 400 <= response.status_code < 500, response.text


@pytest.mark.parametrize(
    "content",
    [
        b'{"user": {"phone": "\\ud800", "password": "x"}}',
        b'{"user": {"phone": "\\u0000", "password": "x"}}',
        b'{"user": {"phone": "9198765\\u000043210", "password": "x"}}',
        b'{"user": {"phone": "\\udfff\\ud800", "password": "\\ud800"}}',
        DEEP_LIST.encode(),
        DEEP_OBJECT.encode(),
        ('{"user": {"phone": ' + DEEP_LIST + ', "password": "x"}}').encode(),
        b"\xff\xfe\xfd",
    ],
    ids=[
        "lone-surrogate",
        "nul",
        "nul-inside",
        "surrogates-everywhere",
        "deep-list",
        "deep-object",
        "deep-phone",
        "not-utf8",
    ],
)
def test_sign_in_with_unusable_bytes_is_a_failed_sign_in(
    server: LiveServer, content: bytes
) -> None:
    response = server.client.post(
        "/api/v1/session", content=content, headers={"content-type": "application/json"}
    )
    clean(response)
    assert response.status_code == 401, response.text
    assert response.json() == BAD_LOGIN


@pytest.mark.parametrize("phone", ["\ud800", "\x00", "91\x0098"], ids=repr)
def test_sign_in_form_with_unusable_phones(server: LiveServer, phone: str) -> None:
    body = "user%5Bphone%5D=" + "".join(f"%{b:02X}" for b in phone.encode("utf-8", "surrogatepass"))
    response = server.client.post(
        "/api/v1/session",
        content=(body + "&user%5Bpassword%5D=x").encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    clean(response)
    assert response.status_code == 401, response.text
    assert response.json() == BAD_LOGIN


LISTED = (
    "query($f: ContactFilter) { contacts(filter: $f, opts: {limit: 50}) { name }"
    " countContacts(filter: $f) }"
)


def test_group_filters_with_70000_ids(tenant: Tenant) -> None:
    """More ids than PostgreSQL takes parameters in one statement (65,535): the list is bound
    as one value, so the filter simply works; ids that are no group of the organization
    match nothing."""
    asha = tenant.create_contact("Asha")
    tenant.create_contact("Ravi")

    async def group(session: AsyncSession) -> int:
        one = Group(organization_id=tenant.org_id, label="Big filter")
        session.add(one)
        await session.flush()
        session.add(
            ContactGroup(
                organization_id=tenant.org_id,
                contact_id=int(asha["id"]),
                group_id=saved_id(one),
            )
        )
        return saved_id(one)

    real = tenant.server.in_transaction(group)
    ids = [str(real)] + [str(10**9 + i) for i in range(70_000)] + [str(real)]

    def run(flt: dict[str, Any]) -> dict[str, Any]:
        response = tenant.post({"query": LISTED, "variables": {"f": flt}})
        clean(response)
        body: dict[str, Any] = response.json()
        assert "errors" not in body, json.dumps(body)[:500]
        return body["data"]

    included = run({"includeGroups": ids})
    assert included == {"contacts": [{"name": "Asha"}], "countContacts": 1}
    excluded = run({"excludeGroups": ids, "name": "a"})
    names = {c["name"] for c in excluded["contacts"]}
    assert "Ravi" in names and "Asha" not in names
    assert excluded["countContacts"] == len(excluded["contacts"])
    # Both at once, and ids that cannot be ids at all.
    both = run({"includeGroups": [*ids, "abc", "-1"], "excludeGroups": ids[1:-1]})
    assert both == {"contacts": [{"name": "Asha"}], "countContacts": 1}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/gupshup", {"app": "Pune\u0000App", "type": "message", "payload": {}}),
        ("/maytapi", {"product_id": "prod\u0000", "type": "message"}),
        ("/maytapi", {"product_id": "p", "type": "message", "message": {"text": "a\ud800"}}),
    ],
)
def test_webhook_bodies_with_text_no_database_keeps(
    server: LiveServer, path: str, body: dict[str, Any]
) -> None:
    """A NUL character or a lone surrogate anywhere in a provider's callback is refused
    before anything is looked up (PostgreSQL refuses such text: it was a 500)."""
    response = server.client.post(
        path, content=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
    clean(response)
    assert response.status_code == 400
    assert "cannot be kept" in response.json()["error"]["message"]


def test_a_simulator_message_with_a_nul_is_refused(tenant: Tenant) -> None:
    body = {
        "type": "message",
        "payload": {
            "id": "sim-nul",
            "type": "text",
            "payload": {"text": "hi\u0000"},
            "sender": {"phone": "9876543210_1", "name": "Sim"},
        },
    }
    response = tenant.client.post(
        "/api/v1/simulator/message", json=body, headers={"authorization": tenant.token()}
    )
    clean(response)
    assert response.status_code == 400


def test_callbacks_whose_account_key_cannot_be_read_are_refused(server: LiveServer) -> None:
    """An app name too long to be one (400, was a 500: the key was read outside the
    request's checks) and a Meta phone number id holding a NUL (no account: 404)."""
    long_app = server.client.post("/gupshup", json={"app": "a" * 300, "type": "message"})
    clean(long_app)
    assert long_app.status_code == 400
    assert "app is longer than 255" in long_app.json()["error"]["message"]
    meta = {
        "object": "whatsapp_business_account",
        "entry": [{"changes": [{"value": {"metadata": {"phone_number_id": "12\u00003"}}}]}],
    }
    unknown = server.client.post("/webhook/whatsapp", json=meta)
    clean(unknown)
    assert unknown.status_code == 404
