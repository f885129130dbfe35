"""Contacts over GraphQL as Glific's clients use them: lookups (by id and by a phone written
any way), lists and counts with Glific's filters and opts, create/update/delete, opt-in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Contact, ContactGroup, Group, Organization, User, UserGroup, saved_id
from tests.utils.contact_ops import (
    ERRORS,
    as_json,
    contact,
    decoded,
    field,
    history,
    new_profile,
    profile,
)
from tests.utils.tenants import Tenant, unique_phone

CONTACT_MISS = [{"key": "Contact", "message": "Contact not found or permission denied."}]
NOT_FOUND = [{"key": "Elixir.Glific.Contacts.Contact", "message": "Resource not found"}]
CREATE = (
    "mutation($input: ContactInput!) { createContact(input: $input) {"
    " contact { id name phone maskedPhone status bspStatus fields settings language { id }"
    " activeProfile { id } profiles { id } } errors { key message } } }"
)


def spaced(phone: str) -> str:
    """'919876543210' written as a person would: '+91 98765 43210'."""
    return f"+{phone[:2]} {phone[2:7]} {phone[7:]}"


def create(tenant: Tenant, role: str = "manager", **input: Any) -> dict[str, Any]:
    return tenant.data(CREATE, {"input": input}, role)["createContact"]


def by_phone(tenant: Tenant, phone: str) -> dict[str, Any]:
    return tenant.data(
        f"query($p: String!) {{ contactByPhone(phone: $p) {{ contact {{ id name }} {ERRORS} }} }}",
        {"p": phone},
        role="staff",
    )["contactByPhone"]


def listed(
    tenant: Tenant, filter: dict[str, Any] | None = None, opts: dict[str, Any] | None = None
) -> list[str]:
    rows = tenant.data(
        "query($f: ContactFilter, $o: Opts) { contacts(filter: $f, opts: $o) { name } }",
        {"f": filter, "o": opts},
    )["contacts"]
    return [r["name"] for r in rows]


def counted(tenant: Tenant, filter: dict[str, Any] | None = None) -> int:
    return int(
        tenant.data("query($f: ContactFilter) { countContacts(filter: $f) }", {"f": filter})[
            "countContacts"
        ]
    )


def insert_contacts(tenant: Tenant, names: list[str]) -> list[int]:
    """Many contacts at once, straight into the database (setup only)."""

    async def go(session: AsyncSession) -> list[int]:
        language = await session.scalar(
            select(col(Organization.default_language_id)).where(
                col(Organization.id) == tenant.org_id
            )
        )
        assert language is not None
        rows = [
            Contact(
                organization_id=tenant.org_id,
                name=name,
                phone=unique_phone(),
                language_id=language,
            )
            for name in names
        ]
        session.add_all(rows)
        await session.flush()
        return [saved_id(r) for r in rows]

    return tenant.server.in_transaction(go)


# --- lookups -------------------------------------------------------------------------------


def test_contact_by_id(tenant: Tenant) -> None:
    asha = tenant.create_contact("Asha", fields=as_json({"city": field("Pune")}))
    found = contact(tenant, asha["id"])
    assert found["name"] == "Asha" and found["phone"] == asha["phone"]
    assert decoded(found["fields"]) == {"city": field("Pune")}
    assert found["language"] == {"id": tenant.language_id("en")}


@pytest.mark.parametrize("missing", ["123456789", "abc", "-1"])
def test_contact_miss_is_a_payload_error(tenant: Tenant, missing: str) -> None:
    result = tenant.data(
        f"query($id: ID!) {{ contact(id: $id) {{ contact {{ id }} {ERRORS} }} }}", {"id": missing}
    )["contact"]
    assert result == {"contact": None, "errors": CONTACT_MISS}


def test_another_organizations_contact_is_not_found(tenant: Tenant, other_tenant: Tenant) -> None:
    theirs = other_tenant.create_contact("Theirs")
    result = tenant.data(
        f"query($id: ID!) {{ contact(id: $id) {{ contact {{ id }} {ERRORS} }} }}",
        {"id": theirs["id"]},
    )["contact"]
    assert result == {"contact": None, "errors": CONTACT_MISS}
    assert by_phone(tenant, theirs["phone"]) == {"contact": None, "errors": CONTACT_MISS}


def test_staff_see_an_empty_phone_but_the_masked_one(tenant: Tenant) -> None:
    asha = tenant.create_contact("Asha")
    query = "query($id: ID!) { contact(id: $id) { contact { phone maskedPhone } } }"
    as_staff = tenant.data(query, {"id": asha["id"]}, "staff")["contact"]["contact"]
    as_manager = tenant.data(query, {"id": asha["id"]}, "manager")["contact"]["contact"]
    masked = f"{asha['phone'][:4]}******{asha['phone'][-2:]}"
    assert as_staff == {"phone": "", "maskedPhone": masked}
    assert as_manager == {"phone": asha["phone"], "maskedPhone": masked}


def test_contact_by_phone_normalises_the_number(tenant: Tenant) -> None:
    phone = unique_phone()
    asha = tenant.create_contact("Asha", phone=phone)
    for written in [
        phone,
        spaced(phone),
        f"+{phone}",
        f"00{phone}",
        f"+{phone[:2]}-{phone[2:7]}-{phone[7:]}",
        f" +{phone[:2]}\u00a0({phone[2:7]})\t{phone[7:]} ",  # pasted from a spreadsheet
    ]:
        assert by_phone(tenant, written) == {
            "contact": {"id": asha["id"], "name": "Asha"},
            "errors": None,
        }, written
    assert by_phone(tenant, unique_phone()) == {"contact": None, "errors": CONTACT_MISS}
    assert by_phone(tenant, "not a phone") == {"contact": None, "errors": CONTACT_MISS}


def test_restricted_staff_see_only_their_groups_contacts(tenant: Tenant) -> None:
    mine = tenant.create_contact("In my group")
    other = tenant.create_contact("Elsewhere")
    staff_id = tenant.users["staff"]["id"]

    async def restrict(session: AsyncSession) -> None:
        group = Group(organization_id=tenant.org_id, label="Class 4")
        session.add(group)
        await session.flush()
        session.add(
            ContactGroup(
                organization_id=tenant.org_id, contact_id=int(mine["id"]), group_id=saved_id(group)
            )
        )
        session.add(
            UserGroup(organization_id=tenant.org_id, user_id=staff_id, group_id=saved_id(group))
        )
        await session.execute(update(User).where(User.id == staff_id).values(is_restricted=True))

    tenant.server.in_transaction(restrict)
    rows = tenant.data("{ contacts(opts: {limit: 50}) { id } }", role="staff")["contacts"]
    assert {r["id"] for r in rows} == {mine["id"], str(tenant.org_contact_id)}
    assert tenant.data("{ countContacts }", role="staff")["countContacts"] == 2
    hidden = tenant.data(
        f"query($id: ID!) {{ contact(id: $id) {{ contact {{ id }} {ERRORS} }} }}",
        {"id": other["id"]},
        "staff",
    )["contact"]
    assert hidden == {"contact": None, "errors": CONTACT_MISS}
    # A manager is never restricted: the two, the chatbot and five simulator contacts.
    assert counted(tenant) == 8


# --- lists and counts ----------------------------------------------------------------------


def test_contacts_filters(tenant: Tenant) -> None:
    phone = unique_phone()
    tenant.create_contact("Asha Devi", phone=phone)
    tenant.create_contact("asha kumari")
    tenant.create_contact("Ravi")
    blocked = tenant.create_contact("Blocked Asha", status="BLOCKED")
    tenant.create_contact("Meena", status="INVALID", bspStatus="HSM")

    assert sorted(listed(tenant, {"name": "ASHA"})) == ["Asha Devi", "asha kumari"]
    # term matches the name or the phone.
    assert listed(tenant, {"term": phone[-6:]}) == ["Asha Devi"]
    assert sorted(listed(tenant, {"term": "asha"})) == ["Asha Devi", "asha kumari"]
    assert listed(tenant, {"phone": phone[-7:]}) == ["Asha Devi"]
    # Blocked contacts are hidden unless a status is asked for.
    assert listed(tenant, {"status": "BLOCKED"}) == ["Blocked Asha"]
    assert listed(tenant, {"status": "INVALID"}) == ["Meena"]
    assert listed(tenant, {"bspStatus": "HSM"}) == ["Meena"]
    assert "Blocked Asha" not in listed(tenant)
    assert counted(tenant, {"name": "asha"}) == 2
    assert counted(tenant, {"name": "asha", "status": "BLOCKED"}) == 1
    # Four visible, plus the organization's own contact and its five simulator contacts.
    assert counted(tenant) == 10
    assert blocked["id"]


def test_contacts_group_filters(tenant: Tenant) -> None:
    asha = tenant.create_contact("Asha")
    ravi = tenant.create_contact("Ravi")
    tenant.create_contact("Meena")

    async def groups(session: AsyncSession) -> tuple[int, int]:
        one = Group(organization_id=tenant.org_id, label="One")
        two = Group(organization_id=tenant.org_id, label="Two")
        session.add_all([one, two])
        await session.flush()
        session.add_all(
            [
                ContactGroup(
                    organization_id=tenant.org_id,
                    contact_id=int(asha["id"]),
                    group_id=saved_id(one),
                ),
                ContactGroup(
                    organization_id=tenant.org_id,
                    contact_id=int(ravi["id"]),
                    group_id=saved_id(two),
                ),
            ]
        )
        return saved_id(one), saved_id(two)

    one, two = tenant.server.in_transaction(groups)
    assert listed(tenant, {"includeGroups": [str(one)]}) == ["Asha"]
    assert sorted(listed(tenant, {"includeGroups": [one, two]})) == ["Asha", "Ravi"]
    assert "Asha" not in listed(tenant, {"excludeGroups": [one]})
    assert "Ravi" in listed(tenant, {"excludeGroups": [one]})
    assert counted(tenant, {"includeGroups": [one, two]}) == 2
    assert listed(tenant, {"includeGroups": ["99999999"]}) == []


def test_contacts_default_limit_is_25_and_the_maximum_50(tenant: Tenant) -> None:
    insert_contacts(tenant, [f"Bulk {i:02d}" for i in range(55)])
    assert counted(tenant) == 61  # with the chatbot and five simulator contacts
    assert len(listed(tenant)) == 25
    assert len(listed(tenant, opts={"limit": 10})) == 10
    assert len(listed(tenant, opts={"limit": 500})) == 50
    page = listed(tenant, {"name": "Bulk"}, {"limit": 5, "offset": 50})
    assert page == [f"Bulk {i:02d}" for i in range(50, 55)]


def test_contacts_ordering(tenant: Tenant) -> None:
    for name in ["bela", "Chitra", "arun", "Dev"]:
        tenant.create_contact(name)
    names = ["arun", "bela", "Chitra", "Dev"]
    in_order = [n for n in listed(tenant, opts={"order": "ASC"}) if n in names]
    assert in_order == names  # lower(name), not byte order
    assert [n for n in listed(tenant, opts={"order": "DESC"}) if n in names] == names[::-1]
    newest_first = [
        n for n in listed(tenant, opts={"order": "DESC", "orderWith": "inserted_at"}) if n in names
    ]
    assert newest_first == ["Dev", "arun", "Chitra", "bela"]


def test_contacts_order_with_an_unknown_column_is_a_clear_error(tenant: Tenant) -> None:
    body = tenant.gql('{ contacts(opts: {orderWith: "password"}) { id } }')
    assert body["data"] == {"contacts": None}
    assert "password" in body["errors"][0]["message"]


# --- create --------------------------------------------------------------------------------


def test_create_contact_normalises_the_phone_and_defaults_the_language(tenant: Tenant) -> None:
    phone = unique_phone()
    result = create(tenant, name="Asha", phone=spaced(phone))
    assert result["errors"] is None
    made = result["contact"]
    assert made["phone"] == phone
    assert made["language"] == {"id": tenant.language_id("en")}
    assert (made["status"], made["bspStatus"]) == ("VALID", "NONE")
    assert decoded(made["fields"]) == {} and decoded(made["settings"]) == {}
    assert (made["activeProfile"], made["profiles"]) == (None, [])
    assert by_phone(tenant, phone)["contact"]["id"] == made["id"]


def test_create_contact_with_everything(tenant: Tenant) -> None:
    hindi = tenant.language_id("hi")
    result = create(
        tenant,
        name="Asha",
        phone=unique_phone(),
        language_id=int(hindi),
        status="PROCESSING",
        bsp_status="SESSION",
        fields=as_json({"city": field("Pune")}),
        settings=as_json({"preferences": {"a": 1}}),
    )
    assert result["errors"] is None
    made = result["contact"]
    assert made["language"] == {"id": hindi}
    assert (made["status"], made["bspStatus"]) == ("PROCESSING", "SESSION")
    assert decoded(made["fields"]) == {"city": field("Pune")}
    assert decoded(made["settings"]) == {"preferences": {"a": 1}}


@pytest.mark.parametrize(
    "phone",
    ["12345", "not a phone", "+91 12", "", "   ", "+1 800 FLOWERS", "+91 98765 43210 ext 5"],
)
def test_create_contact_with_an_invalid_phone_is_a_payload_error(
    tenant: Tenant, phone: str
) -> None:
    before = counted(tenant)
    result = create(tenant, name="Asha", phone=phone)
    assert result["contact"] is None
    assert [e["key"] for e in result["errors"]] == ["phone"]
    assert result["errors"][0]["message"].startswith("Phone: ")
    assert counted(tenant) == before


def test_create_contact_without_a_phone(tenant: Tenant) -> None:
    result = create(tenant, name="Asha")
    assert result == {
        "contact": None,
        "errors": [{"key": "phone", "message": "Phone: can't be blank"}],
    }


def test_create_contact_with_a_taken_phone_however_written(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    phone = unique_phone()
    tenant.create_contact("Asha", phone=phone)
    for written in [phone, spaced(phone)]:
        result = create(tenant, name="Copy", phone=written)
        assert result == {
            "contact": None,
            "errors": [{"key": "phone", "message": "Phone: has already been taken"}],
        }
    assert listed(tenant, {"name": "Copy"}) == []
    # Phones are unique per organization only.
    assert create(other_tenant, name="Elsewhere", phone=phone)["errors"] is None


def test_create_contact_refusals(tenant: Tenant) -> None:
    asha = tenant.create_contact("Asha")
    ravi = new_profile(tenant, asha["id"], "Ravi")
    cases = [
        ({"languageId": "99999999"}, "language_id", "Language_id: does not exist"),
        ({"fields": as_json({"city": "Pune"})}, "fields", "Fields: value should be a map"),
        # A new contact has no profiles, so no profile can be its active one.
        (
            {"activeProfileId": ravi["id"]},
            "active_profile_id",
            "Active_profile_id: does not belong to this contact",
        ),
    ]
    for extra, key, message in cases:
        result = create(tenant, name="New", phone=unique_phone(), **extra)
        assert result == {"contact": None, "errors": [{"key": key, "message": message}]}, extra
    assert listed(tenant, {"name": "New"}) == []


def test_create_contact_needs_a_manager(tenant: Tenant) -> None:
    body = tenant.gql(CREATE, {"input": {"name": "Asha", "phone": unique_phone()}}, "staff")
    assert body["data"] == {"createContact": None}
    assert [e["message"] for e in body["errors"]] == ["Unauthorized"]


# --- update --------------------------------------------------------------------------------

UPDATE = (
    "mutation($id: ID!, $input: ContactInput) { updateContact(id: $id, input: $input) {"
    " contact { id name status bspStatus settings fields language { id } }"
    " errors { key message } } }"
)


def test_update_contact(tenant: Tenant) -> None:
    asha = tenant.create_contact("Asha")
    result = tenant.data(
        UPDATE,
        {
            "id": asha["id"],
            "input": {
                "name": "Asha Devi",
                "status": "INVALID",
                "bspStatus": "HSM",
                "settings": as_json({"preferences": {"x": True}}),
                "fields": as_json({"city": field("Pune")}),
                "languageId": tenant.language_id("hi"),
            },
        },
        "staff",
    )["updateContact"]
    assert result["errors"] is None
    got = result["contact"]
    assert (got["name"], got["status"], got["bspStatus"]) == ("Asha Devi", "INVALID", "HSM")
    assert decoded(got["settings"]) == {"preferences": {"x": True}}
    assert decoded(got["fields"]) == {"city": field("Pune")}
    assert got["language"] == {"id": tenant.language_id("hi")}
    assert contact(tenant, asha["id"])["name"] == "Asha Devi"


def test_update_contact_phone_is_read_only(tenant: Tenant) -> None:
    asha = tenant.create_contact("Asha")
    body = tenant.gql(UPDATE, {"id": asha["id"], "input": {"phone": unique_phone(), "name": "X"}})
    assert body["data"] == {"updateContact": None}
    assert [e["message"] for e in body["errors"]] == ["Cannot modify read-only fields"]
    after = contact(tenant, asha["id"])
    assert (after["phone"], after["name"]) == (asha["phone"], "Asha")


def test_update_contact_misses_and_bad_input(tenant: Tenant, other_tenant: Tenant) -> None:
    theirs = other_tenant.create_contact("Theirs")
    for cid in ["123456789", theirs["id"], "abc"]:
        result = tenant.data(UPDATE, {"id": cid, "input": {"name": "Hacked"}})["updateContact"]
        assert result == {"contact": None, "errors": NOT_FOUND}
    assert contact(other_tenant, theirs["id"])["name"] == "Theirs"

    asha = tenant.create_contact("Asha")
    bad = tenant.data(UPDATE, {"id": asha["id"], "input": {"name": "X", "languageId": "99999999"}})[
        "updateContact"
    ]
    assert bad == {
        "contact": None,
        "errors": [{"key": "language_id", "message": "Language_id: does not exist"}],
    }
    assert contact(tenant, asha["id"])["name"] == "Asha"


def test_update_contact_without_input_changes_nothing(tenant: Tenant) -> None:
    asha = tenant.create_contact("Asha")
    result = tenant.data(UPDATE, {"id": asha["id"]}, "staff")["updateContact"]
    assert result["errors"] is None and result["contact"]["name"] == "Asha"


# --- delete --------------------------------------------------------------------------------

DELETE = "mutation($id: ID!) { deleteContact(id: $id) { contact { id } errors { key message } } }"


def test_delete_contact_removes_its_profiles_and_history(tenant: Tenant) -> None:
    asha = tenant.create_contact("Asha")
    ravi = new_profile(tenant, asha["id"], "Ravi")
    default = contact(tenant, asha["id"])["profiles"][0]
    assert history(tenant, {"contactId": asha["id"]})

    assert tenant.data(DELETE, {"id": asha["id"]})["deleteContact"] == {
        "contact": None,
        "errors": None,
    }
    gone = tenant.data(f"query($id: ID!) {{ contact(id: $id) {{ {ERRORS} }} }}", {"id": asha["id"]})
    assert gone["contact"]["errors"] == CONTACT_MISS
    assert profile(tenant, ravi["id"]) is None and profile(tenant, default["id"]) is None
    assert history(tenant, {"contactId": asha["id"]}) == []
    assert (
        tenant.data(
            "query($f: ContactsHistoryFilter) { countContactHistory(filter: $f) }",
            {"f": {"contactId": asha["id"]}},
        )["countContactHistory"]
        == 0
    )
    # The phone is free again.
    again = tenant.create_contact("Asha again", phone=asha["phone"])
    assert again["name"] == "Asha again" and contact(tenant, again["id"])["profiles"] == []


def test_delete_contact_misses(tenant: Tenant, other_tenant: Tenant) -> None:
    theirs = other_tenant.create_contact("Theirs")
    for cid in ["123456789", theirs["id"]]:
        assert tenant.data(DELETE, {"id": cid})["deleteContact"] == {
            "contact": None,
            "errors": NOT_FOUND,
        }
    assert contact(other_tenant, theirs["id"])["name"] == "Theirs"


def test_the_chatbot_contact_cannot_be_deleted(tenant: Tenant) -> None:
    body = tenant.gql(DELETE, {"id": tenant.org_contact_id})
    assert body["data"] == {"deleteContact": None}
    assert [e["message"] for e in body["errors"]] == [
        "Sorry, this is your chatbot number and hence cannot be deleted."
    ]
    assert contact(tenant, tenant.org_contact_id)["id"] == str(tenant.org_contact_id)


def test_a_simulator_contact_cannot_be_deleted(tenant: Tenant) -> None:
    # Every organization starts with five simulator contacts.
    simulator = by_phone(tenant, "9876543210_1")["contact"]["id"]
    body = tenant.gql(DELETE, {"id": simulator})
    assert body["data"] == {"deleteContact": None}
    assert [e["message"] for e in body["errors"]] == [
        "Sorry, this is simulator number and hence cannot be deleted."
    ]
    assert contact(tenant, simulator)["name"] == "Glific Simulator One"


def test_delete_contact_needs_a_manager(tenant: Tenant) -> None:
    asha = tenant.create_contact("Asha")
    body = tenant.gql(DELETE, {"id": asha["id"]}, "staff")
    assert [e["message"] for e in body["errors"]] == ["Unauthorized"]
    assert contact(tenant, asha["id"])["name"] == "Asha"


# --- opt-in --------------------------------------------------------------------------------

OPTIN = (
    "mutation($phone: String!, $name: String) { optinContact(phone: $phone, name: $name) {"
    " contact { id name phone bspStatus status optinTime optinMethod } errors { key message } } }"
)


def test_optin_creates_a_new_contact(tenant: Tenant) -> None:
    phone = unique_phone()
    result = tenant.data(OPTIN, {"phone": spaced(phone), "name": "Asha"})["optinContact"]
    assert result["errors"] is None
    made = result["contact"]
    assert (made["name"], made["phone"], made["status"], made["bspStatus"]) == (
        "Asha",
        phone,
        "VALID",
        "HSM",
    )
    assert made["optinTime"].endswith("Z") and made["optinMethod"]
    rows = history(tenant, {"contactId": made["id"]})
    assert [r["eventType"] for r in rows] == ["contact_opted_in"]
    assert rows[0]["eventLabel"].startswith("contact opted in, via ")


def test_optin_of_a_known_contact_updates_it(tenant: Tenant) -> None:
    asha = tenant.create_contact("Asha", bspStatus="SESSION")
    result = tenant.data(OPTIN, {"phone": asha["phone"], "name": "Asha Devi"})["optinContact"]
    assert result["errors"] is None
    assert result["contact"]["id"] == asha["id"]
    assert (result["contact"]["name"], result["contact"]["bspStatus"]) == (
        "Asha Devi",
        "SESSION_AND_HSM",
    )
    assert counted(tenant, {"phone": asha["phone"]}) == 1


def test_optin_with_a_bad_phone_and_by_staff(tenant: Tenant) -> None:
    result = tenant.data(OPTIN, {"phone": "12"})["optinContact"]
    assert result["contact"] is None and [e["key"] for e in result["errors"]] == ["phone"]
    body = tenant.gql(OPTIN, {"phone": unique_phone()}, "staff")
    assert [e["message"] for e in body["errors"]] == ["Unauthorized"]


def test_contacts_date_range_and_unmodelled_filters(tenant: Tenant) -> None:
    tenant.create_contact("Asha")
    now = datetime.now(UTC)
    today = now.strftime("%Y-%m-%dT00:00:00Z")
    yesterday = (now - timedelta(days=1)).strftime("%Y-%m-%dT00:00:00Z")
    assert "Asha" in listed(tenant, {"dateRange": {"from": yesterday}})
    assert "Asha" not in listed(tenant, {"dateRange": {"to": yesterday}})
    # A `to` at midnight covers that whole day.
    assert "Asha" in listed(
        tenant, {"dateRange": {"from": today, "to": today, "column": "updated_at"}}
    )
    # Tags and WhatsApp groups: no contact has any yet.
    assert listed(tenant, {"includeTags": ["1"]}) == []
    body = tenant.gql('{ contacts(filter: {dateRange: {column: "phone"}}) { id } }')
    assert body["data"] == {"contacts": None} and "phone" in body["errors"][0]["message"]


def test_create_contact_language_defaults_to_the_organizations(tenant: Tenant) -> None:
    hindi = tenant.language_id("hi")

    async def hindi_by_default(session: AsyncSession) -> None:
        await session.execute(
            update(Organization)
            .where(col(Organization.id) == tenant.org_id)
            .values(default_language_id=int(hindi))
        )

    tenant.server.in_transaction(hindi_by_default)
    made = create(tenant, name="Asha", phone=unique_phone())
    assert made["errors"] is None
    assert made["contact"]["language"] == {"id": hindi}
