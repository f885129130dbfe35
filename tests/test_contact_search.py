"""Substring search on contacts from the index (migration 0007, resolvers/contact_search.py):
the same answers as a plain scan for every input, and the index in step with every write."""

from __future__ import annotations

import secrets
import sqlite3
from typing import Any

import pytest
from alembic import command
from sqlalchemy import create_engine, func, inspect, make_url, or_, select, text
from sqlalchemy.orm import Session
from sqlmodel import col

from models import Contact, Language, Organization
from models.db import ALL_ORGS_KEY
from models.migrate import alembic_config, upgrade_sync
from resolvers.contact_search import fts_query
from resolvers.phones import lookup_phone
from resolvers.querying import ilike
from tests.conftest import fresh_database
from tests.utils.server import LiveServer
from tests.utils.tenants import Tenant, unique_phone

LIST = """query($f: ContactFilter) {
  contacts(filter: $f, opts: {limit: 50}) { id } countContacts(filter: $f) }"""
UPDATE = """mutation($id: ID!, $input: ContactInput!) {
  updateContact(id: $id, input: $input) { errors { message } } }"""
DELETE = "mutation($id: ID!) { deleteContact(id: $id) { errors { message } } }"
IMPORT = "mutation($data: String!) { importContacts(data: $data) { status errors { message } } }"

NAMES = [
    "Ünïcödé Straße",
    "ÉCOLE Centrale",
    "école maternelle",
    "O'Brien",
    'Say "hi" there',
    "100% pure",
    "under_score",
    "back\\slash",
    "NEAR here",
    "a*b star",
    "minus-sign",
    "日本語の名前",
    "İstanbul Kid",
    "\u212aelvin sign",  # KELVIN SIGN: Unicode folds it to "k", SQLite's lower() does not
    "emoji 😀 name",
    "Ab",
    "AND OR NOT",
    "col:umn {name} (x)",
    "Plain Asha",
    "plain asha two",
]
TERMS = [
    "é",
    "É",
    "ÉCO",
    "éco",
    "ÜNÏ",
    "ünï",
    "straße",
    "STRASSE",
    "o'b",
    "O'BRIEN",
    '"hi"',
    '"',
    '""',
    'y "h',
    "100%",
    "0%",
    "%",
    "%%%",
    "_",
    "r_s",
    "r_sc",
    "\\",
    "k\\s",
    "\\\\",
    "near",
    "NEAR here",
    "NEAR(a b)",
    "a*b",
    "*",
    "***",
    "-sign",
    "minus-",
    "日本",
    "日本語",
    "istanbul",
    "İst",
    "kelvin",
    "\u212aelvin",
    "k",
    "😀",
    "emoji 😀",
    "ab",
    "a",
    "AND",
    "OR NOT",
    "^pl",
    "col:umn",
    "{name}",
    "(x)",
    "name:",
    "   ",
    "asha",
    "ASHA two",
    "zzz-no-such-name",
]


def _scan(
    server: LiveServer, org_id: int, flt: dict[str, str], staff_region: str | None
) -> list[int]:
    """Today's plain substring scan (the filters as they were before the index), for
    managers or (with `staff_region`) for a viewer who sees phones masked."""
    conditions: list[Any] = []
    if "name" in flt:
        conditions.append(ilike(Contact.name, flt["name"]))
    if "phone" in flt:
        if staff_region is None:
            conditions.append(ilike(Contact.phone, flt["phone"]))
        elif whole := lookup_phone(flt["phone"], default_region=staff_region):
            conditions.append(col(Contact.phone) == whole)
    if "term" in flt:
        whole = lookup_phone(flt["term"], default_region=staff_region or "")
        if staff_region is not None and whole:
            by_phone = col(Contact.phone) == whole
        else:
            by_phone = ilike(Contact.phone, flt["term"])
        conditions.append(or_(ilike(Contact.name, flt["term"]), by_phone))

    async def go(session: Any) -> list[int]:
        statement = select(col(Contact.id)).where(
            col(Contact.organization_id) == org_id, col(Contact.status) != "blocked", *conditions
        )
        return sorted((await session.scalars(statement)).all())

    return server.in_transaction(go)


def _listed(tenant: Tenant, flt: dict[str, str], role: str) -> tuple[list[int], int]:
    data = tenant.data(LIST, {"f": flt}, role=role)
    return sorted(int(c["id"]) for c in data["contacts"]), data["countContacts"]


@pytest.fixture
def tricky_tenant(tenant: Tenant) -> tuple[Tenant, list[str]]:
    phones = [unique_phone() for _ in NAMES]
    for name, phone in zip(NAMES, phones, strict=True):
        tenant.create_contact(name, phone=phone)
    return tenant, phones


