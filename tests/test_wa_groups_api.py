"""WhatsApp groups on the GraphQL API (resolvers/wa_groups.py, schema/fields/wa_groups.py),
over HTTP against the live server on SQLite and PostgreSQL: the WA chat screen (`waSearch`,
`waSearchMulti`), the lists and counts of groups, phones and members, putting groups in and
out of collections, `Group.waGroupsCount`, roles, and one organization never seeing or
touching another's. The groups, phones and messages are written straight to the database
(the Maytapi webhook that normally writes them is not what is tested here)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import ContactWaGroup, WaGroup, WaGroupCollection, WaManagedPhone, WaMessage, utcnow
from resolvers import wa_groups
from tests.utils.client_ops import fetch_schema, require_reference_data, validation_errors
from tests.utils.load import Call, burst
from tests.utils.server import LiveServer
from tests.utils.tenants import Tenant, restrict_staff, unique_phone

SEARCH = """query($g: Opts!, $m: Opts!, $f: WaSearchFilter) {
  waSearch(waGroupOpts: $g, waMessageOpts: $m, filter: $f) {
    id group { id label }
    waGroup { id label bspId lastCommunicationAt primaryPhone { id label } }
    waMessages { id body flow type isDm groupId contact { id name }
      waManagedPhone { id phone } waGroup { id } media { url caption } } } }"""
MULTI = """query($g: Opts!, $m: Opts!, $f: WaSearchFilter) {
  waSearchMulti(waGroupOpts: $g, waMessageOpts: $m, filter: $f) {
    waGroups { label } waMessages { body waGroup { label } } } }"""
GROUPS = """query($f: WaGroupFilter, $o: Opts) { waGroups(filter: $f, opts: $o) {
  label contacts { name } groups { label } } waGroupsCount(filter: $f) }"""
ONE = """query($id: ID!) { waGroup(id: $id) { waGroup { label fields primaryPhone { phone }
  contacts { name } } errors { key message } } }"""
PHONES = """query($f: WaManagedPhoneFilter) { waManagedPhones(filter: $f, opts: {order: ASC}) {
  label phone phoneId status contact { name } organization { id } }
  countWaManagedPhones(filter: $f) }"""
MEMBERS = """query($f: ContactWaGroupFilter) { listContactWaGroup(filter: $f) {
  isAdmin contact { name } waGroup { label } } countContactWaGroup(filter: $f) }"""
UPDATE = """mutation($i: UpdateCollectionWaGroupInput!) { updateCollectionWaGroup(input: $i) {
  waGroupsDeleted collectionWaGroups { id group { label } waGroup { label } } } }"""
UPDATE_ONE = """mutation($i: UpdateWaGroupsCollectionInput!) { updateWaGroupCollection(input: $i)
  { waGroupsDeleted collectionWaGroups { group { label } waGroup { label } } } }"""
CREATE = """mutation($i: WaGroupsCollectionInput!) { createWaGroupsCollection(input: $i) {
  waGroupsCollection { id group { label } waGroup { label } } errors { key message } } }"""
COUNTS = """{ groups(opts: {order: ASC}) { label waGroupsCount } }"""
NOT_FOUND = [{"key": "Elixir.Glific.Groups.WAGroup", "message": "Resource not found"}]


def page(limit: int | None = None, offset: int = 0) -> dict[str, Any]:
    return {"limit": limit, "offset": offset}


@dataclass
class WaWorld:
    """One organization's WA groups: two managed phones, four groups, their messages."""

    phones: dict[str, str] = field(default_factory=dict)  # label -> id
    groups: dict[str, str] = field(default_factory=dict)  # label -> id
    members: dict[str, str] = field(default_factory=dict)  # name -> contact id


def add_messages(
    tenant: Tenant, wa_group_id: str | None, contact_id: str, bodies: list[str], **extra: Any
) -> None:
    async def write(session: AsyncSession) -> None:
        group = await session.get(WaGroup, int(wa_group_id)) if wa_group_id else None
        for body in bodies:
            session.add(
                WaMessage(
                    organization_id=tenant.org_id,
                    contact_id=int(contact_id),
                    wa_group_id=group.id if group else None,
                    wa_managed_phone_id=group.wa_managed_phone_id if group else None,
                    flow="inbound",
                    body=body,
                    bsp_id=str(uuid.uuid4()),
                    **extra,
                )
            )
            await session.flush()  # one id after another: the order they were said in

    tenant.server.in_transaction(write, org_id=tenant.org_id)


