"""Contact import and move from CSV (Glific's `importContacts` / `moveContacts`) and the
upload report (`getContactUploadReport`).

Glific queues the rows as background jobs; here an import runs inside the mutation's one
transaction (bodies are capped at 2 MB, rows at IMPORT_MAX_ROWS, about 4 ms a row on SQLite
and 11 ms on PostgreSQL) and every row in its own
savepoint, so a bad row is reported and skipped while the good rows are kept. The outcome of
every row is recorded in a `UserJob`, which the upload report lists.

CSV columns (headers are matched case-insensitively, spaces read as `_`):
  name        the contact's name; required for an import (Glific's "Contact name is empty"),
              optional for a move (a blank cell keeps the current name)
  phone       required; normalised to E.164 digits like every phone
  language    a language label, locale or native label ("Hindi", "hi", "हिंदी"); blank keeps
              the contact's language (the organization's default for a new contact)
  opt_in      absent: import opts contacts in (Glific's checkbox "contacts are opted in");
              blank, 0, false, no: not opted in; an ISO date or date-time: opted in then
  delete      "1" deletes the contact with that phone
  collection  comma-separated group labels the contact is added to (an import's
              `groupLabel` takes the column's place, as in Glific)
  group       ignored (Glific drops it too)
  any other   a contact field: shortcode = snake_case(header); blank cells change nothing

Sources: `data` (the CSV text) and `url` (downloaded with httpx2: http/https only, a time
limit, a size limit, redirects re-checked, and only public addresses unless
IMPORT_URL_ALLOW_PRIVATE is set); `file_path` is refused: reading files on the server is not
something an API client may ask for.
"""

from __future__ import annotations

import asyncio
import csv
import io
import ipaddress
import socket
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import httpx2
from sqlalchemy import select
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Contact, Database, Group, Language, UserJob, saved_id, utcnow
from resolvers import contacts, contacts_fields, groups, history, notifications
from resolvers import validation as v
from resolvers.config import settings_for
from resolvers.errors import ClientError, InputErrors
from resolvers.phones import mask_phone, normalize_phone
from resolvers.querying import to_int_id

IMPORT_JOB = "contact_import"


class SourceType(StrEnum):
    """Where `load_source` reads the CSV from."""

    FILE_PATH = "file_path"
    URL = "url"
    DATA = "data"


# Downloads (type URL)
MAX_DOWNLOAD_BYTES = 2 * 1024 * 1024
URL_TIMEOUT_SECONDS = 10.0
URL_DEADLINE_SECONDS = 30.0
MAX_REDIRECTS = 5

RESERVED_COLUMNS = frozenset(
    {"name", "phone", "language", "opt_in", "delete", "collection", "group"}
)
_NO = frozenset({"", "0", "false", "no", "n", "f"})
_YES = frozenset({"1", "true", "yes", "y", "t"})
# Characters spreadsheets leave around pasted numbers: BOM, zero-width spaces and marks.
_INVISIBLE = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u200d\u200e\u200f\u2060\u00a0"), None)

REPORT_MISSING = "Contact upload report doesn't exist"
REPORT_PENDING = "Contact upload is in progress"
REPORT_HEADER = ("Phone", "Status")


def _unreadable(message: str) -> InputErrors:
    return InputErrors.raw("data", message)


# --- reading the source --------------------------------------------------------------------


async def load_source(source_type: str | None, data: str, *, allow_private: bool = False) -> str:
    """The CSV text to import: `data` itself, or the document at the URL `data`."""
    kind = source_type or "data"
    if kind == "file_path":
        raise InputErrors.raw(
            "type",
            "FILE_PATH is not supported: the server does not read its own files for API "
            "clients; send the CSV as DATA or a URL",
        )
    if kind == "url":
        return await fetch_csv(data, allow_private=allow_private)
    return data


def _url(raw: str) -> httpx2.URL:
    try:
        url = httpx2.URL(raw.strip())
    except (httpx2.InvalidURL, TypeError, ValueError):
        raise _unreadable("URL: is not a valid address") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise _unreadable("URL: only http and https addresses can be imported")
    return url


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


