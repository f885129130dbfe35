"""Subscriptions over the `/socket` WebSocket (graphql-transport-ws), against the live server:
the socket signs in with `connection_init {authToken}`; a subscription names the user's own
organization; messages received over HTTP (the simulator endpoint), the flow's replies and
status callbacks reach the organization's subscribers, and nobody else's; on PostgreSQL a
subscriber of one server sees what another server on the same database handled."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import json
import uuid
from collections.abc import AsyncGenerator, Iterator
from pathlib import Path
from typing import Any

import pytest
from graphql import GraphQLSchema, validate
from sqlalchemy.ext.asyncio import AsyncSession
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

from models import Message, utcnow
from resolvers import events, inbound, providers
from resolvers import messages as messages_module
from resolvers.conversation import InboundMessage
from resolvers.errors import GENERIC_ERROR
from resolvers.flow_engine.state import Input
from schema import RootSubscriptionType, build_schema
from tests.conftest import fresh_database
from tests.test_jobs import wait_until
from tests.utils.chat import Phone, import_and_publish
from tests.utils.client_ops import Operation, ShapeRules, client_ops_dir, shape_problems
from tests.utils.flow_builder import FlowBuilder
from tests.utils.server import LiveServer, start_server
from tests.utils.tenants import Tenant, create_tenant, restrict_staff, unique_phone

PROTOCOL = Subprotocol("graphql-transport-ws")
# Enough to tell the messages apart (the web app's own documents: the tests at the end).
MESSAGE_FIELDS = "id body uuid flow type insertedAt bspStatus sender { id } receiver { id }"
SUBSCRIPTION = "subscription ($organizationId: ID!) { %s(organizationId: $organizationId) %s }"
QUIET = 0.5  # how long "nothing arrives" is watched for

_ids = itertools.count(1)


class Socket:
    """A graphql-transport-ws client, as Glific's web app (graphql-ws) speaks it."""

    def __init__(self, server: LiveServer, origin: str | None = None) -> None:
        self.server = server
        url = server.base_url.replace("http://", "ws://") + "/socket"
        self.ws: ClientConnection = connect(
            url,
            subprotocols=[PROTOCOL],
            origin=origin,  # type: ignore[arg-type]  # websockets types it as Origin | None
            open_timeout=10,
        ).__enter__()  # closed by close()

    def send(self, message: dict[str, Any]) -> None:
        self.ws.send(json.dumps(message))

    def receive(self, timeout: float = 10) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(self.ws.recv(timeout=timeout))
        return message

    def init(self, payload: dict[str, Any]) -> dict[str, Any]:
        self.send({"type": "connection_init", "payload": payload})
        return self.receive()

    def sign_in(self, tenant: Tenant, role: str = "staff") -> None:
        user_id = tenant.users[role]["id"]
        assert self.init({"authToken": tenant.token(role), "userId": user_id}) == {
            "type": "connection_ack"
        }

    def subscribe(
        self,
        field: str,
        organization_id: Any,
        selection: str = MESSAGE_FIELDS,
        *,
        wait: bool = True,
    ) -> str:
        """Subscribe; with `wait`, return once the server holds the subscriber (so what is
        published afterwards reaches it)."""
        op_id = str(next(_ids))
        before = self.subscribers(organization_id) if wait else 0
        self.send(
            {
                "id": op_id,
                "type": "subscribe",
                "payload": {
                    "query": SUBSCRIPTION % (field, f"{{ {selection} }}" if selection else ""),
                    "variables": {"organizationId": str(organization_id)},
                },
            }
        )
        if wait:
            wait_until(lambda: self.subscribers(organization_id) > before, timeout=10)
        return op_id

    def subscribe_document(self, operation: Operation, organization_id: Any) -> str:
        """Subscribe with a client's document, as it sends it."""
        op_id = str(next(_ids))
        before = self.subscribers(organization_id)
        variables = {"organizationId": str(organization_id)}
        self.send(
            {
                "id": op_id,
                "type": "subscribe",
                "payload": {"query": operation.text, "variables": variables},
            }
        )
        wait_until(lambda: self.subscribers(organization_id) > before, timeout=10)
        return op_id

    def subscribers(self, organization_id: Any) -> int:
        async def count() -> int:
            return events.subscriber_count(self.server.db, int(organization_id))

        return self.server.run(count)

    def next_payloads(self, count: int, timeout: float = 10) -> dict[str, list[dict[str, Any]]]:
        """`count` `next` messages, by subscription id."""
        found: dict[str, list[dict[str, Any]]] = {}
        for _ in range(count):
            message = self.receive(timeout)
            assert message["type"] == "next", message
            assert "errors" not in message["payload"], message
            found.setdefault(message["id"], []).append(message["payload"]["data"])
        return found

    def quiet(self, seconds: float = QUIET) -> bool:
        """Nothing arrives for `seconds`."""
        try:
            message = self.ws.recv(timeout=seconds)
        except TimeoutError:
            return True
        raise AssertionError(f"unexpected message: {message!r}")

    def close(self) -> None:
        self.ws.close()


