"""The Alembic migrations build exactly the schema the models describe, on SQLite and on
PostgreSQL, and ids are never handed out twice."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

import models
from tests.utils.server import LiveServer
from tests.utils.tenants import Tenant

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
                connection, opts={"compare_type": True, "render_as_batch": True}
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
