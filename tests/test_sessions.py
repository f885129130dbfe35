"""Glific's REST session endpoints (spec §4.2) and token checks on /api (§0.1 rule 5):
sign in (JSON and form), renew, sign out, header forms, expiry, hashed storage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import UserToken
from tests.utils.server import LiveServer
from tests.utils.tenants import PASSWORD, Tenant

NOT_AUTHENTICATED = {"error": {"code": 401, "message": "Not authenticated"}}
BAD_LOGIN = {"error": {"status": 401, "message": "Invalid phone or password"}}
BAD_TOKEN = {"error": {"status": 401, "message": "Invalid token"}}
ME = "{ currentUser { user { id name } } }"


def _sign_in(server: LiveServer, phone: str, password: str = PASSWORD) -> dict[str, Any]:
    response = server.client.post(
        "/api/v1/session", json={"user": {"phone": phone, "password": password}}
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]


def _me(server: LiveServer, token: str, header: str | None = None) -> Any:
    return server.client.post(
        "/api", json={"query": ME}, headers={"authorization": header or token}
    )


def _fill(value: Any, phone: str) -> Any:
    """`value` with every "PHONE" string replaced by a real user's phone."""
    if isinstance(value, dict):
        return {k: _fill(v, phone) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, phone) for v in value]
    return phone if value == "PHONE" else value


def _parse_iso_z(value: str) -> datetime:
    assert value.endswith("Z"), value
    return datetime.fromisoformat(value[:-1]).replace(tzinfo=UTC)


def test_sign_in_with_json_returns_glific_shape(tenant: Tenant) -> None:
    server = tenant.server
    before = datetime.now(UTC)
    data = _sign_in(server, tenant.users["staff"]["phone"])
    assert set(data) == {
        "access_token",
        "renewal_token",
        "token_expiry_time",
        "last_login_time",
        "is_trial",
        "trial_expiration_date",
    }
    assert data["access_token"] and data["renewal_token"]
    assert data["access_token"] != data["renewal_token"]
    # ISO-8601 with microseconds and Z, about 30 minutes from now.
    expiry_text = data["token_expiry_time"]
    assert len(expiry_text.split(".")[1]) == len("123456Z"), expiry_text
    expiry = _parse_iso_z(expiry_text)
    assert before + timedelta(minutes=29) < expiry < datetime.now(UTC) + timedelta(minutes=31)
    assert data["is_trial"] in (False, None)
    # The new token works on /api.
    response = _me(server, data["access_token"])
    assert response.status_code == 200
    assert response.json()["data"]["currentUser"]["user"]["id"] == str(tenant.users["staff"]["id"])


def test_last_login_time_is_the_previous_sign_in(tenant: Tenant) -> None:
    phone = tenant.users["manager"]["phone"]
    first = _sign_in(tenant.server, phone)
    second = _sign_in(tenant.server, phone)
    assert second["last_login_time"] is not None
    last = _parse_iso_z(second["last_login_time"])
    assert abs(last - datetime.now(UTC)) < timedelta(minutes=5)
    # Two sign-ins are two independent sessions: both tokens work.
    assert _me(tenant.server, first["access_token"]).status_code == 200
    assert _me(tenant.server, second["access_token"]).status_code == 200


def test_sign_in_with_form_encoding(tenant: Tenant) -> None:
    response = tenant.client.post(
        "/api/v1/session",
        data={"user[phone]": tenant.users["admin"]["phone"], "user[password]": PASSWORD},
    )
    assert response.status_code == 200, response.text
    token = response.json()["data"]["access_token"]
    assert _me(tenant.server, token).status_code == 200


def test_sign_in_accepts_a_formatted_phone(tenant: Tenant) -> None:
    phone = tenant.users["staff"]["phone"]
    data = _sign_in(tenant.server, f"+{phone[:2]} {phone[2:7]}-{phone[7:]}")
    assert _me(tenant.server, data["access_token"]).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"user": {"phone": "PHONE", "password": "wrong-password"}},
        {"user": {"phone": "910000000001", "password": PASSWORD}},
        {"user": {"phone": "PHONE"}},
        {"user": {"phone": 12345, "password": PASSWORD}},
        {"user": "PHONE"},
        {"phone": "PHONE", "password": PASSWORD},
        [],
        {},
    ],
    ids=[
        "wrong-password",
        "unknown-phone",
        "no-password",
        "phone-not-string",
        "user-not-object",
        "no-user-key",
        "list",
        "empty",
    ],
)
def test_bad_credentials_are_401(tenant: Tenant, body: Any) -> None:
    response = tenant.client.post(
        "/api/v1/session", json=_fill(body, tenant.users["staff"]["phone"])
    )
    assert response.status_code == 401
    assert response.json() == BAD_LOGIN