@pytest.fixture
def sockets(server: LiveServer) -> Iterator[list[Socket]]:
    opened: list[Socket] = []
    yield opened
    for socket in opened:
        socket.close()


def open_socket(opened: list[Socket], server: LiveServer, origin: str | None = None) -> Socket:
    socket = Socket(server, origin)
    opened.append(socket)
    return socket


def closed_with(socket: Socket) -> tuple[int | None, str | None]:
    with pytest.raises(ConnectionClosed) as closed:
        socket.receive()
    received = closed.value.rcvd
    return (received.code, received.reason) if received else (None, None)


def welcome_flow(name: str) -> dict[str, Any]:
    f = FlowBuilder(name)
    f.send("hello", "Welcome to the bot", None)
    return f.build()


# --- signing in --------------------------------------------------------------------------


def test_a_live_token_is_acknowledged_and_anything_else_closes_the_socket_forbidden(
    server: LiveServer, tenant: Tenant, sockets: list[Socket]
) -> None:
    good = open_socket(sockets, server)
    assert good.ws.subprotocol == PROTOCOL  # echoed: browsers refuse the upgrade otherwise
    good.sign_in(tenant)
    good.send({"type": "ping"})
    assert good.receive() == {"type": "pong"}

    for payload in ({}, {"authToken": ""}, {"authToken": "not-a-token"}, {"authToken": 5}):
        socket = open_socket(sockets, server)
        socket.send({"type": "connection_init", "payload": payload})
        assert closed_with(socket) == (4403, "Forbidden"), payload

    # No subscription before the connection is acknowledged.
    early = open_socket(sockets, server)
    early.send(
        {
            "id": "1",
            "type": "subscribe",
            "payload": {"query": SUBSCRIPTION % ("receivedMessage", "{ id }")},
        }
    )
    assert closed_with(early)[0] == 4401


def test_browsers_connect_only_from_the_configured_origins(
    server: LiveServer, tenant: Tenant, sockets: list[Socket]
) -> None:
    allowed = open_socket(sockets, server, origin="http://frontend.test")  # CORS_ORIGINS
    allowed.sign_in(tenant)
    with pytest.raises(InvalidStatus) as refused:
        Socket(server, origin="http://evil.test")
    assert refused.value.response.status_code == 403


# --- organizations -------------------------------------------------------------------------


