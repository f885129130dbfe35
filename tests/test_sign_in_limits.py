"""Sign-in under attack (spec §0.6, §4.3): password work runs off the event loop, an unknown
phone costs as much to refuse as a known one, and attempts are limited per phone and per
client address with Glific's HTTP 429 `Rate limit exceeded`.

Clients take other loopback addresses (127.0.0.2, ...) to be different client addresses.
Durations are only ever compared with a baseline measured in the same test."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx2
import pytest

from settings import Settings
from tests.utils.server import LiveServer, start_server
from tests.utils.tenants import PASSWORD, Tenant, create_tenant, unique_phone

LIMIT_SETTINGS = (
    "signin_attempts_per_minute",
    "unauthenticated_requests_per_minute",
    "rate_limit_max_keys",
)
BAD_LOGIN = {"error": {"status": 401, "message": "Invalid phone or password"}}
BAD_TOKEN = {"error": {"status": 401, "message": "Invalid token"}}
NOT_AUTHENTICATED = {"error": {"code": 401, "message": "Not authenticated"}}


def from_address(server: LiveServer, address: str) -> httpx2.Client:
    """A client whose connections come from `address` (any 127.x.y.z is this machine)."""
    transport = httpx2.HTTPTransport(local_address=address)
    return httpx2.Client(base_url=server.base_url, timeout=120, transport=transport)


def sign_in(client: httpx2.Client, phone: str, password: str) -> httpx2.Response:
    return client.post("/api/v1/session", json={"user": {"phone": phone, "password": password}})


def assert_rate_limited(response: httpx2.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.text == "Rate limit exceeded"
    assert response.headers["content-type"].startswith("text/plain")


def timed(call: Callable[[], Any]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def refused(response: httpx2.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.json() == BAD_LOGIN


@pytest.fixture
def default_limits(database_url: str) -> Iterator[LiveServer]:
    """A server with the shipped limits (the shared test server has them out of the way)."""
    defaults = {
        name: field.default
        for name, field in Settings.model_fields.items()
        if name in LIMIT_SETTINGS
    }
    live = start_server(database_url, **defaults)
    try:
        yield live
    finally:
        live.stop()


def test_the_shipped_limits_are_glifics() -> None:
    """50 a minute per phone on sign-in, 50 a minute per client address and path."""
    settings = Settings(secret_key="x")
    assert settings.signin_attempts_per_minute == 50
    assert settings.unauthenticated_requests_per_minute == 50


def test_a_flood_of_wrong_passwords_neither_stalls_the_server_nor_gets_past_50(
    default_limits: LiveServer,
) -> None:
    """Fifty wrong passwords for one phone at once, from five addresses (ten each, under the
    per-address limit): other requests keep being answered quickly, all fifty are refused
    as wrong passwords, the 51st attempt for that phone is refused as rate limited (even
    with the right password), and another phone still signs in from that same address."""
    live = default_limits
    tenant = create_tenant(live, roles=("manager", "staff"))
    target, other = tenant.users["manager"]["phone"], tenant.users["staff"]["phone"]
    token = tenant.token("manager")

    with httpx2.Client(base_url=live.base_url, timeout=120) as client:

        def health() -> None:
            assert client.get("/health").status_code == 200

        def typename() -> None:
            response = client.post(
                "/api", json={"query": "{ __typename }"}, headers={"authorization": token}
            )
            assert response.json() == {"data": {"__typename": "RootQueryType"}}

        # Baseline: how long one sign-in takes end to end on an idle server.
        one_sign_in = statistics.median(
            timed(lambda: refused(sign_in(client, other, "wrong-password"))) for _ in range(3)
        )

        def attempt(address: str) -> int:
            with from_address(live, address) as own:
                return sign_in(own, target, "wrong-password").status_code

        addresses = [f"127.0.0.{2 + i % 5}" for i in range(50)]
        health_times: list[float] = []
        api_times: list[float] = []
        with ThreadPoolExecutor(len(addresses)) as pool:
            flood = [pool.submit(attempt, address) for address in addresses]
            while not all(f.done() for f in flood):
                health_times.append(timed(health))
                api_times.append(timed(typename))
                time.sleep(0.05)  # sample the flood, do not add to it
            statuses = [f.result() for f in flood]

    assert statuses == [401] * 50
    assert len(health_times) >= 3
    # While fifty sign-ins are being checked, a health check or a tiny query still takes
    # less than one sign-in alone does (before, they waited for the whole flood).
    assert statistics.median(health_times) < one_sign_in, (health_times, one_sign_in)
    assert statistics.median(api_times) < one_sign_in, (api_times, one_sign_in)

    with from_address(live, "127.0.0.9") as fresh:
        assert_rate_limited(sign_in(fresh, target, "wrong-password"))
        assert_rate_limited(sign_in(fresh, target, PASSWORD))
        # Another phone from the very same address is not held back by that phone's limit.
        response = sign_in(fresh, other, PASSWORD)
        assert response.status_code == 200, response.text
        refused(sign_in(fresh, other, "wrong-password"))


def test_an_unknown_phone_takes_as_long_to_refuse_as_a_known_one(tenant: Tenant) -> None:
    """No account enumeration by timing: a known phone with a wrong password, a phone no user
    has and a string that is not a phone at all are all refused after the same password
    work (medians compared with a generous factor)."""
    phones = {"known": tenant.users["staff"]["phone"], "unknown": unique_phone(), "junk": "12ab"}
    times: dict[str, list[float]] = {kind: [] for kind in phones}
    client = tenant.client
    for _ in range(5):
        for kind, phone in phones.items():

            def attempt(phone: str = phone) -> None:
                refused(sign_in(client, phone, "wrong-pass"))

            times[kind].append(timed(attempt))
    medians = {kind: statistics.median(values) for kind, values in times.items()}
    assert max(medians.values()) < 4 * min(medians.values()), medians


def test_one_address_is_limited_on_every_session_route_and_on_bad_tokens(
    database_url: str,
) -> None:
    """Five requests a minute per address and path (a small limit, for the test): the sixth is
    429 on sign-in, renew and sign-out alike, and a sixth bad token on /api is 429 instead of
    401. A good token from that address still works, and another address is not affected."""
    live = start_server(
        database_url, unauthenticated_requests_per_minute=5, signin_attempts_per_minute=1_000
    )
    try:
        tenant = create_tenant(live, roles=("manager",))
        phone, token = tenant.users["manager"]["phone"], tenant.token("manager")
        with from_address(live, "127.0.0.2") as noisy, from_address(live, "127.0.0.3") as quiet:
            for _ in range(5):
                refused(sign_in(noisy, phone, "wrong-password"))
            assert_rate_limited(sign_in(noisy, phone, PASSWORD))
            assert sign_in(quiet, phone, PASSWORD).status_code == 200

            bad = {"authorization": "not-a-token"}
            for _ in range(5):
                response = noisy.post("/api/v1/session/renew", headers=bad)
                assert response.json() == BAD_TOKEN
            assert_rate_limited(noisy.post("/api/v1/session/renew", headers=bad))
            assert quiet.post("/api/v1/session/renew", headers=bad).json() == BAD_TOKEN

            for _ in range(5):
                assert noisy.delete("/api/v1/session", headers=bad).json() == {"data": {}}
            assert_rate_limited(noisy.delete("/api/v1/session", headers=bad))

            query = {"query": "{ __typename }"}
            for _ in range(5):
                response = noisy.post("/api", json=query, headers=bad)
                assert response.status_code == 401
                assert response.json() == NOT_AUTHENTICATED
            assert_rate_limited(noisy.post("/api", json=query, headers=bad))
            assert_rate_limited(noisy.get("/api", params=query, headers=bad))
            good = noisy.post("/api", json=query, headers={"authorization": token})
            assert good.json() == {"data": {"__typename": "RootQueryType"}}
            assert quiet.post("/api", json=query, headers=bad).status_code == 401
    finally:
        live.stop()


def test_counters_are_kept_for_a_bounded_number_of_phones(database_url: str) -> None:
    """An attacker rotating phones cannot grow the counters forever: past RATE_LIMIT_MAX_KEYS
    the oldest counter is forgotten (here 3 counters, 2 attempts a phone)."""
    live = start_server(
        database_url,
        signin_attempts_per_minute=2,
        rate_limit_max_keys=3,
        unauthenticated_requests_per_minute=1_000,
    )
    try:
        first, *others = (unique_phone() for _ in range(4))
        client = live.client
        refused(sign_in(client, first, "x"))
        refused(sign_in(client, first, "x"))
        assert_rate_limited(sign_in(client, first, "x"))
        for phone in others:
            refused(sign_in(client, phone, "x"))
        # Three newer phones pushed the first one's counter out.
        refused(sign_in(client, first, "x"))
    finally:
        live.stop()