async def _pinned_address(url: httpx2.URL, allow_private: bool) -> str:
    """The address to connect to. Resolved once and used for the connection itself, so a
    second DNS answer cannot swap a public address for a private one."""
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            url.host, port, type=socket.SOCK_STREAM
        )
    except (OSError, UnicodeError):
        raise _unreadable(f"URL: cannot resolve host {url.host}") from None
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise _unreadable(f"URL: cannot resolve host {url.host}")
    if not allow_private and not all(_is_public(a) for a in addresses):
        raise _unreadable("URL: refusing to download from a private or local network address")
    return addresses[0]


async def _download(
    client: httpx2.AsyncClient, url: httpx2.URL, allow_private: bool
) -> tuple[bytes | None, str]:
    """One request: (body, "") or (None, location of a redirect)."""
    address = await _pinned_address(url, allow_private)
    host_header = url.host if url.port is None else f"{url.host}:{url.port}"
    extensions = {"sni_hostname": url.host} if url.scheme == "https" else {}
    target = url.copy_with(host=address)
    async with client.stream(
        "GET", target, headers={"Host": host_header}, extensions=extensions
    ) as response:
        if response.is_redirect:
            return None, response.headers.get("location", "")
        if response.status_code != 200:
            raise _unreadable(
                "Could not download the contacts CSV from the given URL "
                f"(HTTP {response.status_code}). No contacts were imported."
            )
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_DOWNLOAD_BYTES:
            raise _too_large()
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body.extend(chunk)
            if len(body) > MAX_DOWNLOAD_BYTES:
                raise _too_large()
        return bytes(body), ""


def _too_large() -> InputErrors:
    return _unreadable(f"The CSV at the URL is larger than {MAX_DOWNLOAD_BYTES // 1024} KB")


async def fetch_csv(raw_url: str, *, allow_private: bool = False) -> str:
    """Download a CSV for import; every failure is a payload error on `data`."""
    url = _url(raw_url)
    timeout = httpx2.Timeout(URL_TIMEOUT_SECONDS)
    try:
        async with (
            asyncio.timeout(URL_DEADLINE_SECONDS),
            httpx2.AsyncClient(timeout=timeout, trust_env=False, follow_redirects=False) as client,
        ):
            for _ in range(MAX_REDIRECTS + 1):
                body, location = await _download(client, url, allow_private)
                if body is not None:
                    return decode(body)
                if not location:
                    break
                url = _url(str(url.join(location)))
            raise _unreadable("URL: too many redirects")
    except (TimeoutError, httpx2.TimeoutException):
        raise _unreadable("Could not download the contacts CSV: the server took too long") from None
    except httpx2.HTTPError as exc:
        raise _unreadable(
            f"Could not download the contacts CSV from the given URL ({type(exc).__name__})"
        ) from None


def decode(body: bytes) -> str:
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _unreadable("The CSV is not valid UTF-8. No contacts were imported.") from None


# --- parsing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CsvRow:
    line: int
    cells: dict[str, str]  # normalised header -> stripped cell
    labels: dict[str, str]  # normalised header -> header as written
    extra: bool  # more cells than headers


def parse_csv(text: str, max_rows: int) -> list[CsvRow]:
    """Rows keyed by normalised header. An input without a `phone` header, with no rows, with
    more than `max_rows` rows or that the csv module cannot read is a payload error."""
    text = text.lstrip("\ufeff")
    if "\x00" in text:
        raise _unreadable("The CSV could not be read: it contains NUL bytes")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise _unreadable("The CSV is empty: a header row with a phone column is needed")
        keys = [contacts_fields.snake_case(h.translate(_INVISIBLE)) for h in header]
        if "phone" not in keys:
            raise _unreadable("The CSV needs a header row with a phone column")
        labels = {k: h.strip() for k, h in zip(keys, header, strict=True) if k}
        rows: list[CsvRow] = []
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue
            if len(rows) >= max_rows:
                raise _unreadable(
                    f"The CSV has more than {max_rows} rows; split it into smaller files"
                )
            cells = {k: c.strip() for k, c in zip(keys, record, strict=False) if k}
            rows.append(CsvRow(reader.line_num, cells, labels, len(record) > len(keys)))
    except csv.Error as exc:
        raise _unreadable(f"The CSV could not be read: line {reader.line_num}: {exc}") from None
    if not rows:
        raise _unreadable("The CSV has no contact rows")
    return rows


def _labels(value: str | None) -> list[str]:
    if not value:
        return []
    return list(dict.fromkeys(p.strip() for p in value.split(",") if p.strip()))


