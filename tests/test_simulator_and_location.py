"""Simulator leasing (`simulatorGet` / `simulatorRelease`) between the users of one
organization and across organizations, and `contactLocation`."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Language, Location, SimulatorLease, User, utcnow
from resolvers import auth
from tests.utils.client_ops import require_reference_data
from tests.utils.tenants import Tenant, unique_phone

GET = "query { simulatorGet { id name phone } }"
RELEASE = "query { simulatorRelease { id } }"
LOCATION = "query ($id: ID!) { contactLocation(id: $id) { longitude latitude } }"


@cache
def _password_hash() -> str:
    return auth.hash_password("Password-1234")


def add_user(tenant: Tenant, role: str = "staff") -> str:
    """Another signed-in user of the tenant; returns the access token."""

    async def build(session: AsyncSession) -> str:
        english = await session.scalar(select(col(Language.id)).where(col(Language.locale) == "en"))
        user = User(
            organization_id=tenant.org_id,
            name=f"Extra {role}",
            phone=unique_phone(),
            password_hash=_password_hash(),
            roles=[role],
            language_id=english,
        )
        session.add(user)
        await session.flush()
        return (await auth.issue_tokens(session, user)).access_token

    return tenant.server.in_transaction(build)


def as_token(
    tenant: Tenant, token: str, query: str, variables: dict[str, Any] | None = None
) -> Any:
    response = tenant.client.post(
        "/api",
        json={"query": query, "variables": variables or {}},
        headers={"authorization": token},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def lease(tenant: Tenant, role_or_token: str) -> dict[str, Any] | None:
    if role_or_token in tenant.users:
        return tenant.data(GET, role=role_or_token)["simulatorGet"]
    return as_token(tenant, role_or_token, GET)["simulatorGet"]


def simulator_ids(tenant: Tenant) -> set[str]:
    rows = tenant.data('{ contacts(filter: {phone: "9876543210_"}) { id } }')["contacts"]
    return {r["id"] for r in rows}


# --- simulator ----------------------------------------------------------------------------------


def test_a_user_keeps_the_same_simulator_until_released(tenant: Tenant) -> None:
    first = lease(tenant, "manager")
    assert first is not None
    assert first["name"] == "Glific Simulator One"
    assert first["phone"] == "9876543210_1"
    assert lease(tenant, "manager") == first  # asked again: the same one, lease renewed

    other = lease(tenant, "staff")
    assert other is not None and other["id"] != first["id"]
    assert other["phone"] == ""  # staff never see phone numbers

    assert tenant.data(RELEASE, role="manager") == {"simulatorRelease": None}
    # Released: the next user to ask gets it.
    assert lease(tenant, "admin") == first
    assert tenant.data(RELEASE, role="manager") == {"simulatorRelease": None}  # nothing held


def test_five_simulators_then_none(tenant: Tenant) -> None:
    tokens = [add_user(tenant) for _ in range(6)]
    leased = [lease(tenant, token) for token in tokens[:5]]
    assert all(leased)
    ids = {c["id"] for c in leased if c}
    assert ids == simulator_ids(tenant) and len(ids) == 5
    assert lease(tenant, tokens[5]) is None  # all five held by others

    as_token(tenant, tokens[2], RELEASE)
    assert lease(tenant, tokens[5]) == leased[2]
    assert lease(tenant, tokens[2]) is None


def test_an_expired_lease_is_taken_over(tenant: Tenant) -> None:
    tokens = [add_user(tenant) for _ in range(6)]
    leased = [lease(tenant, token) for token in tokens[:5]]
    assert lease(tenant, tokens[5]) is None
    first = leased[0]
    assert first is not None

    async def expire(session: AsyncSession) -> None:
        await session.execute(
            update(SimulatorLease)
            .where(col(SimulatorLease.contact_id) == int(first["id"]))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )

    tenant.server.in_transaction(expire)
    assert lease(tenant, tokens[5]) == leased[0]
    # The user whose lease ran out gets nothing now that all five are held again.
    assert lease(tenant, tokens[0]) is None


def test_asking_again_renews_the_lease(tenant: Tenant) -> None:
    async def expiry(session: AsyncSession) -> Any:
        return await session.scalar(
            select(col(SimulatorLease.expires_at)).where(
                SimulatorLease.user_id == tenant.users["staff"]["id"]
            )
        )

    async def age(session: AsyncSession) -> None:
        await session.execute(
            update(SimulatorLease)
            .where(SimulatorLease.user_id == tenant.users["staff"]["id"])
            .values(expires_at=utcnow() + timedelta(minutes=1))
        )

    lease(tenant, "staff")
    tenant.server.in_transaction(age)
    lease(tenant, "staff")
    assert tenant.server.in_transaction(expiry) > utcnow() + timedelta(minutes=9)


def test_concurrent_requests_never_share_a_simulator(tenant: Tenant) -> None:
    tokens = [add_user(tenant) for _ in range(6)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        got = list(pool.map(lambda token: lease(tenant, token), tokens))
    taken = [c["id"] for c in got if c]
    assert len(taken) == 5 and len(set(taken)) == 5
    assert got.count(None) == 1
    # One user asking several times at once still holds a single simulator.
    holders = [token for token, c in zip(tokens, got, strict=True) if c]
    as_token(tenant, holders[0], RELEASE)
    as_token(tenant, holders[1], RELEASE)
    with ThreadPoolExecutor(max_workers=4) as pool:
        same = list(pool.map(lambda _: lease(tenant, "glific_admin"), range(4)))
    assert same[0] is not None and all(c == same[0] for c in same)
    assert lease(tenant, "admin") is not None  # the second freed one is still free


def test_simulators_are_per_organization(tenant: Tenant, other_tenant: Tenant) -> None:
    ours = [lease(tenant, token) for token in [add_user(tenant) for _ in range(5)]]
    assert {c["id"] for c in ours if c} == simulator_ids(tenant)
    # Every one of ours is taken, yet the other organization still gets its own.
    theirs = lease(other_tenant, "staff")
    assert theirs is not None
    assert theirs["id"] in simulator_ids(other_tenant)
    assert theirs["id"] not in simulator_ids(tenant)
    # Releasing in one organization frees nothing in the other.
    other_tenant.data(RELEASE, role="staff")
    assert lease(tenant, "manager") is None


def test_simulator_needs_staff(tenant: Tenant) -> None:
    for query, name in ((GET, "simulatorGet"), (RELEASE, "simulatorRelease")):
        body = tenant.gql(query, role="none")
        assert body["data"] == {name: None}
        assert [e["message"] for e in body["errors"]] == ["Unauthorized"]


# --- contactLocation ------------------------------------------------------------------------------


def add_location(tenant: Tenant, contact_id: str, lon: float, lat: float, minutes_ago: int) -> None:
    async def insert(session: AsyncSession) -> None:
        at = utcnow() - timedelta(minutes=minutes_ago)
        session.add(
            Location(
                organization_id=tenant.org_id,
                contact_id=int(contact_id),
                longitude=lon,
                latitude=lat,
                inserted_at=at,
                updated_at=at,
            )
        )

    tenant.server.in_transaction(insert)


def test_contact_location_is_the_latest_shared(tenant: Tenant) -> None:
    person = tenant.create_contact("Walker")
    assert tenant.data(LOCATION, {"id": person["id"]}) == {"contactLocation": None}

    add_location(tenant, person["id"], 73.85, 18.52, minutes_ago=30)
    add_location(tenant, person["id"], 77.21, 28.61, minutes_ago=5)
    add_location(tenant, person["id"], 72.88, 19.07, minutes_ago=60)
    assert tenant.data(LOCATION, {"id": person["id"]}) == {
        "contactLocation": {"longitude": 77.21, "latitude": 28.61}
    }


def test_contact_location_of_another_tenant_is_not_shown(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs = other_tenant.create_contact("Theirs")
    add_location(other_tenant, theirs["id"], 77.21, 28.61, minutes_ago=1)
    body = tenant.gql(LOCATION, {"id": theirs["id"]})
    assert body["data"] == {"contactLocation": None}
    for bad_id in ("999999999", "abc"):
        assert tenant.gql(LOCATION, {"id": bad_id})["data"] == {"contactLocation": None}


def test_contact_location_needs_a_manager(tenant: Tenant) -> None:
    person = tenant.create_contact("Walker")
    add_location(tenant, person["id"], 77.21, 28.61, minutes_ago=1)
    body = tenant.gql(LOCATION, {"id": person["id"]}, role="staff")
    assert body["data"] == {"contactLocation": None}
    assert [e["message"] for e in body["errors"]] == ["Unauthorized"]


# --- Glific's own documents -----------------------------------------------------------------------

DOCUMENTS = (
    "frontend/Simulator__GET_SIMULATOR.graphql",
    "frontend/Simulator__RELEASE_SIMULATOR.graphql",
    "glific-tests/contacts__simulator_get.graphql",
    "glific-tests/contacts__simulator_release.graphql",
    "glific-tests/contacts__contact_location.graphql",
    "frontend/Contact__IMPORT_CONTACTS.graphql",
    "glific-tests/contacts__import.graphql",
    "frontend/Contact__MOVE_CONTACTS.graphql",
    "glific-tests/contacts__move.graphql",
    "frontend/Contact__GET_CONTACT_IMPORT_STATUS.graphql",
)


def _document(name: str) -> str:
    folder: Path = require_reference_data()
    return (folder / name).read_text()


def test_glific_documents_run_unchanged(tenant: Tenant) -> None:
    docs = {name: _document(name) for name in DOCUMENTS}
    run = tenant.data

    sim = run(docs["frontend/Simulator__GET_SIMULATOR.graphql"])["simulatorGet"]
    assert sim["name"] == "Glific Simulator One" and sim["phone"] == "9876543210_1"
    assert run(docs["glific-tests/contacts__simulator_get.graphql"]) == {
        "simulatorGet": {"id": sim["id"], "name": sim["name"]}
    }
    for name in (
        "frontend/Simulator__RELEASE_SIMULATOR.graphql",
        "glific-tests/contacts__simulator_release.graphql",
    ):
        assert run(docs[name]) == {"simulatorRelease": None}

    person = tenant.create_contact("Walker")
    add_location(tenant, person["id"], 77.21, 28.61, minutes_ago=1)
    assert run(docs["glific-tests/contacts__contact_location.graphql"], {"id": person["id"]}) == {
        "contactLocation": {"longitude": 77.21, "latitude": 28.61}
    }

    p1, p2 = unique_phone(), unique_phone()
    imported = run(
        docs["frontend/Contact__IMPORT_CONTACTS.graphql"],
        {"data": f"name,phone\nOne,{p1}\n", "groupLabel": "Frontend", "type": "DATA"},
    )["importContacts"]
    assert imported["errors"] is None and "1 of 1 rows done" in imported["status"]
    snake = run(
        docs["glific-tests/contacts__import.graphql"],
        {"data": f"name,phone\nTwo,{p2}\n", "type": "DATA", "group_label": "Tests"},
    )["importContacts"]
    assert "1 of 1 rows done" in snake["status"]

    moved = run(
        docs["frontend/Contact__MOVE_CONTACTS.graphql"],
        {"data": f"phone,collection\n{p1},Moved\n", "type": "DATA"},
    )["moveContacts"]
    assert moved["errors"] is None and "1 of 1 rows done" in moved["status"]
    assert (
        "1 of 1 rows done"
        in run(
            docs["glific-tests/contacts__move.graphql"], {"data": f"phone,collection\n{p2},Moved\n"}
        )["moveContacts"]["status"]
    )

    job = moved["status"].rsplit(" ", 1)[1]
    answer = run(docs["frontend/Contact__GET_CONTACT_IMPORT_STATUS.graphql"], {"userJobId": job})
    assert answer == {
        "getContactUploadReport": {
            "csvRows": f"Phone,Status\r\n{p1},Contact has been updated",
            "error": None,
        }
    }


def test_glific_frontend_simulator_document_as_staff(tenant: Tenant) -> None:
    sim = tenant.data(_document("frontend/Simulator__GET_SIMULATOR.graphql"), role="staff")
    assert sim["simulatorGet"]["name"] == "Glific Simulator One"
    assert sim["simulatorGet"]["phone"] == ""
