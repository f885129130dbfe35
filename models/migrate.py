"""Apply Alembic migrations programmatically (used by `python -m app migrate` and the tests)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config

from models.contact import (
    CONTACT_COUNTS_TABLE,
    CONTACT_SEARCH_TABLE,
    CONTACT_TRIGRAM_INDEXES,
    CONVERSATION_INDEX,
)

MIGRATIONS = Path(__file__).parent / "migrations"
DATABASE_URL_ATTRIBUTE = "database_url"


# procrastinate's own tables (PostgreSQL; migration 0005): not described by our models, so
# autogenerate and the schema comparison leave them alone.
FOREIGN_TABLE_PREFIX = "procrastinate_"


def include_name(name: str | None, type_: str, _parents: Mapping[Any, str | None]) -> bool:
    """Alembic's `include_name` hook: everything but procrastinate's tables and the contact
    search index and counts (migration 0007: SQLite's FTS5 table and its shadow tables and the
    counts table, PostgreSQL's trigram indexes) and the conversation list's index (0009),
    which the models do not describe."""
    name = name or ""
    if type_ == "table":
        return not (
            name.startswith(FOREIGN_TABLE_PREFIX)
            or name in (CONTACT_SEARCH_TABLE, CONTACT_COUNTS_TABLE)
            or name.startswith(CONTACT_SEARCH_TABLE + "_")
        )
    return not (type_ == "index" and name in CONTACT_TRIGRAM_INDEXES | {CONVERSATION_INDEX})


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    # Handed to env.py as an attribute, not an ini option: no ConfigParser interpolation
    # (a '%' in a password), and env.py falls back to the settings when it is absent.
    cfg.attributes[DATABASE_URL_ATTRIBUTE] = database_url
    return cfg


def upgrade_sync(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


async def upgrade(database_url: str, revision: str = "head") -> None:
    # env.py runs its own event loop, so it must not run on the caller's.
    await asyncio.to_thread(upgrade_sync, database_url, revision)