def test_indexed_search_answers_exactly_as_a_scan(
    server: LiveServer, tricky_tenant: tuple[Tenant, list[str]]
) -> None:
    tenant, phones = tricky_tenant
    digits = [phones[0][3:9], phones[1][-2:], phones[2][:3], phones[3], phones[4][-5:], "9"]
    region = server.settings.default_phone_region
    checked = 0
    for term in TERMS + digits:
        for key in ("name", "phone", "term"):
            flt = {key: term}
            for role, staff_region in (("manager", None), ("staff", region)):
                expected = _scan(server, tenant.org_id, flt, staff_region)
                assert len(expected) <= 50
                assert _listed(tenant, flt, role) == (expected, len(expected)), (flt, role)
                checked += 1
    # The filters combine as before too.
    for flt in ({"name": "plain", "term": "asha"}, {"name": "éco", "phone": phones[2][4:]}):
        assert _listed(tenant, flt, "manager") == (
            expected := _scan(server, tenant.org_id, flt, None),
            len(expected),
        )
    assert checked > 300
    # Sanity: the comparison is not between two empty answers.
    assert _listed(tenant, {"name": "STRASSE"}, "manager")[1] == 0  # ß is not "ss"
    assert _listed(tenant, {"term": "asha"}, "manager")[1] == 2
    assert _listed(tenant, {"term": phones[0][3:9]}, "manager")[1] >= 1


def _found(tenant: Tenant, flt: dict[str, str]) -> list[str]:
    data = tenant.data(
        "query($f: ContactFilter) { contacts(filter: $f) { name } countContacts(filter: $f) }",
        {"f": flt},
    )
    names = sorted(c["name"] for c in data["contacts"])
    assert data["countContacts"] == len(names)
    return names


def _index_matches_contacts(server: LiveServer, tenant: Tenant) -> None:
    """countContacts without a filter, and with each status, counts what a scan counts; on
    SQLite, FTS5's own check that the index holds exactly the contacts' values, and the
    counts table holds every organization's counts."""
    for status in (None, "VALID", "INVALID", "BLOCKED"):
        flt = {"status": status} if status else {}
        counted = tenant.data("query($f: ContactFilter) { countContacts(filter: $f) }", {"f": flt})[
            "countContacts"
        ]

        async def scan(session: Any, status: str | None = status) -> int:
            by_status = (
                col(Contact.status) == status.lower()
                if status
                else col(Contact.status) != "blocked"
            )
            statement = select(func.count()).where(
                col(Contact.organization_id) == tenant.org_id, by_status
            )
            return int((await session.execute(statement)).scalar_one())

        assert counted == server.in_transaction(scan), status
    if not server.settings.database_url.startswith("sqlite"):
        return

    async def check(session: Any) -> None:
        await session.execute(
            text("INSERT INTO contacts_search(contacts_search) VALUES ('integrity-check')")
        )
        counts = text(
            "SELECT organization_id, status, contacts FROM contact_counts WHERE contacts != 0"
        )
        scanned = text(
            "SELECT organization_id, status, count(*) FROM contacts GROUP BY organization_id,"
            " status"
        )
        assert sorted((await session.execute(counts)).all()) == sorted(
            (await session.execute(scanned)).all()
        )

    server.in_transaction(check)


def test_the_index_follows_create_update_delete_and_import(
    server: LiveServer, tenant: Tenant
) -> None:
    phone = unique_phone()
    contact = tenant.create_contact("Quokka Firstname", phone=phone)
    assert _found(tenant, {"name": "quokka"}) == ["Quokka Firstname"]
    assert _found(tenant, {"phone": phone[2:]}) == ["Quokka Firstname"]
    _index_matches_contacts(server, tenant)

    renamed = tenant.data(UPDATE, {"id": contact["id"], "input": {"name": "Wombat Renamed"}})
    assert renamed["updateContact"]["errors"] is None
    assert _found(tenant, {"name": "quokka"}) == []
    assert _found(tenant, {"term": "quokka"}) == []
    assert _found(tenant, {"term": "wombat"}) == ["Wombat Renamed"]
    # Other columns change without touching the index; the phone still finds the contact.
    tenant.data(UPDATE, {"id": contact["id"], "input": {"status": "INVALID"}})
    assert _found(tenant, {"phone": phone[2:], "status": "INVALID"}) == ["Wombat Renamed"]
    _index_matches_contacts(server, tenant)

    deleted = tenant.data(DELETE, {"id": contact["id"]})
    assert deleted["deleteContact"]["errors"] is None
    assert _found(tenant, {"term": "wombat", "status": "INVALID"}) == []
    assert _found(tenant, {"phone": phone[2:], "status": "INVALID"}) == []
    _index_matches_contacts(server, tenant)

    imported_phone = unique_phone()
    result = tenant.data(IMPORT, {"data": f"name,phone\nPlatypus Imported,{imported_phone}\n"})
    assert result["importContacts"]["errors"] is None, result
    assert _found(tenant, {"name": "platypus"}) == ["Platypus Imported"]
    assert _found(tenant, {"term": imported_phone[-7:]}) == ["Platypus Imported"]
    # Importing the same phone again with a new name updates the contact, and the index.
    again = tenant.data(IMPORT, {"data": f"name,phone\nEchidna Reimported,{imported_phone}\n"})
    assert again["importContacts"]["errors"] is None, again
    assert _found(tenant, {"name": "platypus"}) == []
    assert _found(tenant, {"name": "echidna"}) == ["Echidna Reimported"]
    _index_matches_contacts(server, tenant)