def test_a_subscription_must_name_the_users_own_organization(
    server: LiveServer, tenant: Tenant, other_tenant: Tenant, sockets: list[Socket]
) -> None:
    socket = open_socket(sockets, server)
    socket.sign_in(tenant)
    for field in ("receivedMessage", "sentSimulatorMessage", "updateMessageStatus"):
        op_id = socket.subscribe(field, other_tenant.org_id, "id", wait=False)
        answer = socket.receive()
        assert answer["id"] == op_id
        assert answer["type"] == "error", answer
        assert [e["message"] for e in answer["payload"]] == ["Auth Credentials mismatch"]
    assert socket.subscribers(other_tenant.org_id) == 0

    # A user without a role reads no messages over HTTP, nor here.
    none = open_socket(sockets, server)
    none.sign_in(tenant, role="none")
    none.subscribe("receivedMessage", tenant.org_id, "id", wait=False)
    answer = none.receive()
    assert answer["type"] == "error" and answer["payload"][0]["message"] == "Unauthorized"

    # The silent fields the web app subscribes to are accepted (and checked the same way).
    for field in ("simulatorRelease", "bspBalance", "collectionCount"):
        socket.subscribe(field, tenant.org_id, "", wait=False)
    socket.subscribe("sentGroupMessage", tenant.org_id, "id", wait=False)
    socket.subscribe("bspBalance", other_tenant.org_id, "", wait=False)
    answer = socket.receive()
    assert answer["type"] == "error", answer
    assert answer["payload"][0]["message"] == "Auth Credentials mismatch"
    assert socket.quiet()


# --- messages ------------------------------------------------------------------------------


def test_a_simulator_message_and_the_flows_reply_reach_the_subscribers(
    server: LiveServer, tenant: Tenant, other_tenant: Tenant, sockets: list[Socket]
) -> None:
    import_and_publish(tenant, (welcome_flow("Welcome " + tenant.shortcode), ["hello"]))
    socket = open_socket(sockets, server)
    socket.sign_in(tenant)
    received = socket.subscribe("receivedMessage", tenant.org_id)
    received_sim = socket.subscribe("receivedSimulatorMessage", tenant.org_id)
    sent = socket.subscribe("sentMessage", tenant.org_id)
    sent_sim = socket.subscribe("sentSimulatorMessage", tenant.org_id)
    statuses = socket.subscribe("updateMessageStatus", tenant.org_id)
    # Another organization's subscriber, on a socket of its own.
    other = open_socket(sockets, server)
    other.sign_in(other_tenant)
    for field in ("receivedMessage", "sentMessage", "receivedSimulatorMessage"):
        other.subscribe(field, other_tenant.org_id)

    phone = Phone(tenant)
    assert phone.say("hello") == ["Welcome to the bot"]
    contact_id = str(phone.contact_id())
    found = socket.next_payloads(4)
    assert set(found) == {received, received_sim, sent, sent_sim}
    for op_id in (received, received_sim):
        [data] = found[op_id]
        message = next(iter(data.values()))
        assert message["body"] == "hello"
        assert message["flow"] == "INBOUND"
        assert message["sender"] == {"id": contact_id}
    for op_id in (sent, sent_sim):
        [data] = found[op_id]
        message = next(iter(data.values()))
        assert message["body"] == "Welcome to the bot"
        assert message["flow"] == "OUTBOUND"
        assert message["receiver"] == {"id": contact_id}
    assert statuses not in found
    assert socket.quiet()
    assert other.quiet()


def test_a_real_phones_message_is_not_a_simulator_event(
    server: LiveServer, tenant: Tenant, sockets: list[Socket]
) -> None:
    socket = open_socket(sockets, server)
    socket.sign_in(tenant)
    socket.subscribe("receivedSimulatorMessage", tenant.org_id)
    socket.subscribe("sentSimulatorMessage", tenant.org_id)
    received = socket.subscribe("receivedMessage", tenant.org_id)
    message = InboundMessage(
        phone=unique_phone(),
        input=Input(text="from a real phone"),
        provider_message_id=str(uuid.uuid4()),
        provider="gupshup",
    )

    async def receive() -> None:
        # Where every channel's message ends (a provider's arrives through a job).
        await inbound.receive(server.db, tenant.org_id, message)

    server.run(receive)
    [data] = socket.next_payloads(1)[received]
    assert data["receivedMessage"]["body"] == "from a real phone"
    assert socket.quiet()


