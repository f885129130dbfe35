"""Contact import and move from CSV, and the upload report, driven over HTTP as Glific's
frontend does (`importContacts`, `moveContacts`, `getContactUploadReport`)."""

from __future__ import annotations

import csv
import io
import json
import re
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Group, UserJob, saved_id
from resolvers import imports
from tests.utils.server import LiveServer, start_server
from tests.utils.tenants import Tenant, create_tenant, unique_phone

IMPORT = """
mutation ($data: String!, $groupLabel: String, $type: ImportContactsTypeEnum) {
  importContacts(data: $data, groupLabel: $groupLabel, type: $type) {
    status
    errors { key message }
  }
}"""
MOVE = """
mutation ($data: String!, $type: ImportContactsTypeEnum) {
  moveContacts(data: $data, type: $type) { status errors { key message } }
}"""
REPORT = """
mutation ($id: ID) { getContactUploadReport(userJobId: $id) { csvRows error } }"""
BY_PHONE = """
query ($phone: String!) {
  contactByPhone(phone: $phone) {
    contact {
      id name phone status fields optinTime optinMethod
      language { locale }
      groups { label }
    }
    errors { key message }
  }
}"""
HISTORY = """
query ($id: ID!) { contactHistory(filter: {contactId: $id}) { eventType eventLabel } }"""


def run_import(
    tenant: Tenant,
    data: str,
    *,
    group_label: str | None = None,
    type_: str = "DATA",
    role: str = "manager",
) -> dict[str, Any]:
    variables = {"data": data, "groupLabel": group_label, "type": type_}
    return tenant.data(IMPORT, variables, role=role)["importContacts"]


def run_move(tenant: Tenant, data: str, type_: str = "DATA") -> dict[str, Any]:
    return tenant.data(MOVE, {"data": data, "type": type_})["moveContacts"]


def job_of(result: dict[str, Any]) -> str:
    assert result["errors"] is None, result
    found = re.search(r"userJobId (\d+)", result["status"])
    assert found, result
    return found.group(1)


def report(tenant: Tenant, job_id: str, role: str = "manager") -> list[tuple[str, str]]:
    """The report's rows (header checked and dropped) as (phone, status)."""
    answer = tenant.data(REPORT, {"id": job_id}, role=role)["getContactUploadReport"]
    assert answer["error"] is None, answer
    text = answer["csvRows"]
    assert "\r\n" in text or "\n" not in text
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == ["Phone", "Status"]
    return [(phone, status) for phone, status in rows[1:]]


def contact(tenant: Tenant, phone: str) -> dict[str, Any] | None:
    found = tenant.data(BY_PHONE, {"phone": phone})["contactByPhone"]
    return found["contact"]


def field_value(found: dict[str, Any], key: str) -> Any:
    entry = json.loads(found["fields"]).get(key)
    return entry and entry["value"]


def history_labels(tenant: Tenant, contact_id: str) -> list[str]:
    rows = tenant.data(HISTORY, {"id": contact_id})["contactHistory"]
    return [r["eventLabel"] for r in rows]


def group_labels(tenant: Tenant) -> set[str]:
    async def labels(session: AsyncSession) -> set[str]:
        found = await session.scalars(
            select(col(Group.label)).where(col(Group.organization_id) == tenant.org_id)
        )
        return set(found)

    return tenant.server.in_transaction(labels)


def job_count(tenant: Tenant) -> int:
    async def count(session: AsyncSession) -> int:
        stmt = (
            select(func.count())
            .select_from(UserJob)
            .where(col(UserJob.organization_id) == tenant.org_id)
        )
        return int(await session.scalar(stmt) or 0)

    return tenant.server.in_transaction(count)


def spaced(phone: str) -> str:
    """'919812345678' as a person types it: '+91 98123-45678'."""
    return f"+{phone[:2]} {phone[2:7]}-{phone[7:]}"


