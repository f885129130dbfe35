"""Contact history over GraphQL: `contactHistory` / `countContactHistory` with Glific's filters
and opts, `Contact.history`, the profile each row is stamped with, and pruning."""

from __future__ import annotations

from typing import Any

from tests.utils.contact_ops import decoded, history, new_profile, switch
from tests.utils.tenants import Tenant, unique_phone

COUNT = "query($f: ContactsHistoryFilter) { countContactHistory(filter: $f) }"


def count(tenant: Tenant, filter: dict[str, Any] | None, role: str = "staff") -> int:
    return int(tenant.data(COUNT, {"f": filter}, role)["countContactHistory"])


def labels(rows: list[dict[str, Any]]) -> list[str]:
    return [r["eventLabel"] for r in rows]


def _switched_three_times(tenant: Tenant) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Asha: create Ravi (switch), create Meena (switch), then back to Asha (index 1)."""
    asha = tenant.create_contact("Asha")
    ravi = new_profile(tenant, asha["id"], "Ravi")
    meena = new_profile(tenant, asha["id"], "Meena")
    assert switch(tenant, asha["id"], index=1)["errors"] is None
    return asha, ravi, meena


def test_history_filters_and_counts(tenant: Tenant) -> None:
    asha, ravi, meena = _switched_three_times(tenant)
    opted = tenant.data(
        "mutation($p: String!) { optinContact(phone: $p) { contact { id } } }",
        {"p": unique_phone()},
    )["optinContact"]["contact"]

    mine = history(tenant, {"contactId": asha["id"]}, {"order": "ASC"})
    assert labels(mine) == [
        "Switched profile to Ravi",
        "Switched profile to Meena",
        "Switched profile to Asha",
    ]
    assert {r["eventType"] for r in mine} == {"profile_switched"}
    # Each row carries the profile that was active once it was written.
    assert [r["profile"]["name"] for r in mine] == ["Ravi", "Meena", "Asha"]
    assert count(tenant, {"contactId": asha["id"]}) == 3

    assert labels(history(tenant, {"profileId": meena["id"]})) == ["Switched profile to Meena"]
    assert count(tenant, {"profileId": ravi["id"]}) == 1
    # eventType and eventLabel are case-insensitive substrings.
    assert len(history(tenant, {"eventType": "SWITCHED"})) == 3
    assert labels(history(tenant, {"eventLabel": "to mee"})) == ["Switched profile to Meena"]
    assert labels(history(tenant, {"eventType": "opted_in"})) == [
        history(tenant, {"contactId": opted["id"]})[0]["eventLabel"]
    ]
    assert count(tenant, {"eventType": "opted"}) == 1
    assert count(tenant, {"contactId": asha["id"], "eventLabel": "ravi"}) == 1
    # No filter: everything in this organization.
    assert count(tenant, None) == 4
    assert len(history(tenant, {})) == 4
    assert history(tenant, {"contactId": "99999999"}) == []


def test_history_opts(tenant: Tenant) -> None:
    asha, _, _ = _switched_three_times(tenant)
    flt = {"contactId": asha["id"]}
    ascending = history(tenant, flt, {"order": "ASC"})
    descending = history(tenant, flt, {"order": "DESC"})
    assert [r["id"] for r in descending] == [r["id"] for r in ascending][::-1]
    assert labels(descending)[0] == "Switched profile to Asha"
    assert labels(history(tenant, flt, {"order": "ASC", "limit": 1, "offset": 1})) == [
        "Switched profile to Meena"
    ]
    assert labels(
        history(tenant, flt, {"order": "DESC", "orderWith": "event_label", "limit": 1})
    ) == ["Switched profile to Ravi"]


def test_history_row_shape(tenant: Tenant) -> None:
    _asha, ravi, _ = _switched_three_times(tenant)
    row = tenant.data(
        "query($f: ContactsHistoryFilter) { contactHistory(filter: $f) {"
        " id eventType eventLabel eventMeta eventDatetime insertedAt updatedAt profile { id } } }",
        {"f": {"profileId": ravi["id"]}},
    )["contactHistory"][0]
    assert isinstance(row["id"], str)
    assert isinstance(decoded(row["eventMeta"]), dict)
    # eventDatetime has whole seconds (Glific's utc_datetime), every timestamp ends in Z.
    assert row["eventDatetime"].endswith("Z") and "." not in row["eventDatetime"]
    assert row["insertedAt"].endswith("Z") and row["updatedAt"].endswith("Z")
    assert row["profile"] == {"id": ravi["id"]}


def test_another_organizations_history_is_invisible(tenant: Tenant, other_tenant: Tenant) -> None:
    theirs, their_ravi, _ = _switched_three_times(other_tenant)
    assert history(tenant, {"contactId": theirs["id"]}) == []
    assert history(tenant, {"profileId": their_ravi["id"]}) == []
    assert count(tenant, {"contactId": theirs["id"]}) == 0
    assert count(tenant, None) == 0
    assert count(other_tenant, None) == 3


def test_contact_history_field_lists_oldest_first(tenant: Tenant) -> None:
    asha, _, _ = _switched_three_times(tenant)
    rows = tenant.data(
        "query($id: ID!) { contact(id: $id) { contact {"
        " history { eventLabel profile { name } } } } }",
        {"id": asha["id"]},
    )["contact"]["contact"]["history"]
    assert labels(rows) == [
        "Switched profile to Ravi",
        "Switched profile to Meena",
        "Switched profile to Asha",
    ]
    assert (
        tenant.data(
            "query($id: ID!) { contact(id: $id) { contact { history { id } } } }",
            {"id": tenant.create_contact("Quiet")["id"]},
        )["contact"]["contact"]["history"]
        == []
    )


def test_history_keeps_the_newest_rows_per_contact(tenant: Tenant) -> None:
    asha = tenant.create_contact("Asha")
    new_profile(tenant, asha["id"], "Ravi")  # 1 row
    for i in range(29):  # 29 more: 30 in all
        assert switch(tenant, asha["id"], index=1 + i % 2)["errors"] is None
    kept = history(tenant, {"contactId": asha["id"]}, {"order": "ASC"})
    assert len(kept) == 25
    assert count(tenant, {"contactId": asha["id"]}) == 25
    # The newest survive: the last switch (i = 28, index 1) went to Asha.
    assert kept[-1]["eventLabel"] == "Switched profile to Asha"
    # Another contact's history is not pruned by this one's.
    other = tenant.create_contact("Other")
    new_profile(tenant, other["id"], "Kid")
    assert count(tenant, {"contactId": other["id"]}) == 1


def test_history_needs_a_role(tenant: Tenant) -> None:
    body = tenant.gql("{ contactHistory { id } }", role="none")
    assert [e["message"] for e in body["errors"]] == ["Unauthorized"]
    body = tenant.gql("{ countContactHistory }", role="none")
    assert [e["message"] for e in body["errors"]] == ["Unauthorized"]
    assert count(tenant, None, role="staff") == 0