@pytest.mark.parametrize(
    "content, content_type",
    [
        (b"{not json", "application/json"),
        (b"\xff\xfe\x00", "application/json"),
        (b"", "application/json"),
        (b"user[phone]=1", "application/x-www-form-urlencoded"),
        (b"hello", "text/plain"),
    ],
    ids=["broken-json", "not-utf8", "empty-body", "form-missing-password", "plain-text"],
)
def test_malformed_sign_in_body_is_401(
    server: LiveServer, content: bytes, content_type: str
) -> None:
    response = server.client.post(
        "/api/v1/session", content=content, headers={"content-type": content_type}
    )
    assert response.status_code == 401
    assert response.json() == BAD_LOGIN


def test_user_of_an_inactive_organization_cannot_sign_in(tenant: Tenant) -> None:
    phone = tenant.users["manager"]["phone"]

    async def deactivate(session: AsyncSession) -> None:
        await session.execute(
            text("UPDATE organizations SET is_active = :f WHERE id = :id"),
            {"f": False, "id": tenant.org_id},
        )

    tenant.server.in_transaction(deactivate)
    response = tenant.client.post(
        "/api/v1/session", json={"user": {"phone": phone, "password": PASSWORD}}
    )
    assert response.status_code == 401
    # Tokens issued before are refused too.
    assert _me(tenant.server, tenant.token("manager")).json() == NOT_AUTHENTICATED


def test_renew_gives_a_new_pair_and_revokes_the_old_one(tenant: Tenant) -> None:
    server = tenant.server
    old = _sign_in(server, tenant.users["manager"]["phone"])
    response = server.client.post(
        "/api/v1/session/renew", headers={"authorization": old["renewal_token"]}
    )
    assert response.status_code == 200, response.text
    new = response.json()["data"]
    assert set(new) >= {"access_token", "renewal_token", "token_expiry_time"}
    assert new["access_token"] != old["access_token"]
    assert new["renewal_token"] != old["renewal_token"]
    _parse_iso_z(new["token_expiry_time"])

    assert _me(server, new["access_token"]).status_code == 200
    old_access = _me(server, old["access_token"])
    assert old_access.status_code == 401
    assert old_access.json() == NOT_AUTHENTICATED
    again = server.client.post(
        "/api/v1/session/renew", headers={"authorization": old["renewal_token"]}
    )
    assert again.status_code == 401
    assert again.json() == BAD_TOKEN
    # The new renewal token works (with Bearer too).
    third = server.client.post(
        "/api/v1/session/renew", headers={"authorization": f"Bearer {new['renewal_token']}"}
    )
    assert third.status_code == 200


@pytest.mark.parametrize("header", [None, "", "garbage", "Bearer", "Bearer x"], ids=repr)
def test_bad_renewal_is_401(server: LiveServer, header: str | None) -> None:
    headers = {} if header is None else {"authorization": header}
    response = server.client.post("/api/v1/session/renew", headers=headers)
    assert response.status_code == 401
    assert response.json() == BAD_TOKEN


def test_an_access_token_cannot_renew(tenant: Tenant) -> None:
    data = _sign_in(tenant.server, tenant.users["staff"]["phone"])
    response = tenant.client.post(
        "/api/v1/session/renew", headers={"authorization": data["access_token"]}
    )
    assert response.status_code == 401
    assert response.json() == BAD_TOKEN
    assert _me(tenant.server, data["access_token"]).status_code == 200


def test_a_renewal_token_is_not_an_access_token(tenant: Tenant) -> None:
    data = _sign_in(tenant.server, tenant.users["staff"]["phone"])
    response = _me(tenant.server, data["renewal_token"])
    assert response.status_code == 401
    assert response.json() == NOT_AUTHENTICATED


