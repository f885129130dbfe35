"""Upkeep of the contact search index on SQLite (FTS5, migration 0007): its segments merged.

FTS5 writes each transaction's changes to the index as a new segment and merges segments
only as they pile up, so a database that is written to keeps several (ten at a million
contacts seeded in batches), and every lookup reads each of them: a one-name search's page
took 1.25 ms with ten segments and 0.72 ms with one. The server merges them with the
planner statistics, at start and hourly (models.db.Database.optimize).

FTS5's 'merge' command with a negative page budget merges every segment towards one, a few
pages per call. Each call is its own short transaction (5 ms typically at a million
contacts, 16 pages) followed by a pause as long, so writers of this process or another (a
webhook's acknowledgement) wait at most one step, never the whole merge; the steps stop
when a call finds nothing left to merge.
"""

from __future__ import annotations

import sqlite3
import time

from models.contact import CONTACT_SEARCH_TABLE

PAGES_PER_STEP = 16
_MAX_STEPS = 1_000_000  # (a bound on the loop; a million contacts took about 400 steps)


def segments(conn: sqlite3.Connection, table: str = CONTACT_SEARCH_TABLE) -> int:
    """How many segments the index has."""
    (count,) = conn.execute(f'SELECT count(DISTINCT segid) FROM "{table}_idx"').fetchone()
    return int(count)


def merge(path: str, busy_timeout: float, table: str = CONTACT_SEARCH_TABLE) -> int:
    """Merge the index's segments into one, in short steps; returns how many steps did
    work. Blocking: call it from a worker thread."""
    conn = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None)
    try:
        found = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
        ).fetchone()
        if not found:
            return 0
        steps = 0
        while steps < _MAX_STEPS:
            before, started = conn.total_changes, time.perf_counter()
            conn.execute(
                f'INSERT INTO "{table}"("{table}", rank) VALUES (\'merge\', ?)', (-PAGES_PER_STEP,)
            )
            # FTS5 counts fewer than two changes for a call that found nothing to merge.
            if conn.total_changes - before < 2:
                break
            steps += 1
            time.sleep(max(0.001, time.perf_counter() - started))
        return steps
    finally:
        conn.close()
