"""SQLite's planner statistics (`sqlite_stat1`), kept current by the server itself.

Without statistics SQLite guesses: at a million contacts an unfiltered `countContacts` walked
an index and read every row out of order (1.9 s) where a plain scan takes a fraction of
that. `PRAGMA optimize` is the documented upkeep, but before SQLite 3.46 it only analyses
tables the same connection has queried, and with `analysis_limit` sampling it judges an
index whose first column holds one value (one organization) far too selective. So:

* a table never analysed, or whose size has since changed by half or doubled, is analysed
  whole (`ANALYZE <table>`: about a second per million rows and its indexes);
* otherwise `PRAGMA optimize` does what the SQLite version in use can.

It runs in a worker thread on a connection of its own, so it blocks neither the event loop
nor this process's writers beyond SQLite's own write lock while a table is analysed.
"""

from __future__ import annotations

import sqlite3

_CHANGED = 2.0  # re-analyse a table whose row count moved by this factor either way


def _estimates(conn: sqlite3.Connection) -> dict[str, int]:
    """Rows per table as the last ANALYZE saw them."""
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'"
    ).fetchone()
    if not exists:
        return {}
    found: dict[str, int] = {}
    for table, stat in conn.execute("SELECT tbl, stat FROM sqlite_stat1"):
        first = str(stat or "").split(" ", 1)[0]
        if first.isdigit():
            found[table] = max(found.get(table, 0), int(first))
    return found


def _tables(conn: sqlite3.Connection) -> list[str]:
    # Ordinary rowid tables only: not virtual tables (the contact search index, migration
    # 0007) nor their shadow tables, which FTS5 keeps and which have no rowid to count by.
    return [
        name
        for _schema, name, kind, _columns, without_rowid, _strict in conn.execute(
            "PRAGMA main.table_list"
        )
        if kind == "table"
        and not without_rowid
        and not name.startswith("sqlite_")
        and name != "alembic_version"
    ]


def refresh(path: str, busy_timeout: float) -> list[str]:
    """Bring the statistics of the database at `path` up to date; returns the tables that
    were analysed afresh. Blocking: call it from a worker thread."""
    conn = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None)
    try:
        estimated = _estimates(conn)
        stale = []
        for table in _tables(conn):
            # ids are never reused (AUTOINCREMENT): the highest one bounds the row count at
            # no cost, which is close enough to tell a table that doubled.
            (highest,) = conn.execute(f'SELECT coalesce(max(rowid), 0) FROM "{table}"').fetchone()
            before = estimated.get(table)
            if highest == 0 and before is None:
                continue
            if before is None or not before / _CHANGED <= highest <= before * _CHANGED:
                stale.append(table)
        for table in stale:
            conn.execute(f'ANALYZE "{table}"')
        conn.execute("PRAGMA optimize")
        return stale
    finally:
        conn.close()
