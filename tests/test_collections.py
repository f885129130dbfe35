"""Collections (Glific's groups) as the web app's collection screen, contact import dialog
and chat header use them; the same groups a flow's `add_contact_groups` fills."""

from __future__ import annotations

import csv
import io
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.test_flow_turns import join_flow
from tests.utils.chat import Phone, import_and_publish
from tests.utils.tenants import Tenant

CREATE = """mutation($i: GroupInput!) { createGroup(input: $i) {
  group { id label description } errors { key message } } }"""
MEMBERS = """mutation($i: GroupContactsInput!) { updateGroupContacts(input: $i) {
  numberDeleted groupContacts { contact { id } group { label } } } }"""
COUNTED = """query($f: GroupFilter) { groups(filter: $f, opts: {limit: 10}) {
  label contactsCount usersCount } countGroups(filter: $f) }"""


def create(tenant: Tenant, label: str, role: str = "manager", **extra: Any) -> dict[str, Any]:
    result: dict[str, Any] = tenant.data(CREATE, {"i": {"label": label, **extra}}, role=role)
    return result["createGroup"]


def test_collections_are_created_listed_changed_and_deleted_per_organization(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    made = create(tenant, "Class 5 parents", description="Parents of class 5")
    assert made["errors"] is None
    group_id = made["group"]["id"]
    assert create(tenant, "Class 5 parents")["errors"] == [
        {"key": "label", "message": "Label: has already been taken"}
    ]
    assert create(tenant, "  ")["errors"] == [{"key": "label", "message": "Label: can't be blank"}]
    # Another organization may use the same label, and sees none of these.
    assert create(other_tenant, "Class 5 parents")["errors"] is None
    listed = tenant.data(COUNTED, {"f": {"label": "class 5"}})
    assert listed["groups"] == [{"label": "Class 5 parents", "contactsCount": 0, "usersCount": 0}]
    assert listed["countGroups"] == 1
    missing = tenant.data(
        "query($id: ID!) { group(id: $id) { errors { message } } }", {"id": "999999"}
    )
    assert missing["group"]["errors"] == [{"message": "Resource not found"}]
    changed = tenant.data(
        "mutation($id: ID!, $i: GroupInput) { updateGroup(id: $id, input: $i) {"
        " group { label description } errors { message } } }",
        {"id": group_id, "i": {"label": "Class 6 parents"}},
    )["updateGroup"]
    assert changed == {
        "group": {"label": "Class 6 parents", "description": "Parents of class 5"},
        "errors": None,
    }
    asha = tenant.create_contact("Asha")
    tenant.data(
        MEMBERS, {"i": {"groupId": group_id, "addContactIds": [asha["id"]], "deleteContactIds": []}}
    )
    deleted = tenant.data(
        "mutation($id: ID!) { deleteGroup(id: $id) { errors { message } } }", {"id": group_id}
    )
    assert deleted["deleteGroup"]["errors"] is None
    assert tenant.data("{ countGroups }")["countGroups"] == 0
    # The contact stays; only its membership went.
    found = tenant.data(
        "query($id: ID!) { contact(id: $id) { contact { name groups { id } } } }",
        {"id": asha["id"]},
    )
    assert found["contact"]["contact"] == {"name": "Asha", "groups": []}
    refused = tenant.gql(CREATE, {"i": {"label": "Staff made"}}, role="staff")
    assert [e["message"] for e in refused["errors"]] == ["Unauthorized"]


def test_contacts_join_and_leave_a_collection_with_their_history(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    group_id = create(tenant, "Readers club")["group"]["id"]
    asha, ravi = tenant.create_contact("Asha"), tenant.create_contact("Ravi")
    stranger = other_tenant.create_contact("Stranger")
    added = tenant.data(
        MEMBERS,
        {
            "i": {
                "groupId": group_id,
                "addContactIds": [asha["id"], ravi["id"], stranger["id"]],
                "deleteContactIds": [],
            }
        },
    )["updateGroupContacts"]
    assert sorted(m["contact"]["id"] for m in added["groupContacts"]) == sorted(
        [asha["id"], ravi["id"]]
    )  # another organization's contact is ignored
    assert added["numberDeleted"] == 0
    removed = tenant.data(
        MEMBERS, {"i": {"groupId": group_id, "addContactIds": [], "deleteContactIds": [ravi["id"]]}}
    )["updateGroupContacts"]
    assert removed == {"numberDeleted": 1, "groupContacts": []}
    info = json.loads(
        tenant.data("query($id: ID!) { groupInfo(id: $id) }", {"id": group_id})["groupInfo"]
    )
    assert info["total"] == 1
    labels = [
        h["eventLabel"]
        for h in tenant.data(
            "query($f: ContactsHistoryFilter) { contactHistory(filter: $f) { eventLabel } }",
            {"f": {"contactId": ravi["id"]}},
        )["contactHistory"]
    ]
    assert 'Added to collection: "Readers club"' in labels
    assert 'Removed from collection: "Readers club"' in labels
    unknown = tenant.gql(
        MEMBERS, {"i": {"groupId": "999999", "addContactIds": [asha["id"]], "deleteContactIds": []}}
    )
    assert [e["message"] for e in unknown["errors"]] == ["Resource not found"]
    # The export lists the members, in the columns the import reads.
    exported = tenant.data(
        "query($id: ID!) { exportCollection(id: $id) { status errors { message } } }",
        {"id": group_id},
    )["exportCollection"]
    rows = list(csv.DictReader(io.StringIO(exported["status"])))
    assert [r["name"] for r in rows] == ["Asha"]
    assert rows[0]["phone"] == asha["phone"]


def test_a_staff_member_moves_a_contact_between_collections_from_the_chat(
    tenant: Tenant,
) -> None:
    first, second = create(tenant, "Morning batch"), create(tenant, "Evening batch")
    asha = tenant.create_contact("Asha")
    mutation = """mutation($i: ContactGroupsInput!) { updateContactGroups(input: $i) {
      numberDeleted contactGroups { group { label } } } }"""
    joined = tenant.data(
        mutation,
        {
            "i": {
                "contactId": asha["id"],
                "addGroupIds": [first["group"]["id"]],
                "deleteGroupIds": [],
            }
        },
        role="staff",
    )["updateContactGroups"]
    assert joined == {"numberDeleted": 0, "contactGroups": [{"group": {"label": "Morning batch"}}]}
    moved = tenant.data(
        mutation,
        {
            "i": {
                "contactId": asha["id"],
                "addGroupIds": [second["group"]["id"]],
                "deleteGroupIds": [first["group"]["id"]],
            }
        },
        role="staff",
    )["updateContactGroups"]
    assert moved == {"numberDeleted": 1, "contactGroups": [{"group": {"label": "Evening batch"}}]}


def test_a_restricted_staff_member_sees_only_the_collections_assigned_to_them(
    tenant: Tenant,
) -> None:
    mine, other = create(tenant, "Assigned"), create(tenant, "Not assigned")
    staff_id = str(tenant.users["staff"]["id"])
    users = tenant.data(
        "mutation($i: GroupUsersInput!) { updateGroupUsers(input: $i) {"
        " groupUsers { user { id } group { label } } } }",
        {"i": {"groupId": mine["group"]["id"], "addUserIds": [staff_id], "deleteUserIds": []}},
    )["updateGroupUsers"]
    assert users["groupUsers"] == [{"user": {"id": staff_id}, "group": {"label": "Assigned"}}]
    tenant.data(
        "mutation($id: ID!) { updateUser(id: $id, input: {isRestricted: true})"
        " { errors { message } } }",
        {"id": staff_id},
    )
    seen = tenant.data(COUNTED, {"f": {}}, role="staff")
    assert [g["label"] for g in seen["groups"]] == ["Assigned"]
    assert seen["countGroups"] == 1
    hidden = tenant.data(
        "query($id: ID!) { group(id: $id) { group { id } errors { message } } }",
        {"id": other["group"]["id"]},
        role="staff",
    )["group"]
    assert hidden == {"group": None, "errors": [{"message": "Resource not found"}]}
    assert tenant.data(COUNTED, {"f": {}})["countGroups"] == 2  # the manager sees both


def test_a_flow_fills_the_same_collections(tenant: Tenant) -> None:
    import_and_publish(tenant, (join_flow(), ["join"]))
    Phone(tenant).say("join")
    listed = tenant.data(COUNTED, {"f": {"label": "Readers"}})
    assert listed["groups"] == [{"label": "Readers", "contactsCount": 1, "usersCount": 0}]


def test_the_same_contacts_added_at_the_same_moment_join_once(tenant: Tenant) -> None:
    # Membership is read and then written under the collection's row lock: two screens
    # adding the same contacts at once both succeed, and each contact is in it once.
    group_id = create(tenant, "Same moment")["group"]["id"]
    people = [tenant.create_contact(f"Child {i}")["id"] for i in range(4)]
    variables = {"i": {"groupId": group_id, "addContactIds": people, "deleteContactIds": []}}
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda _: tenant.gql(MEMBERS, variables), range(4)))
    assert all("errors" not in a for a in answers), answers
    listed = tenant.data(COUNTED, {"f": {"label": "Same moment"}})["groups"]
    assert listed == [{"label": "Same moment", "contactsCount": 4, "usersCount": 0}]
