"""WhatsApp in and out, end to end: provider callbacks posted to the running server
(`/gupshup`, `/webhook/whatsapp`), processed by its jobs, and the replies delivered to a fake
provider on loopback. On SQLite and on PostgreSQL."""

from __future__ import annotations

import copy
import functools
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Contact, Message, utcnow
from resolvers import outbox, providers
from tests.conftest import fresh_database
from tests.test_jobs import wait_until
from tests.utils.chat import import_and_publish
from tests.utils.client_ops import require_reference
from tests.utils.db_lock import DatabaseLock
from tests.utils.fake_provider import FakeProvider
from tests.utils.flow_builder import FlowBuilder
from tests.utils.server import LiveServer, start_server
from tests.utils.tenants import Tenant, create_tenant, unique_phone

APP_SECRET = "meta-app-secret"
VERIFY_TOKEN = "meta-verify-token"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeProvider]:
    with FakeProvider(timeout_sleep=3) as provider:
        yield provider


@pytest.fixture(scope="module")
def wa_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server that runs jobs, with short sending timeouts and retries."""
    with fresh_database(database_url, tmp_path_factory) as url:
        live = start_server(
            url,
            jobs_enabled=True,
            jobs_poll_seconds=0.1,
            jobs_concurrency=16,
            db_pool_size=10,
            send_timeout_seconds=0.5,
            send_retry_seconds=0.05,
            send_max_attempts=4,
        )
        try:
            yield live
        finally:
            live.stop()


def echo_flow() -> dict[str, Any]:
    f = FlowBuilder("WhatsApp echo")
    f.send("hello", "Welcome", "listen")
    f.wait("listen", [], other="answer", result_name="said", other_name="All Responses")
    f.send("answer", "got @results.said", "listen")
    return f.build()


class Org:
    """A tenant with a Gupshup and a Meta account pointing at the fake provider."""

    def __init__(
        self, server: LiveServer, fake: FakeProvider, sender: str = "gupshup", rate_limit: int = 30
    ) -> None:
        self.server = server
        self.tenant: Tenant = create_tenant(server)
        self.app = f"app-{uuid.uuid4().hex[:12]}"
        self.number_id = str(uuid.uuid4().int)[:15]
        org_id = self.tenant.org_id

        async def configure(session: AsyncSession) -> None:
            await providers.set_provider(
                session,
                org_id,
                "gupshup",
                self.app,
                {"api_key": "k", "source_number": "919900000001", "api_url": fake.url},
                sends_replies=sender == "gupshup",
                rate_limit=rate_limit,
            )
            await providers.set_provider(
                session,
                org_id,
                "meta",
                self.number_id,
                {
                    "access_token": "t",
                    "app_secret": APP_SECRET,
                    "verify_token": VERIFY_TOKEN,
                    "api_url": fake.url,
                },
                sends_replies=sender == "meta",
            )

        server.in_transaction(configure)
        import_and_publish(self.tenant, (echo_flow(), ["hello"]))

    def gupshup(self, body: dict[str, Any], **headers: str) -> Any:
        return self.server.client.post("/gupshup", json={**body, "app": self.app}, headers=headers)

    def text(self, phone: str, text: str, message_id: str | None = None) -> dict[str, Any]:
        return {
            "type": "message",
            "timestamp": 1700000000000,
            "payload": {
                "id": message_id or str(uuid.uuid4()),
                "type": "text",
                "payload": {"text": text},
                "sender": {"phone": phone, "name": "Asha"},
            },
        }

    def meta(self, body: dict[str, Any], secret: str | None = APP_SECRET) -> Any:
        raw = json.dumps(body).encode()
        headers = {"content-type": "application/json"}
        if secret is not None:
            digest = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
            headers["x-hub-signature-256"] = f"sha256={digest}"
        return self.server.client.post("/webhook/whatsapp", content=raw, headers=headers)

    def messages(self, phone: str) -> list[Message]:
        org_id = self.tenant.org_id

        async def read(session: AsyncSession) -> list[Message]:
            rows = await session.scalars(
                select(Message)
                .join(Contact, col(Contact.id) == col(Message.contact_id))
                .where(col(Message.organization_id) == org_id, col(Contact.phone) == phone)
                .order_by(col(Message.id))
            )
            return list(rows)

        return self.server.in_transaction(read)

    def contact(self, phone: str) -> Contact | None:
        org_id = self.tenant.org_id

        async def read(session: AsyncSession) -> Contact | None:
            return await session.scalar(
                select(Contact).where(
                    col(Contact.organization_id) == org_id, col(Contact.phone) == phone
                )
            )

        return self.server.in_transaction(read)


def sent_to(fake: FakeProvider, phone: str) -> list[str]:
    """The texts the fake provider was asked to deliver to `phone`, in order."""
    out = []
    for request in fake.requests:
        if request.form is not None and request.form.get("destination") == phone:
            out.append(json.loads(request.form["message"]).get("text", ""))
        elif isinstance(request.json, dict) and request.json.get("to") == phone:
            out.append(request.json.get("text", {}).get("body", ""))
    return out


def settled(org: Org, phone: str, count: int) -> Callable[[], bool]:
    """True once `count` outbound messages to `phone` have left the outbox."""

    def check() -> bool:
        out = [m for m in org.messages(phone) if m.flow == "outbound"]
        return len(out) >= count and all(m.status != "enqueued" for m in out)

    return check


# --- Gupshup in, Gupshup out ----------------------------------------------------------------


def test_a_gupshup_message_is_answered_through_gupshup(
    wa_server: LiveServer, fake: FakeProvider
) -> None:
    org = Org(wa_server, fake)
    phone = unique_phone()
    response = org.gupshup(org.text(phone, "hello"))
    assert response.status_code == 200 and response.content == b""
    wait_until(settled(org, phone, 1))
    wait_until(lambda: sent_to(fake, phone) == ["Welcome"])
    request = next(r for r in fake.requests if r.form and r.form.get("destination") == phone)
    assert request.path == "/wa/api/v1/msg"
    assert request.headers["apikey"] == "k"
    assert request.form is not None and request.form["src.name"] == org.app
    inbound, reply = org.messages(phone)
    assert (inbound.flow, inbound.body, inbound.status) == ("inbound", "hello", "received")
    assert (reply.status, reply.bsp_status) == ("sent", "enqueued")
    assert reply.bsp_message_id  # the provider's id, for its status callbacks


def test_redelivering_a_message_five_times_gives_one_message_and_one_reply(
    wa_server: LiveServer, fake: FakeProvider
) -> None:
    org = Org(wa_server, fake)
    phone = unique_phone()
    body = org.text(phone, "hello", message_id="redelivered-" + uuid.uuid4().hex)
    for _ in range(5):
        assert org.gupshup(body).status_code == 200
    wait_until(settled(org, phone, 1))
    # Let every redelivery's job run before counting.
    wait_until(lambda: not pending_jobs(wa_server, "inbound.receive"))
    assert [m.flow for m in org.messages(phone)] == ["inbound", "outbound"]
    assert sent_to(fake, phone) == ["Welcome"]


def pending_jobs(server: LiveServer, name: str) -> int:
    """Jobs named `name` not yet done (waiting or running)."""

    async def count(session: AsyncSession) -> int:
        table, column = (
            ("job_queue", "name")
            if session.get_bind().dialect.name == "sqlite"
            else ("procrastinate_jobs", "task_name")
        )
        found = await session.scalar(
            text(
                f"SELECT count(*) FROM {table} WHERE {column} = :n AND status IN ('todo', 'doing')"
            ).bindparams(n=name)
        )
        return int(found or 0)

    return server.in_transaction(count)


def test_each_contacts_replies_come_in_the_order_of_its_messages(
    wa_server: LiveServer, fake: FakeProvider
) -> None:
    """2,000 messages from 200 contacts, 16 senders at a time: one contact's messages
    arrive in order, interleaved with everyone else's."""
    org = Org(wa_server, fake, rate_limit=1000)
    phones = [unique_phone() for _ in range(200)]
    words = ["hello", *(f"w{i}" for i in range(1, 10))]

    def converse(phone: str) -> None:
        with httpx2.Client(base_url=wa_server.base_url, timeout=60) as client:
            for word in words:
                body = {**org.text(phone, word), "app": org.app}
                assert client.post("/gupshup", json=body).status_code == 200

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(converse, phones))
    # Generous: this test is about order, not speed (bench/ measures speed). On a machine
    # several times slower than usual, draining 2,000 messages took more than 120 s.
    wait_until(lambda: not pending_jobs(wa_server, "inbound.receive"), timeout=600)
    wait_until(lambda: not pending_jobs(wa_server, "outbox.deliver"), timeout=600)
    expected = ["Welcome", *(f"got {w}" for w in words[1:])]
    for phone in phones:
        wait_until(settled(org, phone, len(expected)), timeout=120)
        assert sent_to(fake, phone) == expected, phone


