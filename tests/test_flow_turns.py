"""How inbound messages drive runs: one message at a time per contact whatever arrives at
once, keywords that replace the flow in progress, runaway flows stopped without leaving
the contact stuck, wait timeouts that fire, and replies readable through `messages`."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Flow, FlowContext, FlowKeyword, FlowRevision, saved_id, utcnow
from resolvers import flow_runs, inbound
from resolvers.flow_engine.state import Input
from tests.conftest import fresh_database
from tests.utils.chat import Phone, import_and_publish
from tests.utils.flow_builder import FlowBuilder, export_of
from tests.utils.server import start_server
from tests.utils.tenants import Tenant, create_tenant, unique_phone


def echo_flow() -> dict[str, Any]:
    f = FlowBuilder("Echo")
    f.send("hello", "Say something", "listen")
    f.wait("listen", [], other="save", result_name="said", other_name="All Responses")
    f.actions(
        "save",
        [
            {
                "type": "set_contact_field",
                "field": {"key": "said", "name": "Said"},
                "value": "@results.said",
            },
            {
                "type": "send_msg",
                "text": "got @results.said",
                "attachments": [],
                "quick_replies": [],
            },
        ],
        "listen",
    )
    return f.build()


def runaway_flow() -> dict[str, Any]:
    """Two nodes that send to each other forever, with no wait between them."""
    f = FlowBuilder("Runaway")
    f.send("ping", "ping", "pong")
    f.send("pong", "pong", "ping")
    return f.build()


def timeout_flow(seconds: int) -> dict[str, Any]:
    f = FlowBuilder("Patience")
    f.send("ask", "Are you there?", "wait")
    f.wait("wait", [], other="thanks", timeout=(seconds, "nudge"), other_name="All Responses")
    f.send("thanks", "Thanks!", None)
    f.send("nudge", "We missed you", None)
    return f.build()


def test_messages_arriving_at_once_are_each_handled_once_in_turn(tenant: Tenant) -> None:
    import_and_publish(tenant, (echo_flow(), ["echo"]))
    phone = Phone(tenant)
    assert phone.say("echo") == ["Say something"]
    words = [f"w{i}" for i in range(20)]
    with ThreadPoolExecutor(max_workers=len(words)) as pool:
        statuses = list(pool.map(lambda w: phone.send(w).status_code, words))
    assert statuses == [200] * len(words)
    replies = [m.body or "" for m in phone.new_replies()]
    assert sorted(replies) == sorted(f"got {w}" for w in words)
    # The contact's field holds the answer of whichever message was handled last, and the
    # run is still waiting for the next one.
    assert phone.say("again") == ["got again"]


def test_contacts_writing_a_new_field_at_the_same_moment_share_one_definition(
    tenant: Tenant,
) -> None:
    """The first answers of five contacts, sent at once, each create the field `said`
    (the flow writes it and nobody defined it): every answer is kept and the organization
    ends with one definition."""
    import_and_publish(tenant, (echo_flow(), ["echo"]))
    phones = [Phone(tenant, f"9876543210_{n}") for n in range(1, 6)]
    for phone in phones:
        assert phone.say("echo") == ["Say something"]
    barrier = threading.Barrier(len(phones))

    def answer(phone: Phone) -> int:
        barrier.wait()
        return int(phone.send(f"from {phone.number}").status_code)

    with ThreadPoolExecutor(max_workers=len(phones)) as pool:
        assert list(pool.map(answer, phones)) == [200] * len(phones)
    for phone in phones:
        assert [m.body for m in phone.new_replies()] == [f"got from {phone.number}"]
    body = tenant.gql(
        '{ contactsFields(filter: {shortcode: "said"}) { name shortcode valueType scope } }'
    )
    assert body["data"]["contactsFields"] == [
        {"name": "Said", "shortcode": "said", "valueType": "TEXT", "scope": "CONTACT"}
    ]


def test_an_inbound_message_carries_the_flow_that_took_it(tenant: Tenant) -> None:
    import_and_publish(tenant, (echo_flow(), ["echo"]), (timeout_flow(3600), ["patience"]))
    phone = Phone(tenant)
    phone.say("no flow yet")
    phone.say("echo")
    phone.say("first answer")  # the echo run takes it
    phone.say("patience")  # starts another flow, ending the echo run
    phone.say("yes")  # the patience run takes it and ends

    def inbound_of(flow_name: str) -> list[str]:
        found = tenant.gql(
            "query($f: FlowFilter) { flows(filter: $f) { id } }", {"f": {"name": flow_name}}
        )
        flow_id = found["data"]["flows"][0]["id"]
        body = tenant.gql(
            "query($f: MessageFilter) { messages(filter: $f) { id body flow } }",
            {"f": {"flowId": flow_id}},
        )
        messages = sorted(body["data"]["messages"], key=lambda m: int(m["id"]))
        return [m["body"] for m in messages if m["flow"] == "INBOUND"]

    assert inbound_of("Echo") == ["echo", "first answer"]
    assert inbound_of("Patience") == ["patience", "yes"]


def test_a_keyword_replaces_the_flow_in_progress(tenant: Tenant) -> None:
    import_and_publish(tenant, (echo_flow(), ["echo"]), (timeout_flow(3600), ["patience"]))
    phone = Phone(tenant)
    phone.say("echo")
    assert phone.say("Patience!") == ["Are you there?"]
    # The echo run is over: an answer goes to the new flow.
    assert phone.say("yes") == ["Thanks!"]
    assert phone.say("anything") == []


def _store_unchecked(tenant: Tenant, definition: dict[str, Any], keyword: str) -> None:
    """A published flow written straight to the database, as one stored before checks
    existed (importFlow and publishFlow refuse a loop with no wait)."""

    async def store(session: AsyncSession) -> None:
        flow = Flow(
            organization_id=tenant.org_id,
            name=definition["name"],
            uuid=definition["uuid"],
            keywords=[keyword],
        )
        session.add(flow)
        await session.flush()
        session.add(
            FlowKeyword(organization_id=tenant.org_id, flow_id=saved_id(flow), keyword=keyword)
        )
        session.add(
            FlowRevision(
                organization_id=tenant.org_id,
                flow_id=saved_id(flow),
                definition=definition,
                status="published",
                version=1,
            )
        )

    tenant.server.in_transaction(store)


def test_a_runaway_flow_stops_and_the_contact_is_not_stuck(tenant: Tenant) -> None:
    refused = tenant.data(
        "mutation($f: Json!) { importFlow(flow: $f) { status { status } } }",
        {"f": json.dumps(export_of((runaway_flow(), ["loop"])))},
    )["importFlow"]["status"]
    assert "loop with no wait" in refused[0]["status"]
    _store_unchecked(tenant, runaway_flow(), "loop")
    import_and_publish(tenant, (echo_flow(), ["echo"]))
    phone = Phone(tenant)
    replies = phone.say("loop")
    assert 0 < len(replies) < 50
    # Nothing is left waiting on the runaway flow; another flow starts normally.
    assert phone.say("hello") == []
    assert phone.say("echo") == ["Say something"]


def test_a_wait_times_out_into_no_response(timed_tenant: Tenant) -> None:
    tenant = timed_tenant
    import_and_publish(tenant, (timeout_flow(1), ["patience"]))
    phone = Phone(tenant)
    assert phone.say("patience") == ["Are you there?"]
    deadline = time.monotonic() + 20
    replies: list[str] = []
    while time.monotonic() < deadline and not replies:
        time.sleep(0.2)
        replies = [m.body or "" for m in phone.new_replies()]
    assert replies == ["We missed you"]
    # The run is over; a late answer changes nothing.
    assert phone.say("sorry, here") == []


def test_an_answer_before_the_timeout_disarms_it(timed_tenant: Tenant) -> None:
    tenant = timed_tenant
    import_and_publish(tenant, (timeout_flow(1), ["patience"]))
    phone = Phone(tenant)
    phone.say("patience")
    assert phone.say("here") == ["Thanks!"]
    time.sleep(2.5)
    assert phone.new_replies() == []


def test_replies_are_readable_as_outbound_messages(tenant: Tenant) -> None:
    import_and_publish(tenant, (echo_flow(), ["echo"]))
    phone = Phone(tenant)
    phone.say("echo")
    phone.say("hi there")
    messages = tenant.data(
        "query($f: MessageFilter) { messages(filter: $f, opts: {limit: 10}) { body flow sendBy } }",
        {"f": {"body": "got hi there"}},
    )["messages"]
    assert messages == [{"body": "got hi there", "flow": "OUTBOUND", "sendBy": "Flow: Echo"}]


class _Hook(BaseHTTPRequestHandler):
    bodies: list[bytes] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", 0))
        _Hook.bodies.append(self.rfile.read(length))
        if self.path == "/ok":
            payload, status = b'{"score": 7}', 200
        else:
            payload, status = b"down", 500
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def hook_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def webhook_flow(url: str, name: str = "Hooked") -> dict[str, Any]:
    f = FlowBuilder(name)
    f.outcome(
        "call",
        {
            "type": "call_webhook",
            "method": "POST",
            "url": url,
            "headers": {"Accept": "application/json"},
            "body": '{"name": "@contact.name"}',
            "result_name": "hook",
        },
        success="ok",
        failure="bad",
    )
    f.send("ok", "Your score is @results.hook.score", None)
    f.send("bad", "The service is down", None)
    return f.build()


def test_a_webhook_answer_routes_the_run(tenant: Tenant, hook_server: str) -> None:
    good = webhook_flow(f"{hook_server}/ok")
    bad = webhook_flow(f"{hook_server}/down", name="Hooked down")
    import_and_publish(tenant, (good, ["score"]), (bad, ["down"]))
    phone = Phone(tenant)
    assert phone.say("score") == ["Your score is 7"]
    assert b'"name"' in _Hook.bodies[-1]
    assert phone.say("down") == ["The service is down"]
    # Only the failed call is reported to the organization's staff.
    [notice] = tenant.data("{ notifications { category message severity } }")["notifications"]
    assert notice["category"] == "Webhook"
    assert f"{hook_server}/down" in notice["message"]


def test_a_flow_stopped_by_its_loop_guard_is_reported(tenant: Tenant) -> None:
    f = FlowBuilder("Nagging")
    f.send("ask", "Answer me", "listen")
    f.wait("listen", [], other="ask", result_name="answer", other_name="All Responses")
    import_and_publish(tenant, (f.build(), ["nag"]))
    phone = Phone(tenant)
    assert phone.say("nag") == ["Answer me"]
    for _ in range(3):
        phone.say("meh")
    assert tenant.data("{ countNotifications }")["countNotifications"] == 0
    assert phone.say("meh") == []  # the same message a fourth time: the guard ends the run
    [notice] = tenant.data("{ notifications { category message } }")["notifications"]
    assert notice["category"] == "Flow"
    assert '"Nagging"' in notice["message"] and "Infinite loop" in notice["message"]


def test_a_flow_started_from_graphql_makes_its_webhook_call(
    timed_tenant: Tenant, hook_server: str
) -> None:
    tenant = timed_tenant
    flow = webhook_flow(f"{hook_server}/ok")
    import_and_publish(tenant, (flow, []))
    phone = Phone(tenant)
    flow_id = tenant.data("{ flows { id name } }")["flows"][0]["id"]
    result = tenant.data(
        "mutation($f: ID!, $c: ID!) { startContactFlow(flowId: $f, contactId: $c) {"
        " success errors { key message } } }",
        {"f": flow_id, "c": str(phone.contact_id())},
        role="staff",
    )["startContactFlow"]
    assert result == {"success": True, "errors": None}
    deadline = time.monotonic() + 20
    replies: list[str] = []
    while time.monotonic() < deadline and not replies:
        time.sleep(0.2)
        replies = [m.body or "" for m in phone.new_replies()]
    assert replies == ["Your score is 7"]


def test_a_run_left_waiting_expires(tenant: Tenant) -> None:
    flow = echo_flow() | {"expire_after_minutes": 30}
    import_and_publish(tenant, (flow, ["echo"]))
    phone = Phone(tenant)
    phone.say("echo")
    contact_id = phone.contact_id()

    async def armed(session: AsyncSession) -> list[tuple[str, Any]]:
        run_uuid = await session.scalar(
            select(col(FlowContext.run_uuid)).where(col(FlowContext.contact_id) == contact_id)
        )
        if session.get_bind().dialect.name == "postgresql":
            rows = await session.execute(
                text(
                    "SELECT args->>'run_uuid', scheduled_at FROM procrastinate_jobs"
                    " WHERE task_name = 'flow_expire'"
                )
            )
        else:
            rows = await session.execute(
                text(
                    "SELECT json_extract(args, '$.run_uuid'), run_at FROM job_queue"
                    " WHERE name = 'flow_expire'"
                )
            )
        return [(str(run_uuid), at) for uuid_, at in rows.all() if uuid_ == run_uuid]

    jobs_for_run = tenant.server.in_transaction(armed)
    assert len(jobs_for_run) == 1
    run_uuid, at = jobs_for_run[0]
    due = datetime.fromisoformat(at) if isinstance(at, str) else at
    due = (
        due.replace(tzinfo=None) if due.tzinfo is None else due.astimezone(UTC).replace(tzinfo=None)
    )
    assert abs((due - utcnow()) - timedelta(minutes=30)) < timedelta(minutes=2)
    # The job is due in 30 minutes: it is run here as the runner would run it then.
    args = {"org_id": tenant.org_id, "contact_id": contact_id, "run_uuid": run_uuid}

    async def expire() -> None:
        await flow_runs.expire_run(tenant.server.db, args)

    tenant.server.run(expire)
    assert phone.say("still there?") == []
    assert phone.say("echo") == ["Say something"]


def join_flow() -> dict[str, Any]:
    f = FlowBuilder("Join")
    f.actions(
        "join",
        [
            {"type": "add_contact_groups", "groups": [{"uuid": "0", "name": "Readers"}]},
            {
                "type": "set_contact_field",
                "field": {"key": "club", "name": "Club"},
                "value": "readers",
            },
            {
                "type": "send_msg",
                "text": "Welcome to the club",
                "attachments": [],
                "quick_replies": [],
            },
        ],
        None,
    )
    return f.build()


def test_many_contacts_joining_a_new_group_and_field_at_once_all_succeed(tenant: Tenant) -> None:
    """The first write of a field creates its definition, the first join of a group the
    group; contacts racing to do that must not fail each other's messages."""
    import_and_publish(tenant, (join_flow(), ["join"]))
    phones = [unique_phone() for _ in range(12)]

    def say(phone: str, text: str) -> Any:
        message = inbound.InboundMessage(
            phone=phone, input=Input(text=text), provider_message_id=str(uuid.uuid4())
        )

        async def go() -> Any:
            return await inbound.receive(tenant.server.db, tenant.org_id, message)

        return go()

    async def all_at_once(text: str) -> list[Any]:
        return list(await asyncio.gather(*(say(p, text) for p in phones)))

    received = tenant.server.run(lambda: all_at_once("join"))
    assert [[r.body for r in got.replies] for got in received] == [["Welcome to the club"]] * len(
        phones
    )


def test_a_wait_timer_survives_a_restart(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The server stops while a run waits with a timeout; a new server on the same database
    fires the timer when it is due."""
    with fresh_database(database_url, tmp_path_factory) as url:
        first = start_server(url, jobs_enabled=True, jobs_poll_seconds=0.2)
        try:
            tenant = create_tenant(first)
            import_and_publish(tenant, (timeout_flow(2), ["patience"]))
            phone = Phone(tenant)
            assert phone.say("patience") == ["Are you there?"]
        finally:
            first.stop()
        time.sleep(2.5)  # the timer falls due while no server runs
        second = start_server(url, jobs_enabled=True, jobs_poll_seconds=0.2)
        try:
            phone.tenant = dataclasses.replace(tenant, server=second)
            deadline = time.monotonic() + 20
            replies: list[str] = []
            while time.monotonic() < deadline and not replies:
                time.sleep(0.2)
                replies = [m.body or "" for m in phone.new_replies()]
            assert replies == ["We missed you"]
        finally:
            second.stop()
