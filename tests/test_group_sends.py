"""Sending one text to a whole collection (resolvers/group_sends.py): the collection's own
message, one copy per valid member inside the 24-hour window, written by a job in chunks
that never repeat a member, and nothing for a collection the user may not reach."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from resolvers import group_sends
from tests.utils.chat import Phone, import_and_publish
from tests.utils.client_ops_data import receive_text
from tests.utils.flow_builder import FlowBuilder
from tests.utils.flow_defs import small_flow
from tests.utils.tenants import Tenant, create_tenant, restrict_staff, unique_phone

CREATE_GROUP = """mutation($i: GroupInput!) { createGroup(input: $i) { group { id } } }"""
MEMBERS = """mutation($i: GroupContactsInput!) { updateGroupContacts(input: $i) {
  numberDeleted } }"""
SEND = """mutation($input: MessageInput!, $group: ID!) {
  createAndSendMessageToGroup(input: $input, groupId: $group) {
    success contactIds errors { key message } } }"""
GROUP = """query($id: ID!) { group(id: $id) { group {
  lastCommunicationAt messages { body groupId user { name } } } } }"""
BROADCAST = (
    """query($id: ID!) { group(id: $id) { group { messages { body messageBroadcastId } } } }"""
)
STATS = """query($id: ID!) { broadcastStats(messageBroadcastId: $id) }"""
MESSAGES = """query($id: ID!) { messages(filter: {contactId: $id}) { body flow groupId } }"""
COLLECTIONS = """query($id: Gid!) {
  search(filter: {searchGroup: true, id: $id}, contactOpts: {limit: 5}, messageOpts: {limit: 5}) {
    group { id } messages { body } } }"""
BLOCK = """mutation($id: ID!) { updateContact(id: $id, input: {status: BLOCKED}) {
  errors { message } } }"""


def _collection(tenant: Tenant, *contact_ids: str) -> str:
    group_id: str = tenant.data(CREATE_GROUP, {"i": {"label": f"Class {unique_phone()}"}})[
        "createGroup"
    ]["group"]["id"]
    members = {"groupId": group_id, "addContactIds": list(contact_ids), "deleteContactIds": []}
    tenant.data(MEMBERS, {"i": members})
    return group_id


def _talking(tenant: Tenant, name: str) -> str:
    phone = unique_phone()
    contact_id: str = tenant.create_contact(name, phone=phone)["id"]
    receive_text(tenant, phone, "Hello")
    return contact_id


def _copies(tenant: Tenant, contact_id: str) -> list[dict[str, Any]]:
    messages = tenant.data(MESSAGES, {"id": contact_id})["messages"]
    return [m for m in messages if m["groupId"] is not None]


def _until(check: Any, seconds: float = 20.0) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def _send(tenant: Tenant, group_id: str, body: str | None, role: str = "staff") -> Any:
    variables = {"input": {"body": body, "type": "TEXT"}, "group": group_id}
    return tenant.gql(SEND, variables, role=role)


def test_a_collection_gets_one_copy_per_member_inside_the_window(timed_tenant: Tenant) -> None:
    tenant = timed_tenant
    asha, ravi = _talking(tenant, "Asha Group"), _talking(tenant, "Ravi Group")
    quiet = tenant.create_contact("Never wrote", phone=unique_phone())["id"]
    blocked = _talking(tenant, "Blocked Group")
    tenant.data(BLOCK, {"id": blocked})
    group_id = _collection(tenant, asha, ravi, quiet, blocked)
    result = _send(tenant, group_id, "Tomorrow is a holiday")["data"]
    sent = result["createAndSendMessageToGroup"]
    assert sent["success"] is True and sent["errors"] is None
    assert sorted(sent["contactIds"]) == sorted([asha, ravi, quiet])  # valid members
    for member in (asha, ravi):
        copies = _until(lambda m=member: _copies(tenant, m))
        assert [(c["body"], c["flow"], c["groupId"]) for c in copies] == [
            ("Tomorrow is a holiday", "OUTBOUND", int(group_id))
        ]
    # Outside the window (never wrote) and blocked: no copy.
    assert _copies(tenant, quiet) == [] and _copies(tenant, blocked) == []
    group = tenant.data(GROUP, {"id": group_id})["group"]["group"]
    assert group["lastCommunicationAt"] is not None
    assert group["messages"] == [
        {"body": "Tomorrow is a holiday", "groupId": int(group_id), "user": {"name": "Staff User"}}
    ]
    # The chat screen's collections list shows it too.
    listed = tenant.data(COLLECTIONS, {"id": group_id})["search"]
    assert [[m["body"] for m in c["messages"]] for c in listed] == [["Tomorrow is a holiday"]]
    # Its figures: two copies sent (through the log provider), one member out of the window.
    assert _stats(tenant, group_id) == {
        "success": 2,
        "failed": 1,
        "pending": 0,
        "msg_categories": {"sent": 2, "read": 0, "delivered": 0, "enqueued": 2, "error": 0},
    }


def _stats(tenant: Tenant, group_id: str) -> dict[str, Any]:
    """broadcastStats of the collection's newest broadcast, once every member is reached."""
    (own, *_) = tenant.data(BROADCAST, {"id": group_id})["group"]["group"]["messages"]
    assert own["messageBroadcastId"] is not None, own

    def figures() -> dict[str, Any] | None:
        found = json.loads(tenant.data(STATS, {"id": own["messageBroadcastId"]})["broadcastStats"])
        return found if found["pending"] == 0 else None

    return _until(figures) or {}