@pytest.mark.parametrize("signing_out_with", ["access_token", "renewal_token"])
def test_sign_out_with_either_token_ends_the_whole_session(
    tenant: Tenant, signing_out_with: str
) -> None:
    """Glific deletes both tokens whichever of the two signs out."""
    server = tenant.server
    data = _sign_in(server, tenant.users["staff"]["phone"])
    other = _sign_in(server, tenant.users["staff"]["phone"])
    response = server.client.delete(
        "/api/v1/session", headers={"authorization": data[signing_out_with]}
    )
    assert response.status_code == 200
    assert response.json() == {"data": {}}
    assert _me(server, data["access_token"]).json() == NOT_AUTHENTICATED
    renew = server.client.post(
        "/api/v1/session/renew", headers={"authorization": data["renewal_token"]}
    )
    assert renew.json() == BAD_TOKEN
    # Another sign-in of the same user is a separate session and keeps working.
    assert _me(server, other["access_token"]).status_code == 200


def test_sign_out_without_a_valid_token_is_harmless(server: LiveServer) -> None:
    for headers in ({}, {"authorization": "nonsense"}):
        response = server.client.delete("/api/v1/session", headers=headers)
        assert response.status_code == 200
        assert response.json() == {"data": {}}


def test_raw_and_bearer_authorization_headers(tenant: Tenant) -> None:
    token = tenant.token("staff")
    for header in (token, f"Bearer {token}", f"bearer {token}", f"Bearer  {token}"):
        response = _me(tenant.server, token, header)
        assert response.status_code == 200, header
        assert "errors" not in response.json()


@pytest.mark.parametrize(
    "headers",
    [{}, {"authorization": ""}, {"authorization": "not-a-token"}, {"authorization": "Bearer x"}],
    ids=["none", "empty", "unknown", "bearer-unknown"],
)
def test_no_or_invalid_token_is_401(server: LiveServer, headers: dict[str, str]) -> None:
    for method in ("post", "get"):
        if method == "post":
            response = server.client.post("/api", json={"query": ME}, headers=headers)
        else:
            response = server.client.get("/api", params={"query": ME}, headers=headers)
        assert response.status_code == 401
        assert response.json() == NOT_AUTHENTICATED


def _expire(tenant: Tenant, role: str, kind: str) -> None:
    """Make the `kind` tokens of the tenant's `role` user expire a second ago."""

    async def expire(session: AsyncSession) -> None:
        past = datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=1)
        await session.execute(
            update(UserToken)
            .where(col(UserToken.user_id) == tenant.users[role]["id"], col(UserToken.kind) == kind)
            .values(expires_at=past)
        )

    tenant.server.in_transaction(expire)


def test_expired_access_token_is_refused(tenant: Tenant) -> None:
    data = _sign_in(tenant.server, tenant.users["manager"]["phone"])
    assert _me(tenant.server, data["access_token"]).status_code == 200

    _expire(tenant, "manager", "access")
    response = _me(tenant.server, data["access_token"])
    assert response.status_code == 401
    assert response.json() == NOT_AUTHENTICATED
    # The renewal token still gets a fresh pair.
    renewed = tenant.client.post(
        "/api/v1/session/renew", headers={"authorization": data["renewal_token"]}
    )
    assert renewed.status_code == 200
    assert _me(tenant.server, renewed.json()["data"]["access_token"]).status_code == 200


def test_expired_renewal_token_is_refused(tenant: Tenant) -> None:
    data = _sign_in(tenant.server, tenant.users["admin"]["phone"])

    _expire(tenant, "admin", "renewal")
    response = tenant.client.post(
        "/api/v1/session/renew", headers={"authorization": data["renewal_token"]}
    )
    assert response.status_code == 401
    assert response.json() == BAD_TOKEN


def test_tokens_are_stored_hashed(tenant: Tenant) -> None:
    data = _sign_in(tenant.server, tenant.users["staff"]["phone"])
    user_id = tenant.users["staff"]["id"]

    async def dump(session: AsyncSession) -> list[str]:
        # (SQLModel's typing does not declare the `__table__` that every table model has.)
        rows = (
            await session.execute(
                select(UserToken.__table__).where(UserToken.user_id == user_id)  # type: ignore[attr-defined]
            )
        ).all()
        return [repr(tuple(row)) for row in rows]

    rows = tenant.server.in_transaction(dump)
    assert len(rows) >= 2
    everything = "\n".join(rows)
    for token in (data["access_token"], data["renewal_token"]):
        assert token not in everything
    # And the stored values are not a trivially reversible encoding of the token either.
    assert data["access_token"][:16] not in everything
