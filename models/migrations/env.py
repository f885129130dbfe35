"""Alembic environment: async engines for SQLite (aiosqlite) and PostgreSQL (psycopg).

The database is the app's own: the URL `models.migrate` hands over (`python -m app migrate`,
the tests), else DATABASE_URL from the settings, so `alembic upgrade head` typed by hand
migrates the same database the app uses."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

import models
from models.migrate import DATABASE_URL_ATTRIBUTE, include_name
from settings import get_settings

config = context.config
target_metadata = models.metadata


def _database_url() -> str:
    given = config.attributes.get(DATABASE_URL_ATTRIBUTE)
    return str(given) if given else get_settings().database_url


def _configure(connection: Connection | None = None, url: str | None = None) -> None:
    context.configure(
        connection=connection,
        url=url,
        target_metadata=target_metadata,
        compare_type=True,
        # SQLite cannot ALTER constraints; batch mode rebuilds the table instead.
        render_as_batch=True,
        include_name=include_name,
        literal_binds=connection is None,
    )


def run_migrations_offline() -> None:
    _configure(url=_database_url())
    with context.begin_transaction():
        context.run_migrations()


def _run_sync(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = create_async_engine(_database_url(), poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_sync)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(_run_async())