def test_restricted_staff_hear_and_read_only_the_messages_of_contacts_they_may_see(
    server: LiveServer, tenant: Tenant, sockets: list[Socket]
) -> None:
    """A staff user restricted to a collection sees only its contacts (Glific's
    `is_restricted`): here their messages too, live and when asked, as a contact's WhatsApp
    groups are (Glific does not narrow messages: a deliberate difference)."""
    asha_phone, ravi_phone = unique_phone(), unique_phone()
    asha = tenant.create_contact("Asha", phone=asha_phone)["id"]
    tenant.create_contact("Ravi", phone=ravi_phone)
    restrict_staff(tenant, asha)
    staff = open_socket(sockets, server)
    staff.sign_in(tenant)
    heard = staff.subscribe("receivedMessage", tenant.org_id)
    manager = open_socket(sockets, server)
    manager.sign_in(tenant, role="manager")
    heard_by_manager = manager.subscribe("receivedMessage", tenant.org_id)
    for phone, text in ((ravi_phone, "from Ravi"), (asha_phone, "from Asha")):
        message = InboundMessage(
            phone=phone, input=Input(text=text), provider_message_id=str(uuid.uuid4())
        )
        server.run(functools.partial(inbound.receive, server.db, tenant.org_id, message))
    everything = manager.next_payloads(2)[heard_by_manager]
    ids = {d["receivedMessage"]["body"]: d["receivedMessage"]["id"] for d in everything}
    assert set(ids) == {"from Ravi", "from Asha"}
    [only] = staff.next_payloads(1)[heard]
    assert only["receivedMessage"]["body"] == "from Asha"
    assert staff.quiet()

    one = "query($id: ID!) { message(id: $id) { message { body } errors { message } } }"
    hidden = tenant.data(one, {"id": ids["from Ravi"]}, role="staff")["message"]
    assert hidden["message"] is None and hidden["errors"] == [{"message": "Resource not found"}]
    shown = tenant.data(one, {"id": ids["from Asha"]}, role="staff")["message"]
    assert shown["message"] == {"body": "from Asha"}
    listed = "{ messages { body } countMessages }"  # (no flow here answers: no replies)
    for role, bodies in (("staff", {"from Asha"}), ("manager", {"from Asha", "from Ravi"})):
        found = tenant.data(listed, role=role)
        assert {m["body"] for m in found["messages"]} == bodies, role
        assert found["countMessages"] == len(bodies), role


def test_a_message_to_a_collection_reaches_sent_group_message(
    server: LiveServer, tenant: Tenant, sockets: list[Socket]
) -> None:
    socket = open_socket(sockets, server)
    socket.sign_in(tenant)
    sent = socket.subscribe("sentGroupMessage", tenant.org_id, "id body groupId")
    member = tenant.create_contact("In the class", phone=unique_phone())["id"]
    group_id = tenant.data(
        "mutation($i: GroupInput!) { createGroup(input: $i) { group { id } } }",
        {"i": {"label": f"Class {uuid.uuid4().hex[:6]}"}},
    )["createGroup"]["group"]["id"]
    tenant.data(
        "mutation($i: GroupContactsInput!) { updateGroupContacts(input: $i) { numberDeleted } }",
        {"i": {"groupId": group_id, "addContactIds": [member], "deleteContactIds": []}},
    )
    result = tenant.data(
        "mutation($input: MessageInput!, $g: ID!) {"
        " createAndSendMessageToGroup(input: $input, groupId: $g) { success } }",
        {"input": {"body": "No class tomorrow", "type": "TEXT"}, "g": group_id},
        role="staff",
    )
    assert result["createAndSendMessageToGroup"]["success"] is True
    [data] = socket.next_payloads(1)[sent]
    assert data["sentGroupMessage"]["body"] == "No class tomorrow"
    assert data["sentGroupMessage"]["groupId"] == int(group_id)
    assert socket.quiet()