# --- importing --------------------------------------------------------------------------------


def test_import_creates_contacts_with_phones_languages_fields_and_groups(tenant: Tenant) -> None:
    p1, p2, p3 = unique_phone(), unique_phone(), unique_phone()
    data = (
        "Name,Phone,Language,Age,City Name\n"
        f"Asha,{spaced(p1)},Hindi,9,Pune\n"
        f'Ravi,{p2},hi,,"Nashik, MH"\n'
        f"Mina,00{p3},,12,\n"
    )
    result = run_import(tenant, data, group_label="Batch A")
    assert result["status"].startswith("Contact import is complete: 3 of 3 rows done, 0 failed")

    asha, ravi, mina = (contact(tenant, p) for p in (p1, p2, p3))
    assert asha and ravi and mina
    assert (asha["name"], asha["phone"]) == ("Asha", p1)
    assert asha["language"]["locale"] == "hi"
    assert ravi["language"]["locale"] == "hi"
    assert mina["language"]["locale"] == "en"  # the organization's default
    assert field_value(asha, "age") == "9"
    assert field_value(asha, "city_name") == "Pune"
    assert field_value(ravi, "city_name") == "Nashik, MH"
    assert "age" not in json.loads(ravi["fields"])  # a blank cell sets nothing
    assert "name" not in json.loads(asha["fields"])  # reserved columns are not fields
    for person in (asha, ravi, mina):
        assert [g["label"] for g in person["groups"]] == ["Batch A"]
        assert person["optinMethod"] == "Import" and person["optinTime"]
    assert history_labels(tenant, asha["id"]) == ["contact opted in, via Import"]

    fields = tenant.data("{ contactsFields { shortcode name } }")["contactsFields"]
    assert {"shortcode": "city_name", "name": "City Name"} in fields

    rows = report(tenant, job_of(result))
    assert rows == [(p, "Contact has been created and marked as opted in") for p in (p1, p2, p3)]


def test_collection_column_is_used_without_group_label(tenant: Tenant) -> None:
    phone = unique_phone()
    run_import(tenant, f'name,phone,collection\nAsha,{phone}," Red , Blue,"\n')
    found = contact(tenant, phone)
    assert found is not None
    assert sorted(g["label"] for g in found["groups"]) == ["Blue", "Red"]


def test_bad_rows_are_reported_and_the_good_rows_kept(tenant: Tenant) -> None:
    good1, good2, nameless, unknown_lang = (unique_phone() for _ in range(4))
    data = (
        "name,phone,language,collection\n"
        f"Good One,{good1},English,Keep\n"
        "No Phone,,English,Keep\n"
        "Bad Phone,12345,English,Keep\n"
        f",{spaced(nameless)},English,Keep\n"
        f"Klingon,{unknown_lang},Klingon,Only Bad Rows\n"
        f"Too Many,{unique_phone()},English,Keep,extra\n"
        f"Good Two,{good2},,Keep\n"
    )
    result = run_import(tenant, data)
    assert "2 of 7 rows done, 5 failed" in result["status"]
    assert contact(tenant, good1) and contact(tenant, good2)
    assert contact(tenant, nameless) is None
    assert contact(tenant, unknown_lang) is None
    # A failed row leaves nothing behind: its group was rolled back with it.
    assert group_labels(tenant) == {"Keep"}

    rows = report(tenant, job_of(result))
    statuses = [status for _, status in rows]
    assert rows[0] == (good1, "Contact has been created and marked as opted in")
    assert statuses[1] == "Phone number is missing (line 3)"
    assert rows[2] == ("12345", "Phone: is not a valid phone number")
    assert rows[3] == (nameless, "Contact name is empty")
    assert rows[4] == (unknown_lang, 'Language "Klingon" does not exist')
    assert statuses[5] == "The row has more cells than the header has columns"
    assert rows[6][0] == good2