def test_status_callbacks_only_move_a_message_forward(
    wa_server: LiveServer, fake: FakeProvider
) -> None:
    org = Org(wa_server, fake)
    phone = unique_phone()
    org.gupshup(org.text(phone, "hello"))
    wait_until(settled(org, phone, 1))
    reply = org.messages(phone)[-1]
    assert reply.bsp_message_id is not None

    def event(kind: str, **details: Any) -> None:
        body = {
            "type": "message-event",
            "timestamp": 1700000000000,
            "payload": {
                "id": "provider-side-id",
                "gsId": reply.bsp_message_id,
                "type": kind,
                "destination": phone,
                "payload": {"ts": 1700000001, **details},
            },
        }
        assert org.gupshup(body).status_code == 200

    event("read")
    event("delivered")  # late: ignored
    event("failed", code=1002)  # a read message cannot fail
    after = org.messages(phone)[-1]
    assert (after.bsp_status, after.status) == ("read", "sent")
    assert after.read_at is not None and after.delivered_at is not None
    contact = org.contact(phone)
    assert contact is not None and contact.optout_time is None


def test_a_failed_status_with_code_1002_opts_the_contact_out(
    wa_server: LiveServer, fake: FakeProvider
) -> None:
    org = Org(wa_server, fake)
    phone = unique_phone()
    org.gupshup(org.text(phone, "hello"))
    wait_until(settled(org, phone, 1))
    reply = org.messages(phone)[-1]
    body = {
        "type": "message-event",
        "payload": {
            "id": "x",
            "gsId": reply.bsp_message_id,
            "type": "failed",
            "destination": phone,
            "payload": {"ts": 1700000001, "code": 1002, "reason": "Number does not exist"},
        },
    }
    assert org.gupshup(body).status_code == 200
    failed = org.messages(phone)[-1]
    assert (failed.bsp_status, failed.status) == ("error", "error")
    assert failed.errors["code"] == "1002"
    contact = org.contact(phone)
    assert contact is not None and contact.optout_method == "Number does not exist"


