"""Messages over GraphQL: `messages` (default limit 25, maximum 50, Glific's filters plus
flowId), `countMessages`, `message(id)`, and the fields Glific's clients read (sendBy,
enums, the conversation's contacts), over rows written straight to the database."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from models import Message
from tests.utils.server import LiveServer
from tests.utils.tenants import Tenant

ERRORS = "errors { key message }"


def flow_id(tenant: Tenant, name: str) -> str:
    result = tenant.data(
        "mutation($input: FlowInput!) { createFlow(input: $input) { flow { id } "
        f"{ERRORS} }} }}",
        {"input": {"name": name}},
    )["createFlow"]
    assert result["errors"] is None
    return str(result["flow"]["id"])


def insert(tenant: Tenant, *rows: dict[str, Any]) -> list[str]:
    """Messages of the tenant; each row names `contact` (its conversation), `flow` (direction)
    and any other column."""

    async def add(session: AsyncSession) -> list[str]:
        made = []
        for row in rows:
            values = dict(row)
            contact = int(values.pop("contact"))
            outbound = values.get("flow") == "outbound"
            org_contact = tenant.org_contact_id
            message = Message(
                organization_id=tenant.org_id,
                contact_id=contact,
                sender_id=org_contact if outbound else contact,
                receiver_id=contact if outbound else org_contact,
                **values,
            )
            session.add(message)
            made.append(message)
        await session.flush()
        return [str(m.id) for m in made]

    return tenant.server.in_transaction(add)


def listed(
    tenant: Tenant,
    filter: dict[str, Any] | None = None,
    opts: dict[str, Any] | None = None,
    fields: str = "body",
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = tenant.data(
        f"query($f: MessageFilter, $o: Opts) {{ messages(filter: $f, opts: $o) {{ {fields} }} }}",
        {"f": filter, "o": opts},
        role="staff",
    )["messages"]
    return rows


def count(tenant: Tenant, filter: dict[str, Any] | None = None) -> int:
    value: int = tenant.data(
        "query($f: MessageFilter) { countMessages(filter: $f) }", {"f": filter}, role="staff"
    )["countMessages"]
    return value


def test_message_fields_as_glific_clients_read_them(tenant: Tenant) -> None:
    asha = tenant.create_contact("Asha")
    quiz = flow_id(tenant, "Quiz")
    user_id = tenant.users["staff"]["id"]
    inbound, by_flow, by_user = insert(
        tenant,
        {"contact": asha["id"], "flow": "inbound", "body": "hi", "bsp_status": "received"},
        {
            "contact": asha["id"],
            "flow": "outbound",
            "body": "Welcome!",
            "flow_id": int(quiz),
            "bsp_status": "delivered",
            "status": "sent",
            "type": "quick_reply",
            "interactive_content": {"type": "quick_reply"},
        },
        {
            "contact": asha["id"],
            "flow": "outbound",
            "body": "A person wrote this",
            "user_id": user_id,
            "bsp_status": "failed",
        },
    )
    document = (
        "query($id: ID!) { message(id: $id) { message { id body flow type status bspStatus"
        " sendBy isHsm messageNumber errors interactiveContent insertedAt templateId"
        " contact { id name } sender { id } receiver { id } user { name } }"
        f" {ERRORS} }} }}"
    )

    def one(message_id: str) -> dict[str, Any]:
        result = tenant.data(document, {"id": message_id}, role="staff")["message"]
        assert result["errors"] is None
        found: dict[str, Any] = result["message"]
        return found

    got = one(by_flow)
    assert got["id"] == by_flow and got["body"] == "Welcome!"
    assert (got["flow"], got["type"], got["status"], got["bspStatus"]) == (
        "OUTBOUND",
        "QUICK_REPLY",
        "sent",
        "DELIVERED",
    )
    assert got["sendBy"] == "Flow: Quiz"
    assert got["contact"] == {"id": asha["id"], "name": "Asha"}
    assert got["receiver"] == {"id": asha["id"]}
    assert got["sender"] == {"id": str(tenant.org_contact_id)}
    assert got["errors"] == "{}" and got["interactiveContent"] == '{"type":"quick_reply"}'
    assert got["insertedAt"].endswith("Z") and got["templateId"] is None and got["user"] is None

    got = one(inbound)
    assert (got["flow"], got["type"], got["bspStatus"], got["sendBy"]) == (
        "INBOUND",
        "TEXT",
        "RECEIVED",
        "",
    )
    assert got["sender"] == {"id": asha["id"]}

    got = one(by_user)
    assert got["sendBy"] == "Staff User" and got["user"] == {"name": "Staff User"}
    assert got["bspStatus"] == "ERROR"  # a failed send, in Glific's enum


@pytest.mark.parametrize("missing", ["999999999", "x"])
def test_message_miss_is_a_payload_error(tenant: Tenant, missing: str) -> None:
    result = tenant.data(
        f"query($id: ID!) {{ message(id: $id) {{ message {{ id }} {ERRORS} }} }}",
        {"id": missing},
        role="staff",
    )["message"]
    assert result == {
        "message": None,
        "errors": [{"key": "Elixir.Glific.Messages.Message", "message": "Resource not found"}],
    }


def test_filters(tenant: Tenant) -> None:
    asha = tenant.create_contact("Asha Devi")
    ravi = tenant.create_contact("Ravi Kumar")
    quiz, survey = flow_id(tenant, "Quiz"), flow_id(tenant, "Survey")
    manager = tenant.users["manager"]["id"]
    insert(
        tenant,
        {"contact": asha["id"], "flow": "inbound", "body": "Hello there"},
        {"contact": asha["id"], "flow": "outbound", "body": "Quiz q1", "flow_id": int(quiz)},
        {"contact": ravi["id"], "flow": "outbound", "body": "Survey q1", "flow_id": int(survey)},
        {"contact": ravi["id"], "flow": "inbound", "body": "photo", "type": "image"},
        {
            "contact": ravi["id"],
            "flow": "outbound",
            "body": "From a person",
            "user_id": manager,
            "bsp_status": "read",
        },
    )

    def bodies(flt: dict[str, Any]) -> list[str]:
        return sorted(r["body"] for r in listed(tenant, flt))

    assert bodies({"flowId": quiz}) == ["Quiz q1"]
    assert bodies({"flowId": survey}) == ["Survey q1"]
    assert bodies({"body": "Q1"}) == ["Quiz q1", "Survey q1"]
    assert bodies({"sender": "asha"}) == ["Hello there"]
    assert bodies({"receiver": "ravi"}) == ["From a person", "Survey q1"]
    assert bodies({"either": ravi["phone"][-6:]}) == ["From a person", "Survey q1", "photo"]
    assert bodies({"types": ["IMAGE"]}) == ["photo"]
    assert bodies({"user": "Manager"}) == ["From a person"]
    assert bodies({"bspStatus": "READ"}) == ["From a person"]
    assert bodies({"tagsIncluded": ["1"]}) == []
    assert count(tenant) == 5
    assert count(tenant, {"flowId": quiz}) == 1
    assert count(tenant, {"sender": "asha", "body": "nothing like this"}) == 0
    later = (datetime.utcnow() + timedelta(days=1)).isoformat() + "Z"
    assert bodies({"dateRange": {"from": later}}) == []
    assert len(bodies({"dateRange": {"to": later}})) == 5


def test_limits_and_order(tenant: Tenant, other_tenant: Tenant) -> None:
    asha = tenant.create_contact("Asha")
    insert(
        tenant,
        *({"contact": asha["id"], "flow": "inbound", "body": f"m{i:02d}"} for i in range(60)),
    )
    theirs = other_tenant.create_contact("Theirs")
    insert(other_tenant, {"contact": theirs["id"], "flow": "inbound", "body": "secret"})
    assert len(listed(tenant)) == 25  # Glific's default limit
    assert len(listed(tenant, opts={"limit": 40})) == 40
    assert len(listed(tenant, opts={"limit": 500})) == 50  # and its maximum
    page = listed(tenant, opts={"limit": 3, "offset": 2, "order": "DESC"})
    assert [r["body"] for r in page] == ["m57", "m56", "m55"]
    assert [r["body"] for r in listed(tenant, opts={"limit": 2, "order": "ASC"})] == [
        "m00",
        "m01",
    ]
    assert count(tenant) == 60
    assert all(r["body"] != "secret" for r in listed(tenant, opts={"limit": 50}))


def test_messages_need_a_signed_in_role(tenant: Tenant) -> None:
    body = tenant.gql("{ messages { id } }", role="none")
    assert body["errors"][0]["message"] == "Unauthorized"
    assert tenant.data("{ messages { id } countMessages }", role="staff") == {
        "messages": [],
        "countMessages": 0,
    }


def test_a_page_of_messages_costs_the_same_whatever_its_size(
    server: LiveServer, tenant: Tenant
) -> None:
    """Contacts, users and flow names behind a page are fetched in one batch each."""
    quiz = flow_id(tenant, "Quiz")
    rows = []
    for i in range(12):
        contact = tenant.create_contact(f"Parent {i}")
        rows.append({"contact": contact["id"], "flow": "inbound", "body": f"in {i}"})
        rows.append(
            {"contact": contact["id"], "flow": "outbound", "body": f"out {i}", "flow_id": int(quiz)}
        )
    insert(tenant, *rows)
    fields = "id body sendBy contact { name } sender { name } receiver { name } user { name }"

    def statements(limit: int) -> int:
        listed(tenant, opts={"limit": limit}, fields=fields)
        counter = server.count_statements()
        try:
            assert len(listed(tenant, opts={"limit": limit}, fields=fields)) == limit
        finally:
            server.stop_counting(counter)
        return counter.count

    assert statements(4) == statements(24)