def test_reimport_updates_the_contact_and_merges_fields(tenant: Tenant) -> None:
    phone = unique_phone()
    run_import(tenant, f"name,phone,language,city,age\nAsha,{phone},English,Pune,9\n")
    first = contact(tenant, phone)
    assert first is not None

    result = run_import(
        tenant, f"name,phone,language,city,age,school\nAsha K,{phone},Hindi,Mumbai,,DPS\n"
    )
    again = contact(tenant, phone)
    assert again is not None
    assert again["id"] == first["id"]
    assert again["name"] == "Asha K"
    assert again["language"]["locale"] == "hi"
    assert (field_value(again, "city"), field_value(again, "age")) == ("Mumbai", "9")
    assert field_value(again, "school") == "DPS"
    assert again["optinTime"] == first["optinTime"]  # already opted in: not again
    labels = history_labels(tenant, again["id"])
    assert "Changed contact language to Hindi from English, via import." in labels
    assert "Value for city is updated to Mumbai" in labels
    assert report(tenant, job_of(result)) == [(phone, "Contact has been updated")]
    count = "query($p: String) { countContacts(filter: {phone: $p}) }"
    assert tenant.data(count, {"p": phone})["countContacts"] == 1


def test_a_repeated_phone_is_applied_in_order(tenant: Tenant) -> None:
    phone = unique_phone()
    result = run_import(tenant, f"name,phone,city\nFirst,{phone},A\nSecond,{spaced(phone)},B\n")
    found = contact(tenant, phone)
    assert found is not None
    assert (found["name"], field_value(found, "city")) == ("Second", "B")
    assert [s for _, s in report(tenant, job_of(result))] == [
        "Contact has been created and marked as opted in",
        "Contact has been updated",
    ]


def test_import_writes_fields_and_language_to_the_active_profile(tenant: Tenant) -> None:
    phone = unique_phone()
    created = tenant.create_contact("Parent", phone=phone)
    tenant.data(
        "mutation($input: ProfileInput!) { createProfile(input: $input) { errors { message } } }",
        {"input": {"contactId": created["id"], "name": "Kid", "type": "child"}},
    )
    run_import(tenant, f"name,phone,language,grade\nParent,{phone},Hindi,5\n")
    active = tenant.data(
        "query($id: ID!) { contact(id: $id) { contact {"
        " activeProfile { name fields language { locale } } } } }",
        {"id": created["id"]},
    )["contact"]["contact"]["activeProfile"]
    assert active["name"] == "Kid"
    assert json.loads(active["fields"])["grade"]["value"] == "5"
    assert active["language"]["locale"] == "hi"


def test_opt_in_column(tenant: Tenant) -> None:
    later, dated, plain = unique_phone(), unique_phone(), unique_phone()
    data = (
        f"name,phone,opt_in\nLater,{later},\nDated,{dated},2024-01-02 10:30:00\nPlain,{plain},yes\n"
    )
    result = run_import(tenant, data)
    found_later, found_dated, found_plain = (contact(tenant, p) for p in (later, dated, plain))
    assert found_later and found_dated and found_plain
    assert found_later["optinTime"] is None
    assert found_dated["optinTime"] == "2024-01-02T10:30:00Z"
    assert found_plain["optinMethod"] == "Import"
    assert [s for _, s in report(tenant, job_of(result))] == [
        "Contact has been created",
        "Contact has been created and marked as opted in",
        "Contact has been created and marked as opted in",
    ]


def test_import_never_opts_in_or_unblocks_a_blocked_contact(tenant: Tenant) -> None:
    phone = unique_phone()
    tenant.create_contact("Blocked", phone=phone, status="BLOCKED")
    run_import(tenant, f"name,phone,city\nBlocked,{phone},Pune\n")
    found = tenant.data(
        "query($p: String!) { contactByPhone(phone: $p) { contact { status optinTime fields } } }",
        {"p": phone},
    )["contactByPhone"]["contact"]
    assert found["status"] == "BLOCKED"
    assert found["optinTime"] is None
    assert json.loads(found["fields"])["city"]["value"] == "Pune"