def configure_gupshup(server: LiveServer, tenant: Tenant) -> str:
    app = f"app-{uuid.uuid4().hex[:12]}"

    async def configure(session: AsyncSession) -> None:
        await providers.set_provider(
            session,
            tenant.org_id,
            "gupshup",
            app,
            {"api_key": "k", "source_number": "919900000001", "api_url": "http://127.0.0.1:9"},
            sends_replies=False,
        )

    server.in_transaction(configure)
    return app


def test_a_status_callback_reaches_update_message_status(
    server: LiveServer, tenant: Tenant, other_tenant: Tenant, sockets: list[Socket]
) -> None:
    app = configure_gupshup(server, tenant)
    contact = tenant.create_contact("Status")
    provider_id = f"gs-{uuid.uuid4().hex}"

    async def store(session: AsyncSession) -> int:
        message = Message(
            organization_id=tenant.org_id,
            uuid=str(uuid.uuid4()),
            contact_id=int(contact["id"]),
            receiver_id=int(contact["id"]),
            flow="outbound",
            type="text",
            body="are you there?",
            status="sent",
            bsp_status="enqueued",
            bsp_message_id=provider_id,
            sent_at=utcnow(),
        )
        session.add(message)
        await session.flush()
        return int(message.id or 0)

    message_id = server.in_transaction(store)
    socket = open_socket(sockets, server)
    socket.sign_in(tenant)
    statuses = socket.subscribe(
        "updateMessageStatus", tenant.org_id, "id bspStatus errors receiver { id }"
    )
    other = open_socket(sockets, server)
    other.sign_in(other_tenant)
    other.subscribe("updateMessageStatus", other_tenant.org_id)

    def callback(kind: str) -> None:
        body = {
            "app": app,
            "type": "message-event",
            "timestamp": 1700000000000,
            "payload": {
                "id": "provider-side-id",
                "gsId": provider_id,
                "type": kind,
                "destination": contact["phone"],
                "payload": {"ts": 1700000001},
            },
        }
        assert server.client.post("/gupshup", json=body).status_code == 200

    callback("delivered")
    [data] = socket.next_payloads(1)[statuses]
    assert data["updateMessageStatus"] == {
        "id": str(message_id),
        "bspStatus": "DELIVERED",
        "errors": "{}",
        "receiver": {"id": contact["id"]},
    }
    callback("sent")  # backwards: ignored, and nothing is published
    assert socket.quiet()
    callback("read")
    [data] = socket.next_payloads(1)[statuses]
    assert data["updateMessageStatus"]["bspStatus"] == "READ"
    assert other.quiet()


# --- the event bus --------------------------------------------------------------------------

ORG_A, ORG_B = 2_000_000_001, 2_000_000_002  # no such organizations: the bus does not care


async def _registered(db: Any, org_id: int, count: int) -> None:
    async with asyncio.timeout(5):
        while events.subscriber_count(db, org_id) < count:  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def _next(stream: AsyncGenerator[events.Event, None]) -> events.Event:
    async with asyncio.timeout(5):
        return await anext(stream)


def test_the_bus_hands_an_event_to_its_organizations_subscribers_of_its_topic(
    server: LiveServer,
) -> None:
    db = server.db

    async def go() -> None:
        a = events.subscribe(db, ORG_A, {events.SENT_MESSAGE})
        b = events.subscribe(db, ORG_B, {events.SENT_MESSAGE, events.RECEIVED_MESSAGE})
        next_a, next_b = asyncio.ensure_future(_next(a)), asyncio.ensure_future(_next(b))
        await _registered(db, ORG_A, 1)
        await _registered(db, ORG_B, 1)
        events.publish(db, ORG_A, events.RECEIVED_MESSAGE, 1)  # a topic A did not ask for
        events.publish(db, ORG_B, events.RECEIVED_MESSAGE, 2)
        events.publish(db, ORG_A, events.SENT_MESSAGE, 3)
        assert await next_a == events.Event(ORG_A, events.SENT_MESSAGE, 3)
        assert await next_b == events.Event(ORG_B, events.RECEIVED_MESSAGE, 2)
        await a.aclose()
        await b.aclose()
        assert events.subscriber_count(db, ORG_A) == events.subscriber_count(db, ORG_B) == 0

    server.run(go)


