"""Gupshup's v2 `message` callback (and Glific's simulator, which sends the same shape) read
into the `InboundMessage` every channel hands to `resolvers.inbound.receive`.

    {"type": "message", "timestamp": <ms>, "payload": {"id", "type", "payload": {...},
     "sender": {"phone", "name"}, "context"?: {"gsId" | "gs_id" | "id"}}}

A pure function of the decoded JSON: no database, no I/O. Anything missing or of the wrong
type is a `PayloadError` naming the field (`payload.sender.phone is missing`), never a
KeyError or a TypeError. A kind of message the flows cannot read (a vCard, a reaction) is an
`unsupported` input rather than an error: Gupshup is answered either way.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from resolvers.flow_engine.state import Input, InputType
from resolvers.inbound import InboundMessage

# Gupshup's media kinds and the message type each becomes (a `file` is a document).
MEDIA_TYPES: dict[str, InputType] = {
    "image": "image",
    "file": "document",
    "audio": "audio",
    "video": "video",
    "sticker": "sticker",
}
# Longest id, phone or name kept from a payload: the columns they land in hold 255.
MAX_ID_LENGTH = 255


class PayloadError(ValueError):
    """A callback body that is not a readable Gupshup message; `message` says what is wrong."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _kind(value: Any) -> str:
    """How a JSON value is called in an error message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _object(parent: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = parent.get(key)
    if key not in parent or value is None:
        raise PayloadError(f"{where} is missing")
    if not isinstance(value, Mapping):
        raise PayloadError(f"{where} must be an object, not {_kind(value)}")
    return value


def _string(
    parent: Mapping[str, Any], key: str, where: str, *, blank: bool = False, limit: int = 0
) -> str:
    """A required string; `blank` allows an empty one, `limit` caps its length."""
    value = parent.get(key)
    if key not in parent or value is None:
        raise PayloadError(f"{where} is missing")
    if not isinstance(value, str):
        raise PayloadError(f"{where} must be a string, not {_kind(value)}")
    if not blank and not value.strip():
        raise PayloadError(f"{where} must not be empty")
    if limit and len(value) > limit:
        raise PayloadError(f"{where} is longer than {limit} characters")
    return value


def _optional_string(parent: Mapping[str, Any], key: str, where: str) -> str | None:
    """A string that may be absent or null (an empty one counts as absent)."""
    value = parent.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise PayloadError(f"{where} must be a string or null, not {_kind(value)}")
    return value or None


def _coordinate(parent: Mapping[str, Any], key: str, where: str, bound: float) -> float:
    """A latitude or longitude: a number, or a string holding one (some clients quote them),
    within ±`bound` degrees."""
    value = parent.get(key)
    if key not in parent or value is None:
        raise PayloadError(f"{where} is missing")
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise PayloadError(f"{where} must be a number, not {_kind(value)}")
    try:
        number = float(value)
    except ValueError:
        raise PayloadError(f"{where} must be a number, not {str(value)[:40]!r}") from None
    if not math.isfinite(number) or abs(number) > bound:
        raise PayloadError(f"{where} must be between -{bound:g} and {bound:g}")
    return number


def _sent_at(body: Mapping[str, Any]) -> datetime | None:
    """`timestamp`: milliseconds since the epoch (absent in the simulator's payload)."""
    value = body.get("timestamp")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PayloadError(f"timestamp must be a number of milliseconds, not {_kind(value)}")
    try:
        moment = datetime.fromtimestamp(value / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        raise PayloadError("timestamp is not a time this server can represent") from None
    return moment.replace(tzinfo=None)  # stored as naive UTC, like every timestamp here


def _context_id(message: Mapping[str, Any]) -> str | None:
    """The id of the message this one answers: `context.gsId`, `context.gs_id` or
    `context.id`, the first that is a non-empty string."""
    context = message.get("context")
    if context is None:
        return None
    if not isinstance(context, Mapping):
        raise PayloadError(f"payload.context must be an object, not {_kind(context)}")
    for key in ("gsId", "gs_id", "id"):
        value = _optional_string(context, key, f"payload.context.{key}")
        if value:
            return value[:MAX_ID_LENGTH]
    return None


def _input(kind: str, message: Mapping[str, Any]) -> Input:
    """The `payload.payload` of one kind of message, as the flows read it."""
    where = "payload.payload"
    if kind not in ("text", "quick_reply", "button_reply", "list_reply", "location", *MEDIA_TYPES):
        return Input(type="unsupported")
    content = _object(message, "payload", where)
    if kind in ("text", "quick_reply"):
        # A template's quick-reply button arrives as `quick_reply` and is read as text.
        return Input(text=_string(content, "text", f"{where}.text", blank=True))
    if kind in ("button_reply", "list_reply"):
        title = _string(content, "title", f"{where}.title", blank=True)
        return Input(
            text=title,
            type="quick_reply" if kind == "button_reply" else "list",
            id=_optional_string(content, "id", f"{where}.id"),
            interactive=dict(content),
        )
    if kind == "location":
        return Input(
            type="location",
            latitude=_coordinate(content, "latitude", f"{where}.latitude", 90),
            longitude=_coordinate(content, "longitude", f"{where}.longitude", 180),
        )
    # Media: the message has no body; its url and caption are kept (Glific's message_media).
    return Input(
        type=MEDIA_TYPES[kind],
        media_url=_string(content, "url", f"{where}.url"),
        caption=_optional_string(content, "caption", f"{where}.caption"),
    )


def parse_message(body: Any, *, provider: str = "gupshup") -> InboundMessage:
    """Read a decoded Gupshup v2 `message` callback; raises `PayloadError` saying what is
    wrong with it. `provider` is recorded on the message (`gupshup`, `simulator`)."""
    if not isinstance(body, Mapping):
        raise PayloadError(f"The body must be a JSON object, not {_kind(body)}")
    callback = body.get("type")
    if callback != "message":
        shown = repr(callback) if isinstance(callback, str) else _kind(callback)
        raise PayloadError(f"type must be 'message' (a message callback), not {shown[:60]}")
    message = _object(body, "payload", "payload")
    provider_id = _string(message, "id", "payload.id", limit=MAX_ID_LENGTH)
    kind = _string(message, "type", "payload.type", limit=MAX_ID_LENGTH)
    sender = _object(message, "sender", "payload.sender")
    phone = _string(sender, "phone", "payload.sender.phone", limit=MAX_ID_LENGTH).strip()
    name = _optional_string(sender, "name", "payload.sender.name")
    return InboundMessage(
        phone=phone,
        input=_input(kind, message),
        provider_message_id=provider_id,
        sender_name=name[:MAX_ID_LENGTH] if name else None,
        provider=provider,
        sent_at=_sent_at(body),
        context_id=_context_id(message),
    )
