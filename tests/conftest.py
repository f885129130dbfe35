"""Test harness: every test runs against the real ASGI app served by uvicorn on loopback,
over HTTP, on a fresh SQLite file and, when TEST_DATABASE_URL is set, on a fresh PostgreSQL
database created for this run and dropped afterwards.

Tests isolate themselves by creating their own organization (`tenant` fixture): the
organization filter that protects real tenants from each other also keeps tests apart.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.utils.server import LiveServer, start_server
from tests.utils.tenants import Tenant, create_tenant

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


def _pg_database(base_url: str) -> Iterator[str]:
    """Create a throwaway database next to TEST_DATABASE_URL's and drop it at the end."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(base_url)
    name = f"glific_test_{os.getpid()}_{secrets.token_hex(4)}"
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        admin = psycopg.connect(conninfo, autocommit=True)
    except psycopg.OperationalError as exc:
        # In CI a missing server is a failure, never a skip.
        pytest.fail(f"TEST_DATABASE_URL is set but PostgreSQL is unreachable: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("db") / "glific-test.db"
        yield f"sqlite+aiosqlite:///{path}"
    else:
        yield from _pg_database(PG_URL)


@pytest.fixture(scope="session")
def server(database_url: str) -> Iterator[LiveServer]:
    live = start_server(database_url)
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture
def tenant(server: LiveServer) -> Tenant:
    """A fresh organization with one user per role, each already signed in."""
    return create_tenant(server)


@pytest.fixture
def other_tenant(server: LiveServer) -> Tenant:
    return create_tenant(server)


@contextmanager
def fresh_database(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An empty database of the backend under test, apart from the shared one (dropped
    afterwards on PostgreSQL)."""
    if database_url.startswith("sqlite"):
        folder = tmp_path_factory.mktemp("own")
        yield f"sqlite+aiosqlite:///{folder / 'own.db'}"
        return
    yield from _pg_database(PG_URL)


@pytest.fixture(scope="module")
def timer_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A server that runs jobs (flow timers, pending webhook calls), on a database of its
    own: the shared server runs none, since its polls would show in other tests' statement
    counts."""
    with fresh_database(database_url, tmp_path_factory) as url:
        live = start_server(url, jobs_enabled=True, jobs_poll_seconds=0.2)
        try:
            yield live
        finally:
            live.stop()


@pytest.fixture
def timed_tenant(timer_server: LiveServer) -> Tenant:
    """A fresh organization on the server that runs jobs."""
    return create_tenant(timer_server)


@pytest.fixture
def impatient_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A server that runs jobs and gives up on a lock after 0.3 s."""
    with fresh_database(database_url, tmp_path_factory) as url:
        live = start_server(
            url, jobs_enabled=True, jobs_poll_seconds=0.1, db_busy_timeout_seconds=0.3
        )
        try:
            yield live
        finally:
            live.stop()
