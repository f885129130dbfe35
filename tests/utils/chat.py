"""Talk to the flows as a person on a phone would: messages go in through Glific's
simulator endpoint over HTTP, and the replies are the outbound messages stored for that
contact since."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Contact, Message
from tests.utils.tenants import Tenant


def import_and_publish(tenant: Tenant, *flows: tuple[dict[str, Any], list[str]]) -> None:
    """importFlow the definitions (with their keywords), then publishFlow each."""
    from tests.utils.flow_builder import export_of

    result = tenant.data(
        "mutation($f: Json!) { importFlow(flow: $f) { status { flowName status } } }",
        {"f": json.dumps(export_of(*flows))},
    )["importFlow"]["status"]
    assert all(s["status"] == "Successfully imported" for s in result), result
    for definition, _ in flows:
        published = tenant.data(
            "mutation($u: UUID4!) { publishFlow(uuid: $u) { success errors { key message } } }",
            {"u": definition["uuid"]},
        )["publishFlow"]
        assert published["success"], published


class Phone:
    """One simulator phone of the tenant's organization."""

    def __init__(self, tenant: Tenant, number: str = "9876543210_1", name: str = "Parent") -> None:
        self.tenant = tenant
        self.number = number
        self.name = name
        self._seen = 0

    def send(self, text: str, **payload: Any) -> Any:
        body = {
            "type": "message",
            "payload": {
                "id": str(uuid.uuid4()),
                "type": payload.pop("type", "text"),
                "payload": payload or {"text": text},
                "sender": {"phone": self.number, "name": self.name},
            },
        }
        return self.tenant.client.post(
            "/api/v1/simulator/message",
            json=body,
            headers={"authorization": self.tenant.token("staff")},
        )

    def say(self, text: str) -> list[str]:
        """Send `text`; the bodies of the replies it produced, in order."""
        response = self.send(text)
        assert response.status_code == 200, response.text
        return [m.body or "" for m in self.new_replies()]

    def contact_id(self) -> int:
        async def find(session: AsyncSession) -> int:
            found = await session.scalar(
                select(col(Contact.id)).where(
                    col(Contact.organization_id) == self.tenant.org_id,
                    col(Contact.phone) == self.number,
                )
            )
            assert found is not None
            return int(found)

        return self.tenant.server.in_transaction(find)

    def new_replies(self) -> list[Message]:
        seen = self._seen
        org = self.tenant.org_id
        number = self.number

        async def read(session: AsyncSession) -> list[Message]:
            rows = await session.scalars(
                select(Message)
                .join(Contact, col(Contact.id) == col(Message.contact_id))
                .where(
                    col(Message.organization_id) == org,
                    col(Contact.phone) == number,
                    col(Message.flow) == "outbound",
                    col(Message.id) > seen,
                )
                .order_by(col(Message.id))
            )
            return list(rows.all())

        replies = self.tenant.server.in_transaction(read)
        if replies:
            self._seen = max(m.id or 0 for m in replies)
        return replies


class WhatsAppPhone(Phone):
    """A real number talking through a provider's webhook (`gupshup` or `meta`) on a server
    that runs jobs: `send` posts the callback; `say` waits until the job has handled it (the
    inbound message is stored in the same transaction as its replies)."""

    APP_SECRET = "household-secret"

    def __init__(self, tenant: Tenant, channel: str, number: str, name: str = "Parent") -> None:
        super().__init__(tenant, number, name)
        self.channel = channel
        self.app = f"app-{uuid.uuid4().hex[:12]}"
        self.number_id = str(uuid.uuid4().int)[:15]
        org_id = tenant.org_id

        async def configure(session: AsyncSession) -> None:
            from resolvers import providers

            await providers.set_provider(
                session, org_id, "gupshup", self.app, {"api_key": "k", "source_number": "1"}
            )
            await providers.set_provider(
                session,
                org_id,
                "meta",
                self.number_id,
                {"access_token": "t", "app_secret": self.APP_SECRET, "verify_token": "v"},
            )

        tenant.server.in_transaction(configure)

    def send(self, text: str, **payload: Any) -> Any:
        self.last_id = f"wa-{uuid.uuid4().hex}"
        if self.channel == "gupshup":
            body: dict[str, Any] = {
                "app": self.app,
                "type": "message",
                "payload": {
                    "id": self.last_id,
                    "type": "text",
                    "payload": {"text": text},
                    "sender": {"phone": self.number, "name": self.name},
                },
            }
            return self.tenant.client.post("/gupshup", json=body)
        value = {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "1", "phone_number_id": self.number_id},
            "contacts": [{"profile": {"name": self.name}, "wa_id": self.number}],
            "messages": [
                {
                    "from": self.number,
                    "id": self.last_id,
                    "timestamp": "1700000000",
                    "type": "text",
                    "text": {"body": text},
                }
            ],
        }
        raw = json.dumps(
            {
                "object": "whatsapp_business_account",
                "entry": [{"id": "waba", "changes": [{"field": "messages", "value": value}]}],
            }
        ).encode()
        digest = hmac.new(self.APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
        headers = {"x-hub-signature-256": f"sha256={digest}", "content-type": "application/json"}
        return self.tenant.client.post("/webhook/whatsapp", content=raw, headers=headers)

    def say(self, text: str) -> list[str]:
        response = self.send(text)
        assert response.status_code == 200, response.text
        provider_id, org = self.last_id, self.tenant.org_id

        async def handled(session: AsyncSession) -> bool:
            found = await session.scalar(
                select(col(Message.id)).where(
                    col(Message.organization_id) == org, col(Message.bsp_message_id) == provider_id
                )
            )
            return found is not None

        deadline = time.monotonic() + 30
        while not self.tenant.server.in_transaction(handled):
            assert time.monotonic() < deadline, f"{text!r} was not handled"
            time.sleep(0.02)
        return [m.body or "" for m in self.new_replies()]