def test_broadcast_stats_are_a_managers_and_their_organizations(timed_tenant: Tenant) -> None:
    tenant = timed_tenant
    other_tenant = create_tenant(tenant.server)
    group_id = _collection(tenant, _talking(tenant, "Stats member"))
    _send(tenant, group_id, "Results are out")
    (own,) = tenant.data(BROADCAST, {"id": group_id})["group"]["group"]["messages"]
    broadcast = own["messageBroadcastId"]
    assert tenant.gql(STATS, {"id": broadcast}, role="staff")["errors"][0]["message"] == (
        "Unauthorized"
    )
    for who, id_ in ((other_tenant, broadcast), (tenant, "999999999")):
        body = who.gql(STATS, {"id": id_})
        assert body["data"]["broadcastStats"] is None
        assert body["errors"][0]["message"] == "Resource not found"


def test_members_are_written_in_chunks_each_once(
    timed_tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = timed_tenant
    monkeypatch.setattr(group_sends, "CHUNK", 2)  # five members: three chunks
    members = [_talking(tenant, f"Chunk {n}") for n in range(5)]
    group_id = _collection(tenant, *members)
    assert _send(tenant, group_id, "Exams start on Monday")["data"]["createAndSendMessageToGroup"][
        "success"
    ]
    for member in members:
        copies = _until(lambda m=member: _copies(tenant, m))
        assert [c["body"] for c in copies] == ["Exams start on Monday"], member
    time.sleep(1.0)  # the jobs have run out: still one copy each
    assert all(len(_copies(tenant, m)) == 1 for m in members)


def test_what_cannot_be_sent_to_a_collection(timed_tenant: Tenant) -> None:
    tenant = timed_tenant
    mine, theirs = _talking(tenant, "Mine Group"), _talking(tenant, "Theirs Group")
    their_group = _collection(tenant, theirs)
    restrict_staff(tenant, mine)  # the staff user now reaches only "My families"
    refused = _send(tenant, their_group, "Hello")["data"]["createAndSendMessageToGroup"]
    assert refused["success"] is False and refused["errors"][0]["message"] == "Resource not found"
    empty = _send(tenant, their_group, "  ", role="manager")
    assert empty["errors"][0]["message"] == "Could not send message with empty body"
    time.sleep(0.5)
    assert _copies(tenant, theirs) == []


START_FLOW = """mutation($flow: ID!, $group: ID!) {
  startGroupFlow(flowId: $flow, groupId: $group) { success errors { key message } } }"""
FLOW_ID = """query($k: String!) { flows(filter: {keyword: $k}) { id } }"""


def _asked(tenant: Tenant, contact_id: str) -> list[str]:
    """The flow's question, as often as the contact was sent it."""
    return [
        m["body"]
        for m in tenant.data(MESSAGES, {"id": contact_id})["messages"]
        if m["flow"] == "OUTBOUND" and m["body"].startswith("How was class today")
    ]


def test_a_flow_starts_for_every_valid_member_once(
    timed_tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = timed_tenant
    monkeypatch.setattr(group_sends, "CHUNK", 2)  # three valid members: two chunks
    keyword = f"feedback{unique_phone()[-5:]}"
    import_and_publish(tenant, (small_flow(), [keyword]))
    flow_id = tenant.data(FLOW_ID, {"k": keyword})["flows"][0]["id"]
    members = [_talking(tenant, f"Flow member {n}") for n in range(3)]
    blocked = _talking(tenant, "Blocked member")
    tenant.data(BLOCK, {"id": blocked})
    group_id = _collection(tenant, *members, blocked)
    started = tenant.data(START_FLOW, {"flow": flow_id, "group": group_id})["startGroupFlow"]
    assert started == {"success": True, "errors": None}
    for member in members:
        assert len(_until(lambda m=member: _asked(tenant, m))) == 1, member
    time.sleep(1.0)  # the jobs have run out: each was asked once, the blocked one never
    assert [len(_asked(tenant, m)) for m in members] == [1, 1, 1]
    assert _asked(tenant, blocked) == []
    # The collection's message says so (Glific's words) and counts the flow's first message.
    messages = tenant.data(BROADCAST, {"id": group_id})["group"]["group"]["messages"]
    assert [m["body"][:35] for m in messages] == ["Starting flow: Feedback for group: "]
    assert _stats(tenant, group_id) == {
        "success": 3,
        "failed": 0,
        "pending": 0,
        "msg_categories": {"sent": 3, "read": 0, "delivered": 0, "enqueued": 3, "error": 0},
    }
    # Staff may not; a flow that is not published is refused.
    as_staff = tenant.gql(START_FLOW, {"flow": flow_id, "group": group_id}, role="staff")
    assert as_staff["errors"][0]["message"] == "Unauthorized"
    tenant.data(
        "mutation($id: ID!) { updateFlow(id: $id, input: {isActive: false}) { errors { key } } }",
        {"id": flow_id},
    )
    refused = tenant.data(START_FLOW, {"flow": flow_id, "group": group_id})["startGroupFlow"]
    assert refused["success"] is False
    assert refused["errors"] == [{"key": "flow", "message": "Flow is not published or not active"}]


def _session_flow(targets: list[str], group: str, exclusions: bool) -> dict[str, Any]:
    """A flow that starts "Check in" for a teacher and a collection (start_session)."""
    f = FlowBuilder(f"Notify {'busy-aware' if exclusions else 'all'}")
    f.actions(
        "start",
        [
            {
                "type": "start_session",
                "flow": {"uuid": CHECK_IN["uuid"], "name": "Check in"},
                "contacts": [{"uuid": t, "name": "Teacher"} for t in targets],
                "groups": [{"uuid": group, "name": "Class"}],
                "exclusions": {"in_a_flow": exclusions},
                "create_contact": False,
            },
            {"type": "send_msg", "text": "Your teacher and class are told"},
        ],
        None,
    )
    return f.build()


def _check_in() -> dict[str, Any]:
    f = FlowBuilder("Check in")
    f.send("ask", "Check in: how are you today?", "listen")
    f.wait("listen", [], other=None, result_name="mood", other_name="All Responses")
    return f.build()


CHECK_IN = _check_in()


def _checked_in(tenant: Tenant, contact_id: str) -> int:
    return sum(
        m["body"] == "Check in: how are you today?"
        for m in tenant.data(MESSAGES, {"id": contact_id})["messages"]
    )


def test_a_flow_starts_another_flow_for_a_teacher_and_a_class(timed_tenant: Tenant) -> None:
    tenant = timed_tenant
    teacher = tenant.create_contact("Teacher", phone=unique_phone())["id"]
    busy, idle = (tenant.create_contact(n, phone=unique_phone())["id"] for n in ("Busy", "Idle"))
    group_id = _collection(tenant, busy, idle)
    aware, everyone = _session_flow([teacher], group_id, True), _session_flow([], group_id, False)
    import_and_publish(tenant, (CHECK_IN, []), (aware, ["notify"]), (everyone, ["notifyall"]))
    flow_id = next(
        f["id"] for f in tenant.data("{ flows { id name } }")["flows"] if f["name"] == "Check in"
    )
    # "Busy" is already in a flow.
    tenant.data(
        "mutation($f: ID!, $c: ID!) { startContactFlow(flowId: $f, contactId: $c) { success } }",
        {"f": flow_id, "c": busy},
        role="staff",
    )
    assert _checked_in(tenant, busy) == 1
    phone = Phone(tenant, "9876543210_2")
    assert phone.say("notify") == ["Your teacher and class are told"]
    _until(lambda: _checked_in(tenant, teacher) == 1 and _checked_in(tenant, idle) == 1)
    time.sleep(1.0)  # the jobs have run out: the busy one was left alone, nobody twice
    assert [_checked_in(tenant, c) for c in (teacher, idle, busy)] == [1, 1, 1]
    # The collection's message says so; without exclusions everyone is started again.
    assert phone.say("notifyall") == ["Your teacher and class are told"]
    _until(lambda: _checked_in(tenant, busy) == 2 and _checked_in(tenant, idle) == 2)
    assert _checked_in(tenant, teacher) == 1


def test_a_flow_tells_a_teacher_who_needs_help(timed_tenant: Tenant) -> None:
    tenant = timed_tenant
    teacher = _talking(tenant, "Anita Teacher")  # wrote in: inside the window
    blocked = _talking(tenant, "Blocked Teacher")
    tenant.data(BLOCK, {"id": blocked})
    f = FlowBuilder("Help")
    f.actions(
        "tell",
        [
            {
                "type": "send_broadcast",
                "text": "@contact.name asked for help, @staff.name",
                "contacts": [{"uuid": teacher, "name": "T"}, {"uuid": blocked, "name": "B"}],
                "attachments": [],
            },
            {"type": "send_msg", "text": "A teacher will call you"},
        ],
        None,
    )
    import_and_publish(tenant, (f.build(), ["help"]))
    phone = Phone(tenant, "9876543210_3")
    assert phone.say("help") == ["A teacher will call you"]

    def told() -> list[str]:
        return [
            m["body"]
            for m in tenant.data(MESSAGES, {"id": teacher})["messages"]
            if m["flow"] == "OUTBOUND"
        ]

    _until(told)
    assert told() == ["Glific Simulator Three asked for help, Anita Teacher"]
    assert [
        m for m in tenant.data(MESSAGES, {"id": blocked})["messages"] if m["flow"] == "OUTBOUND"
    ] == []