def test_delete_column(tenant: Tenant) -> None:
    gone, never = unique_phone(), unique_phone()
    tenant.create_contact("Gone", phone=gone)
    org_phone = tenant.data(
        "query($id: ID!) { contact(id: $id) { contact { phone } } }", {"id": tenant.org_contact_id}
    )["contact"]["contact"]["phone"]
    data = f"name,phone,delete\nGone,{gone},1\nNever,{never},1\nNGO,{org_phone},1\n"
    result = run_import(tenant, data)
    assert contact(tenant, gone) is None
    assert contact(tenant, never) is None
    assert contact(tenant, org_phone) is not None
    assert report(tenant, job_of(result)) == [
        (gone, "Contact has been deleted as per flag in csv"),
        (never, "Contact does not exist"),
        (org_phone, "Sorry, this is your chatbot number and hence cannot be deleted."),
    ]


# --- moving -----------------------------------------------------------------------------------


def test_move_updates_existing_contacts_only(tenant: Tenant) -> None:
    kept, ghost = unique_phone(), unique_phone()
    tenant.create_contact("Kept", phone=kept)
    result = run_move(
        tenant,
        f"name,phone,collection,attendance\n,{kept},Moved,80%\nGhost,{ghost},Moved,x\n",
    )
    assert "1 of 2 rows done, 1 failed" in result["status"]
    assert result["status"].startswith("Contact move is complete")
    found = contact(tenant, kept)
    assert found is not None
    assert found["name"] == "Kept"  # a blank name keeps the name
    assert [g["label"] for g in found["groups"]] == ["Moved"]
    assert field_value(found, "attendance") == "80%"
    assert found["optinTime"] is None  # a move never opts in
    assert contact(tenant, ghost) is None
    assert report(tenant, job_of(result)) == [
        (kept, "Contact has been updated"),
        (ghost, f"Contact {ghost} was not found and hence not added"),
    ]


# --- unreadable input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("", "The CSV is empty: a header row with a phone column is needed"),
        ("name,mobile\nAsha,919812345678\n", "The CSV needs a header row with a phone column"),
        ("name,phone\n", "The CSV has no contact rows"),
        ('name,phone\nB,2\n"A,1\n', "The CSV could not be read: line 3: unexpected end of data"),
        ('name,phone\n"A"x,1\n', "The CSV could not be read: line 2: ',' expected after '\"'"),
    ],
)
def test_unreadable_input_is_a_payload_error_and_writes_nothing(
    tenant: Tenant, data: str, message: str
) -> None:
    before = tenant.data("{ countContacts }")["countContacts"]
    result = run_import(tenant, data)
    assert result == {"status": None, "errors": [{"key": "data", "message": message}]}
    assert tenant.data("{ countContacts }")["countContacts"] == before
    assert job_count(tenant) == 0


@pytest.fixture
def server_with(database_url: str) -> Iterator[Callable[..., LiveServer]]:
    """Another live server on the same database, with some settings changed."""
    started: list[LiveServer] = []

    def start(**overrides: Any) -> LiveServer:
        started.append(start_server(database_url, **overrides))
        return started[-1]

    yield start
    for live in started:
        live.stop()


def test_too_many_rows_is_refused(server_with: Callable[..., LiveServer]) -> None:
    tenant = create_tenant(server_with(import_max_rows=2))
    rows = "".join(f"P{i},{unique_phone()}\n" for i in range(3))
    result = run_import(tenant, "name,phone\n" + rows)
    assert result["errors"] == [
        {"key": "data", "message": "The CSV has more than 2 rows; split it into smaller files"}
    ]
    assert job_count(tenant) == 0


