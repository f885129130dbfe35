"""A lock on a test's database held by another connection for a while (`DatabaseLock`): as
another process's long write, or a database restarting, would hold up the server's writes."""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

import psycopg


class DatabaseLock:
    """Another connection holds the database's write lock (SQLite) or locks `table` against
    writers (PostgreSQL) for `seconds`, from the moment `take` is called: as another
    process's long write, or a database restarting, would."""

    def __init__(self, url: str, seconds: float, table: str = "messages") -> None:
        self.url, self.seconds, self.table = url, seconds, table
        self.taken, self.released = threading.Event(), threading.Event()

    def take(self, _request: object = None) -> None:
        if self.taken.is_set():
            return
        if self.url.startswith("sqlite"):
            path = self.url.split(":///", 1)[1]
            held: Any = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            held.execute("BEGIN EXCLUSIVE")
            release = held.commit
        else:
            held = psycopg.connect(self.url.replace("postgresql+psycopg", "postgresql"))
            held.execute(f"LOCK TABLE {self.table} IN EXCLUSIVE MODE")
            release = held.commit
        self.taken.set()

        def let_go() -> None:
            release()
            held.close()
            self.released.set()

        threading.Timer(self.seconds, let_go).start()