def test_events_go_out_when_the_transaction_commits_and_never_after_a_rollback(
    server: LiveServer,
) -> None:
    db = server.db

    async def go() -> None:
        stream = events.subscribe(db, ORG_A, {events.SENT_MESSAGE})
        waiting = asyncio.ensure_future(_next(stream))
        await _registered(db, ORG_A, 1)
        # One session, two transactions: what the first collected goes with its rollback.
        async with db.session(ORG_A, write=True) as session:
            with contextlib.suppress(RuntimeError):
                async with session.begin():
                    events.collect(session, ORG_A, events.SENT_MESSAGE, 10)
                    raise RuntimeError("rolled back")
            async with session.begin():
                events.collect(session, ORG_A, events.SENT_MESSAGE, 11)
                async with session.begin_nested():  # a savepoint released is no commit
                    events.collect(session, ORG_A, events.SENT_MESSAGE, 12)
                await asyncio.sleep(0.3)
                assert not waiting.done()  # not before the commit
        assert await waiting == events.Event(ORG_A, events.SENT_MESSAGE, 11)
        assert await _next(stream) == events.Event(ORG_A, events.SENT_MESSAGE, 12)
        await stream.aclose()

    server.run(go)


def test_a_subscriber_that_falls_behind_is_ended_and_publishers_never_wait(
    server: LiveServer,
) -> None:
    db = server.db

    async def go() -> None:
        slow = events.subscribe(db, ORG_B, {events.SENT_MESSAGE})
        first = asyncio.ensure_future(_next(slow))
        marker = events.subscribe(db, ORG_A, {events.SENT_MESSAGE})
        marked = asyncio.ensure_future(_next(marker))
        await _registered(db, ORG_B, 1)
        await _registered(db, ORG_A, 1)
        for message_id in range(events.QUEUE_SIZE + 2):
            events.publish(db, ORG_B, events.SENT_MESSAGE, message_id)
        events.publish(db, ORG_A, events.SENT_MESSAGE, 0)
        await marked  # events arrive in order: all of B's have been handed over
        await marker.aclose()
        assert (await first).message_id == 0
        with pytest.raises(events.SubscriberTooSlow):
            for _ in range(events.QUEUE_SIZE + 2):
                await _next(slow)
        assert events.subscriber_count(db, ORG_B) == 0

    server.run(go)


# --- the web app's documents ---------------------------------------------------------------

DOCUMENTS = (
    "Chat__MESSAGE_RECEIVED_SUBSCRIPTION",
    "Chat__MESSAGE_STATUS_SUBSCRIPTION",
    "Simulator__SIMULATOR_MESSAGE_SENT_SUBSCRIPTION",
    "PeriodicInfo__SIMULATOR_RELEASE_SUBSCRIPTION",
)


def web_app_document(name: str) -> Operation:
    path: Path = client_ops_dir() / "frontend" / f"{name}.graphql"
    if not path.exists():
        pytest.skip(f"reference data not found: {path}")
    return Operation.load(path)


@functools.cache
def our_schema() -> GraphQLSchema:
    from settings import Settings

    settings = Settings(environment="test", secret_key="test-secret-key")
    return build_schema(settings, subscription=RootSubscriptionType)._schema


@pytest.mark.parametrize("name", DOCUMENTS)
def test_the_web_apps_subscription_documents_validate(name: str) -> None:
    operation = web_app_document(name)
    assert validate(our_schema(), operation.document) == []


