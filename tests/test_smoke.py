"""The app answers: health, GraphQL with and without a token."""

from tests.utils.server import LiveServer
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