def _optin_time(row: CsvRow, now: datetime) -> datetime | None:
    """None when the row says "not opted in"; else when the contact opted in."""
    if "opt_in" not in row.cells:
        return now
    value = row.cells["opt_in"]
    if value.lower() in _NO:
        return None
    try:
        when = datetime.fromisoformat(value.replace("_", " "))
    except ValueError:
        return now
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return min(when, now)


# --- running an import ---------------------------------------------------------------------


@dataclass
class RowResult:
    line: int
    phone: str
    status: str
    ok: bool


@dataclass
class ImportOutcome:
    job_id: int
    kind: str
    rows: list[RowResult]

    @property
    def succeeded(self) -> int:
        return sum(1 for r in self.rows if r.ok)

    @property
    def failed(self) -> int:
        return len(self.rows) - self.succeeded

    @property
    def status(self) -> str:
        what = "import" if self.kind == "import" else "move"
        return (
            f"Contact {what} is complete: {self.succeeded} of {len(self.rows)} rows done, "
            f"{self.failed} failed. Upload report: userJobId {self.job_id}"
        )


class _RowFailed(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class _Run:
    """What one import knows besides the rows: languages, the groups and field definitions
    already written (kept only once the row that wrote them has been committed)."""

    session: AsyncSession
    org_id: int
    kind: str
    group_label: str | None
    now: datetime
    languages: dict[str, int] = field(default_factory=dict)
    language_labels: dict[int, str] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)  # shortcode -> label
    pending_groups: dict[str, Group] = field(default_factory=dict)
    pending_fields: dict[str, str] = field(default_factory=dict)

    async def load_languages(self) -> None:
        rows = await self.session.execute(
            select(
                col(Language.id),
                col(Language.label),
                col(Language.locale),
                col(Language.label_locale),
            )
            .where(col(Language.is_active).is_(True))
            .order_by(col(Language.id))
        )
        for lid, label, locale, label_locale in rows:
            assert lid is not None  # a primary key read back from the table
            self.language_labels[lid] = label
            for key in (label, locale, label_locale):
                if key:
                    self.languages.setdefault(key.strip().lower(), lid)

    def language(self, value: str) -> int | None:
        if not value:
            return None
        found = self.languages.get(value.lower())
        if found is None:
            raise _RowFailed(f'Language "{value}" does not exist')
        return found

    async def group(self, label: str) -> Group:
        group = self.groups.get(label) or self.pending_groups.get(label)
        if group is None:
            if len(label) > 255:
                raise _RowFailed(f'Collection "{label[:40]}..." is longer than 255 characters')
            group = await groups.group_by_label(self.session, self.org_id, label, create=True)
            assert group is not None
            self.pending_groups[label] = group
        return group

    async def field_label(self, shortcode: str, header: str) -> str:
        label = self.fields.get(shortcode) or self.pending_fields.get(shortcode)
        if label is None:
            definition = await contacts_fields.ensure_field(
                self.session, self.org_id, shortcode, header
            )
            label = definition.name
            self.pending_fields[shortcode] = label
        return label

    def next_transaction(self, session: AsyncSession) -> None:
        """Go on in a new transaction: rows loaded in the last one are not reused."""
        self.session = session
        self.groups.clear()
        self.fields.clear()

    def commit_row(self) -> None:
        self.groups.update(self.pending_groups)
        self.fields.update(self.pending_fields)
        self.forget_row()

    def forget_row(self) -> None:
        self.pending_groups.clear()
        self.pending_fields.clear()


# An import of thousands of rows must not hold the database's writer (SQLite has one) while
# webhooks wait to acknowledge messages: it commits after IMPORT_CHUNK_ROWS rows or
# IMPORT_CHUNK_SECONDS, whichever comes first.
IMPORT_CHUNK_ROWS = 50
IMPORT_CHUNK_SECONDS = 0.02


