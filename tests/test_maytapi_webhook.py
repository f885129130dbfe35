"""`POST /maytapi` end to end: Maytapi's callbacks (payloads shaped as Glific's own tests
post them) to the running server, and what lands in the database: the sender as a contact,
the managed phone, the WA group, the membership and the message; acks, errors and phone
statuses. On SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from typing import Any

import httpx2
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Contact, ContactWaGroup, WaGroup, WaManagedPhone, WaMessage
from resolvers import providers
from resolvers.errors import InputErrors
from settings import Settings
from tests.utils.server import LiveServer
from tests.utils.tenants import Tenant, create_tenant, unique_phone


class MaytapiOrg:
    """A tenant with a Maytapi account (its own product id) and helpers to post as Maytapi."""

    def __init__(self, server: LiveServer, allowed_sources: list[str] | None = None) -> None:
        self.server = server
        self.tenant: Tenant = create_tenant(server)
        self.org_id = self.tenant.org_id
        self.product = f"prod-{uuid.uuid4().hex[:12]}"
        self.phone_id = 1150
        self.receiver = unique_phone()

        async def configure(session: AsyncSession) -> None:
            await providers.set_provider(
                session,
                self.org_id,
                providers.MAYTAPI,
                self.product,
                {"token": "t"},
                allowed_sources=allowed_sources,
            )

        server.in_transaction(configure)

    def post(self, body: Any) -> httpx2.Response:
        return self.server.client.post("/maytapi", json=body)

    def message(
        self,
        *,
        sender: str,
        text: str = "test message",
        group: str | None = "120363213149844251@g.us",
        name: str = "Default Group name",
        message_id: str | None = None,
        from_me: bool = False,
        **message: Any,
    ) -> dict[str, Any]:
        msg_id = message_id or f"false_{group}_{uuid.uuid4().hex[:20]}_{sender}@c.us"
        return {
            "product_id": self.product,
            "phone_id": self.phone_id,
            "message": {"type": "text", "text": text, "id": msg_id, "fromMe": from_me, **message},
            "user": {"id": f"{sender}@c.us", "name": "user_a", "phone": sender},
            "conversation": group or "",
            "conversation_name": name if group else "",
            "receiver": self.receiver,
            "timestamp": 1_707_216_634,
            "type": "message",
            "productId": self.product,
            "phoneId": self.phone_id,
        }

    def ack(self, msg_id: str, kind: str) -> None:
        """Maytapi's acknowledgement (`sent`, `reached`, `seen`...) of one of our messages."""
        body = {
            "product_id": self.product,
            "phone_id": self.phone_id,
            "type": "ack",
            "data": [{"msgId": msg_id, "ackType": kind, "chatId": "x@g.us", "time": 1}],
        }
        assert self.post(body).status_code == 200

    def read(self, work: Any) -> Any:
        return self.server.in_transaction(work, org_id=self.org_id)

    def messages(self) -> list[WaMessage]:
        async def read(session: AsyncSession) -> list[WaMessage]:
            rows = await session.scalars(
                select(WaMessage)
                .where(col(WaMessage.organization_id) == self.org_id)
                .order_by(col(WaMessage.id))
            )
            return list(rows)

        return list(self.read(read))

    def group(self, bsp_id: str) -> WaGroup | None:
        async def read(session: AsyncSession) -> WaGroup | None:
            return await session.scalar(
                select(WaGroup).where(
                    col(WaGroup.organization_id) == self.org_id, col(WaGroup.bsp_id) == bsp_id
                )
            )

        return self.read(read)

    def contact(self, phone: str) -> Contact | None:
        async def read(session: AsyncSession) -> Contact | None:
            return await session.scalar(
                select(Contact).where(
                    col(Contact.organization_id) == self.org_id, col(Contact.phone) == phone
                )
            )

        return self.read(read)

    def members(self, wa_group_id: int) -> list[tuple[int, bool]]:
        async def read(session: AsyncSession) -> list[tuple[int, bool]]:
            rows = await session.execute(
                select(col(ContactWaGroup.contact_id), col(ContactWaGroup.is_admin))
                .where(col(ContactWaGroup.wa_group_id) == wa_group_id)
                .order_by(col(ContactWaGroup.contact_id))
            )
            return [(int(r[0]), bool(r[1])) for r in rows]

        return list(self.read(read))

    def managed_phones(self) -> list[WaManagedPhone]:
        async def read(session: AsyncSession) -> list[WaManagedPhone]:
            rows = await session.scalars(
                select(WaManagedPhone).where(col(WaManagedPhone.organization_id) == self.org_id)
            )
            return list(rows)

        return list(self.read(read))


