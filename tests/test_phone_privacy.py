"""Staff never see whole phone numbers (spec §4.3: `Contact.phone` is "" for them) and cannot
recover them another way: for staff a `phone` or `term` filter matches whole numbers only
(written any way the app reads phones), in `contacts` and `countContacts` alike, and the
contact upload report shows them masked phones. Managers keep Glific's substring match."""

from __future__ import annotations

import csv
import io
from typing import Any

from tests.utils.tenants import Tenant, unique_phone

LIST = "query($f: ContactFilter) { contacts(filter: $f) { name phone } countContacts(filter: $f) }"
BY_PHONE = (
    "query($p: String!) { contactByPhone(phone: $p) { contact { name phone } errors { key } } }"
)
IMPORT = "mutation($data: String!) { importContacts(data: $data) { status errors { message } } }"
MOVE = "mutation($data: String!) { moveContacts(data: $data) { status errors { message } } }"
REPORT = "mutation($id: ID) { getContactUploadReport(userJobId: $id) { csvRows error } }"


def masked(phone: str) -> str:
    return f"{phone[:4]}******{phone[-2:]}"


def spaced(phone: str) -> str:
    return f"+{phone[:2]} {phone[2:7]}-{phone[7:]}"


def found(tenant: Tenant, flt: dict[str, Any], role: str) -> tuple[list[str], int]:
    data = tenant.data(LIST, {"f": flt}, role=role)
    return sorted(c["name"] for c in data["contacts"]), data["countContacts"]


def test_staff_phone_filters_match_whole_numbers_only(tenant: Tenant) -> None:
    phone = unique_phone()
    tenant.create_contact("Asha Privacy", phone=phone)
    tenant.create_contact("Ravi Privacy")

    # Digit by digit: no prefix, suffix or middle part of the number finds anything.
    for part in (phone[:4], phone[:6], phone[:-1], phone[-6:], phone[3:9]):
        assert found(tenant, {"phone": part}, "staff") == ([], 0), part
        assert found(tenant, {"term": part}, "staff") == ([], 0), part
        assert found(tenant, {"term": part, "name": "Privacy"}, "staff") == ([], 0), part
    # The whole number, written any way, finds the contact (whose phone stays hidden).
    for whole in (phone, f"+{phone}", spaced(phone)):
        assert found(tenant, {"phone": whole}, "staff") == (["Asha Privacy"], 1), whole
        assert found(tenant, {"term": whole}, "staff") == (["Asha Privacy"], 1), whole
    listed = tenant.data(LIST, {"f": {"phone": phone}}, role="staff")["contacts"]
    assert listed == [{"name": "Asha Privacy", "phone": ""}]
    # A term still searches names.
    assert found(tenant, {"term": "privacy"}, "staff") == (["Asha Privacy", "Ravi Privacy"], 2)

    # Managers keep Glific's substring match on phones.
    assert found(tenant, {"phone": phone[:-1], "name": "Asha"}, "manager") == (["Asha Privacy"], 1)
    assert found(tenant, {"term": phone[-6:]}, "manager") == (["Asha Privacy"], 1)

    # contactByPhone is no oracle either: it only ever matched a whole number.
    miss = tenant.data(BY_PHONE, {"p": phone[:-1]}, role="staff")["contactByPhone"]
    assert miss["contact"] is None
    hit = tenant.data(BY_PHONE, {"p": spaced(phone)}, role="staff")["contactByPhone"]
    assert hit["contact"] == {"name": "Asha Privacy", "phone": ""}


def _report(tenant: Tenant, status: str, role: str) -> list[list[str]]:
    job = status.rsplit("userJobId ", 1)[1].strip()
    answer = tenant.data(REPORT, {"id": job}, role=role)["getContactUploadReport"]
    assert answer["error"] is None, answer
    return list(csv.reader(io.StringIO(answer["csvRows"], newline="")))


def test_staff_see_masked_phones_in_the_upload_report(tenant: Tenant) -> None:
    created, missing = unique_phone(), unique_phone()
    imported = tenant.data(IMPORT, {"data": f"name,phone\nAsha,{spaced(created)}\n"})
    moved = tenant.data(MOVE, {"data": f"name,phone\nNobody,{missing}\n"})
    statuses = (imported["importContacts"]["status"], moved["moveContacts"]["status"])

    as_manager = [_report(tenant, s, "manager") for s in statuses]
    assert as_manager[0][1][0] == created
    assert as_manager[0][1][1].startswith("Contact has been created")
    assert as_manager[1][1][0] == missing and missing in as_manager[1][1][1]

    as_staff = [_report(tenant, s, "staff") for s in statuses]
    assert as_staff[0] == [["Phone", "Status"], [masked(created), as_manager[0][1][1]]]
    assert as_staff[1][1][0] == masked(missing)
    text = repr(as_staff)
    for phone in (created, missing):
        assert phone not in text and phone[:-2] not in text and phone[2:] not in text, text
