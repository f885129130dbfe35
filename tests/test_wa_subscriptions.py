"""WhatsApp-group subscriptions over the real `/socket` WebSocket: `receivedWaGroupMessage`,
`sentWaGroupMessage`, `sentWaGroupCollectionMessage` and `updateWaMessageStatus` carry the
group messages that Maytapi's callbacks store and that the organization sends (delivered by
the server's own job to a fake Maytapi on loopback), to the organization's subscribers only.
On SQLite and on PostgreSQL (where the events cross by NOTIFY)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from resolvers import events
from tests.test_jobs import wait_until
from tests.test_maytapi_webhook import MaytapiOrg
from tests.test_subscriptions import Socket
from tests.test_wa_group_flows import FLOWS, START
from tests.test_wa_group_messages import (
    GROUP,
    SEND_TO_COLLECTION,
    SendingOrg,
    fake,
    make_collection,
    wa_server,
)
from tests.utils.chat import import_and_publish
from tests.utils.fake_maytapi import FakeMaytapi
from tests.utils.fake_provider import Reply
from tests.utils.flow_engine import flow, node, send, uid
from tests.utils.server import LiveServer
from tests.utils.tenants import restrict_staff, unique_phone

WA_FIELDS = (
    "id body flow status bspStatus bspId isDm groupId errors messageNumber"
    " waGroup { id bspId label } contact { id name }"
)
WA_SUBSCRIPTIONS = (
    "receivedWaGroupMessage",
    "sentWaGroupMessage",
    "sentWaGroupCollectionMessage",
    "updateWaMessageStatus",
)


__all__ = ["fake", "wa_server"]  # the messages tests' fixtures, used here too


@pytest.fixture
def sockets() -> Iterator[list[Socket]]:
    opened: list[Socket] = []
    yield opened
    for socket in opened:
        socket.close()


def signed_in(sockets: list[Socket], org: MaytapiOrg, role: str = "staff") -> Socket:
    socket = Socket(org.server)
    sockets.append(socket)
    socket.sign_in(org.tenant, role=role)
    return socket


def watching(
    sockets: list[Socket], org: MaytapiOrg, role: str = "manager"
) -> tuple[Socket, dict[str, str]]:
    """A socket subscribed to every WA-group field and to the 1:1 message fields: {subscription
    id: field}. (A manager's: staff are not shown `bspId`, which holds the sender's number.)"""
    socket = signed_in(sockets, org, role)
    fields = {}
    for field in WA_SUBSCRIPTIONS:
        fields[socket.subscribe(field, org.org_id, WA_FIELDS)] = field
    for field in ("receivedMessage", "sentMessage", "updateMessageStatus"):
        fields[socket.subscribe(field, org.org_id, "id body")] = field
    return socket, fields


def next_events(socket: Socket, fields: dict[str, str], count: int) -> list[tuple[str, Any]]:
    """The next `count` events in the order they arrive, as (field, message)."""
    found = []
    for _ in range(count):
        message = socket.receive()
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message
        field = fields[message["id"]]
        found.append((field, message["payload"]["data"][field]))
    return found


def other_org_watching(sockets: list[Socket], server: LiveServer) -> Socket:
    other = MaytapiOrg(server)
    socket, _ = watching(sockets, other)
    return socket


# --- inbound -------------------------------------------------------------------------------


def test_a_callback_reaches_received_wa_group_message_once_and_only_this_organization(
    wa_server: LiveServer, sockets: list[Socket]
) -> None:
    org = MaytapiOrg(wa_server)
    socket, fields = watching(sockets, org)
    staff, staff_fields = watching(sockets, org, role="staff")
    other = other_org_watching(sockets, wa_server)

    sender = unique_phone()
    callback = org.message(sender=sender, text="hello group", name="Class 5")
    assert org.post(callback).status_code == 200
    [(_, seen_by_staff)] = next_events(staff, staff_fields, 1)
    assert seen_by_staff["bspId"] is None and seen_by_staff["body"] == "hello group"
    [(field, message)] = next_events(socket, fields, 1)
    assert field == "receivedWaGroupMessage"
    group = org.group("120363213149844251@g.us")
    contact = org.contact(sender)
    assert group is not None and contact is not None
    assert message == {
        "id": str(org.messages()[0].id),
        "body": "hello group",
        "flow": "INBOUND",
        "status": "received",
        "bspStatus": "DELIVERED",
        "bspId": callback["message"]["id"],
        "isDm": False,
        "groupId": None,
        "errors": "{}",
        "messageNumber": 1,
        "waGroup": {"id": str(group.id), "bspId": group.bsp_id, "label": "Class 5"},
        "contact": {"id": str(contact.id), "name": "user_a"},
    }
    # Maytapi delivering the same callback again stores nothing and tells nobody.
    assert org.post(callback).status_code == 200
    assert len(org.messages()) == 1
    assert socket.quiet()

    # A direct message to the managed phone is received too.
    assert org.post(org.message(sender=sender, text="just to you", group=None)).status_code == 200
    [(field, message)] = next_events(socket, fields, 1)
    assert (field, message["body"], message["isDm"], message["waGroup"]) == (
        "receivedWaGroupMessage",
        "just to you",
        True,
        None,
    )
    assert socket.quiet()
    assert other.quiet()


def test_what_the_managed_phone_said_is_a_sent_wa_group_message(
    wa_server: LiveServer, sockets: list[Socket]
) -> None:
    org = MaytapiOrg(wa_server)
    socket, fields = watching(sockets, org)
    said = org.message(sender=unique_phone(), text="from the handset", from_me=True)
    assert org.post(said).status_code == 200
    [(field, message)] = next_events(socket, fields, 1)
    assert field == "sentWaGroupMessage"
    assert (message["body"], message["flow"], message["status"]) == (
        "from the handset",
        "OUTBOUND",
        "sent",
    )
    assert socket.quiet()


# --- outbound --------------------------------------------------------------------------------


def test_a_sent_message_is_published_then_its_delivery_by_maytapi(
    wa_server: LiveServer, fake: FakeMaytapi, sockets: list[Socket]
) -> None:
    org = SendingOrg(wa_server, fake)
    socket, fields = watching(sockets, org)
    other = other_org_watching(sockets, wa_server)

    assert org.send({"message": "Hello group", "waGroupId": str(org.wa_group_id)}) == {
        "errors": None
    }
    (sent_field, sent), (update_field, update) = next_events(socket, fields, 2)
    assert (sent_field, update_field) == ("sentWaGroupMessage", "updateWaMessageStatus")
    [request] = fake.sent(org.product)
    assert isinstance(request.reply, dict)
    assert sent["id"] == update["id"]
    assert (sent["body"], sent["flow"]) == ("Hello group", "OUTBOUND")
    assert sent["waGroup"]["bspId"] == GROUP
    assert (update["status"], update["bspStatus"], update["bspId"]) == (
        "sent",
        "SENT",
        request.reply["data"]["msgId"],
    )
    assert socket.quiet()

    # Maytapi refuses the next one: the subscriber sees it fail, with Maytapi's answer.
    refusal = {"success": False, "message": "Phone is not active"}
    fake.script([Reply(200, refusal)])
    org.send({"message": "refused", "waGroupId": str(org.wa_group_id)})
    (sent_field, sent), (update_field, update) = next_events(socket, fields, 2)
    assert (sent_field, update_field) == ("sentWaGroupMessage", "updateWaMessageStatus")
    assert (update["body"], update["status"], update["bspStatus"]) == ("refused", "failed", "ERROR")
    assert json.loads(update["errors"]) == refusal
    assert socket.quiet()

    # A send that is refused before anything is written publishes nothing.
    body = org.tenant.gql(
        "mutation($input: WaMessageInput!) { sendMessageInWaGroup(input: $input) {"
        " errors { key message } } }",
        {"input": {"message": " ", "waGroupId": str(org.wa_group_id)}},
        role="staff",
    )
    assert body["data"]["sendMessageInWaGroup"]["errors"]
    assert socket.quiet()
    assert other.quiet()


def test_acks_and_errors_reach_update_wa_message_status_when_they_change_something(
    wa_server: LiveServer, sockets: list[Socket]
) -> None:
    org = MaytapiOrg(wa_server)
    for msg_id in ("out-1", "out-2"):
        said = org.message(sender=unique_phone(), from_me=True, message_id=msg_id)
        assert org.post(said).status_code == 200
    socket, fields = watching(sockets, org)
    other = other_org_watching(sockets, wa_server)

    org.ack("out-1", "seen")
    [(field, message)] = next_events(socket, fields, 1)
    assert (field, message["bspId"], message["bspStatus"]) == (
        "updateWaMessageStatus",
        "out-1",
        "READ",
    )
    org.ack("out-1", "delivered")  # late: the status stays, nobody is told
    assert socket.quiet()

    error = {
        "product_id": org.product,
        "phone_id": org.phone_id,
        "type": "error",
        "data": {"id": "out-2", "code": "E01", "message": "Could not deliver"},
    }
    assert org.post(error).status_code == 200
    [(field, message)] = next_events(socket, fields, 1)
    assert (field, message["bspId"], message["status"], message["bspStatus"]) == (
        "updateWaMessageStatus",
        "out-2",
        "failed",
        "ERROR",
    )
    assert "Could not deliver" in message["errors"]
    assert org.post(error).status_code == 200  # the same report again changes nothing
    org.ack("out-2", "seen")  # failed is final
    assert socket.quiet()
    assert other.quiet()


def test_a_collection_message_reaches_both_sent_fields_once_per_group(
    wa_server: LiveServer, fake: FakeMaytapi, sockets: list[Socket]
) -> None:
    org = SendingOrg(wa_server, fake)
    second = "120363000000000888@g.us"
    assert org.post(org.message(sender=unique_phone(), group=second, name="B")).status_code == 200
    second_group = org.group(second)
    assert second_group is not None
    collection = make_collection(org, "Teachers", [org.wa_group_id, int(second_group.id or 0)])
    socket = signed_in(sockets, org)
    fields = {
        socket.subscribe(field, org.org_id, WA_FIELDS): field
        for field in ("sentWaGroupMessage", "sentWaGroupCollectionMessage")
    }

    body = org.tenant.gql(
        SEND_TO_COLLECTION,
        {"input": {"message": "To all"}, "groupId": str(collection)},
        role="staff",
    )
    assert body["data"]["sendMessageToWaGroupCollection"] == {"success": True, "errors": None}
    found = next_events(socket, fields, 4)
    by_field: dict[str, list[Any]] = {}
    for field, message in found:
        by_field.setdefault(field, []).append(message)
    assert {f: len(m) for f, m in by_field.items()} == {
        "sentWaGroupMessage": 2,
        "sentWaGroupCollectionMessage": 2,
    }
    collection_messages = by_field["sentWaGroupCollectionMessage"]
    assert {m["waGroup"]["bspId"] for m in collection_messages} == {GROUP, second}
    assert {(m["body"], m["groupId"]) for m in collection_messages} == {("To all", int(collection))}
    assert {m["id"] for m in collection_messages} == {
        m["id"] for m in by_field["sentWaGroupMessage"]
    }
    # A single group's message is not a collection's.
    org.send({"message": "just one", "waGroupId": str(org.wa_group_id)})
    [(field, message)] = next_events(socket, fields, 1)
    assert (field, message["body"], message["groupId"]) == ("sentWaGroupMessage", "just one", None)
    wait_until(lambda: org.settled(3))
    assert socket.quiet()


def test_a_flows_message_in_a_group_reaches_sent_wa_group_message(
    wa_server: LiveServer, fake: FakeMaytapi, sockets: list[Socket]
) -> None:
    org = SendingOrg(wa_server, fake)
    notice = flow(f"Notice {uuid.uuid4().hex[:6]}", [node(uid("n"), [send("Notice")])])
    import_and_publish(org.tenant, (notice, []))
    flows = org.tenant.data(FLOWS, {"n": notice["name"]})["flows"]
    flow_id = next(f["id"] for f in flows if f["uuid"] == notice["uuid"])
    socket, fields = watching(sockets, org)

    started = org.tenant.data(START, {"f": flow_id, "g": str(org.wa_group_id)})
    assert started["startWaGroupFlow"]["success"] is True
    (sent_field, sent), (update_field, update) = next_events(socket, fields, 2)
    assert (sent_field, sent["body"], sent["flow"]) == ("sentWaGroupMessage", "Notice", "OUTBOUND")
    assert (update_field, update["id"], update["status"]) == (
        "updateWaMessageStatus",
        sent["id"],
        "sent",
    )
    assert socket.quiet()


# --- organizations -------------------------------------------------------------------------


def test_a_wa_subscription_must_name_the_users_own_organization_with_staff(
    wa_server: LiveServer, sockets: list[Socket]
) -> None:
    org, other = MaytapiOrg(wa_server), MaytapiOrg(wa_server)
    socket = signed_in(sockets, org)
    for field in WA_SUBSCRIPTIONS:
        op_id = socket.subscribe(field, other.org_id, "id", wait=False)
        answer = socket.receive()
        assert answer["id"] == op_id
        assert answer["type"] == "error", answer
        assert [e["message"] for e in answer["payload"]] == ["Auth Credentials mismatch"]
    assert socket.subscribers(other.org_id) == 0

    nobody = signed_in(sockets, org, role="none")
    for field in WA_SUBSCRIPTIONS:
        nobody.subscribe(field, org.org_id, "id", wait=False)
        answer = nobody.receive()
        assert answer["type"] == "error", answer
        assert [e["message"] for e in answer["payload"]] == ["Unauthorized"]
    assert socket.subscribers(org.org_id) == 0

    # Nothing of another organization is read for an event, even one naming its message.
    assert org.post(org.message(sender=unique_phone(), text="ours")).status_code == 200
    [ours] = org.messages()
    watcher, _ = watching(sockets, other)

    async def publish_for_other() -> None:
        events.publish(
            wa_server.db, other.org_id, events.RECEIVED_WA_GROUP_MESSAGE, int(ours.id or 0)
        )

    wa_server.run(publish_for_other)
    assert watcher.quiet()


def test_a_restricted_staff_user_hears_only_of_their_collections_groups(
    wa_server: LiveServer, sockets: list[Socket]
) -> None:
    """As the group lists, the live events: a staff user restricted to some collections is
    told of messages in those collections' WhatsApp groups only."""
    org = MaytapiOrg(wa_server)
    theirs, other = "120363000000000011@g.us", "120363000000000022@g.us"
    for group in (theirs, other):
        assert (
            org.post(org.message(sender=unique_phone(), group=group, name=group)).status_code == 200
        )
    restrict_staff(org.tenant)  # the collection "My families"
    every = org.tenant.data("{ groups { id label } }")["groups"]
    families = next(g["id"] for g in every if g["label"] == "My families")
    wa_group = org.group(theirs)
    assert wa_group is not None
    org.tenant.data(
        "mutation($i: UpdateCollectionWaGroupInput!) { updateCollectionWaGroup(input: $i) {"
        " waGroupsDeleted } }",
        {"i": {"groupId": families, "addWaGroupIds": [str(wa_group.id)], "deleteWaGroupIds": []}},
    )
    socket, fields = watching(sockets, org, role="staff")
    assert (
        org.post(org.message(sender=unique_phone(), group=other, text="not yours")).status_code
        == 200
    )
    assert (
        org.post(org.message(sender=unique_phone(), group=theirs, text="yours")).status_code == 200
    )
    [(field, message)] = next_events(socket, fields, 1)
    assert (field, message["body"]) == ("receivedWaGroupMessage", "yours")
    assert socket.quiet()