def count_all_wa_messages(server: LiveServer) -> int:
    async def count(session: AsyncSession) -> int:
        return int(await session.scalar(select(func.count()).select_from(WaMessage)) or 0)

    return server.in_transaction(count)


def test_a_group_message_is_stored_with_its_sender_group_and_membership_once(
    server: LiveServer,
) -> None:
    org = MaytapiOrg(server)
    sender = unique_phone()
    body = org.message(sender=sender, text="Hello group")
    for _ in range(5):  # Maytapi redelivers
        response = org.post(body)
        assert response.status_code == 200 and response.content == b""
    [stored] = org.messages()
    contact = org.contact(sender)
    group = org.group("120363213149844251@g.us")
    assert contact is not None and contact.name == "user_a"
    assert group is not None and group.label == "Default Group name"
    assert group.is_org_read is False and group.last_communication_at is not None
    [phone] = org.managed_phones()
    assert (phone.phone_id, phone.phone, phone.product_id) == (1150, org.receiver, org.product)
    assert group.wa_managed_phone_id == phone.id
    assert org.members(int(group.id or 0)) == [(contact.id, False)]
    assert (stored.flow, stored.type, stored.body) == ("inbound", "text", "Hello group")
    assert (stored.status, stored.bsp_status) == ("received", "delivered")
    assert stored.bsp_id == body["message"]["id"]
    assert (stored.contact_id, stored.wa_group_id, stored.is_dm) == (contact.id, group.id, False)
    assert stored.wa_managed_phone_id == phone.id and stored.message_number == 1

    # The next message in the group is numbered after it; a new name relabels the group.
    org.post(org.message(sender=sender, text="again", name="Renamed group"))
    assert [m.message_number for m in org.messages()] == [1, 2]
    renamed = org.group("120363213149844251@g.us")
    assert renamed is not None and renamed.label == "Renamed group"
    # A callback without the group's name keeps the one it has.
    org.post(org.message(sender=sender, text="nameless", name=""))
    kept = org.group("120363213149844251@g.us")
    assert kept is not None and kept.label == "Renamed group"


def test_two_identical_callbacks_at_the_same_moment_give_one_row(server: LiveServer) -> None:
    org = MaytapiOrg(server)
    sender = unique_phone()
    # A new phone, a new group and a new contact: every upsert races too.
    org.phone_id = 4242
    body = org.message(sender=sender, group="120363000000000001@g.us", name="Race")

    async def post_together() -> list[int]:
        async with httpx2.AsyncClient(base_url=server.base_url, timeout=30) as client:
            answers = await asyncio.gather(*(client.post("/maytapi", json=body) for _ in range(2)))
        return [a.status_code for a in answers]

    assert asyncio.run(post_together()) == [200, 200]
    assert len(org.messages()) == 1
    assert len(org.managed_phones()) == 1
    group = org.group("120363000000000001@g.us")
    assert group is not None and len(org.members(int(group.id or 0))) == 1


def test_media_location_and_unsupported_messages(server: LiveServer) -> None:
    org = MaytapiOrg(server)
    sender = unique_phone()
    url = "https://cdnydm.com/wh/x7Yr1HQYy_m9RZ_xcJ6dw.jpeg?size=1280x960"
    image = org.message(sender=sender, type="image", url=url, caption="homework", mime="image/jpeg")
    del image["message"]["text"]
    location = org.message(sender=sender, type="location", payload="8.48,76.95")
    poll = org.message(sender=sender, type="poll", text="testing poll", options=[])
    for body in (image, location, poll):
        assert org.post(body).status_code == 200
    kinds = [(m.type, m.body, m.media_url, m.caption) for m in org.messages()]
    assert kinds == [
        ("image", "homework", url, "homework"),
        ("location", "8.48,76.95", None, None),
        ("unsupported", None, None, None),
    ]
    # A media message without its url is a malformed callback.
    broken = org.message(sender=sender, type="video")
    response = org.post(broken)
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "message.url is missing"


def test_a_direct_message_is_stored_without_a_group(server: LiveServer) -> None:
    org = MaytapiOrg(server)
    sender = unique_phone()
    assert org.post(org.message(sender=sender, group=None)).status_code == 200
    assert org.post(org.message(sender=sender, group="contact@c.us")).status_code == 200
    first, second = org.messages()
    contact = org.contact(sender)
    assert contact is not None
    for message in (first, second):
        assert (message.is_dm, message.wa_group_id, message.contact_id) == (True, None, contact.id)
    assert [first.message_number, second.message_number] == [1, 2]