def test_user_events_opt_a_contact_in_and_out(wa_server: LiveServer, fake: FakeProvider) -> None:
    org = Org(wa_server, fake)
    phone = unique_phone()

    def user_event(kind: str) -> None:
        body = {"type": "user-event", "payload": {"phone": phone, "type": kind}}
        assert org.gupshup(body).status_code == 200

    user_event("opted-in")
    contact = org.contact(phone)
    assert contact is not None and contact.optin_status is True
    user_event("opted-out")
    contact = org.contact(phone)
    assert contact is not None and contact.optin_status is False and contact.optout_time


def test_gupshup_callbacks_for_unknown_apps_bad_bodies_and_unlisted_addresses_are_refused(
    wa_server: LiveServer, fake: FakeProvider
) -> None:
    org = Org(wa_server, fake)
    phone = unique_phone()
    client = wa_server.client
    unknown = client.post("/gupshup", json={**org.text(phone, "hello"), "app": "nobody's app"})
    assert unknown.status_code == 404
    assert client.post("/gupshup", content=b"{not json").status_code == 400
    no_sender = org.text(phone, "hello")
    del no_sender["payload"]["sender"]
    refused = org.gupshup(no_sender)
    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == "payload.sender is missing"

    async def allow_only_elsewhere(session: AsyncSession) -> None:
        await providers.set_provider(
            session,
            org.tenant.org_id,
            "gupshup",
            org.app,
            {"api_key": "k", "source_number": "919900000001", "api_url": fake.url},
            allowed_sources=["203.0.113.0/24"],
            sends_replies=True,
        )

    wa_server.in_transaction(allow_only_elsewhere)
    assert org.gupshup(org.text(phone, "hello")).status_code == 403
    assert org.messages(phone) == [] and org.contact(phone) is None


