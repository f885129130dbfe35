"""Maytapi's transport (WhatsApp groups): `POST {api_url}/api/{product_id}/{phone_id}/sendMessage`
with the `x-maytapi-key` header and a JSON body, as Glific's `providers/maytapi/wa_messages.ex`
sends it; and the two reads the group sync makes, `listPhones` and `{phone_id}/getGroups`.

Maytapi answers a refusal with HTTP 200 and `{"success": false, "message": ...}`: that is a
final failure, as is any other 4xx; timeouts, connection errors, 5xx and 429 are retried
(webhook.senders.http classifies them).
"""

from __future__ import annotations

from typing import Any

import httpx2

from resolvers.delivery import (
    GroupInfo,
    GroupOutboundMessage,
    GroupSyncError,
    ManagedPhoneInfo,
    MaytapiCredentials,
    SendResult,
)
from webhook.senders.http import MEDIA_TYPES, failed, post

# Glific's limit for a group message or caption: shorter than this.
MAX_TEXT_LENGTH = 6000


def _base(credentials: MaytapiCredentials) -> str:
    return f"{credentials.api_url.rstrip('/')}/api/{credentials.product_id}"


def _headers(credentials: MaytapiCredentials) -> dict[str, str]:
    return {"x-maytapi-key": credentials.token, "accept": "application/json"}


def request_body(message: GroupOutboundMessage) -> dict[str, Any]:
    """The sendMessage JSON; ValueError when Maytapi cannot carry the message."""
    if message.type == "text":
        if not message.body:
            raise ValueError("a text message needs a body")
        if len(message.body) >= MAX_TEXT_LENGTH:
            raise ValueError("Message size greater than 6000 characters")
        return {"to_number": message.to, "type": "text", "message": message.body}
    if message.type in MEDIA_TYPES:
        if not message.media_url:
            raise ValueError(f"a {message.type} message needs a media_url")
        # Glific's kinds: an image and a sticker by name, every other file as "media".
        kind = message.type if message.type in ("image", "sticker") else "media"
        body: dict[str, Any] = {"to_number": message.to, "type": kind, "message": message.media_url}
        if message.caption and message.type != "sticker":
            if len(message.caption) >= MAX_TEXT_LENGTH:
                raise ValueError("Caption size greater than 6000 characters")
            body["text"] = message.caption
        return body
    raise ValueError(f"Maytapi cannot send a message of type {message.type!r}")


def read_message_id(body: Any) -> str | None:
    """`{"success": true, "data": {"msgId": ...}}` -> the id; None for `success: false`."""
    if not isinstance(body, dict) or body.get("success") is not True:
        return None
    data = body.get("data")
    if isinstance(data, dict) and isinstance(data.get("msgId"), str) and data["msgId"]:
        return str(data["msgId"])
    return None


async def send(
    client: httpx2.AsyncClient, credentials: MaytapiCredentials, message: GroupOutboundMessage
) -> SendResult:
    try:
        body = request_body(message)
    except ValueError as exc:
        return failed(str(exc))
    return await post(
        client,
        f"{_base(credentials)}/{message.phone_id}/sendMessage",
        read_message_id,
        headers=_headers(credentials),
        json_body=body,
    )


async def _get(client: httpx2.AsyncClient, credentials: MaytapiCredentials, path: str) -> Any:
    url = f"{_base(credentials)}/{path}"
    try:
        response = await client.get(url, headers=_headers(credentials))
    except httpx2.HTTPError as exc:
        raise GroupSyncError(f"Maytapi could not be reached: {exc or type(exc).__name__}") from exc
    try:
        decoded = response.json()
    except ValueError:
        decoded = None
    if response.status_code >= 300 or decoded is None:
        raise GroupSyncError(f"Maytapi answered {path} with HTTP {response.status_code}")
    if isinstance(decoded, dict) and decoded.get("success") is False:
        raise GroupSyncError(f"Maytapi refused {path}: {decoded.get('message') or decoded}")
    return decoded


def _digits(whatsapp_id: Any) -> str:
    """`919917443994@c.us` -> `919917443994`."""
    return str(whatsapp_id).split("@", 1)[0].strip()


async def list_phones(
    client: httpx2.AsyncClient, credentials: MaytapiCredentials
) -> list[ManagedPhoneInfo]:
    """`GET /api/{product_id}/listPhones`: a JSON array of `{"id", "number", "status",
    "name", ...}`."""
    decoded = await _get(client, credentials, "listPhones")
    if isinstance(decoded, dict):  # some accounts wrap it as {"success", "data": [...]}
        decoded = decoded.get("data")
    if not isinstance(decoded, list):
        raise GroupSyncError("Maytapi's listPhones did not answer a list of phones")
    phones = []
    for item in decoded:
        if not isinstance(item, dict) or not _phone_id_ok(item.get("id")):
            continue  # not a phone this database can keep (a bool, or out of range)
        phones.append(
            ManagedPhoneInfo(
                phone_id=int(item["id"]),
                number=_digits(item.get("number") or "")[:64],
                status=str(item["status"])[:32] if item.get("status") else None,
                name=str(item["name"])[:255] if item.get("name") else None,
            )
        )
    return phones


def _phone_id_ok(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31


def _member(whatsapp_id: str) -> str:
    """A member's number, from a personal WhatsApp id (`...@c.us`); "" for anything else
    (a privacy-hidden `...@lid` participant is no phone number)."""
    return _digits(whatsapp_id) if whatsapp_id.endswith("@c.us") else ""


async def list_groups(
    client: httpx2.AsyncClient, credentials: MaytapiCredentials, phone_id: int
) -> list[GroupInfo]:
    """`GET /api/{product_id}/{phone_id}/getGroups`: `{"success": true, "data": [{"id":
    "...@g.us", "name", "participants": ["...@c.us"], "admins": [...]}]}`."""
    decoded = await _get(client, credentials, f"{phone_id}/getGroups")
    data = decoded.get("data") if isinstance(decoded, dict) else None
    if not isinstance(data, list):
        raise GroupSyncError("Maytapi's getGroups did not answer a list of groups")
    groups = []
    for item in data:
        group_id = str(item.get("id") or "") if isinstance(item, dict) else ""
        if not group_id.endswith("@g.us") or len(group_id) > 255:
            continue
        members = [p for p in item.get("participants") or [] if isinstance(p, str)]
        admins = [p for p in item.get("admins") or [] if isinstance(p, str)]
        groups.append(
            GroupInfo(
                bsp_id=group_id,
                name=str(item.get("name") or group_id)[:255],
                participants=tuple(d for d in (_member(p) for p in members) if d),
                admins=tuple(d for d in (_member(p) for p in admins) if d),
            )
        )
    return groups