def wa_world(tenant: Tenant) -> WaWorld:
    world = WaWorld()
    for name in ("Asha", "Ravi", "Field phone"):
        world.members[name] = tenant.create_contact(name)["id"]
    now = utcnow()
    # label -> (phone, minutes since its last message, or None: never)
    layout = {
        "Class 5A": ("Field phone", 60),
        "Class 5B": ("Field phone", 1),
        "Parents": ("Field phone", None),
        "Teachers": ("Office phone", 120),
    }

    async def build(session: AsyncSession) -> None:
        for label, phone_id in (("Field phone", 101), ("Office phone", 102)):
            phone = WaManagedPhone(
                organization_id=tenant.org_id,
                label=label,
                phone=unique_phone(),
                phone_id=phone_id,
                product_id="product-1",
                status="active",
                contact_id=int(world.members["Field phone"]) if label == "Field phone" else None,
            )
            session.add(phone)
            await session.flush()
            world.phones[label] = str(phone.id)
        for label, (phone_label, minutes) in layout.items():
            group = WaGroup(
                organization_id=tenant.org_id,
                label=label,
                bsp_id=f"{uuid.uuid4().hex[:12]}@g.us",
                wa_managed_phone_id=int(world.phones[phone_label]),
                last_communication_at=None if minutes is None else now - timedelta(minutes=minutes),
                fields={"school": {"value": "Pune", "label": "school", "type": "string"}},
            )
            session.add(group)
            await session.flush()
            world.groups[label] = str(group.id)

    tenant.server.in_transaction(build, org_id=tenant.org_id)
    asha, ravi = world.members["Asha"], world.members["Ravi"]
    add_messages(tenant, world.groups["Class 5A"], asha, ["a1", "a2", "a3", "a4"])
    add_messages(tenant, world.groups["Class 5B"], ravi, ["b1", "b2"])
    add_messages(tenant, world.groups["Teachers"], ravi, ["t1"])
    # A direct message to a managed phone belongs to no group's conversation.
    add_messages(tenant, None, asha, ["a direct hello"], is_dm=True)
    return world


def join(tenant: Tenant, world: WaWorld, *memberships: tuple[Any, ...]) -> None:
    """Members into groups: (member name, group label[, is_admin])."""

    async def write(session: AsyncSession) -> None:
        for name, label, *admin in memberships:
            session.add(
                ContactWaGroup(
                    organization_id=tenant.org_id,
                    contact_id=int(world.members[name]),
                    wa_group_id=int(world.groups[label]),
                    is_admin=bool(admin and admin[0]),
                )
            )

    tenant.server.in_transaction(write, org_id=tenant.org_id)


def search(
    tenant: Tenant,
    flt: dict[str, Any] | None = None,
    groups: dict[str, Any] | None = None,
    messages: dict[str, Any] | None = None,
    role: str = "staff",
) -> list[dict[str, Any]]:
    variables = {"g": groups or page(10), "m": messages or page(10), "f": flt or {}}
    found: list[dict[str, Any]] = tenant.data(SEARCH, variables, role=role)["waSearch"]
    return found


def labels(conversations: list[dict[str, Any]]) -> list[str]:
    return [c["waGroup"]["label"] for c in conversations]


def bodies(conversation: dict[str, Any]) -> list[str]:
    return [m["body"] for m in conversation["waMessages"]]


def collection(tenant: Tenant, label: str) -> str:
    made = tenant.data(
        "mutation($i: GroupInput!) { createGroup(input: $i) { group { id } errors { message } } }",
        {"i": {"label": label}},
    )["createGroup"]
    assert made["errors"] is None, made
    return str(made["group"]["id"])


def links(tenant: Tenant) -> int:
    async def count(session: AsyncSession) -> int:
        found = await session.scalar(
            select(func.count())
            .select_from(WaGroupCollection)
            .where(col(WaGroupCollection.organization_id) == tenant.org_id)
        )
        return int(found or 0)

    return tenant.server.in_transaction(count)