async def import_csv(
    db: Database,
    org_id: int,
    user_id: int | None,
    text: str,
    *,
    kind: str = "import",
    group_label: str | None = None,
) -> ImportOutcome:
    """Import (`kind="import"`: create or update) or move (`kind="move"`: existing contacts
    only, no opt-in) the contacts of a CSV text, and record the outcome in a `UserJob`.
    A CSV that cannot be read is refused (InputErrors) before anything is written; then the
    rows are written in short transactions (IMPORT_CHUNK_ROWS, IMPORT_CHUNK_SECONDS), each
    row all or nothing."""
    if kind not in ("import", "move"):
        raise ValueError(kind)
    settings = settings_for(db)
    rows = parse_csv(text, settings.import_max_rows)
    region = settings.default_phone_region
    results: list[RowResult] = []
    run: _Run | None = None
    while run is None or len(results) < len(rows):
        async with db.transaction(org_id) as session:
            if run is None:
                run = _Run(session, org_id, kind, (group_label or "").strip() or None, utcnow())
                await run.load_languages()
            else:
                run.next_transaction(session)
            began = time.monotonic()
            for row in rows[len(results) : len(results) + IMPORT_CHUNK_ROWS]:
                results.append(await _import_row(run, row, region))
                if time.monotonic() - began > IMPORT_CHUNK_SECONDS:
                    break
    async with db.transaction(org_id) as session:
        job = UserJob(
            organization_id=org_id,
            user_id=user_id,
            type=IMPORT_JOB,
            status="success",
            total_tasks=len(results),
            tasks_done=len(results),
            errors={
                "kind": kind,
                "rows": [
                    {"line": r.line, "phone": r.phone, "status": r.status, "ok": r.ok}
                    for r in results
                ],
            },
        )
        session.add(job)
        await session.flush()
        failed = sum(1 for r in results if not r.ok)
        # The web app's import dialog sends the user to the notifications page: Glific
        # notes every upload there ("Contact upload completed", Info), and here one with
        # rows that were not applied is a Warning that says how many.
        if failed:
            await notifications.notify(
                session,
                org_id,
                notifications.IMPORT,
                f"Contact {kind} finished: {failed} of {len(results)} rows were not applied",
                {"user_job_id": job.id, "failed_rows": failed},
                severity=notifications.WARNING,
            )
        else:
            await notifications.notify(
                session,
                org_id,
                notifications.IMPORT,
                "Contact upload completed" if kind == "import" else "Contact move completed",
                {"user_job_id": job.id},
                severity=notifications.INFO,
            )
    return ImportOutcome(saved_id(job), kind, results)


async def _import_row(run: _Run, row: CsvRow, region: str) -> RowResult:
    shown = row.cells.get("phone", "").translate(_INVISIBLE)
    try:
        shown = _phone(row, shown, region)
        async with run.session.begin_nested():
            status = await _row(run, row, shown)
    except _RowFailed as exc:
        failure = exc.message
    except (InputErrors, ClientError) as exc:
        failure = _message(exc)
    except (IntegrityError, DataError):
        failure = "Contact upload failed."
    else:
        run.commit_row()
        return RowResult(row.line, shown, status, True)
    run.forget_row()
    return RowResult(row.line, shown, failure, False)


def _message(exc: InputErrors | ClientError) -> str:
    if isinstance(exc, ClientError):
        return exc.message
    return "; ".join(message for _, message in exc.errors)


def _phone(row: CsvRow, raw_phone: str, region: str) -> str:
    """The row's phone as stored; a row that cannot be read fails here, before any write."""
    if row.extra:
        raise _RowFailed("The row has more cells than the header has columns")
    if not raw_phone:
        raise _RowFailed(f"Phone number is missing (line {row.line})")
    return normalize_phone(raw_phone, default_region=region)


