"""Reading Maytapi's webhook JSON (WhatsApp groups) into the plain values resolvers.wa_messages
takes: a message said in a group or to a managed phone (`type: "message"`), delivery acks
(`type: "ack"`), a send error (`type: "error"`) and a phone's status (`type: "status"`).
Pure functions of decoded JSON: no database, no I/O. Anything missing or of the wrong type
is a `PayloadError` naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from resolvers.wa_messages import INBOUND_TYPES, GroupAck, GroupInbound, GroupSendError
from webhook.payload_fields import (
    MAX_ID_LENGTH,
    PayloadError,
    body_object,
    get_list,
    get_object,
    get_optional_object,
    get_optional_string,
    get_string,
    item_object,
    json_kind,
)

# Maytapi's kinds of voice message are audio here.
_TYPE_ALIASES = {"ptt": "audio", "voice": "audio"}


def product_id(body: Any) -> str | None:
    """The Maytapi product the callback is for (`product_id`, or `productId`)."""
    if not isinstance(body, Mapping):
        return None
    for key in ("product_id", "productId"):
        value = body.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()[:MAX_ID_LENGTH]
    return None


def callback_kind(body: Any) -> str:
    return get_string(body_object(body), "type", "type")


def _phone_id(body: Mapping[str, Any]) -> int:
    for key in ("phone_id", "phoneId"):
        value = body.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise PayloadError(f"{key} must be a number, not {json_kind(value)}")
        if isinstance(value, str) and not (value.isascii() and value.isdigit()):
            raise PayloadError(f"{key} must be a number, not {value[:40]!r}")
        number = int(value)
        if not 0 < number < 2**31:
            raise PayloadError(f"{key} is out of range")
        return number
    raise PayloadError("phone_id is missing: the Maytapi phone the callback comes from")


def _short(value: str | None) -> str | None:
    return value[:MAX_ID_LENGTH] if value else value


def parse_message(body: Any) -> GroupInbound:
    data = body_object(body)
    message = get_object(data, "message", "message")
    user = get_optional_object(data, "user", "user")
    conversation = get_optional_string(data, "conversation", "conversation") or ""
    raw_type = get_string(message, "type", "message.type").strip().lower()
    kind = _TYPE_ALIASES.get(raw_type, raw_type)
    from_me = message.get("fromMe")
    if from_me is not None and not isinstance(from_me, bool):
        raise PayloadError(f"message.fromMe must be a boolean, not {json_kind(from_me)}")
    text = get_optional_string(message, "text", "message.text")
    caption = get_optional_string(message, "caption", "message.caption")
    media_url = None
    body_text: str | None
    if kind == "text":
        body_text = text or ""
    elif kind == "location":
        body_text = get_optional_string(message, "payload", "message.payload")
    elif kind in INBOUND_TYPES:  # media
        media_url = get_string(message, "url", "message.url")
        body_text = caption
    else:
        kind, body_text, caption = "unsupported", None, None
    return GroupInbound(
        product_id=product_id(data) or "",
        phone_id=_phone_id(data),
        receiver=get_optional_string(data, "receiver", "receiver") or "",
        conversation=conversation[:MAX_ID_LENGTH],
        conversation_name=(
            get_optional_string(data, "conversation_name", "conversation_name") or ""
        )[:MAX_ID_LENGTH],
        is_dm=not conversation or conversation.endswith("@c.us"),
        from_me=bool(from_me),
        bsp_id=get_string(message, "id", "message.id", limit=MAX_ID_LENGTH),
        type=kind,
        body=body_text,
        media_url=media_url,
        caption=caption if media_url else None,
        sender_phone=(get_optional_string(user, "phone", "user.phone") or "").strip(),
        sender_name=_short(get_optional_string(user, "name", "user.name")) or "",
    )


MAX_ACKS = 100


def parse_acks(body: Any) -> list[GroupAck]:
    """`{"type": "ack", "data": [{"msgId", "ackType"}, ...]}`; entries without both (a
    reaction, a poll vote) are left out."""
    data = body_object(body)
    entries = get_list(data, "data", "data")
    if len(entries) > MAX_ACKS:
        # Maytapi reports a handful at a time; more is not Maytapi, and would hold the
        # database's writer while each is looked up.
        raise PayloadError(f"data: at most {MAX_ACKS} acks in one callback, not {len(entries)}")
    acks = []
    for index, item in enumerate(entries):
        entry = item_object(item, f"data[{index}]")
        msg_id, ack_type = entry.get("msgId"), entry.get("ackType")
        if isinstance(msg_id, str) and msg_id and isinstance(ack_type, str):
            acks.append(GroupAck(bsp_id=msg_id[:MAX_ID_LENGTH], ack_type=ack_type.lower()))
    return acks


def parse_error(body: Any) -> GroupSendError:
    """`{"type": "error", "data": {"id": <message id>, ...}}`: the whole payload is kept."""
    data = body_object(body)
    detail = get_object(data, "data", "data")
    return GroupSendError(
        bsp_id=get_string(detail, "id", "data.id", limit=MAX_ID_LENGTH), payload=dict(data)
    )


def parse_phone_status(body: Any) -> tuple[int, str]:
    """`{"type": "status", "phone_id": 1150, "status": "active"}`."""
    data = body_object(body)
    return _phone_id(data), get_string(data, "status", "status", limit=32)