def test_file_path_is_refused(tenant: Tenant) -> None:
    for document, name in ((IMPORT, "importContacts"), (MOVE, "moveContacts")):
        result = tenant.data(document, {"data": "/etc/passwd", "type": "FILE_PATH"})[name]
        assert result["status"] is None
        assert result["errors"][0]["key"] == "type"
        assert result["errors"][0]["message"].startswith("FILE_PATH is not supported")


# --- importing from a URL ---------------------------------------------------------------------


class _CsvServer(BaseHTTPRequestHandler):
    csv_body = b""

    def do_GET(self) -> None:
        if self.path == "/contacts.csv":
            self._send(200, self.csv_body, "text/csv")
        elif self.path == "/bom.csv":
            self._send(200, b"\xef\xbb\xbf" + self.csv_body, "text/csv")
        elif self.path == "/nul.csv":
            self._send(200, b"name,phone\nA\x00,1\n", "text/csv")
        elif self.path == "/latin1.csv":
            self._send(200, "name,phone\nJos\xe9,1\n".encode("latin-1"), "text/csv")
        elif self.path == "/big.csv":
            self._send(200, b"name,phone\n" + b"x" * (imports.MAX_DOWNLOAD_BYTES + 10), "text/csv")
        elif self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/contacts.csv")
            self.end_headers()
        elif self.path == "/to-ftp":
            self.send_response(302)
            self.send_header("Location", "ftp://example.org/contacts.csv")
            self.end_headers()
        else:
            self._send(404, b"not found", "text/plain")

    def _send(self, status: int, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def csv_site() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _CsvServer)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/contacts.csv",
        "http://localhost/contacts.csv",
        "http://10.1.2.3/contacts.csv",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/contacts.csv",
        "http://[::ffff:127.0.0.1]/contacts.csv",
    ],
)
def test_url_on_a_private_address_is_refused(tenant: Tenant, url: str) -> None:
    result = run_import(tenant, url, type_="URL")
    assert result["errors"] == [
        {
            "key": "data",
            "message": "URL: refusing to download from a private or local network address",
        }
    ]


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/a.csv", "not a url"])
def test_url_must_be_http_or_https(tenant: Tenant, url: str) -> None:
    result = run_import(tenant, url, type_="URL")
    assert result["status"] is None
    assert result["errors"][0]["key"] == "data"
    assert result["errors"][0]["message"].startswith("URL: ")


def test_import_from_url(csv_site: str, server_with: Callable[..., LiveServer]) -> None:
    # The test's CSV server listens on loopback, which the import refuses by default.
    tenant = create_tenant(server_with(import_url_allow_private=True))
    p1, p2 = unique_phone(), unique_phone()
    _CsvServer.csv_body = f"name,phone\nFrom Url,{p1}\nSecond,{p2}\n".encode()

    result = run_import(tenant, f"{csv_site}/contacts.csv", type_="URL", group_label="Web")
    assert "2 of 2 rows done" in result["status"]
    found = contact(tenant, p1)
    assert found is not None and found["name"] == "From Url"
    assert [g["label"] for g in found["groups"]] == ["Web"]

    moved = run_move(tenant, f"{csv_site}/redirect", type_="URL")
    assert "2 of 2 rows done" in moved["status"]
    # A byte-order mark before the header does not hide the phone column.
    with_bom = run_import(tenant, f"{csv_site}/bom.csv", type_="URL")
    assert "2 of 2 rows done, 0 failed" in with_bom["status"]

    failures = {
        "/missing.csv": "Could not download the contacts CSV from the given URL (HTTP 404). "
        "No contacts were imported.",
        "/big.csv": "The CSV at the URL is larger than 2048 KB",
        "/latin1.csv": "The CSV is not valid UTF-8. No contacts were imported.",
        "/to-ftp": "URL: only http and https addresses can be imported",
        "/nul.csv": "The CSV could not be read: it contains NUL bytes",
    }
    for path, message in failures.items():
        result = run_import(tenant, csv_site + path, type_="URL")
        assert result == {"status": None, "errors": [{"key": "data", "message": message}]}, path