def test_wa_search_lists_groups_by_last_communication_with_their_latest_messages(
    tenant: Tenant, server: LiveServer
) -> None:
    world = wa_world(tenant)
    found = search(tenant)
    # Newest communication first; a group that never spoke comes last.
    assert labels(found) == ["Class 5B", "Class 5A", "Teachers", "Parents"]
    first = found[0]
    assert first["id"] == f"wa_group_{world.groups['Class 5B']}"
    assert first["group"] is None
    assert first["waGroup"]["bspId"].endswith("@g.us")
    assert first["waGroup"]["lastCommunicationAt"].endswith("Z")
    assert first["waGroup"]["primaryPhone"] == {
        "id": world.phones["Field phone"],
        "label": "Field phone",
    }
    # Each group's messages, newest first, with who said them and through which phone.
    assert [bodies(c) for c in found] == [["b2", "b1"], ["a4", "a3", "a2", "a1"], ["t1"], []]
    said = found[1]["waMessages"][0]
    assert said["contact"] == {"id": world.members["Asha"], "name": "Asha"}
    assert said["waManagedPhone"]["id"] == world.phones["Field phone"]
    assert said["waGroup"] == {"id": world.groups["Class 5A"]}
    assert (said["flow"], said["type"], said["isDm"], said["media"]) == (
        "INBOUND",
        "TEXT",
        False,
        None,
    )
    # Both options page: the groups, and each group's messages.
    assert labels(search(tenant, groups=page(2, 1))) == ["Class 5A", "Teachers"]
    paged = search(tenant, groups=page(2), messages=page(2, 1))
    assert [bodies(c) for c in paged] == [["b1"], ["a3", "a2"]]
    assert [bodies(c) for c in search(tenant, groups=page(2), messages=page(0))] == [[], []]
    negative = tenant.gql(SEARCH, {"g": page(2), "m": page(-1), "f": {}}, role="staff")
    assert [e["message"] for e in negative["errors"]] == [
        "waMessageOpts: limit and offset must not be negative"
    ]

    # Filters: one group, some groups, a phone's groups, a part of the label.
    five_a, teachers = world.groups["Class 5A"], world.groups["Teachers"]
    assert labels(search(tenant, {"id": five_a})) == ["Class 5A"]
    assert labels(search(tenant, {"ids": [teachers, five_a]})) == ["Class 5A", "Teachers"]
    assert labels(search(tenant, {"waPhoneIds": [world.phones["Office phone"]]})) == ["Teachers"]
    assert labels(search(tenant, {"term": "CLASS 5"})) == ["Class 5B", "Class 5A"]
    assert labels(search(tenant, {"groupLabel": "paren"})) == ["Parents"]
    assert search(tenant, {"term": "100%"}) == []

    # The messages of a whole page of groups come from a fixed number of statements.
    def statements(limit: int) -> int:
        counter = server.count_statements()
        try:
            assert len(search(tenant, groups=page(limit))) == limit
        finally:
            server.stop_counting(counter)
        return counter.count

    assert statements(1) == statements(4)


def test_wa_search_of_collections_and_the_search_box(tenant: Tenant) -> None:
    world = wa_world(tenant)
    school = collection(tenant, "School")
    collection(tenant, "Empty")
    tenant.data(
        UPDATE,
        {
            "i": {
                "groupId": school,
                "addWaGroupIds": [world.groups["Class 5A"]],
                "deleteWaGroupIds": [],
            }
        },
    )
    # A message sent to the collection as a whole is written to each of its groups.
    add_messages(
        tenant,
        world.groups["Class 5A"],
        world.members["Field phone"],
        ["to all"],
        group_id=int(school),
    )
    found = search(tenant, {"searchGroup": True})
    assert [(c["id"], c["group"]["label"], c["waGroup"]) for c in found] == [
        (f"group_{school}", "School", None)
    ]
    assert [(m["body"], m["groupId"]) for m in found[0]["waMessages"]] == [("to all", int(school))]
    assert search(tenant, {"searchGroup": True, "groupLabel": "nothing"}) == []

    box = tenant.data(MULTI, {"g": page(10), "m": page(10), "f": {"term": "a"}}, role="staff")
    assert box["waSearchMulti"] == {
        "waGroups": [
            {"label": "Class 5B"},
            {"label": "Class 5A"},
            {"label": "Teachers"},
            {"label": "Parents"},
        ],
        "waMessages": [
            {"body": "to all", "waGroup": {"label": "Class 5A"}},
            {"body": "a4", "waGroup": {"label": "Class 5A"}},
            {"body": "a3", "waGroup": {"label": "Class 5A"}},
            {"body": "a2", "waGroup": {"label": "Class 5A"}},
            {"body": "a1", "waGroup": {"label": "Class 5A"}},
        ],
    }
    few = tenant.data(MULTI, {"g": page(1, 1), "m": page(1, 1), "f": {"term": "a"}}, role="staff")
    assert few["waSearchMulti"] == {
        "waGroups": [{"label": "Class 5A"}],
        "waMessages": [{"body": "a4", "waGroup": {"label": "Class 5A"}}],
    }


