"""The server keeps SQLite's planner statistics current by itself (models/sqlite_statistics.py):
without them, at a million contacts an unfiltered count walked an index row by row."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from models import Database, sqlite_search_index
from models.migrate import upgrade_sync
from resolvers.seed import seed_defaults
from tests.utils.server import test_settings as settings_for_tests


def _add_contacts(path: Path, count: int) -> None:
    with sqlite3.connect(path) as conn:
        start = conn.execute("SELECT coalesce(max(id), 0) FROM contacts").fetchone()[0]
        conn.executemany(
            "INSERT INTO contacts (organization_id, name, phone, language_id, fields, settings,"
            " contact_type, status, bsp_status, is_org_read, is_org_replied,"
            " is_contact_replied, optin_status, first_message_number, last_message_number,"
            " inserted_at, updated_at)"
            " SELECT o.id, ?, ?, o.default_language_id, '{}', '{}', 'WABA', 'valid', 'none',"
            " 1, 1, 1, 0, 1, 0, 0, 0 FROM organizations o",
            [(f"Child {n}", f"9190{n:08d}") for n in range(start, start + count)],
        )


def _organization_index_stat(path: Path) -> tuple[int, int]:
    """(rows, rows per organization) as sqlite_stat1 holds them for the contacts list index."""
    with sqlite3.connect(path) as conn:
        (stat,) = conn.execute(
            "SELECT stat FROM sqlite_stat1 WHERE idx = 'contacts_organization_id_lower_name_index'"
        ).fetchone()
    rows, per_organization = stat.split()[:2]
    return int(rows), int(per_organization)


def _seeded(path: Path) -> Database:
    """A migrated and seeded SQLite database at `path`."""
    url = f"sqlite+aiosqlite:///{path}"
    upgrade_sync(url)
    settings = settings_for_tests(url)
    db = Database(url, settings=settings)

    async def seed() -> None:
        async with db.transaction(all_organizations=True) as session:
            await seed_defaults(session, settings)

    asyncio.run(seed())
    return db


def test_statistics_are_gathered_once_and_again_when_a_table_has_grown(tmp_path: Path) -> None:
    path = tmp_path / "stats.db"
    db = _seeded(path)
    _add_contacts(path, 500)

    def optimize() -> list[str]:
        return asyncio.run(db.optimize())

    first = optimize()
    assert "contacts" in first
    # Every row of the one organization: the index's first column is not selective at all.
    assert _organization_index_stat(path) == (506, 506)  # 500 and the seeded contacts
    # Nothing changed: nothing is analysed again.
    assert optimize() == []
    # The table doubled and more: it is analysed afresh; the others are left alone.
    _add_contacts(path, 1000)
    assert optimize() == ["contacts"]
    assert _organization_index_stat(path) == (1506, 1506)


def test_the_contact_search_index_is_merged_in_short_steps(tmp_path: Path) -> None:
    """Contacts added in many transactions leave the search index in several segments, each
    read by every lookup; the upkeep merges them into one, in steps of a few pages, and the
    index answers as before."""
    path = tmp_path / "search.db"
    db = _seeded(path)
    for _ in range(40):
        _add_contacts(path, 300)
    with sqlite3.connect(path) as conn:
        before = sqlite_search_index.segments(conn)
        matched = conn.execute(
            "SELECT rowid FROM contacts_search WHERE contacts_search MATCH '\"hild 1\"'"
        ).fetchall()
    assert before > 1
    steps = sqlite_search_index.merge(str(path), 5.0)
    assert steps > 1  # in steps, not in one transaction
    with sqlite3.connect(path) as conn:
        assert sqlite_search_index.segments(conn) == 1
        again = conn.execute(
            "SELECT rowid FROM contacts_search WHERE contacts_search MATCH '\"hild 1\"'"
        ).fetchall()
        # (FTS5 raises if the merged index does not match the contacts.)
        conn.execute("INSERT INTO contacts_search(contacts_search) VALUES ('integrity-check')")
    assert sorted(again) == sorted(matched) and len(matched) > 1000
    assert sqlite_search_index.merge(str(path), 5.0) == 0  # nothing left to merge
    # The server's upkeep runs it.
    _add_contacts(path, 300)
    _add_contacts(path, 300)
    with sqlite3.connect(path) as conn:
        assert sqlite_search_index.segments(conn) > 1
    asyncio.run(db.optimize())
    with sqlite3.connect(path) as conn:
        assert sqlite_search_index.segments(conn) == 1
    asyncio.run(db.dispose())