def test_what_the_managed_phone_said_is_stored_as_outbound_from_its_contact(
    server: LiveServer,
) -> None:
    org = MaytapiOrg(server)
    member = unique_phone()
    body = org.message(sender=member, text="from the handset", from_me=True)
    assert org.post(body).status_code == 200
    [stored] = org.messages()
    own = org.contact(org.receiver)
    [phone] = org.managed_phones()
    assert own is not None and phone.contact_id == own.id
    assert (stored.flow, stored.status, stored.contact_id) == ("outbound", "sent", own.id)
    assert stored.sent_at is not None
    # The member named in `user` is not made the sender, nor a contact, by it.
    assert org.contact(member) is None
    group = org.group("120363213149844251@g.us")
    assert group is not None and group.is_org_read is True


def test_a_blank_sender_is_acknowledged_and_nothing_is_stored(server: LiveServer) -> None:
    org = MaytapiOrg(server)
    body = org.message(sender="")
    assert org.post(body).status_code == 200
    assert org.messages() == [] and org.managed_phones() == []


def test_acks_only_move_a_message_forward_and_an_error_fails_it(server: LiveServer) -> None:
    org = MaytapiOrg(server)
    sent = org.message(sender=unique_phone(), from_me=True, message_id="out-1")
    other = org.message(sender=unique_phone(), from_me=True, message_id="out-2")
    org.post(sent)
    org.post(other)

    def statuses() -> dict[str | None, tuple[str, str | None]]:
        return {m.bsp_id: (m.status, m.bsp_status) for m in org.messages()}

    org.ack("out-1", "seen")
    assert statuses()["out-1"] == ("sent", "read")
    org.ack("out-1", "delivered")  # late: never backwards
    assert statuses()["out-1"] == ("sent", "read")
    org.ack("out-2", "reached")
    assert statuses()["out-2"] == ("sent", "delivered")

    error = {
        "product_id": org.product,
        "phone_id": org.phone_id,
        "type": "error",
        "data": {"id": "out-2", "code": "E01", "message": "Could not deliver"},
    }
    assert org.post(error).status_code == 200
    failed = next(m for m in org.messages() if m.bsp_id == "out-2")
    assert (failed.status, failed.bsp_status) == ("failed", "error")
    assert failed.errors["data"]["message"] == "Could not deliver"
    org.ack("out-2", "seen")  # failed is final
    assert statuses()["out-2"] == ("failed", "error")

    # Acks for several messages in one callback; more than Maytapi ever sends in one is
    # refused whole (each would hold the database's writer while it is looked up).
    org.post(org.message(sender=unique_phone(), from_me=True, message_id="out-3"))
    many = {
        "product_id": org.product,
        "phone_id": org.phone_id,
        "type": "ack",
        "data": [{"msgId": "out-3", "ackType": "seen"}] * 101,
    }
    refused = org.post(many)
    assert refused.status_code == 400
    assert "at most 100 acks" in refused.json()["error"]["message"]
    assert statuses()["out-3"] == ("sent", "sent")
    many["data"] = [
        {"msgId": "out-3", "ackType": "delivered"},
        {"msgId": "out-1", "ackType": "seen"},
    ]
    assert org.post(many).status_code == 200
    assert statuses()["out-3"] == ("sent", "delivered")


def test_a_phone_status_callback_updates_the_managed_phone(server: LiveServer) -> None:
    org = MaytapiOrg(server)
    org.post(org.message(sender=unique_phone()))
    status = {"type": "status", "phone_id": org.phone_id, "status": "qr-screen"}
    assert org.post({**status, "product_id": org.product}).status_code == 200
    [phone] = org.managed_phones()
    assert phone.status == "qr-screen" and phone.last_status_checked_at is not None