# --- Meta ------------------------------------------------------------------------------------


def meta_text(org: Org, phone: str, text: str, message_id: str | None = None) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "waba",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550000000",
                                "phone_number_id": org.number_id,
                            },
                            "contacts": [{"profile": {"name": "Ravi"}, "wa_id": phone}],
                            "messages": [
                                {
                                    "from": phone,
                                    "id": message_id or f"wamid.{uuid.uuid4().hex}",
                                    "timestamp": "1700000000",
                                    "type": "text",
                                    "text": {"body": text},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }


def test_meta_verification_handshake(wa_server: LiveServer, fake: FakeProvider) -> None:
    Org(wa_server, fake)
    client = wa_server.client
    params = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "8731"}
    ok = client.get("/webhook/whatsapp", params=params)
    assert (ok.status_code, ok.text) == (200, "8731")
    wrong = client.get("/webhook/whatsapp", params={**params, "hub.verify_token": "guess"})
    assert wrong.status_code == 403
    mode = client.get("/webhook/whatsapp", params={**params, "hub.mode": "unsubscribe"})
    assert mode.status_code == 403


def test_a_signed_meta_message_is_answered_through_meta(
    wa_server: LiveServer, fake: FakeProvider
) -> None:
    org = Org(wa_server, fake, sender="meta")
    phone = unique_phone()
    response = org.meta(meta_text(org, phone, "hello"))
    assert response.status_code == 200 and response.content == b""
    wait_until(settled(org, phone, 1))
    wait_until(lambda: sent_to(fake, phone) == ["Welcome"])
    request = next(
        r for r in fake.requests if isinstance(r.json, dict) and r.json.get("to") == phone
    )
    assert request.path == f"/v21.0/{org.number_id}/messages"
    assert request.headers["authorization"] == "Bearer t"
    contact = org.contact(phone)
    assert contact is not None and contact.name == "Ravi"


