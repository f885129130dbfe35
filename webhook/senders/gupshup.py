"""Gupshup's transport: `POST {api_url}/wa/api/v1/msg`, form-encoded, the message itself a
JSON string in the `message` field, as Glific's `providers/gupshup/message.ex` sends it.

Interactive messages (quick_reply, list, location_request_message) go as Glific stores
them: Glific's interactive JSON is Gupshup's own format. Every message carries
`"msgid": <message uuid>`, which Gupshup echoes back in its status callbacks.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2

from resolvers.delivery import GupshupCredentials, OutboundMessage, SendResult
from webhook.senders.http import (
    MEDIA_TYPES,
    Unsendable,
    check_length,
    failed,
    media_url,
    post,
)

PATH = "/wa/api/v1/msg"
TEMPLATE_PATH = "/wa/api/v1/template/msg"
BALANCE_PATH = "/sm/api/v2/wallet/balance"
INTERACTIVE_TYPES = frozenset({"quick_reply", "list", "location_request_message"})


async def send(
    client: httpx2.AsyncClient, credentials: GupshupCredentials, message: OutboundMessage
) -> SendResult:
    try:
        form = request_form(credentials, message)
    except Unsendable as exc:
        return failed(str(exc))
    path = TEMPLATE_PATH if message.template is not None else PATH
    return await post(
        client,
        credentials.api_url.rstrip("/") + path,
        read_message_id,
        headers={"apikey": credentials.api_key},
        data=form,
    )


def request_form(credentials: GupshupCredentials, message: OutboundMessage) -> dict[str, str]:
    if message.template is not None:
        # Gupshup's template API: the approved template's id and the values of its {{n}}.
        template = {"id": message.template.uuid, "params": list(message.template.params)}
        return {
            "channel": "whatsapp",
            "source": credentials.source_number,
            "src.name": credentials.app_name,
            "destination": message.destination,
            "template": json.dumps(template, ensure_ascii=False, separators=(",", ":")),
        }
    payload = {**message_payload(message), "msgid": message.uuid}
    try:
        encoded = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise Unsendable(f"the message content is not JSON: {exc}") from exc
    return {
        "channel": "whatsapp",
        "source": credentials.source_number,
        "src.name": credentials.app_name,
        "destination": message.destination,
        "message": encoded,
    }


def message_payload(message: OutboundMessage) -> dict[str, Any]:
    """The `message` JSON (without `msgid`); `Unsendable` when Gupshup cannot carry it."""
    check_length(message)
    if message.type == "text":
        return {"type": "text", "text": message.body, "isHSM": False, "previewUrl": True}
    if message.type in MEDIA_TYPES:
        return _media_payload(message)
    if message.type in INTERACTIVE_TYPES:
        if not message.interactive:
            raise Unsendable(f"a {message.type} message needs its interactive content")
        return dict(message.interactive)
    raise Unsendable(f"Gupshup cannot send a message of type {message.type!r}")


def _media_payload(message: OutboundMessage) -> dict[str, Any]:
    url = media_url(message)
    caption = message.caption or ""
    match message.type:
        case "image":
            return {"type": "image", "originalUrl": url, "previewUrl": url, "caption": caption}
        case "video":
            return {"type": "video", "url": url, "caption": caption}
        case "document":
            document = {"type": "file", "url": url}
            return document | ({"filename": message.filename} if message.filename else {})
        case _:  # audio, sticker
            return {"type": message.type, "url": url}


def read_message_id(body: Any) -> str | None:
    """`{"status": "submitted", "messageId": ...}` -> the id."""
    if isinstance(body, dict) and isinstance(body.get("messageId"), str):
        return str(body["messageId"])
    return None


async def wallet_balance(client: httpx2.AsyncClient, credentials: GupshupCredentials) -> float:
    """`GET {api_url}/sm/api/v2/wallet/balance` (apikey header): `{"status": "success",
    "balance": 12.5}`. Anything else raises."""
    response = await client.get(
        credentials.api_url.rstrip("/") + BALANCE_PATH, headers={"apikey": credentials.api_key}
    )
    response.raise_for_status()
    return float(response.json()["balance"])