def test_bad_callbacks_get_clear_answers_and_store_nothing(server: LiveServer) -> None:
    org = MaytapiOrg(server)
    before = count_all_wa_messages(server)
    good = org.message(sender=unique_phone())

    malformed = server.client.post(
        "/maytapi", content=b'{"type": "message", ', headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 400
    assert "Unable to parse the request body as JSON" in malformed.json()["error"]["message"]

    unknown = org.post({**good, "product_id": "nobody", "productId": "nobody"})
    assert unknown.status_code == 404
    assert "No organization has the Maytapi product 'nobody'" in unknown.json()["error"]["message"]

    no_product = org.post({k: v for k, v in good.items() if k not in ("product_id", "productId")})
    assert no_product.status_code == 400
    assert no_product.json()["error"]["message"].startswith("product_id is missing")

    no_message = org.post({k: v for k, v in good.items() if k != "message"})
    assert no_message.status_code == 400
    assert no_message.json()["error"]["message"] == "message is missing"

    no_id = json.loads(json.dumps(good))
    del no_id["message"]["id"]
    assert org.post(no_id).json()["error"]["message"] == "message.id is missing"

    not_object = server.client.post("/maytapi", json=[good])
    assert not_object.status_code == 400

    too_large = server.client.post("/maytapi", content=b"x" * (server.settings.max_body_bytes + 1))
    assert too_large.status_code == 413

    other_kind = org.post({"product_id": org.product, "type": "qr-code", "data": {}})
    assert other_kind.status_code == 200 and other_kind.content == b""
    assert count_all_wa_messages(server) == before
    assert org.managed_phones() == []


def test_an_allow_list_refuses_other_addresses(server: LiveServer) -> None:
    org = MaytapiOrg(server, allowed_sources=["10.1.2.0/24"])
    response = org.post(org.message(sender=unique_phone()))
    assert response.status_code == 403
    assert org.messages() == []


def test_each_organization_gets_its_own_rows(server: LiveServer) -> None:
    a, b = MaytapiOrg(server), MaytapiOrg(server)
    sender = unique_phone()
    same_id = f"false_shared_{uuid.uuid4().hex}"
    a.post(a.message(sender=sender, message_id=same_id, text="to A"))
    b.post(b.message(sender=sender, message_id=same_id, text="to B"))
    [in_a], [in_b] = a.messages(), b.messages()
    assert (in_a.body, in_b.body) == ("to A", "to B")
    group_a = a.group("120363213149844251@g.us")
    group_b = b.group("120363213149844251@g.us")
    assert group_a is not None and group_b is not None and group_a.id != group_b.id
    contact_a, contact_b = a.contact(sender), b.contact(sender)
    assert contact_a is not None and contact_b is not None and contact_a.id != contact_b.id

    # B's acks cannot move A's message.
    ack = {
        "product_id": b.product,
        "type": "ack",
        "data": [{"msgId": same_id, "ackType": "seen"}],
    }
    b.post(ack)
    [in_a] = a.messages()
    assert in_a.bsp_status == "delivered"


def test_maytapi_never_sends_replies_and_comes_from_the_environment(server: LiveServer) -> None:
    tenant = create_tenant(server)

    async def refuse(session: AsyncSession) -> None:
        with pytest.raises(InputErrors) as caught:
            await providers.set_provider(
                session, tenant.org_id, "maytapi", "p-1", {"token": "t"}, sends_replies=True
            )
        assert caught.value.errors[0][0] == "sends_replies"
        with pytest.raises(InputErrors) as missing:
            await providers.set_provider(session, tenant.org_id, "maytapi", "p-1", {})
        assert missing.value.errors == [("token", "token is required for maytapi")]

    server.in_transaction(refuse, org_id=tenant.org_id)
    product = f"env-{uuid.uuid4().hex[:8]}"
    settings = Settings(maytapi_product_id=product, maytapi_token="env-token")

    async def from_env(session: AsyncSession) -> list[providers.ProviderAccount]:
        await providers.apply_environment(session, tenant.org_id, settings)
        return await providers.accounts_of(session, tenant.org_id)

    [account] = server.in_transaction(from_env, org_id=tenant.org_id)
    assert (account.provider, account.app_key, account.sends_replies) == (
        "maytapi",
        product,
        False,
    )
    credentials = account.maytapi_credentials()
    assert (credentials.token, credentials.api_url) == ("env-token", "https://api.maytapi.com")


def test_the_command_line_sets_a_maytapi_account(server: LiveServer) -> None:
    tenant = create_tenant(server)
    product = f"cli-{uuid.uuid4().hex[:8]}"
    base = [sys.executable, "-m", "app", "provider", "set", "maytapi", "--org", tenant.shortcode]
    env = {**os.environ, "DATABASE_URL": server.settings.database_url}
    done = subprocess.run(
        [*base, "--product-id", product, "--token", "cli-token"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert f"maytapi  {product}  inbound only" in done.stdout
    refused = subprocess.run(
        [*base, "--product-id", product, "--token", "t", "--sends-replies"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2
    assert "cannot send 1:1 replies" in refused.stderr

    async def accounts(session: AsyncSession) -> list[providers.ProviderAccount]:
        return await providers.accounts_of(session, tenant.org_id)

    [account] = server.in_transaction(accounts, org_id=tenant.org_id)
    assert (account.app_key, account.credentials) == (product, {"token": "cli-token"})