def test_groups_phones_and_members_are_listed_and_counted(tenant: Tenant) -> None:
    world = wa_world(tenant)

    join(
        tenant,
        world,
        ("Asha", "Class 5A", False),
        ("Ravi", "Class 5A", True),
        ("Ravi", "Teachers", False),
    )
    school = collection(tenant, "School")
    tenant.data(
        UPDATE,
        {
            "i": {
                "groupId": school,
                "addWaGroupIds": [world.groups["Class 5A"]],
                "deleteWaGroupIds": [],
            }
        },
    )

    def listed(flt: dict[str, Any], opts: dict[str, Any] | None = None) -> dict[str, Any]:
        return tenant.data(GROUPS, {"f": flt, "o": opts}, role="staff")

    everything = listed({}, {"order": "ASC"})
    assert [g["label"] for g in everything["waGroups"]] == [
        "Class 5A",
        "Class 5B",
        "Parents",
        "Teachers",
    ]
    assert everything["waGroups"][0] == {
        "label": "Class 5A",
        "contacts": [{"name": "Asha"}, {"name": "Ravi"}],
        "groups": [{"label": "School"}],
    }
    assert everything["waGroupsCount"] == 4
    assert listed({"term": "class"})["waGroupsCount"] == 2
    assert [g["label"] for g in listed({"label": "5b"})["waGroups"]] == ["Class 5B"]
    assert [g["label"] for g in listed({"includeGroups": [school]})["waGroups"]] == ["Class 5A"]
    assert listed({"excludeGroups": [school]})["waGroupsCount"] == 3
    assert (
        listed({}, {"limit": 1, "offset": 1, "order": "DESC"})["waGroups"][0]["label"] == "Parents"
    )

    one = tenant.data(ONE, {"id": world.groups["Class 5A"]}, role="staff")["waGroup"]
    assert one["errors"] is None
    assert one["waGroup"]["label"] == "Class 5A"
    assert '"school"' in one["waGroup"]["fields"]  # Json: a string
    assert one["waGroup"]["contacts"] == [{"name": "Asha"}, {"name": "Ravi"}]
    for unknown in ("999999999", "abc"):
        missing = tenant.data(ONE, {"id": unknown}, role="staff")["waGroup"]
        assert missing == {"waGroup": None, "errors": NOT_FOUND}

    phones = tenant.data(PHONES, {"f": {}})
    assert [(p["label"], p["phoneId"], p["status"]) for p in phones["waManagedPhones"]] == [
        ("Field phone", 101, "active"),
        ("Office phone", 102, "active"),
    ]
    assert phones["waManagedPhones"][0]["contact"] == {"name": "Field phone"}
    assert phones["waManagedPhones"][0]["organization"] == {"id": str(tenant.org_id)}
    assert phones["countWaManagedPhones"] == 2
    assert tenant.data(PHONES, {"f": {"label": "office"}})["countWaManagedPhones"] == 1
    field_phone = phones["waManagedPhones"][0]["phone"]
    only = tenant.data(PHONES, {"f": {"phone": field_phone[-5:]}})["waManagedPhones"]
    assert [p["label"] for p in only] == ["Field phone"]

    members = tenant.data(MEMBERS, {"f": {"waGroupId": world.groups["Class 5A"]}}, role="staff")
    assert members == {
        "listContactWaGroup": [
            {"isAdmin": False, "contact": {"name": "Asha"}, "waGroup": {"label": "Class 5A"}},
            {"isAdmin": True, "contact": {"name": "Ravi"}, "waGroup": {"label": "Class 5A"}},
        ],
        "countContactWaGroup": 2,
    }
    assert tenant.data(MEMBERS, {"f": {}}, role="staff")["countContactWaGroup"] == 3