def test_a_photo_sent_through_meta_is_fetched_and_kept_with_a_lasting_url(
    wa_server: LiveServer, fake: FakeProvider
) -> None:
    """Meta sends a media id, not a URL: the file is fetched with the organization's token
    and kept, and the stored message points at a URL that serves it (no token needed)."""
    org = Org(wa_server, fake, sender="meta")
    phone = unique_phone()
    media_id = f"media-{uuid.uuid4().hex[:8]}"
    fake.media_ids = fake.media_ids | {media_id}
    body = meta_text(org, phone, "")
    [message] = body["entry"][0]["changes"][0]["value"]["messages"]
    message.pop("text")
    message.update(
        type="image", image={"id": media_id, "mime_type": "image/jpeg", "caption": "homework"}
    )
    assert org.meta(body).status_code == 200
    wait_until(lambda: any(m.flow == "inbound" for m in org.messages(phone)))
    [stored] = [m for m in org.messages(phone) if m.flow == "inbound"]
    assert stored.caption == "homework"
    assert stored.media_url is not None and stored.media_url.startswith(
        f"/media/{org.tenant.org_id}/"
    )
    served = wa_server.client.get(stored.media_url)
    assert (served.status_code, served.content) == (200, fake.media_bytes)
    lookups = [r for r in fake.requests if r.path.endswith(f"/{media_id}")]
    assert lookups and lookups[0].headers["authorization"] == "Bearer t"
    # A file Meta does not hand over leaves the message as it came, still processed.
    other = unique_phone()
    body = meta_text(org, other, "")
    [message] = body["entry"][0]["changes"][0]["value"]["messages"]
    message.pop("text")
    message.update(type="image", image={"id": "unknown-media", "mime_type": "image/jpeg"})
    assert org.meta(body).status_code == 200
    wait_until(lambda: any(m.flow == "inbound" for m in org.messages(other)))
    [kept] = [m for m in org.messages(other) if m.flow == "inbound"]
    assert kept.media_url is None
    assert kept.interactive_content["media_id"] == "unknown-media"


