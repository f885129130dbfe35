"""`POST /api/v1/simulator/message` over HTTP (spec §6, scenario 98): the token decides the
user and so the organization; only simulator senders are taken; a body that is not a Gupshup
message is a 400 saying what is wrong; a good one reaches `resolvers.inbound.receive` and is
stored in the caller's organization, and a flow keyword gets the flow's reply."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import httpx2
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Database, Message
from resolvers import inbound
from resolvers.inbound import InboundMessage, Received
from tests.utils.chat import import_and_publish
from tests.utils.flow_builder import FlowBuilder
from tests.utils.tenants import Tenant

URL = "/api/v1/simulator/message"
SIMULATOR = "9876543210_1"


def sim_body(text: str = "hello", phone: str = SIMULATOR, **payload: Any) -> dict[str, Any]:
    """The payload Glific's web UI sends for a typed message."""
    return {
        "type": "message",
        "payload": {
            "id": str(uuid.uuid4()),
            "type": "text",
            "payload": {"text": text},
            "sender": {"phone": phone, "name": "Glific Simulator One"},
            **payload,
        },
    }


def post(
    tenant: Tenant, body: Any = None, token: str | None = "manager", *, content: bytes = b""
) -> httpx2.Response:
    """POST as the tenant's user of role `token` (None: no Authorization header; anything
    that is not a role: that string as the token)."""
    headers = {}
    if token is not None:
        headers["authorization"] = tenant.token(token) if token in tenant.users else token
    if body is not None:
        return tenant.client.post(URL, json=body, headers=headers)
    headers["content-type"] = "application/json"
    return tenant.client.post(URL, content=content, headers=headers)