def test_collections_gain_and_lose_wa_groups_and_count_them(tenant: Tenant) -> None:
    world = wa_world(tenant)
    school, parents = collection(tenant, "School"), collection(tenant, "Parents list")
    five_a, five_b = world.groups["Class 5A"], world.groups["Class 5B"]

    def update(add: list[str], remove: list[str], group: str = school) -> dict[str, Any]:
        body = tenant.gql(
            UPDATE,
            {"i": {"groupId": group, "addWaGroupIds": add, "deleteWaGroupIds": remove}},
            role="staff",
        )
        return body

    added = update([five_a, five_b], [])["data"]["updateCollectionWaGroup"]
    assert added["waGroupsDeleted"] == 0
    assert [(r["group"]["label"], r["waGroup"]["label"]) for r in added["collectionWaGroups"]] == [
        ("School", "Class 5A"),
        ("School", "Class 5B"),
    ]
    # Adding again (and twice in one list) keeps one row each.
    again = update([five_a, five_a], [])["data"]["updateCollectionWaGroup"]
    assert again["collectionWaGroups"][0]["id"] == added["collectionWaGroups"][0]["id"]
    assert links(tenant) == 2
    assert tenant.data(COUNTS)["groups"] == [
        {"label": "Parents list", "waGroupsCount": 0},
        {"label": "School", "waGroupsCount": 2},
    ]

    removed = update([], [five_b])["data"]["updateCollectionWaGroup"]
    assert removed == {"waGroupsDeleted": 1, "collectionWaGroups": []}
    assert tenant.data(COUNTS)["groups"][1] == {"label": "School", "waGroupsCount": 1}

    # An unknown id refuses the whole change: the valid add beside it is not written.
    for bad in ("999999999", "not-an-id"):
        refused = update([five_b, bad], [five_a])
        assert refused["data"] == {"updateCollectionWaGroup": None}
        assert [e["message"] for e in refused["errors"]] == ["Resource not found"]
    refused = update([five_b], [], group="999999999")
    assert [e["message"] for e in refused["errors"]] == ["Resource not found"]
    assert tenant.data(COUNTS)["groups"][1] == {"label": "School", "waGroupsCount": 1}

    # One WA group joins and leaves collections.
    moved = tenant.data(
        UPDATE_ONE,
        {"i": {"waGroupId": five_a, "addGroupIds": [parents], "deleteGroupIds": [school]}},
        role="staff",
    )["updateWaGroupCollection"]
    assert moved == {
        "waGroupsDeleted": 1,
        "collectionWaGroups": [
            {"group": {"label": "Parents list"}, "waGroup": {"label": "Class 5A"}}
        ],
    }
    refused = tenant.gql(
        UPDATE_ONE,
        {"i": {"waGroupId": five_b, "addGroupIds": [school, "999999999"], "deleteGroupIds": []}},
    )
    assert [e["message"] for e in refused["errors"]] == ["Resource not found"]
    assert tenant.data(COUNTS)["groups"] == [
        {"label": "Parents list", "waGroupsCount": 1},
        {"label": "School", "waGroupsCount": 0},
    ]

    # createWaGroupsCollection: one pair; asked again, the same row.
    made = tenant.data(CREATE, {"i": {"groupId": school, "waGroupId": five_b}}, role="staff")
    row = made["createWaGroupsCollection"]
    assert row["errors"] is None
    assert (row["waGroupsCollection"]["group"], row["waGroupsCollection"]["waGroup"]) == (
        {"label": "School"},
        {"label": "Class 5B"},
    )
    twice = tenant.data(CREATE, {"i": {"groupId": school, "waGroupId": five_b}}, role="staff")
    assert (
        twice["createWaGroupsCollection"]["waGroupsCollection"]["id"]
        == row["waGroupsCollection"]["id"]
    )
    unknown = tenant.data(CREATE, {"i": {"groupId": school, "waGroupId": "999999999"}})
    assert unknown["createWaGroupsCollection"] == {"waGroupsCollection": None, "errors": NOT_FOUND}

    # Deleting a collection takes its WA groups out of it; the groups stay.
    tenant.data(f'mutation {{ deleteGroup(id: "{school}") {{ errors {{ message }} }} }}')
    assert links(tenant) == 1
    assert tenant.data(GROUPS, {"f": {}}, role="staff")["waGroupsCount"] == 4