def test_an_unsigned_or_wrongly_signed_meta_notification_stores_nothing(
    wa_server: LiveServer, fake: FakeProvider
) -> None:
    org = Org(wa_server, fake, sender="meta")
    phone = unique_phone()
    body = meta_text(org, phone, "hello")
    assert org.meta(body, secret=None).status_code == 401
    assert org.meta(body, secret="not the secret").status_code == 401
    raw = json.dumps(body).encode()
    digest = hmac.new(APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    tampered = raw.replace(b"hello", b"HELLO")
    response = wa_server.client.post(
        "/webhook/whatsapp",
        content=tampered,
        headers={"x-hub-signature-256": f"sha256={digest}", "content-type": "application/json"},
    )
    assert response.status_code == 401
    wait_until(lambda: not pending_jobs(wa_server, "inbound.receive"))
    assert org.messages(phone) == [] and org.contact(phone) is None


def test_meta_statuses_move_the_message_forward(wa_server: LiveServer, fake: FakeProvider) -> None:
    org = Org(wa_server, fake, sender="meta")
    phone = unique_phone()
    org.meta(meta_text(org, phone, "hello"))
    wait_until(settled(org, phone, 1))
    reply = org.messages(phone)[-1]

    def status(kind: str) -> dict[str, Any]:
        body = meta_text(org, phone, "")
        value = body["entry"][0]["changes"][0]["value"]
        del value["messages"], value["contacts"]
        value["statuses"] = [
            {
                "id": reply.bsp_message_id,
                "status": kind,
                "timestamp": "1700000100",
                "recipient_id": phone,
            }
        ]
        return body

    assert org.meta(status("delivered")).status_code == 200
    assert org.messages(phone)[-1].bsp_status == "delivered"
    assert org.meta(status("sent")).status_code == 200  # late: ignored
    assert org.messages(phone)[-1].bsp_status == "delivered"


# --- sending: retries, failures, the 24-hour window -----------------------------------------


def test_a_provider_that_fails_is_retried_then_the_message_fails_and_others_go_on(
    wa_server: LiveServer, fake: FakeProvider
) -> None:
    org = Org(wa_server, fake)
    first, second = unique_phone(), unique_phone()
    fake.script(["timeout", 500, 429, 400])
    org.gupshup(org.text(first, "hello"))
    wait_until(settled(org, first, 1), timeout=30)
    failed = next(m for m in org.messages(first) if m.flow == "outbound")
    assert (failed.status, failed.bsp_status) == ("error", "error")
    assert failed.send_attempts == 4
    assert failed.errors  # the provider's 400 answer
    attempts = [r for r in fake.requests if r.form and r.form.get("destination") == first]
    assert len(attempts) == 4
    # The organization's staff are told, with the provider's words.
    [notice] = org.tenant.data(
        "{ notifications(filter: {isRead: false}) { category message entity severity } }"
    )["notifications"]
    assert notice["category"] == "Message"
    assert "fake Gupshup error 400" in notice["message"]
    assert json.loads(notice["entity"])["message_id"] == failed.id
    org.gupshup(org.text(second, "hello"))
    wait_until(settled(org, second, 1))
    assert sent_to(fake, second) == ["Welcome"]


def test_a_reply_the_provider_took_is_not_sent_again_when_the_database_was_locked(
    impatient_server: LiveServer, fake: FakeProvider
) -> None:
    """The provider takes the reply, and storing its answer finds the database locked for
    longer than a write waits: the outbox waits for it, instead of leaving the job to run
    again, which would send the child the same reply twice."""
    org = Org(impatient_server, fake)
    phone = unique_phone()
    lock = DatabaseLock(impatient_server.db.url, seconds=1.2)
    fake.on_request = lock.take
    try:
        org.gupshup(org.text(phone, "hello"))
        wait_until(lock.taken.is_set)
        assert lock.released.wait(timeout=10)  # (this test's own reads wait for it too)
        wait_until(settled(org, phone, 1), timeout=30)
    finally:
        fake.on_request = None
    (reply,) = [m for m in org.messages(phone) if m.flow == "outbound"]
    assert (reply.status, reply.body) == ("sent", "Welcome")
    assert sent_to(fake, phone) == ["Welcome"]


def test_a_reply_outside_the_24_hour_window_fails_with_a_clear_error(
    wa_server: LiveServer, fake: FakeProvider
) -> None:
    org = Org(wa_server, fake)
    phone = unique_phone()
    org.gupshup(org.text(phone, "hello"))
    wait_until(settled(org, phone, 1))
    org_id = org.tenant.org_id

    async def late_reply(session: AsyncSession) -> None:
        contact = await session.scalar(
            select(Contact).where(
                col(Contact.organization_id) == org_id, col(Contact.phone) == phone
            )
        )
        assert contact is not None
        contact.last_message_at = utcnow() - timedelta(hours=25)
        message = Message(
            organization_id=org_id,
            contact_id=contact.id or 0,
            flow="outbound",
            body="too late",
            uuid=str(uuid.uuid4()),
        )
        session.add(message)
        sender = await providers.sender_of(session, org_id)
        await outbox.queue(session, org_id, contact, message, sender, message.body)

    wa_server.in_transaction(late_reply, org_id=org_id)
    wait_until(settled(org, phone, 2))
    late = org.messages(phone)[-1]
    assert late.status == "error"
    assert late.errors["message"] == outbox.WINDOW_CLOSED
    assert sent_to(fake, phone) == ["Welcome"]


# --- the reference payloads -----------------------------------------------------------------


def reference_payloads(provider: str) -> list[Path]:
    return sorted(require_reference("webhooks").joinpath(provider).glob("*.json"))


def expect_status(org: Org, provider_id: str, post: Callable[[], Any], expected: str) -> None:
    """An outbound message with `provider_id` takes `expected` from the callback `post`
    makes; the id is then cleared, for the next callback naming it."""
    org_id = org.tenant.org_id
    contact_id = int(org.tenant.create_contact("Status")["id"])

    async def add(session: AsyncSession) -> int:
        message = Message(
            organization_id=org_id,
            contact_id=contact_id,
            flow="outbound",
            status="sent",
            bsp_message_id=provider_id,
        )
        session.add(message)
        await session.flush()
        return int(message.id or 0)

    message_id = org.server.in_transaction(add)
    response = post()
    assert response.status_code == 200, response.text

    async def check(session: AsyncSession) -> None:
        message = await session.get(Message, message_id)
        assert message is not None and message.bsp_status == expected, (provider_id, expected)
        message.bsp_message_id = None

    org.server.in_transaction(check)


def test_every_reference_gupshup_payload_is_accepted(
    wa_server: LiveServer, fake: FakeProvider
) -> None:
    org = Org(wa_server, fake)
    for path in reference_payloads("gupshup"):
        body = json.loads(path.read_text())
        if path.name == "simulator_text.json":
            continue  # the simulator's own endpoint takes it (tests/test_simulator_endpoint.py)
        if body.get("type") == "message-event":
            status = body["payload"]["type"]
            expected = "error" if status == "failed" else status
            expect_status(
                org, body["payload"]["gsId"], functools.partial(org.gupshup, body), expected
            )
            continue
        body = copy.deepcopy(body)
        if isinstance(body.get("payload"), dict):
            body["payload"].pop("app", None)
        response = org.gupshup(body)
        assert response.status_code == 200, (path.name, response.text)
    phone = "919917443994"
    wait_until(lambda: not pending_jobs(wa_server, "inbound.receive"))
    # The button reply comes from a simulator phone, the rest from one person.
    messages = org.messages(phone) + org.messages("9876543210_1")
    stored = {m.type for m in messages if m.flow == "inbound"}
    expected = {"text", "quick_reply", "list", "image", "audio", "location"}
    assert expected | {"whatsapp_form_response"} <= stored, stored
    contact = org.contact(phone)
    assert contact is not None and contact.optout_time is not None  # user_event_opted_out


def test_every_reference_meta_payload_is_accepted(
    wa_server: LiveServer, fake: FakeProvider
) -> None:
    org = Org(wa_server, fake, sender="meta")
    for path in reference_payloads("meta"):
        if path.name.startswith("verification"):
            continue
        body = json.loads(path.read_text().replace("106540352242922", org.number_id))
        statuses = body["entry"][0]["changes"][0]["value"].get("statuses")
        if statuses:
            status = statuses[0]["status"]
            expected = "error" if status == "failed" else status
            expect_status(org, statuses[0]["id"], functools.partial(org.meta, body), expected)
            continue
        response = org.meta(body)
        assert response.status_code == 200, (path.name, response.text)
    wait_until(lambda: not pending_jobs(wa_server, "inbound.receive"))
    stored = {m.type for m in org.messages("919917443994") if m.flow == "inbound"}
    assert {"text", "quick_reply", "list", "image", "location"} <= stored, stored


def test_bad_callbacks_get_clear_answers_and_store_nothing(
    wa_server: LiveServer, fake: FakeProvider
) -> None:
    org = Org(wa_server, fake)
    phone = unique_phone()
    client = wa_server.client
    # A Meta notification for a phone number id no organization has.
    stranger = meta_text(org, phone, "hello")
    stranger["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "999"
    unknown = org.meta(stranger)
    assert unknown.status_code == 404
    assert "phone number id" in unknown.json()["error"]["message"]
    # Signed, but not a notification.
    wrong_shape = org.meta({"object": "page", "entry": []})
    assert wrong_shape.status_code == 404  # names no number of ours either
    body = meta_text(org, phone, "hello")
    del body["entry"][0]["changes"][0]["value"]["messages"][0]["from"]
    missing = org.meta(body)
    assert missing.status_code == 400
    assert missing.json()["error"]["message"].endswith(".from is missing")
    # Two megabytes of body.
    huge = client.post(
        "/gupshup",
        content=b'{"app": "' + b"x" * (2 * 1024 * 1024) + b'"}',
        headers={"content-type": "application/json"},
    )
    assert huge.status_code == 413
    wait_until(lambda: not pending_jobs(wa_server, "inbound.receive"))
    assert org.messages(phone) == [] and org.contact(phone) is None


def test_a_kind_of_message_the_flows_cannot_read_is_stored_as_unsupported(
    wa_server: LiveServer, fake: FakeProvider
) -> None:
    org = Org(wa_server, fake)
    phone = unique_phone()
    vcard = org.text(phone, "")
    vcard["payload"]["type"] = "contact"
    vcard["payload"]["payload"] = {"contacts": [{"name": {"formatted_name": "Ravi"}}]}
    assert org.gupshup(vcard).status_code == 200
    wait_until(lambda: bool(org.messages(phone)))
    [stored] = org.messages(phone)
    assert (stored.flow, stored.type) == ("inbound", "unsupported")


def test_a_status_that_overtakes_the_stored_provider_id_still_lands(
    wa_server: LiveServer, fake: FakeProvider
) -> None:
    """The provider reports `delivered` before the sender has stored the id the provider
    gave the message (the callback overtook the commit after the send): the status is kept
    and lands once the id is there."""
    org = Org(wa_server, fake)
    org_id = org.tenant.org_id
    contact_id = int(org.tenant.create_contact("Early")["id"])
    provider_id = f"late-{uuid.uuid4().hex}"

    async def add(session: AsyncSession) -> int:
        message = Message(
            organization_id=org_id,
            contact_id=contact_id,
            flow="outbound",
            status="enqueued",
            bsp_message_id=None,
        )
        session.add(message)
        await session.flush()
        return int(message.id or 0)

    message_id = wa_server.in_transaction(add)
    body = {
        "app": org.app,
        "type": "message-event",
        "payload": {"id": "x", "gsId": provider_id, "type": "delivered", "payload": {"ts": 1}},
    }
    assert org.gupshup(body).status_code == 200

    async def store_id(session: AsyncSession) -> None:
        message = await session.get(Message, message_id)
        assert message is not None
        message.bsp_message_id = provider_id
        message.status = "sent"
        message.bsp_status = "enqueued"

    wa_server.in_transaction(store_id)

    async def status(session: AsyncSession) -> tuple[str | None, bool]:
        message = await session.get(Message, message_id)
        assert message is not None
        return message.bsp_status, message.delivered_at is not None

    wait_until(lambda: wa_server.in_transaction(status) == ("delivered", True), timeout=10)


def test_status_callbacks_arriving_together_never_move_a_message_back(
    wa_server: LiveServer, fake: FakeProvider
) -> None:
    """`read` and `delivered` for the same message at the same moment, on many messages:
    each ends `read` (the status is read and written under the message's row lock)."""
    org = Org(wa_server, fake)
    org_id = org.tenant.org_id
    contact_id = int(org.tenant.create_contact("Racer")["id"])

    async def add(session: AsyncSession) -> list[str]:
        ids = [f"race-{uuid.uuid4().hex}" for _ in range(20)]
        for provider_id in ids:
            session.add(
                Message(
                    organization_id=org_id,
                    contact_id=contact_id,
                    flow="outbound",
                    status="sent",
                    bsp_status="enqueued",
                    bsp_message_id=provider_id,
                )
            )
        return ids

    ids = wa_server.in_transaction(add)

    def event(provider_id: str, kind: str) -> int:
        body = {
            "app": org.app,
            "type": "message-event",
            "payload": {"id": "x", "gsId": provider_id, "type": kind, "payload": {"ts": 1}},
        }
        with httpx2.Client(base_url=wa_server.base_url) as client:
            return client.post("/gupshup", json=body).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        codes = list(
            pool.map(
                lambda pair: event(*pair),
                [(pid, kind) for pid in ids for kind in ("delivered", "read")],
            )
        )
    assert set(codes) == {200}

    async def statuses(session: AsyncSession) -> list[str | None]:
        rows = await session.scalars(
            select(col(Message.bsp_status)).where(col(Message.bsp_message_id).in_(ids))
        )
        return list(rows)

    assert wa_server.in_transaction(statuses) == ["read"] * len(ids)