@pytest.fixture
def fts() -> sqlite3.Connection:
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE VIRTUAL TABLE t USING fts5(name, phone, tokenize='trigram')")
    return connection


@pytest.mark.parametrize("term", [t for t in TERMS if len(t) >= 3])
def test_fts_query_is_always_one_literal_string(fts: sqlite3.Connection, term: str) -> None:
    """Whatever a user types is matched as text: never an FTS5 syntax error, never an
    operator (a prefix `*`, NEAR, AND/OR/NOT, a column filter)."""
    fts.execute("INSERT INTO t (rowid, name, phone) VALUES (1, ?, '919876')", (f"x{term}y",))
    fts.execute("INSERT INTO t (rowid, name, phone) VALUES (2, 'something else', '123')")
    for columns in ((), ("name",)):
        rows = fts.execute("SELECT rowid FROM t WHERE t MATCH ?", (fts_query(term, columns),))
        assert [r[0] for r in rows] == [1], (term, columns)
    rows = fts.execute("SELECT rowid FROM t WHERE t MATCH ?", (fts_query(term, ("phone",)),))
    assert rows.fetchall() == []


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_the_migration_downgrades_and_upgrades_again(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """0007 leaves nothing behind when downgraded (triggers, FTS table, indexes), and a
    database upgraded again searches as before."""
    with fresh_database(database_url, tmp_path_factory) as url:
        upgrade_sync(url, "0007")
        config = alembic_config(url)
        command.downgrade(config, "0006")
        sync_url = make_url(url)
        engine = create_engine(sync_url.set(drivername=sync_url.drivername.split("+")[0]))
        try:
            with engine.connect() as connection:
                names = set(inspect(connection).get_table_names())
                indexes = {i["name"] for i in inspect(connection).get_indexes("contacts")}
                if engine.dialect.name == "sqlite":
                    triggers = connection.execute(
                        text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
                    ).all()
                    assert triggers == []
            assert not any(n.startswith("contacts_search") for n in names)
            assert "contact_counts" not in names
            assert not indexes & {
                "contacts_organization_id_status_index",
                "contacts_name_trigram_index",
                "contacts_phone_trigram_index",
            }
            # Rows written while the index did not exist are indexed when it is built.
            with Session(engine, info={ALL_ORGS_KEY: True}) as session:
                language = Language(label="X", label_locale="X", locale="xx")
                session.add(language)
                session.flush()
                assert language.id is not None
                org = Organization(
                    name="Search",
                    shortcode=f"s{secrets.token_hex(4)}",
                    default_language_id=language.id,
                )
                session.add(org)
                session.flush()
                assert org.id is not None
                contact = Contact(
                    organization_id=org.id,
                    name="Searchable Numbat",
                    phone=unique_phone(),
                    language_id=language.id,
                )
                session.add(contact)
                session.commit()
                contact_id, org_id = contact.id, org.id
            upgrade_sync(url, "0007")
            with engine.begin() as connection:
                after = {i["name"] for i in inspect(connection).get_indexes("contacts")}
                assert "contacts_organization_id_status_index" in after
                if engine.dialect.name != "sqlite":
                    assert {"contacts_name_trigram_index", "contacts_phone_trigram_index"} <= after
                    return
                match = text("SELECT rowid FROM contacts_search WHERE contacts_search MATCH :q")
                assert connection.execute(match, {"q": '"ble numb"'}).scalars().all() == [
                    contact_id
                ]
                connection.execute(
                    text("UPDATE contacts SET name = 'Renamed Bilby' WHERE id = :id"),
                    {"id": contact_id},
                )
                assert connection.execute(match, {"q": '"numbat"'}).all() == []
                assert connection.execute(match, {"q": '"bilby"'}).scalars().all() == [contact_id]
                counts = text(
                    "SELECT status, contacts FROM contact_counts WHERE organization_id = :o"
                )
                assert connection.execute(counts, {"o": org_id}).all() == [("valid", 1)]
        finally:
            engine.dispose()