def test_adding_the_same_wa_groups_at_once_keeps_one_row_each(tenant: Tenant) -> None:
    """From both sides at the same moment: the collection's screen (which locks the
    collection) and the WA group's (which locks the group)."""
    world = wa_world(tenant)
    school = collection(tenant, "School")
    ids = list(world.groups.values())
    token = tenant.token("staff")
    calls: list[Call] = []
    for _ in range(4):
        calls.append(
            Call(
                UPDATE,
                {"i": {"groupId": school, "addWaGroupIds": ids, "deleteWaGroupIds": []}},
                token,
            )
        )
        calls += [
            Call(
                UPDATE_ONE,
                {"i": {"waGroupId": wa_group_id, "addGroupIds": [school], "deleteGroupIds": []}},
                token,
            )
            for wa_group_id in ids
        ]
    answers = burst(tenant.server.base_url, calls)
    assert all(a.status == 200 and a.errors is None for a in answers), [a.body for a in answers]
    assert links(tenant) == len(ids)
    counted = tenant.data(COUNTS)["groups"]
    assert counted == [{"label": "School", "waGroupsCount": len(ids)}]


def test_another_organization_sees_and_touches_none_of_them(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    world = wa_world(tenant)
    school = collection(tenant, "School")
    tenant.data(
        UPDATE,
        {
            "i": {
                "groupId": school,
                "addWaGroupIds": [world.groups["Class 5A"]],
                "deleteWaGroupIds": [],
            }
        },
    )
    theirs = collection(other_tenant, "Theirs")
    # Nothing of A's is listed, counted, searched or found for B.
    assert search(other_tenant) == []
    assert search(other_tenant, {"ids": list(world.groups.values())}) == []
    assert search(other_tenant, {"searchGroup": True}) == []
    assert other_tenant.data(GROUPS, {"f": {}}, role="staff") == {
        "waGroups": [],
        "waGroupsCount": 0,
    }
    box = other_tenant.data(MULTI, {"g": page(5), "m": page(5), "f": {"term": "a"}}, role="staff")
    assert box["waSearchMulti"] == {"waGroups": [], "waMessages": []}
    found = other_tenant.data(ONE, {"id": world.groups["Class 5A"]}, role="staff")["waGroup"]
    assert found == {"waGroup": None, "errors": NOT_FOUND}
    assert other_tenant.data(PHONES, {"f": {}}) == {
        "waManagedPhones": [],
        "countWaManagedPhones": 0,
    }
    assert other_tenant.data(MEMBERS, {"f": {}}, role="staff")["countContactWaGroup"] == 0
    # Nor can B change A's collections, or put A's groups in its own.
    for group, add, remove in (
        (school, [], [world.groups["Class 5A"]]),
        (theirs, [world.groups["Class 5B"]], []),
    ):
        refused = other_tenant.gql(
            UPDATE,
            {"i": {"groupId": group, "addWaGroupIds": add, "deleteWaGroupIds": remove}},
            role="staff",
        )
        assert [e["message"] for e in refused["errors"]] == ["Resource not found"]
    refused = other_tenant.gql(
        UPDATE_ONE,
        {
            "i": {
                "waGroupId": world.groups["Class 5A"],
                "addGroupIds": [theirs],
                "deleteGroupIds": [school],
            }
        },
    )
    assert [e["message"] for e in refused["errors"]] == ["Resource not found"]
    made = other_tenant.data(
        CREATE, {"i": {"groupId": theirs, "waGroupId": world.groups["Class 5B"]}}
    )
    assert made["createWaGroupsCollection"]["errors"] == NOT_FOUND
    assert links(tenant) == 1
    assert links(other_tenant) == 0
    assert tenant.data(COUNTS)["groups"] == [{"label": "School", "waGroupsCount": 1}]


def test_roles_as_glific(tenant: Tenant) -> None:
    world = wa_world(tenant)
    school = collection(tenant, "School")
    no_access: dict[str, dict[str, Any]] = {
        SEARCH: {"g": page(1), "m": page(1)},
        GROUPS: {"f": {}},
        ONE: {"id": world.groups["Class 5A"]},
        MEMBERS: {"f": {}},
        MULTI: {"g": page(1), "m": page(1)},
        UPDATE: {
            "i": {
                "groupId": school,
                "addWaGroupIds": [world.groups["Class 5A"]],
                "deleteWaGroupIds": [],
            }
        },
    }
    for document, variables in no_access.items():
        refused = tenant.gql(document, variables, role="none")
        assert refused["errors"] and {e["message"] for e in refused["errors"]} == {
            "Unauthorized"
        }, document
        assert not any(refused["data"].values()), document
    assert links(tenant) == 0
    # Staff read the managed phones (the chat screen's status bar asks, whoever is signed
    # in: they are the organization's own numbers); counting them is for managers and up.
    staff = tenant.gql(PHONES, {"f": {}}, role="staff")
    assert [e["message"] for e in staff["errors"]] == ["Unauthorized"]
    assert len(staff["data"]["waManagedPhones"]) == 2
    assert staff["data"]["countWaManagedPhones"] is None
    assert tenant.data(PHONES, {"f": {}}, role="admin")["countWaManagedPhones"] == 2
    # Staff read the groups and fill collections with them.
    assert len(search(tenant, role="staff")) == 4
    tenant.data(UPDATE, no_access[UPDATE], role="staff")
    assert links(tenant) == 1


def test_glific_clients_wa_search_document_runs(tenant: Tenant, server: LiveServer) -> None:
    """The frontend's snake_case `waSearch` document validates and answers in its spelling."""
    folder = require_reference_data()
    text = (folder / "glific-tests" / "searches__wa_search.graphql").read_text(encoding="utf-8")
    assert validation_errors(fetch_schema(server.client, tenant.token("manager")), text) == []
    world = wa_world(tenant)
    variables = {
        "waGroupOpts": {"limit": 2, "offset": 0},
        "waMessageOpts": {"limit": 1, "offset": 0},
        "filter": {"ids": [world.groups["Class 5A"], world.groups["Parents"]]},
    }
    result = tenant.data(text, variables, role="staff")
    assert result["search"] == [
        {
            "group": None,
            "wa_group": {
                "id": world.groups["Class 5A"],
                "label": "Class 5A",
                "bsp_id": result["search"][0]["wa_group"]["bsp_id"],
                "lastCommunicationAt": result["search"][0]["wa_group"]["lastCommunicationAt"],
            },
            "messages": [
                {
                    "id": result["search"][0]["messages"][0]["id"],
                    "body": "a4",
                    "flow": "INBOUND",
                    "type": "TEXT",
                    "contact": {"id": world.members["Asha"], "name": "Asha", "phone": ""},
                    "wa_managed_phone": {"id": world.phones["Field phone"]},
                }
            ],
        },
        {
            "group": None,
            "wa_group": {
                "id": world.groups["Parents"],
                "label": "Parents",
                "bsp_id": result["search"][1]["wa_group"]["bsp_id"],
                "lastCommunicationAt": None,
            },
            "messages": [],
        },
    ]


CONTACTS = """query($f: ContactFilter) { contacts(filter: $f, opts: {order: ASC}) {
  name waGroups { label } } countContacts(filter: $f) }"""
COLLECTION_GROUPS = """query($id: ID!) { group(id: $id) { group { waGroups { label } } } }"""


def test_contacts_filter_by_wa_group_and_show_their_groups(tenant: Tenant) -> None:
    world = wa_world(tenant)

    join(tenant, world, ("Asha", "Class 5A"), ("Ravi", "Class 5A"), ("Ravi", "Teachers"))
    a5, teachers = world.groups["Class 5A"], world.groups["Teachers"]

    def found(flt: dict[str, Any]) -> tuple[list[tuple[str, list[str]]], int]:
        data = tenant.data(CONTACTS, {"f": flt}, role="staff")
        named = [
            (c["name"], [g["label"] for g in c["waGroups"]])
            for c in data["contacts"]
            if c["name"] in world.members
        ]
        return named, data["countContacts"]

    assert found({"includeWaGroups": [a5]}) == (
        [("Asha", ["Class 5A"]), ("Ravi", ["Class 5A", "Teachers"])],
        2,
    )
    assert found({"includeWaGroups": [teachers]}) == ([("Ravi", ["Class 5A", "Teachers"])], 1)
    left, _ = found({"excludeWaGroups": [teachers]})
    assert [name for name, _ in left] == ["Asha", "Field phone"]
    # Another organization's group id selects nobody here.
    assert found({"includeWaGroups": ["999999"]}) == ([], 0)

    school = collection(tenant, "School")
    tenant.data(
        UPDATE,
        {"i": {"groupId": school, "addWaGroupIds": [a5, teachers], "deleteWaGroupIds": []}},
    )
    shown = tenant.data(COLLECTION_GROUPS, {"id": school}, role="staff")["group"]["group"]
    assert [g["label"] for g in shown["waGroups"]] == ["Class 5A", "Teachers"]


def test_wa_search_answers_at_most_max_groups(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no group limit, or a larger one, a page holds at most MAX_GROUPS conversations
    (their messages are ranked for the page's groups only)."""
    wa_world(tenant)
    monkeypatch.setattr(wa_groups, "MAX_GROUPS", 2)
    assert len(search(tenant, groups={"offset": 0})) == 2
    assert len(search(tenant, groups=page(3))) == 2
    assert len(search(tenant, groups=page(1))) == 1


def test_restricted_staff_see_only_the_wa_groups_of_their_collections(tenant: Tenant) -> None:
    """A staff user restricted to some collections sees only those collections' contacts;
    likewise only the WhatsApp groups in those collections, with their messages (Glific
    does not narrow WA groups: a deliberate difference, for the members' privacy)."""
    world = wa_world(tenant)
    restrict_staff(tenant, world.members["Ravi"])  # the collection "My families", with Ravi
    every = tenant.data("{ groups { id label } }")["groups"]
    mine_id = next(g["id"] for g in every if g["label"] == "My families")
    tenant.data(
        UPDATE,
        {
            "i": {
                "groupId": mine_id,
                "addWaGroupIds": [world.groups["Class 5A"]],
                "deleteWaGroupIds": [],
            }
        },
    )
    listed = tenant.data(GROUPS, {"f": {}, "o": None}, role="staff")
    assert [g["label"] for g in listed["waGroups"]] == ["Class 5A"]
    assert listed["waGroupsCount"] == 1
    assert labels(search(tenant, role="staff")) == ["Class 5A"]
    assert len(search(tenant, role="manager")) == 4  # managers are never restricted
    hidden = tenant.data(ONE, {"id": world.groups["Class 5B"]}, role="staff")["waGroup"]
    assert hidden["errors"] == NOT_FOUND
    box = tenant.data(MULTI, {"g": page(10), "m": page(10), "f": {"term": ""}}, role="staff")[
        "waSearchMulti"
    ]
    assert {g["label"] for g in box["waGroups"]} == {"Class 5A"}
    assert {m["waGroup"]["label"] for m in box["waMessages"]} == {"Class 5A"}
    collections = search(tenant, {"searchGroup": True}, role="staff")
    assert [c["group"]["label"] for c in collections] == ["My families"]

    join(tenant, world, ("Ravi", "Class 5A"), ("Ravi", "Teachers"))
    members = tenant.data(MEMBERS, {"f": {}}, role="staff")
    assert [m["waGroup"]["label"] for m in members["listContactWaGroup"]] == ["Class 5A"]
    assert members["countContactWaGroup"] == 1
    assert tenant.data(MEMBERS, {"f": {}}, role="manager")["countContactWaGroup"] == 2
    # Ravi, whom the staff user may see, is in Teachers too: that group is not shown on him.
    ravi = """query($id: ID!) { contact(id: $id) { contact { name waGroups { label } } } }"""
    for role, shown in (("staff", ["Class 5A"]), ("manager", ["Class 5A", "Teachers"])):
        contact = tenant.data(ravi, {"id": world.members["Ravi"]}, role=role)["contact"]
        assert [g["label"] for g in contact["contact"]["waGroups"]] == shown
    listed = tenant.data(CONTACTS, {"f": {}}, role="staff")["contacts"]
    assert [c["waGroups"] for c in listed if c["name"] == "Ravi"] == [[{"label": "Class 5A"}]]
