"""Apply Alembic migrations programmatically (used by `python -m app migrate` and the tests)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
DATABASE_URL_ATTRIBUTE = "database_url"


# procrastinate's own tables (PostgreSQL; migration 0005): not described by our models, so
# autogenerate and the schema comparison leave them alone.
FOREIGN_TABLE_PREFIX = "procrastinate_"


def include_name(name: str | None, type_: str, _parents: Mapping[Any, str | None]) -> bool:
    """Alembic's `include_name` hook: everything but procrastinate's tables."""
    return not (type_ == "table" and (name or "").startswith(FOREIGN_TABLE_PREFIX))


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
