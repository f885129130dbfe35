"""Writes sent at the same moment: the profile invariant holds under any interleaving, writers
queue instead of failing, and a request never needs a second database connection.

Every burst releases all its requests through one gate (tests/utils/load.py), so they reach
the server together; each runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from tests.utils.contact_ops import as_json, assert_in_sync, contact, field, new_profile
from tests.utils.load import Answer, Call, burst
from tests.utils.server import LiveServer, start_server
from tests.utils.tenants import Tenant, create_tenant, unique_phone

SWITCH = (
    "mutation($c: ID!, $i: Int) { switchProfile(contactId: $c, index: $i) {"
    " contact { id } errors { key message } } }"
)
UPDATE_CONTACT = (
    "mutation($id: ID!, $input: ContactInput) { updateContact(id: $id, input: $input) {"
    " contact { id fields } errors { key message } } }"
)
UPDATE_PROFILE = (
    "mutation($id: ID!, $input: ProfileInput) { updateProfile(id: $id, input: $input) {"
    " profile { id fields } errors { key message } } }"
)
CREATE_CONTACT = (
    "mutation($input: ContactInput!) { createContact(input: $input) {"
    " contact { id } errors { key message } } }"
)
CREATE_PROFILE = (
    "mutation($input: ProfileInput!) { createProfile(input: $input) {"
    " profile { id } errors { key message } } }"
)


def assert_all_succeeded(answers: list[Answer]) -> None:
    failed = [(a.status, a.errors) for a in answers if a.status != 200 or a.errors]
    assert not failed, f"{len(failed)} of {len(answers)} failed, e.g. {failed[:3]}"


def household(tenant: Tenant) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A contact with its default profile and two more: [default, Ravi, Meena]."""
    asha = tenant.create_contact("Asha")
    ravi = new_profile(tenant, asha["id"], "Ravi", type="student")
    meena = new_profile(tenant, asha["id"], "Meena", type="student")
    state = contact(tenant, asha["id"])
    return asha, [state["profiles"][0], ravi, meena]


def mixed_writes(
    tenant: Tenant, contact_id: str, people: list[dict[str, Any]], count: int, seed: int = 0
) -> list[Call]:
    """`count` writes on one contact that all depend on which profile is active: switches,
    contact field writes (they reach the active profile) and profile field writes (the
    active one's reach the contact)."""
    token = tenant.token("manager")
    calls = []
    for n in range(count):
        value = seed * 1000 + n
        kind = n % 3
        if kind == 0:
            calls.append(Call(SWITCH, {"c": contact_id, "i": 1 + (value % len(people))}, token))
        elif kind == 1:
            fields = as_json({"n": field(value)})
            calls.append(
                Call(UPDATE_CONTACT, {"id": contact_id, "input": {"fields": fields}}, token)
            )
        else:
            target = people[value % len(people)]["id"]
            fields = as_json({"p": field(value)})
            calls.append(Call(UPDATE_PROFILE, {"id": target, "input": {"fields": fields}}, token))
    return calls


def test_switches_and_field_writes_at_the_same_moment_keep_contact_and_profile_in_sync(
    server: LiveServer, tenant: Tenant
) -> None:
    asha, people = household(tenant)
    for round_ in range(12):
        answers = burst(server.base_url, mixed_writes(tenant, asha["id"], people, 6, round_))
        assert_all_succeeded(answers)
        assert_in_sync(contact(tenant, asha["id"]))


def test_a_hundred_writes_on_one_contact_all_complete(server: LiveServer, tenant: Tenant) -> None:
    asha, people = household(tenant)
    answers = burst(server.base_url, mixed_writes(tenant, asha["id"], people, 100))
    assert_all_succeeded(answers)
    state = contact(tenant, asha["id"])
    assert_in_sync(state)
    # Every switch was recorded: nothing was lost on the way.
    switches = tenant.data(
        "query($f: ContactsHistoryFilter) { countContactHistory(filter: $f) }",
        {"f": {"contactId": asha["id"], "eventType": "profile_switched"}},
    )["countContactHistory"]
    assert switches > 0


def test_two_hundred_contacts_created_at_once(server: LiveServer, tenant: Tenant) -> None:
    token = tenant.token("manager")
    calls = [
        Call(CREATE_CONTACT, {"input": {"name": f"Burst {n:03d}", "phone": unique_phone()}}, token)
        for n in range(200)
    ]
    assert_all_succeeded(burst(server.base_url, calls))
    count = tenant.data(
        'query { countContacts(filter: {name: "Burst "}) }',
    )["countContacts"]
    assert count == 200


@pytest.fixture(scope="module")
def one_connection_server(database_url: str) -> Iterator[LiveServer]:
    """A server whose pool holds a single connection: a request that needed a second one
    while holding the first (the sign-in read kept open while the mutation waits for the
    writer) could never finish."""
    live = start_server(database_url, db_pool_size=1, db_pool_timeout_seconds=10)
    try:
        yield live
    finally:
        live.stop()


def test_every_request_holds_at_most_one_connection(one_connection_server: LiveServer) -> None:
    tenant = create_tenant(one_connection_server, roles=("manager",))
    asha, people = household(tenant)
    token = tenant.token("manager")
    reads = [
        Call("query($id: ID!) { contact(id: $id) { contact { name } } }", {"id": asha["id"]}, token)
    ]
    creates = [
        Call(CREATE_PROFILE, {"input": {"contactId": asha["id"], "name": f"Kid {n}"}}, token)
        for n in range(5)
    ]
    calls = list(itertools.chain(mixed_writes(tenant, asha["id"], people, 15), creates, reads * 10))
    assert_all_succeeded(burst(one_connection_server.base_url, calls))
    assert_in_sync(contact(tenant, asha["id"]))


def test_steady_load_reuses_the_pooled_connections(server: LiveServer, tenant: Tenant) -> None:
    """64 clients at once, three times: the server opens at most its pool's worth of new
    connections (before, every request past the pool opened and closed one of its own)."""
    asha = tenant.create_contact("Asha")
    token = tenant.token("manager")
    calls = [
        Call("query($id: ID!) { contact(id: $id) { contact { name } } }", {"id": asha["id"]}, token)
    ] * 64
    opened: list[object] = []

    def count(*_: object) -> None:
        opened.append(None)

    event.listen(server.db.engine.sync_engine, "connect", count)
    try:
        for _ in range(3):
            assert_all_succeeded(burst(server.base_url, calls))
    finally:
        event.remove(server.db.engine.sync_engine, "connect", count)
    assert len(opened) <= server.settings.db_pool_size
