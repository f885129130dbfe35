"""Meta's WhatsApp Cloud API transport: `POST {api_url}/{api_version}/{phone_number_id}/messages`
with a JSON body and a bearer token.

Glific's interactive content is translated: a quick_reply becomes a `button` message (at
most 3 reply buttons), a list a `list` message, a location_request_message Meta's
`location_request_message`. Titles are cut to Meta's limits (button 20 characters, section
and row titles 24, row descriptions 72, headers 60), since Meta rejects longer ones. Reply
ids are `<message uuid>-<position>`: stable, so a retried message offers the same ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx2

from resolvers.delivery import MetaCredentials, OutboundMessage, SendResult, TemplateRef
from webhook.senders.http import (
    CAPTIONED_TYPES,
    MEDIA_TYPES,
    Unsendable,
    check_length,
    failed,
    media_url,
    post,
)

MAX_BUTTONS = 3
MAX_LIST_ROWS = 10
BUTTON_TITLE_LENGTH = 20
ROW_TITLE_LENGTH = 24
ROW_DESCRIPTION_LENGTH = 72
HEADER_LENGTH = 60
BUTTON_ID_LENGTH = 256
ROW_ID_LENGTH = 200
MEDIA_HEADER_TYPES = frozenset({"image", "video", "document"})


async def send(
    client: httpx2.AsyncClient, credentials: MetaCredentials, message: OutboundMessage
) -> SendResult:
    try:
        body = request_body(message)
    except Unsendable as exc:
        return failed(str(exc))
    base = credentials.api_url.rstrip("/")
    return await post(
        client,
        f"{base}/{credentials.api_version}/{credentials.phone_number_id}/messages",
        read_message_id,
        headers={"Authorization": f"Bearer {credentials.access_token}"},
        json_body=body,
    )


def request_body(message: OutboundMessage) -> dict[str, Any]:
    envelope = {"messaging_product": "whatsapp", "recipient_type": "individual"}
    return {**envelope, "to": message.destination, **message_payload(message)}


def message_payload(message: OutboundMessage) -> dict[str, Any]:
    """`type` and its object; `Unsendable` when Meta cannot carry the message."""
    if message.template is not None:
        return {"type": "template", "template": _template(message.template)}
    check_length(message)
    if message.type == "text":
        return {"type": "text", "text": {"body": message.body, "preview_url": True}}
    if message.type in MEDIA_TYPES:
        return {"type": message.type, message.type: _media(message)}
    builder = _INTERACTIVE.get(message.type)
    if builder is None:
        raise Unsendable(f"Meta cannot send a message of type {message.type!r}")
    if not message.interactive:
        raise Unsendable(f"a {message.type} message needs its interactive content")
    return {"type": "interactive", "interactive": builder(message)}


def _template(template: TemplateRef) -> dict[str, Any]:
    """Meta names an approved template by its name and language; the body's {{n}} values
    go as text parameters, in order."""
    body = [{"type": "text", "text": value} for value in template.params]
    return {
        "name": template.name,
        "language": {"code": template.language},
        "components": [{"type": "body", "parameters": body}] if body else [],
    }


def _media(message: OutboundMessage) -> dict[str, str]:
    media = {"link": media_url(message)}
    if message.caption and message.type in CAPTIONED_TYPES:
        media["caption"] = message.caption
    if message.filename and message.type == "document":
        media["filename"] = message.filename
    return media


def _quick_reply(message: OutboundMessage) -> dict[str, Any]:
    content = _mapping(message.interactive.get("content"))
    options = _mappings(message.interactive.get("options"))
    if not 1 <= len(options) <= MAX_BUTTONS:
        raise Unsendable(
            f"Meta takes 1 to {MAX_BUTTONS} quick reply buttons; this message has {len(options)}"
        )
    buttons = [
        {
            "type": "reply",
            "reply": {
                "id": f"{message.uuid}-{i}"[:BUTTON_ID_LENGTH],
                "title": _text(option.get("title"))[:BUTTON_TITLE_LENGTH],
            },
        }
        for i, option in enumerate(options)
    ]
    text = _text(content.get("text")) or _text(content.get("caption"))
    interactive = {"type": "button", "body": {"text": _required(text, "quick_reply")}}
    header = _quick_reply_header(content)
    return interactive | ({"header": header} if header else {}) | {"action": {"buttons": buttons}}


def _quick_reply_header(content: Mapping[str, Any]) -> dict[str, Any] | None:
    """Glific's media content becomes Meta's media header; a text content's `header` a text
    header."""
    kind, url = _text(content.get("type")), _text(content.get("url"))
    if kind in MEDIA_HEADER_TYPES and url:
        return {"type": kind, kind: {"link": url}}
    header = _text(content.get("header"))
    return {"type": "text", "text": header[:HEADER_LENGTH]} if header else None


def _list(message: OutboundMessage) -> dict[str, Any]:
    items = _mappings(message.interactive.get("items"))
    sections = [_section(message.uuid, i, item) for i, item in enumerate(items)]
    rows = sum(len(section["rows"]) for section in sections)
    if not 1 <= rows <= MAX_LIST_ROWS:
        raise Unsendable(f"Meta takes 1 to {MAX_LIST_ROWS} list rows; this message has {rows}")
    buttons = _mappings(message.interactive.get("globalButtons"))
    button = _text(buttons[0].get("title")) if buttons else ""
    text = _required(_text(message.interactive.get("body")), "list")
    interactive: dict[str, Any] = {"type": "list", "body": {"text": text}}
    title = _text(message.interactive.get("title"))
    if title:
        interactive["header"] = {"type": "text", "text": title[:HEADER_LENGTH]}
    action = {"button": _required(button, "list button")[:BUTTON_TITLE_LENGTH]}
    return interactive | {"action": action | {"sections": sections}}


def _section(uuid: str, index: int, item: Mapping[str, Any]) -> dict[str, Any]:
    rows = []
    for j, option in enumerate(_mappings(item.get("options"))):
        row = {
            "id": f"{uuid}-{index}-{j}"[:ROW_ID_LENGTH],
            "title": _text(option.get("title"))[:ROW_TITLE_LENGTH],
        }
        description = _text(option.get("description"))
        if description:
            row["description"] = description[:ROW_DESCRIPTION_LENGTH]
        rows.append(row)
    return {"title": _text(item.get("title"))[:ROW_TITLE_LENGTH], "rows": rows}


def _location_request(message: OutboundMessage) -> dict[str, Any]:
    body = message.interactive.get("body")
    text = _text(body.get("text")) if isinstance(body, Mapping) else _text(body)
    return {
        "type": "location_request_message",
        "body": {"text": _required(text or message.body, "location_request_message")},
        "action": {"name": "send_location"},
    }


_INTERACTIVE = {
    "quick_reply": _quick_reply,
    "list": _list,
    "location_request_message": _location_request,
}


def read_message_id(body: Any) -> str | None:
    """`{"messages": [{"id": "wamid..."}]}` -> the id."""
    messages = body.get("messages") if isinstance(body, dict) else None
    first = messages[0] if isinstance(messages, list) and messages else None
    if isinstance(first, dict) and isinstance(first.get("id"), str):
        return str(first["id"])
    return None


# Glific's interactive JSON is read defensively: a malformed template is a failed message,
# never an exception in the outbox.
def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _mappings(value: Any) -> list[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def _required(text: str, what: str) -> str:
    if not text:
        raise Unsendable(f"a {what} needs a text for Meta")
    return text


async def fetch_media(
    client: httpx2.AsyncClient, credentials: MetaCredentials, media_id: str
) -> tuple[bytes, str]:
    """A file a contact sent: `GET {api_url}/{version}/{media_id}` (bearer token) names a
    short-lived URL, which needs the same token. (bytes, mime type); raises otherwise."""
    auth = {"authorization": f"Bearer {credentials.access_token}"}
    base = credentials.api_url.rstrip("/")
    found = await client.get(f"{base}/{credentials.api_version}/{media_id}", headers=auth)
    found.raise_for_status()
    about = found.json()
    download = await client.get(str(about["url"]), headers=auth)
    download.raise_for_status()
    mime = str(about.get("mime_type") or download.headers.get("content-type") or "")
    return download.content, mime.split(";")[0].strip()
