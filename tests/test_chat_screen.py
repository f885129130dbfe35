"""The chat screen over HTTP: staff sending to a contact (`createAndSendMessage`, the 24-hour
window, the profile a message is filed under), `markContactMessagesAsRead`, the conversation
list (`search`: order, keyset and offset paging, filters, one query for all the page's
messages) and saved searches (reserved ones, CRUD, `savedSearchId`, counts), with roles and
tenancy. Glific's own documents for these run in tests/test_client_ops.py."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Contact, Message, utcnow
from resolvers import outbox, sending
from tests.utils.client_ops_data import receive_text
from tests.utils.server import LiveServer
from tests.utils.tenants import Tenant, restrict_staff, unique_phone

SEND = """
mutation($input: MessageInput!) {
  createAndSendMessage(input: $input) {
    message {
      id body type flow messageNumber sendBy
      sender { id } receiver { id } user { id } profile { id name }
    }
    errors { key message }
  }
}"""
MARK_READ = "mutation($id: Gid!) { markContactMessagesAsRead(contactId: $id) }"
SEARCH = """
query($filter: SearchFilter!, $contactOpts: Opts!, $messageOpts: Opts!) {
  search(filter: $filter, contactOpts: $contactOpts, messageOpts: $messageOpts) {
    id cursor
    contact { id name isOrgRead }
    group { id label }
    messages { id body flow messageNumber }
  }
}"""
SAVED_SEARCHES = """
query($filter: SavedSearchFilter, $opts: Opts) {
  savedSearches(filter: $filter, opts: $opts) { id label shortcode args isReserved }
}"""
CREATE_SAVED = """
mutation($input: SavedSearchInput!) {
  createSavedSearch(input: $input) {
    savedSearch { id label shortcode args isReserved } errors { key message }
  }
}"""
UPDATE_SAVED = """
mutation($id: ID!, $input: SavedSearchInput) {
  updateSavedSearch(id: $id, input: $input) {
    savedSearch { id label shortcode args } errors { key message }
  }
}"""
DELETE_SAVED = """
mutation($id: ID!) { deleteSavedSearch(id: $id) { savedSearch { id } errors { key message } } }
"""
GET_SAVED = """
query($id: ID!) { savedSearch(id: $id) { savedSearch { id label } errors { key message } } }
"""
PROFILE = """
mutation($input: ProfileInput!) {
  createProfile(input: $input) { profile { id } errors { key message } }
}"""


def talking_contact(tenant: Tenant, name: str, text: str = "Hello") -> dict[str, Any]:
    """A contact who has just written to the organization (the 24-hour window is open)."""
    phone = unique_phone()
    contact = tenant.create_contact(name, phone=phone)
    receive_text(tenant, phone, text)
    return {**contact, "phone": phone}


def send(tenant: Tenant, contact_id: str, body: str | None, role: str = "staff") -> Any:
    variables = {"input": {"body": body, "type": "TEXT", "receiverId": contact_id}}
    return tenant.gql(SEND, variables, role=role)


def search(
    tenant: Tenant,
    filter: dict[str, Any] | None = None,
    limit: int = 25,
    offset: int | None = None,
    messages: int = 20,
    role: str = "staff",
) -> list[dict[str, Any]]:
    contact_opts: dict[str, Any] = {"limit": limit}
    if offset is not None:
        contact_opts["offset"] = offset
    variables = {
        "filter": filter or {},
        "contactOpts": contact_opts,
        "messageOpts": {"limit": messages},
    }
    return tenant.data(SEARCH, variables, role=role)["search"]


def stored(tenant: Tenant, contact_id: str) -> tuple[int, int]:
    """(messages stored for the contact, its last message number)."""

    async def read(session: AsyncSession) -> tuple[int, int]:
        count = await session.scalar(
            select(func.count()).where(col(Message.contact_id) == int(contact_id))
        )
        number = await session.scalar(
            select(col(Contact.last_message_number)).where(col(Contact.id) == int(contact_id))
        )
        return int(count or 0), int(number or 0)

    return tenant.server.in_transaction(read)


def set_contact(tenant: Tenant, contact_id: str, **values: Any) -> None:
    async def write(session: AsyncSession) -> None:
        await session.execute(
            update(Contact).where(col(Contact.id) == int(contact_id)).values(**values)
        )

    tenant.server.in_transaction(write)


def error_messages(body: dict[str, Any]) -> list[str]:
    return [e["message"] for e in body.get("errors") or []]


# --- createAndSendMessage ----------------------------------------------------------------------


def test_staff_sends_inside_the_window_and_the_message_is_filed_under_the_active_profile(
    tenant: Tenant,
) -> None:
    contact = talking_contact(tenant, "Asha")
    child = tenant.data(
        PROFILE, {"input": {"name": "Ravi", "type": "child", "contactId": contact["id"]}}
    )["createProfile"]["profile"]
    before = stored(tenant, contact["id"])

    body = send(tenant, contact["id"], "Well done Ravi!")
    assert "errors" not in body, body
    result = body["data"]["createAndSendMessage"]
    assert result["errors"] is None
    message = result["message"]
    assert message["body"] == "Well done Ravi!"
    assert message["type"] == "TEXT" and message["flow"] == "OUTBOUND"
    assert message["sender"] == {"id": str(tenant.org_contact_id)}
    assert message["receiver"] == {"id": contact["id"]}
    assert message["user"] == {"id": str(tenant.users["staff"]["id"])}
    assert message["sendBy"] == "Staff User"
    assert message["profile"] == {"id": child["id"], "name": "Ravi"}
    assert message["messageNumber"] == before[1] + 1
    assert stored(tenant, contact["id"]) == (before[0] + 1, before[1] + 1)

    async def row(session: AsyncSession) -> Message | None:
        return await session.get(Message, int(message["id"]))

    saved = tenant.server.in_transaction(row)
    assert saved is not None
    # Provider `log`: the outbox marks it sent at once (resolvers.outbox).
    assert saved.status == "sent" and saved.profile_id == int(child["id"])

    # The conversation shows it first, and the message still names its profile.
    (conversation,) = search(tenant, {"id": contact["id"]}, messages=1)
    assert [m["body"] for m in conversation["messages"]] == ["Well done Ravi!"]
    by_id = tenant.data(
        "query($id: ID!) { message(id: $id) { message { profile { id } } } }",
        {"id": message["id"]},
    )
    assert by_id["message"]["message"]["profile"] == {"id": child["id"]}


def test_the_24_hour_window_refuses_and_stores_nothing(tenant: Tenant) -> None:
    silent = tenant.create_contact("Never wrote")
    before = stored(tenant, silent["id"])
    body = send(tenant, silent["id"], "Hello?")
    assert body["data"]["createAndSendMessage"] is None
    assert error_messages(body) == [outbox.WINDOW_CLOSED]
    assert outbox.WINDOW_CLOSED == (
        "Sorry! 24 hrs window closed. Your message cannot be sent at this time."
    )
    assert stored(tenant, silent["id"]) == before

    contact = talking_contact(tenant, "Wrote yesterday")
    set_contact(tenant, contact["id"], last_message_at=utcnow() - timedelta(hours=24, minutes=1))
    before = stored(tenant, contact["id"])
    assert error_messages(send(tenant, contact["id"], "Hello?")) == [outbox.WINDOW_CLOSED]
    assert stored(tenant, contact["id"]) == before

    set_contact(tenant, contact["id"], last_message_at=utcnow() - timedelta(hours=23))
    assert "errors" not in send(tenant, contact["id"], "Hello!")
    assert stored(tenant, contact["id"]) == (before[0] + 1, before[1] + 1)


def test_bad_input_is_refused_with_glifics_errors_and_nothing_is_written(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    contact = talking_contact(tenant, "Asha")
    before = stored(tenant, contact["id"])
    for empty in ("", "   ", None):
        assert error_messages(send(tenant, contact["id"], empty)) == [sending.EMPTY_BODY]
    assert sending.EMPTY_BODY == "Could not send message with empty body"

    foreign = talking_contact(other_tenant, "Someone else's")
    for receiver in ("999999999999", "abc", foreign["id"]):
        body = send(tenant, receiver, "Hello")
        assert error_messages(body) == ["Receiver does not exist"], receiver
    assert stored(other_tenant, foreign["id"]) == (1, 1)

    image = tenant.gql(
        SEND, {"input": {"body": "x", "type": "IMAGE", "receiverId": contact["id"]}}, "staff"
    )
    assert image["data"]["createAndSendMessage"]["errors"] == [
        {"key": "type", "message": "Type: image message type should have a media id"}
    ]

    set_contact(tenant, contact["id"], status="blocked")
    assert error_messages(send(tenant, contact["id"], "Hello")) == [sending.INVALID_CONTACT]
    assert stored(tenant, contact["id"]) == before


@pytest.mark.parametrize(
    ("role", "allowed"), [("none", False), ("staff", True), ("manager", True), ("admin", True)]
)
def test_who_may_send_mark_read_and_search(tenant: Tenant, role: str, allowed: bool) -> None:
    contact = talking_contact(tenant, "Asha")
    calls = [
        send(tenant, contact["id"], "Hello", role=role),
        tenant.gql(MARK_READ, {"id": contact["id"]}, role=role),
        tenant.gql(
            SEARCH,
            {"filter": {}, "contactOpts": {"limit": 5}, "messageOpts": {"limit": 5}},
            role=role,
        ),
        tenant.gql(SAVED_SEARCHES, {}, role=role),
        tenant.gql(GET_SAVED, {"id": "1"}, role=role),
        tenant.gql("query { countSavedSearches }", {}, role=role),
        tenant.gql("query($o: ID!) { collectionStats(organizationId: $o) }", {"o": "1"}, role),
    ]
    for body in calls:
        if allowed:
            assert "errors" not in body, body
        else:
            assert error_messages(body) == ["Unauthorized"], body
    assert stored(tenant, contact["id"])[0] == (2 if allowed else 1)


@pytest.mark.parametrize(("role", "allowed"), [("staff", False), ("manager", True)])
def test_saved_searches_are_changed_by_managers(tenant: Tenant, role: str, allowed: bool) -> None:
    created = tenant.gql(
        CREATE_SAVED,
        {"input": {"label": "Kids", "shortcode": "kids", "args": json.dumps({"filter": {}})}},
        role=role,
    )
    if not allowed:
        assert error_messages(created) == ["Unauthorized"]
        assert tenant.data("query { countSavedSearches }")["countSavedSearches"] == 6
        return
    saved_id = created["data"]["createSavedSearch"]["savedSearch"]["id"]
    for document, variables in (
        (UPDATE_SAVED, {"id": saved_id, "input": {"label": "Children"}}),
        (DELETE_SAVED, {"id": saved_id}),
    ):
        assert error_messages(tenant.gql(document, variables, role="staff")) == ["Unauthorized"]
        assert "errors" not in tenant.gql(document, variables, role=role)


# --- markContactMessagesAsRead ------------------------------------------------------------------


def test_marking_read_clears_unread_for_this_contact_only(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    asha, ravi = talking_contact(tenant, "Asha"), talking_contact(tenant, "Ravi")
    stats = "query($o: ID!) { collectionStats(organizationId: $o) }"

    def unread() -> int:
        raw = tenant.data(stats, {"o": str(tenant.org_id)})["collectionStats"]
        return int(json.loads(raw)[str(tenant.org_id)]["Unread"])

    assert unread() == 2
    assert tenant.data(MARK_READ, {"id": asha["id"]}, role="staff") == {
        "markContactMessagesAsRead": asha["id"]
    }
    read = {c["contact"]["id"]: c["contact"]["isOrgRead"] for c in search(tenant)}
    assert read == {asha["id"]: True, ravi["id"]: False}
    assert unread() == 1

    # Another organization's contact: refused, and left unread.
    foreign = talking_contact(other_tenant, "Elsewhere")
    body = tenant.gql(MARK_READ, {"id": foreign["id"]}, role="staff")
    assert error_messages(body) == [sending.NOT_FOUND]
    (theirs,) = search(other_tenant)
    assert theirs["contact"]["isOrgRead"] is False
    # Gid literals are strings, as in Glific.
    literal = tenant.gql(f"mutation {{ markContactMessagesAsRead(contactId: {asha['id']}) }}")
    assert literal.get("errors"), literal


# --- search: the conversation list --------------------------------------------------------------


def conversations_at(tenant: Tenant, count: int) -> list[dict[str, Any]]:
    """`count` contacts with a message each, whose last communication is 1, 2, ... minutes
    ago, the last two at the same moment (the id breaks the tie)."""
    now = utcnow()
    made = []
    for i in range(count):
        contact = talking_contact(tenant, f"Parent {i}", f"message {i}")
        minutes = min(i, count - 2) + 1
        set_contact(tenant, contact["id"], last_communication_at=now - timedelta(minutes=minutes))
        made.append(contact)
    return made


def test_conversations_newest_first_and_keyset_pages_cover_them_once(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    made = conversations_at(tenant, 5)
    tenant.create_contact("No messages yet")
    talking_contact(other_tenant, "Other organization")
    tie = sorted((int(made[3]["id"]), int(made[4]["id"])), reverse=True)
    expected = [made[0]["id"], made[1]["id"], made[2]["id"], *map(str, tie)]

    first = search(tenant)
    assert [c["contact"]["id"] for c in first] == expected
    assert [c["id"] for c in first] == [f"contact_{i}" for i in expected]
    assert all(c["group"] is None for c in first)

    seen: list[str] = []
    cursor = None
    for _ in range(len(expected) + 1):  # bounded: a cursor that is ignored would loop
        page = search(tenant, {"cursor": cursor} if cursor else {}, limit=2)
        if not page:
            break
        seen += [c["contact"]["id"] for c in page]
        cursor = page[-1]["cursor"]
    assert seen == expected

    by_offset = [c["contact"]["id"] for c in search(tenant, limit=2, offset=2)]
    assert by_offset == expected[2:4]

    # A conversation that moves to the top after page one is not shown again.
    page_one = search(tenant, limit=2)
    set_contact(tenant, made[3]["id"], last_communication_at=utcnow())
    rest = search(tenant, {"cursor": page_one[-1]["cursor"]}, limit=10)
    later = [c["contact"]["id"] for c in rest]
    assert later == [expected[2], made[4]["id"]]

    bad = tenant.gql(
        SEARCH,
        {"filter": {"cursor": "nonsense"}, "contactOpts": {}, "messageOpts": {}},
        role="staff",
    )
    assert error_messages(bad) == ["cursor: is not a cursor this search returned"]


def test_latest_messages_come_newest_first_for_the_whole_page_in_one_query(
    server: LiveServer, tenant: Tenant
) -> None:
    contacts = [talking_contact(tenant, f"Parent {i}", "first") for i in range(3)]
    for contact in contacts:
        receive_text(tenant, contact["phone"], "second")
        assert "errors" not in send(tenant, contact["id"], "third")

    page = search(tenant, messages=2)
    assert len(page) == 3
    for conversation in page:
        assert [m["body"] for m in conversation["messages"]] == ["third", "second"]
        numbers = [m["messageNumber"] for m in conversation["messages"]]
        assert numbers == sorted(numbers, reverse=True)
    (one,) = search(tenant, {"id": contacts[0]["id"]}, messages=20)
    assert [m["body"] for m in one["messages"]] == ["third", "second", "first"]

    def statements(limit: int) -> int:
        counter = server.count_statements()
        try:
            assert len(search(tenant, limit=limit, messages=5)) == limit
        finally:
            server.stop_counting(counter)
        return counter.count

    assert statements(1) == statements(3)


def test_filters_term_ids_status_and_date_range(tenant: Tenant, other_tenant: Tenant) -> None:
    asha, meena = talking_contact(tenant, "Asha Devi"), talking_contact(tenant, "Meena")
    quiet = tenant.create_contact("Quiet")
    foreign = talking_contact(other_tenant, "Asha Elsewhere")

    def ids(flt: dict[str, Any], role: str = "staff") -> list[str]:
        return [c["contact"]["id"] for c in search(tenant, flt, role=role)]

    assert ids({"term": "asha"}) == [asha["id"]]
    # Staff see phones masked: a part of a number finds nobody, the whole number does.
    assert ids({"term": meena["phone"][-6:]}) == []
    assert ids({"term": meena["phone"]}) == [meena["id"]]
    assert ids({"term": meena["phone"][-6:]}, role="manager") == [meena["id"]]
    # By id: listed even without messages; another organization's contact never is.
    assert ids({"id": quiet["id"]}) == [quiet["id"]]
    assert ids({"ids": [asha["id"], foreign["id"]]}) == [asha["id"]]
    assert ids({"id": foreign["id"]}) == []

    tenant.data(MARK_READ, {"id": asha["id"]})
    assert ids({"status": "Unread"}) == [meena["id"]]
    today = utcnow().date().isoformat()
    assert set(ids({"dateRange": {"from": today, "to": today}})) == {asha["id"], meena["id"]}
    assert ids({"dateRange": {"to": "2020-01-01"}}) == []
    assert ids({"includeTags": ["1"]}) == []


def test_collections_tab_lists_groups(tenant: Tenant) -> None:
    talking_contact(tenant, "Asha")

    async def make_group(session: AsyncSession) -> int:
        from resolvers import groups

        group = await groups.group_by_label(session, tenant.org_id, "Class 5", create=True)
        assert group is not None and group.id is not None
        return group.id

    group_id = tenant.server.in_transaction(make_group)
    (conversation,) = search(tenant, {"searchGroup": True})
    assert conversation["id"] == f"group_{group_id}"
    assert conversation["group"] == {"id": str(group_id), "label": "Class 5"}
    assert conversation["contact"] is None and conversation["messages"] == []


# --- saved searches -----------------------------------------------------------------------------


def test_reserved_saved_searches_are_glifics_and_run_as_search_variables(tenant: Tenant) -> None:
    reserved = tenant.data(SAVED_SEARCHES, {"filter": {"isReserved": True}, "opts": {}})
    by_code = {s["shortcode"]: s for s in reserved["savedSearches"]}
    assert set(by_code) == {"All", "Unread", "Not replied", "Not Responded", "Optin", "Optout"}
    assert all(s["isReserved"] for s in by_code.values())
    unread_args = json.loads(by_code["Unread"]["args"])
    assert unread_args["filter"] == {"status": "Unread", "term": ""}

    asha, meena = talking_contact(tenant, "Asha"), talking_contact(tenant, "Meena")
    tenant.data(MARK_READ, {"id": asha["id"]})
    # What the web app does on a chip: run `search` with the saved args as variables.
    chip = [c["contact"]["id"] for c in tenant.data(SEARCH, unread_args, role="staff")["search"]]
    assert chip == [meena["id"]]
    by_saved_id = search(tenant, {"savedSearchId": by_code["Unread"]["id"]})
    assert [c["contact"]["id"] for c in by_saved_id] == [meena["id"]]
    count = "query($id: ID!, $term: String) { savedSearchCount(id: $id, term: $term) }"
    assert tenant.data(count, {"id": by_code["All"]["id"]})["savedSearchCount"] == 2
    assert tenant.data(count, {"id": by_code["All"]["id"], "term": "mee"}) == {
        "savedSearchCount": 1
    }


def test_saved_search_crud_and_errors(tenant: Tenant) -> None:
    args = json.dumps({"filter": {"term": "Ravi"}, "contactOpts": {"limit": 10}})
    created = tenant.data(
        CREATE_SAVED, {"input": {"label": "Ravi's", "shortcode": "ravi", "args": args}}
    )["createSavedSearch"]
    assert created["errors"] is None
    saved = created["savedSearch"]
    assert saved["isReserved"] is False and json.loads(saved["args"]) == json.loads(args)

    clash = tenant.data(
        CREATE_SAVED, {"input": {"label": "Again", "shortcode": "ravi", "args": args}}
    )["createSavedSearch"]
    assert clash == {
        "savedSearch": None,
        "errors": [{"key": "shortcode", "message": "Shortcode: has already been taken"}],
    }
    blank = tenant.data(CREATE_SAVED, {"input": {"label": " ", "shortcode": "x"}})
    assert blank["createSavedSearch"]["errors"] == [
        {"key": "label", "message": "Label: can't be blank"},
        {"key": "args", "message": "Args: can't be blank"},
    ]
    assert tenant.data("query { countSavedSearches }")["countSavedSearches"] == 7

    updated = tenant.data(UPDATE_SAVED, {"id": saved["id"], "input": {"label": "Ravi only"}})
    assert updated["updateSavedSearch"]["savedSearch"]["label"] == "Ravi only"
    assert tenant.data(GET_SAVED, {"id": saved["id"]})["savedSearch"]["savedSearch"] == {
        "id": saved["id"],
        "label": "Ravi only",
    }
    assert tenant.data(DELETE_SAVED, {"id": saved["id"]}) == {
        "deleteSavedSearch": {"savedSearch": None, "errors": None}
    }
    missing = tenant.data(GET_SAVED, {"id": saved["id"]})["savedSearch"]
    assert missing["errors"] == [
        {"key": "Elixir.Glific.Searches.SavedSearch", "message": "Resource not found"}
    ]


def test_another_organizations_saved_search_is_invisible(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs = other_tenant.data(
        CREATE_SAVED,
        {"input": {"label": "Theirs", "shortcode": "theirs", "args": json.dumps({"filter": {}})}},
    )["createSavedSearch"]["savedSearch"]
    not_found = [{"key": "Elixir.Glific.Searches.SavedSearch", "message": "Resource not found"}]
    assert tenant.data(GET_SAVED, {"id": theirs["id"]})["savedSearch"]["errors"] == not_found
    for document, root, variables in (
        (UPDATE_SAVED, "updateSavedSearch", {"id": theirs["id"], "input": {"label": "Mine"}}),
        (DELETE_SAVED, "deleteSavedSearch", {"id": theirs["id"]}),
    ):
        assert tenant.data(document, variables)[root]["errors"] == not_found
    labels = {s["label"] for s in tenant.data(SAVED_SEARCHES, {})["savedSearches"]}
    assert "Theirs" not in labels and len(labels) == 6
    assert other_tenant.data(GET_SAVED, {"id": theirs["id"]})["savedSearch"]["savedSearch"] == {
        "id": theirs["id"],
        "label": "Theirs",
    }
    body = tenant.gql(
        SEARCH,
        {"filter": {"savedSearchId": theirs["id"]}, "contactOpts": {}, "messageOpts": {}},
        role="staff",
    )
    assert error_messages(body) == ["Resource not found"]


def test_search_can_save_itself(tenant: Tenant) -> None:
    asha = talking_contact(tenant, "Asha")
    query = """
    query($filter: SearchFilter!, $input: SaveSearchInput) {
      search(filter: $filter, contactOpts: {limit: 5}, messageOpts: {limit: 3},
             saveSearch: true, saveSearchInput: $input) { contact { id } }
    }"""
    found = tenant.data(
        query, {"filter": {"term": "Asha"}, "input": {"label": "Asha", "shortcode": "asha"}}
    )["search"]
    assert found == [{"contact": {"id": asha["id"]}}]
    saved = tenant.data(SAVED_SEARCHES, {"filter": {"shortcode": "asha"}})["savedSearches"]
    assert [json.loads(s["args"]) for s in saved] == [
        {
            "filter": {"term": "Asha"},
            "contactOpts": {"limit": 5, "offset": 0},
            "messageOpts": {"limit": 3, "offset": 0},
        }
    ]


def test_a_restricted_staff_user_reaches_only_their_groups_contacts(tenant: Tenant) -> None:
    mine, theirs = talking_contact(tenant, "In my group"), talking_contact(tenant, "Not mine")
    restrict_staff(tenant, mine["id"])
    # The manager's page first: the same page asked for by the restricted user is not the
    # manager's (pages' statements are kept per filter and viewer, resolvers.searches._page).
    assert {c["contact"]["id"] for c in search(tenant, role="manager")} == {
        mine["id"],
        theirs["id"],
    }
    assert [c["contact"]["id"] for c in search(tenant)] == [mine["id"]]
    assert "errors" not in send(tenant, mine["id"], "Hello")
    assert error_messages(send(tenant, theirs["id"], "Hello")) == [sending.NO_RECEIVER]
    body = tenant.gql(MARK_READ, {"id": theirs["id"]}, role="staff")
    assert error_messages(body) == [sending.NOT_FOUND]