def test_the_web_apps_documents_get_the_shape_they_ask_for(
    server: LiveServer, tenant: Tenant, sockets: list[Socket]
) -> None:
    received_doc = web_app_document("Chat__MESSAGE_RECEIVED_SUBSCRIPTION")
    sent_sim_doc = web_app_document("Simulator__SIMULATOR_MESSAGE_SENT_SUBSCRIPTION")
    # Simulator.ts's received subscription selects what its sent one does.
    received_sim_doc = Operation.from_text(
        sent_sim_doc.text.replace("sentSimulatorMessage", "receivedSimulatorMessage")
    )
    import_and_publish(tenant, (welcome_flow("Welcome " + tenant.shortcode), ["hello"]))
    socket = open_socket(sockets, server)
    socket.sign_in(tenant)
    by_id = {
        socket.subscribe_document(doc, tenant.org_id): doc
        for doc in (received_doc, sent_sim_doc, received_sim_doc)
    }
    assert Phone(tenant).say("hello") == ["Welcome to the bot"]
    found = socket.next_payloads(3)
    assert set(found) == set(by_id)
    # A text has no media, location, quoted message or form; messages do not record the
    # organization's contact (Glific's sender of a reply, receiver of an inbound message).
    roots = ("receivedMessage", "sentSimulatorMessage", "receivedSimulatorMessage")
    never = ("media", "location", "contextMessage", "whatsappFormResponse")
    org_side = ("receivedMessage.receiver", "receivedSimulatorMessage.receiver")
    rules = ShapeRules(
        null_objects=(
            *(f"{root}.{field}" for root in roots for field in never),
            *org_side,
            "sentSimulatorMessage.sender",
        )
    )
    for op_id, [data] in found.items():
        problems = shape_problems(our_schema(), by_id[op_id], data, rules)
        assert problems == [], problems


# --- several processes ---------------------------------------------------------------------


@pytest.fixture
def second_pair(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two servers on one database of their own (PostgreSQL only: SQLite is one process)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("events cross processes through PostgreSQL's LISTEN/NOTIFY")
    with fresh_database(database_url, tmp_path_factory) as url:
        first = start_server(url)
        second = start_server(url)
        try:
            yield first, second
        finally:
            first.stop()
            second.stop()


def test_a_subscriber_on_one_server_sees_a_message_another_server_handled(
    second_pair: tuple[LiveServer, LiveServer],
) -> None:
    listening, handling = second_pair
    tenant = create_tenant(handling)
    import_and_publish(tenant, (welcome_flow("Welcome " + tenant.shortcode), ["hello"]))
    socket = Socket(listening)
    try:
        socket.sign_in(tenant)
        received = socket.subscribe("receivedMessage", tenant.org_id)
        sent = socket.subscribe("sentSimulatorMessage", tenant.org_id)
        assert Phone(tenant).say("hello") == ["Welcome to the bot"]
        found = socket.next_payloads(2)
        assert found[received][0]["receivedMessage"]["body"] == "hello"
        assert found[sent][0]["sentSimulatorMessage"]["body"] == "Welcome to the bot"
        assert socket.quiet()
    finally:
        socket.close()


@pytest.mark.parametrize(
    ("field", "selection", "broken"),
    [
        # Reading the event's message (the subscription's source).
        ("receivedMessage", "id body", "message_read"),
        # Resolving one field of it (execution).
        ("sentMessage", "id sendBy", "send_by"),
    ],
)
def test_a_crash_while_serving_a_subscription_shows_only_the_generic_error(
    server: LiveServer,
    tenant: Tenant,
    sockets: list[Socket],
    monkeypatch: pytest.MonkeyPatch,
    field: str,
    selection: str,
    broken: str,
) -> None:
    # A bug met while serving an event must not hand its details (SQL, values, paths) to
    # the socket's client: Glific's generic message, as over HTTP.
    def crash(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("SELECT secret FROM internals WHERE password = 'hunter2'")

    import_and_publish(tenant, (welcome_flow("Crash " + tenant.shortcode), ["hello"]))
    socket = open_socket(sockets, server)
    socket.sign_in(tenant)
    op_id = socket.subscribe(field, tenant.org_id, selection)
    monkeypatch.setattr(messages_module, broken, crash)
    Phone(tenant).say("hello")
    answer = socket.receive()
    assert answer["id"] == op_id
    text = json.dumps(answer)
    assert "hunter2" not in text and "internals" not in text, answer
    assert GENERIC_ERROR in text, answer
