"""Glific's direct message mutations and the chat screen's search box
(resolvers/message_edits.py, resolvers.searches.search_multi): `createMessage` stores a
message in the right conversation, numbered and stamped with the active profile, and sends
nothing; `updateMessage` and `deleteMessage` are for admins; `clearMessages` empties a
conversation and ends its flows; `searchMulti` finds contacts, messages and labels."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Message
from resolvers import flow_state
from tests.utils.chat import import_and_publish
from tests.utils.client_ops_data import receive_text
from tests.utils.flow_defs import small_flow
from tests.utils.load import Call, burst
from tests.utils.tenants import Tenant, restrict_staff, unique_phone

FIELDS = "id body flow type status messageNumber sender { id } receiver { id } contact { id }"
CREATE = f"""mutation($input: MessageInput!) {{
  createMessage(input: $input) {{
    message {{ {FIELDS} profile {{ name }} }} errors {{ key message }}
  }}
}}"""
UPDATE = f"""mutation($id: ID!, $input: MessageInput!) {{
  updateMessage(id: $id, input: $input) {{ message {{ {FIELDS} }} errors {{ key message }} }}
}}"""
DELETE = f"""mutation($id: ID!) {{
  deleteMessage(id: $id) {{ message {{ {FIELDS} }} errors {{ key message }} }}
}}"""
CLEAR = (
    """mutation($id: ID!) { clearMessages(contactId: $id) { success errors { key message } } }"""
)
CONTACT = """query($id: ID!) { contact(id: $id) { contact {
  lastMessageNumber isOrgRead isOrgReplied isContactReplied } } }"""
MESSAGES = """query($id: ID!) { messages(filter: {contactId: $id}) { id body messageNumber } }"""
MULTI = """query($term: String!, $limit: Int) {
  searchMulti(filter: {term: $term}, contactOpts: {limit: 10}, messageOpts: {limit: $limit}) {
    contacts { id name } messages { id body contact { name } } tags { id } labels { id }
  } }"""
ADD_PROFILE = """mutation($input: ProfileInput!) {
  createProfile(input: $input) { profile { id } errors { message } } }"""


def _talking(tenant: Tenant, name: str, text: str = "Hello") -> dict[str, Any]:
    phone = unique_phone()
    contact = tenant.create_contact(name, phone=phone)
    receive_text(tenant, phone, text)
    return {**contact, "phone": phone}


def _create(tenant: Tenant, role: str = "staff", **fields: Any) -> Any:
    return tenant.gql(CREATE, {"input": fields}, role=role)


def test_created_messages_join_the_right_conversation_and_send_nothing(tenant: Tenant) -> None:
    asha = _talking(tenant, "Asha Edits")
    tenant.data(ADD_PROFILE, {"input": {"contactId": asha["id"], "name": "Ravi", "type": "kid"}})
    org = str(tenant.org_contact_id)
    inbound = _create(
        tenant, body="From a script", type="TEXT", senderId=asha["id"], receiverId=org
    )
    message = inbound["data"]["createMessage"]["message"]
    assert inbound["data"]["createMessage"]["errors"] is None
    assert message["flow"] == "INBOUND" and message["status"] == "received"
    assert message["contact"]["id"] == asha["id"] and message["messageNumber"] == 2
    assert message["profile"] == {"name": "Ravi"}  # the profile active when it was stored
    counters = tenant.data(CONTACT, {"id": asha["id"]})["contact"]["contact"]
    assert counters == {
        "lastMessageNumber": 2,
        "isOrgRead": False,
        "isOrgReplied": False,
        "isContactReplied": True,
    }
    outbound = _create(
        tenant,
        body="Recorded reply",
        type="TEXT",
        flow="OUTBOUND",
        senderId=org,
        receiverId=asha["id"],
    )["data"]["createMessage"]["message"]
    assert outbound["flow"] == "OUTBOUND" and outbound["contact"]["id"] == asha["id"]
    assert outbound["messageNumber"] == 3 and outbound["status"] == "sent"
    bodies = [m["body"] for m in tenant.data(MESSAGES, {"id": asha["id"]})["messages"]]
    assert bodies == ["Recorded reply", "From a script", "Hello"]
    # Nothing left for the outbox: no message of the contact waits to be delivered.
    waiting = tenant.server.run(lambda: _enqueued(tenant, int(asha["id"])))
    assert waiting == 0


async def _enqueued_in(session: AsyncSession, contact_id: int) -> int:
    from sqlalchemy import func, select

    found = await session.scalar(
        select(func.count()).where(
            col(Message.contact_id) == contact_id, col(Message.status) == "enqueued"
        )
    )
    return int(found or 0)


async def _enqueued(tenant: Tenant, contact_id: int) -> int:
    async with tenant.server.db.session(tenant.org_id) as session:
        return await _enqueued_in(session, contact_id)


def test_a_created_message_needs_a_type_and_contacts_of_the_organization(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    asha = _talking(tenant, "Asha Checks")
    stranger = other_tenant.create_contact("Elsewhere")
    org = str(tenant.org_contact_id)

    def errors(**fields: Any) -> Any:
        return _create(tenant, **fields)["data"]["createMessage"]["errors"]

    assert errors(body="x", senderId=asha["id"], receiverId=org) == [
        {"key": "type", "message": "Type: can't be blank"}
    ]
    assert errors(body="x", type="TEXT", senderId=stranger["id"], receiverId=org) == [
        {"key": "sender_id", "message": "Sender_id: does not exist"}
    ]
    assert errors(body="x", type="TEXT", senderId=asha["id"], receiverId="nope") == [
        {"key": "receiver_id", "message": "Receiver_id: does not exist"}
    ]
    assert errors(type="IMAGE", senderId=asha["id"], receiverId=org) == [
        {"key": "type", "message": "Type: image message type should have a media id"}
    ]
    # Nothing was stored by the refused ones.
    assert len(tenant.data(MESSAGES, {"id": asha["id"]})["messages"]) == 1


def test_admins_update_and_delete_messages(tenant: Tenant) -> None:
    asha = _talking(tenant, "Asha Admin", "Original")
    (first,) = tenant.data(MESSAGES, {"id": asha["id"]})["messages"]
    staff = tenant.gql(UPDATE, {"id": first["id"], "input": {"body": "x"}}, role="staff")
    assert staff["errors"][0]["message"] == "Unauthorized"
    done = tenant.data(UPDATE, {"id": first["id"], "input": {"body": "Edited"}}, role="admin")
    assert done["updateMessage"]["message"]["body"] == "Edited"
    moved = tenant.data(
        UPDATE, {"id": first["id"], "input": {"receiverId": asha["id"]}}, role="admin"
    )["updateMessage"]
    assert moved["errors"] == [{"key": "receiver_id", "message": "Receiver_id: cannot be changed"}]
    assert tenant.data(MESSAGES, {"id": asha["id"]})["messages"][0]["body"] == "Edited"
    gone = tenant.data(DELETE, {"id": first["id"]}, role="admin")["deleteMessage"]
    assert gone == {"message": None, "errors": None}  # as Glific's deletes answer
    assert tenant.data(MESSAGES, {"id": asha["id"]})["messages"] == []
    again = tenant.data(DELETE, {"id": first["id"]}, role="admin")["deleteMessage"]
    assert again["message"] is None and again["errors"][0]["message"] == "Resource not found"


def test_clearing_a_conversation(tenant: Tenant) -> None:
    asha, ravi = _talking(tenant, "Asha Clear"), _talking(tenant, "Ravi Keeps")
    import_and_publish(tenant, (small_flow(), ["feedback"]))
    receive_text(tenant, asha["phone"], "feedback")  # Asha is now in the flow, waiting

    def runs() -> int:
        async def count() -> int:
            async with tenant.server.db.session(tenant.org_id) as session:
                return len(await flow_state.unfinished_runs(session, int(asha["id"])))

        found: int = tenant.server.run(count)
        return found

    assert runs() == 1
    result = tenant.data(CLEAR, {"id": asha["id"]})["clearMessages"]
    assert runs() == 0
    assert result == {"success": True, "errors": None}
    assert tenant.data(MESSAGES, {"id": asha["id"]})["messages"] == []
    assert len(tenant.data(MESSAGES, {"id": ravi["id"]})["messages"]) == 1  # others stay
    counters = tenant.data(CONTACT, {"id": asha["id"]})["contact"]["contact"]
    assert counters == {
        "lastMessageNumber": 0,
        "isOrgRead": True,
        "isOrgReplied": True,
        "isContactReplied": True,
    }
    # The conversation starts again from one.
    receive_text(tenant, asha["phone"], "After")
    assert tenant.data(MESSAGES, {"id": asha["id"]})["messages"][0]["messageNumber"] == 1
    missing = tenant.data(CLEAR, {"id": "999999"})["clearMessages"]
    assert missing["success"] is False and missing["errors"][0]["key"] == "contact_id"


def test_search_multi_finds_contacts_messages_and_labels(tenant: Tenant) -> None:
    asha = _talking(tenant, "Asha Multi", "my favourite colour is teal")
    ravi = _talking(tenant, "Ravi Multi", "nothing to see")

    async def label(session: AsyncSession) -> None:
        await session.execute(
            update(Message)
            .where(col(Message.contact_id) == int(ravi["id"]))
            .values(flow_label="teal answers")
        )

    tenant.server.in_transaction(label)
    found = tenant.data(MULTI, {"term": "teal", "limit": 10})["searchMulti"]
    assert found["contacts"] == []
    assert [(m["body"], m["contact"]["name"]) for m in found["messages"]] == [
        ("my favourite colour is teal", "Asha Multi")
    ]
    assert [m["id"] for m in found["labels"]] != [] and found["tags"] == []
    by_name = tenant.data(MULTI, {"term": "multi", "limit": 10})["searchMulti"]
    assert {c["name"] for c in by_name["contacts"]} == {"Asha Multi", "Ravi Multi"}
    assert asha["id"] in {c["id"] for c in by_name["contacts"]}
    assert tenant.data(MULTI, {"term": "teal", "limit": 0})["searchMulti"]["messages"] == []
    assert tenant.data(MULTI, {"term": "  ", "limit": 10})["searchMulti"]["contacts"] == []


def test_a_restricted_staff_user_searches_only_their_groups(tenant: Tenant) -> None:
    mine = _talking(tenant, "Mine Multi", "teal in my group")
    _talking(tenant, "Theirs Multi", "teal elsewhere")
    restrict_staff(tenant, mine["id"])
    for role, names in (("manager", {"Mine Multi", "Theirs Multi"}), ("staff", {"Mine Multi"})):
        found = tenant.data(MULTI, {"term": "teal", "limit": 10}, role=role)["searchMulti"]
        assert {m["contact"]["name"] for m in found["messages"]} == names, role
        found = tenant.data(MULTI, {"term": "multi", "limit": 10}, role=role)["searchMulti"]
        assert {c["name"] for c in found["contacts"]} == names, role


def test_messages_created_at_the_same_moment_are_numbered_one_after_another(
    tenant: Tenant,
) -> None:
    """Each created message takes the conversation's next number from the contact's row,
    which stays locked until its transaction commits: sent together, none shares a number."""
    asha = _talking(tenant, "Asha Burst")
    org = str(tenant.org_contact_id)
    token = tenant.token("staff")
    calls = [
        Call(
            CREATE,
            {
                "input": {
                    "body": f"Burst {n}",
                    "type": "TEXT",
                    "senderId": asha["id"],
                    "receiverId": org,
                }
            },
            token,
        )
        for n in range(12)
    ]
    answers = burst(tenant.server.base_url, calls)
    assert all(a.status == 200 and not a.errors for a in answers), answers[:2]
    numbers = sorted(
        m["messageNumber"] for m in tenant.data(MESSAGES, {"id": asha["id"]})["messages"]
    )
    assert numbers == list(range(1, 14))  # "Hello", then the twelve
    counters = tenant.data(CONTACT, {"id": asha["id"]})["contact"]["contact"]
    assert counters["lastMessageNumber"] == 13
