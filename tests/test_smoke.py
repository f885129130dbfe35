"""The app answers: health, GraphQL with and without a token."""

from typing import Any

from tests.utils.server import LiveServer, start_server
from tests.utils.tenants import Tenant


def test_health(server: LiveServer) -> None:
    response = server.client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_graphql_without_token_is_401(server: LiveServer) -> None:
    response = server.client.post("/api", json={"query": "{ __typename }"})
    assert response.status_code == 401
    assert response.json() == {"error": {"code": 401, "message": "Not authenticated"}}


def test_typename_with_token(tenant: Tenant) -> None:
    assert tenant.data("{ __typename }") == {"__typename": "RootQueryType"}


def test_the_server_opens_its_first_connections_as_it_starts(database_url: str) -> None:
    """So the first requests after a restart (a provider's webhooks) do not each wait for a
    new database connection; never more than the pool holds."""
    for pool_size, opened in ((20, 4), (2, 2)):
        live = start_server(database_url, db_pool_size=pool_size)
        try:
            pool: Any = live.db.engine.pool
            assert pool.checkedin() == opened
        finally:
            live.stop()