async def _row(run: _Run, row: CsvRow, phone: str) -> str:
    """Apply one row and return its status; raises to have the row rolled back."""
    session, org_id = run.session, run.org_id
    existing = await session.scalar(
        select(Contact).where(col(Contact.phone) == phone, col(Contact.organization_id) == org_id)
    )
    if row.cells.get("delete", "").lower() in _YES:
        if existing is None:
            raise _RowFailed("Contact does not exist")
        await contacts.delete_contact(session, org_id, existing.id)
        return "Contact has been deleted as per flag in csv"

    name = v.text({"name": row.cells.get("name") or None}, "name")
    if run.kind == "import" and not name:
        raise _RowFailed("Contact name is empty")
    if run.kind == "move" and existing is None:
        raise _RowFailed(f"Contact {phone} was not found and hence not added")
    language_id = run.language(row.cells.get("language", ""))
    new_fields = await _fields(run, row)

    if existing is None:
        params: dict[str, Any] = {"phone": phone, "name": name, "fields": new_fields}
        if language_id is not None:
            params["language_id"] = language_id
        contact = await contacts.create_contact(session, org_id, params)
        # A new contact's first values are part of its creation: no history row per field.
        old_fields: dict[str, Any] = {}
        new_fields = {}
        status = "Contact has been created"
    else:
        old_fields, old_language = dict(existing.fields or {}), existing.language_id
        params = {}
        if name:
            params["name"] = name
        if language_id is not None and language_id != old_language:
            params["language_id"] = language_id
        changed = {k: f for k, f in new_fields.items() if _value(old_fields.get(k)) != f["value"]}
        if changed:
            params["fields"] = {**old_fields, **changed}
        new_fields = changed
        contact = await contacts.update_contact(session, org_id, existing.id, params)
        if "language_id" in params:
            await _language_history(run, contact, old_language)
        status = "Contact has been updated"

    for shortcode, entry in new_fields.items():
        await history.record(
            session,
            contact,
            history.CONTACT_FIELDS_UPDATED,
            f"Value for {entry['label']} is updated to {entry['value']}",
            {
                "field": {
                    "data": shortcode,
                    "label": entry["label"],
                    "value": entry["value"],
                    "old_value": old_fields.get(shortcode),
                    "new_value": entry["value"],
                }
            },
        )
    collection = run.group_label if run.kind == "import" and run.group_label else None
    for label in _labels(collection or row.cells.get("collection")):
        await groups.add_contact(session, await run.group(label), saved_id(contact))
    if run.kind == "import" and await _opt_in(run, row, contact):
        status += " and marked as opted in"
    return status


def _value(entry: Any) -> Any:
    return entry.get("value") if isinstance(entry, dict) else entry


async def _fields(run: _Run, row: CsvRow) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for key, value in row.cells.items():
        if key in RESERVED_COLUMNS or not value:
            continue
        label = await run.field_label(key, row.labels.get(key) or key)
        out[key] = {
            "value": value,
            "label": label,
            "type": "string",
            "inserted_at": run.now.isoformat() + "Z",
        }
    return out


async def _language_history(run: _Run, contact: Contact, old_language: int) -> None:
    new_label = run.language_labels.get(contact.language_id, str(contact.language_id))
    old_label = run.language_labels.get(old_language, str(old_language))
    await history.record(
        run.session,
        contact,
        history.CONTACT_LANGUAGE_UPDATED,
        f"Changed contact language to {new_label} from {old_label}, via import.",
        {"language": {"id": contact.language_id, "label": new_label, "old_language": old_language}},
    )


async def _opt_in(run: _Run, row: CsvRow, contact: Contact) -> bool:
    """Opt the contact in as Glific's import does: not when the row says no, and never a
    contact that already opted in, opted out or is blocked."""
    when = _optin_time(row, run.now)
    if when is None or contact.optin_time is not None or contact.optout_time is not None:
        return False
    if contact.status == "blocked":
        return False
    await contacts.optin_contact(run.session, run.org_id, contact.phone, method="Import", at=when)
    return True


# --- the report ----------------------------------------------------------------------------


async def upload_report(
    session: AsyncSession, org_id: int, raw_job_id: Any, viewer: contacts.Viewer | None = None
) -> tuple[str | None, str | None]:
    """(csv_rows, error) for `getContactUploadReport`: `Phone,Status` and one line per CSV
    row, in the CSV's order, lines separated by CRLF (Glific's format). A viewer who sees
    phones masked gets them masked here too, in the status text as well."""
    try:
        job_id = to_int_id(raw_job_id)
    except InputErrors:
        return None, REPORT_MISSING
    job = await session.scalar(
        select(UserJob).where(
            col(UserJob.id) == job_id,
            col(UserJob.organization_id) == org_id,
            col(UserJob.type) == IMPORT_JOB,
        )
    )
    if job is None:
        return None, REPORT_MISSING
    if job.status != "success":
        return None, REPORT_PENDING
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(REPORT_HEADER)
    masked = viewer is not None and viewer.phones_masked
    for row in (job.errors or {}).get("rows", []):
        phone, status = row.get("phone", ""), row.get("status", "")
        if masked and phone:
            hidden = mask_phone(phone) or ""
            phone, status = hidden, status.replace(phone, hidden)
        writer.writerow((phone, status))
    return out.getvalue().removesuffix("\r\n"), None