# --- roles, tenants and the report --------------------------------------------------------------


@pytest.mark.parametrize("role", ["staff", "none"])
def test_import_and_move_need_a_manager(tenant: Tenant, role: str) -> None:
    phone = unique_phone()
    data = f"name,phone\nAsha,{phone}\n"
    for document, name in ((IMPORT, "importContacts"), (MOVE, "moveContacts")):
        body = tenant.gql(document, {"data": data}, role=role)
        assert body["data"] == {name: None}
        assert [e["message"] for e in body["errors"]] == ["Unauthorized"]
    assert contact(tenant, phone) is None
    assert job_count(tenant) == 0


def test_report_for_a_missing_or_foreign_job(tenant: Tenant, other_tenant: Tenant) -> None:
    result = run_import(tenant, f"name,phone\nAsha,{unique_phone()}\n")
    job = job_of(result)
    assert report(tenant, job, role="staff")  # staff may read the report
    for job_id in ("999999999", "abc", None):
        answer = tenant.data(REPORT, {"id": job_id})["getContactUploadReport"]
        assert answer == {"csvRows": None, "error": "Contact upload report doesn't exist"}
    # Another organization cannot read it by id.
    answer = other_tenant.data(REPORT, {"id": job})["getContactUploadReport"]
    assert answer == {"csvRows": None, "error": "Contact upload report doesn't exist"}
    body = tenant.gql(REPORT, {"id": job}, role="none")
    assert [e["message"] for e in body["errors"]] == ["Unauthorized"]


def test_report_of_a_job_still_in_progress(tenant: Tenant) -> None:
    async def pending(session: AsyncSession) -> int:
        job = UserJob(organization_id=tenant.org_id, type="contact_import", status="pending")
        session.add(job)
        await session.flush()
        return saved_id(job)

    job_id = tenant.server.in_transaction(pending)
    answer = tenant.data(REPORT, {"id": str(job_id)})["getContactUploadReport"]
    assert answer == {"csvRows": None, "error": "Contact upload is in progress"}


def test_an_import_never_touches_another_tenants_contacts(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    shared, theirs = unique_phone(), unique_phone()
    other_tenant.create_contact(
        "Theirs", phone=shared, fields=json.dumps({"city": {"value": "Goa"}})
    )
    other_tenant.create_contact("Only Theirs", phone=theirs)

    result = run_import(
        tenant,
        f"name,phone,city,delete\nMine,{shared},Pune,\nDelete Theirs,{theirs},,1\n",
        group_label="Mine",
    )
    moved = run_move(tenant, f"name,phone,collection\nX,{theirs},Stolen\n")

    mine = contact(tenant, shared)
    assert mine is not None and mine["name"] == "Mine"
    assert report(tenant, job_of(result))[1] == (theirs, "Contact does not exist")
    assert report(tenant, job_of(moved)) == [
        (theirs, f"Contact {theirs} was not found and hence not added")
    ]
    still = contact(other_tenant, shared)
    assert still is not None and still["id"] != mine["id"]
    assert (still["name"], field_value(still, "city"), still["groups"]) == ("Theirs", "Goa", [])
    assert contact(other_tenant, theirs) is not None
    assert "Mine" not in group_labels(other_tenant) and "Stolen" not in group_labels(other_tenant)


def test_import_result_names_its_upload_report(tenant: Tenant) -> None:
    good, bad = unique_phone(), "12"
    answer = tenant.data(
        "mutation($data: String!) { importContacts(data: $data) { status userJobId } }",
        {"data": f"name,phone\nGood,{good}\nBad,{bad}\n"},
    )["importContacts"]
    assert answer["userJobId"] is not None
    rows = report(tenant, answer["userJobId"])
    assert [phone for phone, _ in rows] == [good, bad]
