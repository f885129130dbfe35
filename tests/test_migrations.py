"""The Alembic migrations build exactly the schema the models describe, on SQLite and on
PostgreSQL, and ids are never handed out twice."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, make_url

import models
from models.migrate import alembic_config, include_name
from tests.conftest import PG_URL, _pg_database
from tests.utils.server import LiveServer
from tests.utils.tenants import Tenant

ROOT = Path(__file__).resolve().parent.parent

# SQLite cannot reflect expression indexes; Alembic says so and compares the rest.
pytestmark = [
    pytest.mark.filterwarnings("ignore:autogenerate skipping"),
    pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index"),
]


def test_migrated_database_matches_the_models(server: LiveServer) -> None:
    url = server.settings.database_url.replace("sqlite+aiosqlite", "sqlite")
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={"compare_type": True, "render_as_batch": True, "include_name": include_name},
            )
            differences = compare_metadata(context, models.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_a_deleted_contacts_id_is_never_given_to_a_new_contact(tenant: Tenant) -> None:
    first = tenant.create_contact("Gone")
    deleted = tenant.data(
        "mutation($id: ID!) { deleteContact(id: $id) { errors { message } } }", {"id": first["id"]}
    )
    assert deleted["deleteContact"]["errors"] is None
    second = tenant.create_contact("New")
    assert int(second["id"]) > int(first["id"])


@pytest.fixture
def empty_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A database of the backend under test with nothing in it yet."""
    if database_url.startswith("sqlite"):
        yield f"sqlite+aiosqlite:///{tmp_path / 'by-hand.db'}"
    else:
        yield from _pg_database(PG_URL)


def test_alembic_by_hand_migrates_the_database_of_the_settings(empty_database: str) -> None:
    """`alembic upgrade head` typed in the repository targets DATABASE_URL, as the app does,
    not a URL written in alembic.ini."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")}
    environment["DATABASE_URL"] = empty_database
    result = subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    url = make_url(empty_database)
    engine = create_engine(url.set(drivername=url.drivername.replace("+aiosqlite", "")))
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
            tables = set(inspect(connection).get_table_names())
    finally:
        engine.dispose()
    head = ScriptDirectory.from_config(alembic_config(empty_database)).get_current_head()
    assert current == head
    assert {"contacts", "profiles", "users"} <= tables