class FakeReceive:
    """Stands in for `inbound.receive` where a test checks only what the endpoint hands it."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, InboundMessage]] = []
        self._lock = threading.Lock()

    async def __call__(self, db: Database, org_id: int, message: InboundMessage) -> Received:
        with self._lock:
            self.calls.append((org_id, message))
        return Received(message_id=1, contact_id=1)


@pytest.fixture
def fake_receive(monkeypatch: pytest.MonkeyPatch) -> FakeReceive:
    fake = FakeReceive()
    monkeypatch.setattr(inbound, "receive", fake)
    return fake


def feedback_flow(keyword: str) -> tuple[dict[str, Any], list[str]]:
    """A flow started by `keyword`: asks with two buttons, then thanks or apologises."""
    flow = (
        FlowBuilder(f"Feedback {keyword}")
        .send("ask", "How was today?", "answer", quick_replies=["Good", "Bad"])
        .wait("answer", [("has_any_word", ["good"], "Good", "glad")], other="sorry")
        .send("glad", "Glad to hear it", None)
        .send("sorry", "Sorry to hear that", None)
    )
    return flow.build(), [keyword]


def messages_with(tenant: Tenant, provider_id: str) -> list[tuple[int, str]]:
    """(organization id, direction) of every stored message with this provider id."""

    async def find(session: AsyncSession) -> list[tuple[int, str]]:
        rows = await session.execute(
            select(col(Message.organization_id), col(Message.flow)).where(
                col(Message.bsp_message_id) == provider_id
            )
        )
        return [(row[0], row[1]) for row in rows.all()]

    return tenant.server.in_transaction(find)


# --- who may send -----------------------------------------------------------------------------


def test_no_token_is_401(tenant: Tenant, fake_receive: FakeReceive) -> None:
    for token in (None, "", "Bearer", "not-a-token", f"Bearer {uuid.uuid4()}"):
        response = post(tenant, sim_body(), token=token)
        assert response.status_code == 401, token
        assert response.json() == {"error": {"status": 401, "message": "Invalid token"}}
    assert fake_receive.calls == []


def test_a_signed_out_token_is_401(tenant: Tenant, fake_receive: FakeReceive) -> None:
    token = tenant.token("staff")
    assert post(tenant, sim_body(), token="staff").status_code == 200
    tenant.client.delete("/api/v1/session", headers={"authorization": token})
    assert post(tenant, sim_body(), token=token).status_code == 401
    assert len(fake_receive.calls) == 1


def test_the_token_is_checked_before_the_body(tenant: Tenant, fake_receive: FakeReceive) -> None:
    assert post(tenant, token=None, content=b"{not json").status_code == 401
    assert post(tenant, token="nope", content=b"{not json").status_code == 401


def test_a_user_without_a_role_is_refused(tenant: Tenant, fake_receive: FakeReceive) -> None:
    response = post(tenant, sim_body(), token="none")
    assert response.status_code == 403
    assert response.json()["error"]["status"] == 403
    assert fake_receive.calls == []


@pytest.mark.parametrize("phone", ["919876543210", "1234567890", "+9876543210_1", "98765_1"])
def test_a_sender_that_is_not_a_simulator_is_403(
    tenant: Tenant, fake_receive: FakeReceive, phone: str
) -> None:
    response = post(tenant, sim_body(phone=phone))
    assert response.status_code == 403
    assert response.json() == {
        "error": {"status": 403, "message": "Only simulator contacts can send messages here"}
    }
    assert fake_receive.calls == []


# --- what is sent -------------------------------------------------------------------------------


def _bad_bodies() -> list[tuple[str, Any, str]]:
    no_phone = sim_body()
    del no_phone["payload"]["sender"]["phone"]
    no_sender = sim_body()
    del no_sender["payload"]["sender"]
    text_number = sim_body()
    text_number["payload"]["payload"] = {"text": 42}
    return [
        ("a list", [sim_body()], "The body must be a JSON object, not a list"),
        ("no sender phone", no_phone, "payload.sender.phone is missing"),
        ("no sender", no_sender, "payload.sender is missing"),
        ("a status callback", {"type": "message-event", "payload": {}}, "type must be 'message'"),
        ("payload a string", {"type": "message", "payload": "hi"}, "payload must be an object"),
        ("text a number", text_number, "payload.payload.text must be a string, not a number"),
    ]


@pytest.mark.parametrize(
    ("body", "expected"), [(b, e) for _, b, e in _bad_bodies()], ids=[n for n, *_ in _bad_bodies()]
)
def test_a_body_that_is_not_a_message_is_400(
    tenant: Tenant, fake_receive: FakeReceive, body: Any, expected: str
) -> None:
    response = post(tenant, body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["status"] == 400
    assert expected in error["message"]
    assert fake_receive.calls == []


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "The request body is empty"),
        (b"   ", "The request body is empty"),
        (b"{not json", "Unable to parse the request body as JSON"),
        (b'{"type": "message"', "Unable to parse the request body as JSON"),
        (b"\xff\xfe{}", "The request body is not UTF-8 text"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ],
)
def test_bytes_that_are_not_json_are_400(
    tenant: Tenant, fake_receive: FakeReceive, content: bytes, expected: str
) -> None:
    response = post(tenant, content=content)
    assert response.status_code == 400, response.text
    assert expected in response.json()["error"]["message"]
    assert fake_receive.calls == []


def test_a_simulator_message_is_handed_to_receive(
    tenant: Tenant, fake_receive: FakeReceive
) -> None:
    body = sim_body("hi there", context={"gsId": "gs-9"})
    response = post(tenant, body, token=f"Bearer {tenant.token('staff')}")
    assert response.status_code == 200, response.text
    assert response.json() == {}
    [(org_id, message)] = fake_receive.calls
    assert org_id == tenant.org_id
    assert message.phone == SIMULATOR
    assert message.provider == "simulator"
    assert message.provider_message_id == body["payload"]["id"]
    assert message.sender_name == "Glific Simulator One"
    assert message.context_id == "gs-9"
    assert (message.input.type, message.input.text) == ("text", "hi there")


def test_a_button_tap_from_the_simulator(tenant: Tenant, fake_receive: FakeReceive) -> None:
    body = sim_body()
    body["payload"]["type"] = "button_reply"
    body["payload"]["payload"] = {"id": "node-1", "reply": "👍 1", "title": "👍"}
    assert post(tenant, body).status_code == 200
    [(_, message)] = fake_receive.calls
    assert (message.input.type, message.input.text, message.input.id) == (
        "quick_reply",
        "👍",
        "node-1",
    )


def test_the_organization_comes_from_the_token(
    tenant: Tenant, other_tenant: Tenant, fake_receive: FakeReceive
) -> None:
    # Whatever the body says about organizations is not read.
    body = sim_body(organization_id=tenant.org_id)
    body["organization_id"] = body["org"] = tenant.org_id
    assert post(other_tenant, body).status_code == 200
    assert post(tenant, sim_body()).status_code == 200
    assert [org for org, _ in fake_receive.calls] == [other_tenant.org_id, tenant.org_id]


# --- end to end, through the real `receive` -----------------------------------------------------


def test_the_message_is_stored_in_the_callers_organization(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    mine, theirs = sim_body("good morning"), sim_body("good evening")
    assert post(tenant, mine).status_code == 200
    assert post(other_tenant, theirs).status_code == 200
    assert messages_with(tenant, mine["payload"]["id"]) == [(tenant.org_id, "inbound")]
    assert messages_with(tenant, theirs["payload"]["id"]) == [(other_tenant.org_id, "inbound")]
    # A redelivery of the same message is answered alike and stored once.
    assert post(tenant, mine).status_code == 200
    assert messages_with(tenant, mine["payload"]["id"]) == [(tenant.org_id, "inbound")]


OUTBOUND = """
query($phone: String) {
  messages(filter: {either: $phone}) {
    id body flow contact { phone }
  }
}
"""


def test_a_flow_keyword_gets_the_flows_reply(tenant: Tenant, other_tenant: Tenant) -> None:
    keyword = f"kw{uuid.uuid4().hex[:8]}"
    import_and_publish(tenant, feedback_flow(keyword))
    phone = "9876543210_2"
    assert post(tenant, sim_body(keyword, phone=phone), token="staff").status_code == 200
    assert post(tenant, sim_body("good", phone=phone), token="staff").status_code == 200
    # Readable as Glific's clients read them: GraphQL `messages`.
    rows = sorted(tenant.data(OUTBOUND, {"phone": phone})["messages"], key=lambda r: int(r["id"]))
    assert [(r["flow"], r["body"]) for r in rows] == [
        ("INBOUND", keyword),
        ("OUTBOUND", "How was today?"),
        ("INBOUND", "good"),
        ("OUTBOUND", "Glad to hear it"),
    ]
    assert {r["contact"]["phone"] for r in rows} == {phone}
    # The other organization has the same simulator phone and saw none of it.
    assert other_tenant.data(OUTBOUND, {"phone": phone})["messages"] == []


def test_a_button_tap_answers_the_flow(tenant: Tenant) -> None:
    keyword = f"kw{uuid.uuid4().hex[:8]}"
    import_and_publish(tenant, feedback_flow(keyword))
    phone = "9876543210_3"
    assert post(tenant, sim_body(keyword, phone=phone)).status_code == 200
    tap = sim_body(phone=phone)
    tap["payload"]["type"] = "button_reply"
    tap["payload"]["payload"] = {"id": "node", "reply": "Bad 2", "title": "Bad"}
    assert post(tenant, tap).status_code == 200
    rows = sorted(tenant.data(OUTBOUND, {"phone": phone})["messages"], key=lambda r: int(r["id"]))
    assert [r["body"] for r in rows if r["flow"] == "OUTBOUND"] == [
        "How was today?",
        "Sorry to hear that",
    ]
