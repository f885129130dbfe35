"""Gupshup's v2 callbacks (and Glific's simulator, which sends the `message` shape) read into
the types every channel hands on: `InboundMessage` for `resolvers.inbound.receive`,
`StatusUpdate` and `OptEvent`.

    {"type": "message", "timestamp": <ms>, "payload": {"id", "type", "payload": {...},
     "sender": {"phone", "name"}, "context"?: {"gsId" | "gs_id" | "id"}}}
    {"type": "message-event", "payload": {"id", "gsId", "type": <status>, "payload": {"ts"}}}
    {"type": "user-event", "payload": {"phone", "type": "opted-in" | "opted-out"}}
    {"entry": [{"changes": [{"value": {"messages": [{"interactive": {"type": "nfm_reply"}}]}}]}]}

The last is a WhatsApp Flow form's reply, which Gupshup forwards in Meta's Cloud API shape.
`callback_kind` says which parser a body goes to, the way Glific's shunt routes it.

Pure functions of the decoded JSON: no database, no I/O. Anything missing or of the wrong
type is a `PayloadError` naming the field (`payload.sender.phone is missing`), never a
KeyError or a TypeError. A kind of message the flows cannot read (a vCard, a reaction) is an
`unsupported` input rather than an error: Gupshup is answered either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from resolvers.conversation import InboundMessage, MessageStatus, OptEvent, StatusUpdate
from resolvers.flow_engine.state import Input, InputType
from webhook.meta_payload import read_message, sender_names
from webhook.payload_fields import (
    MAX_ID_LENGTH,
    PayloadError,
    body_object,
    from_epoch,
    get_code,
    get_coordinate,
    get_object,
    get_optional_object,
    get_optional_string,
    get_string,
    item_object,
    json_kind,
    shown,
    unix_seconds,
)

__all__ = [
    "MAX_ID_LENGTH",
    "MEDIA_TYPES",
    "CallbackKind",
    "PayloadError",
    "app_name",
    "callback_kind",
    "parse_form_response",
    "parse_message",
    "parse_status",
    "parse_user_event",
]

PROVIDER = "gupshup"
# Gupshup's media kinds and the message type each becomes (a `file` is a document).
MEDIA_TYPES: dict[str, InputType] = {
    "image": "image",
    "file": "document",
    "audio": "audio",
    "video": "video",
    "sticker": "sticker",
}
# The `message-event` types Glific routes; any other is answered and ignored.
STATUSES: dict[str, MessageStatus] = {
    "enqueued": "enqueued",
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "failed": "failed",
}
OPT_EVENTS = ("opted-in", "opted-out")
# Where a reply names the message it answers: Gupshup's id first, then WhatsApp's.
CONTEXT_KEYS = ("gsId", "gs_id", "id")
# A `ts` at least this large is in milliseconds: as seconds it would be past the year 5000.
_MILLISECONDS_FROM = 10**11

CallbackKind = Literal["message", "message-event", "user-event", "form-response", "ignored"]


def _sent_at(body: Mapping[str, Any]) -> datetime | None:
    """`timestamp`: milliseconds since the epoch (absent in the simulator's payload)."""
    value = body.get("timestamp")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PayloadError(f"timestamp must be a number of milliseconds, not {json_kind(value)}")
    return from_epoch(value / 1000, "timestamp")


def _context_id(message: Mapping[str, Any]) -> str | None:
    """The id of the message this one answers: `context.gsId`, `context.gs_id` or
    `context.id`, the first that is a non-empty string."""
    context = message.get("context")
    if context is None:
        return None
    if not isinstance(context, Mapping):
        raise PayloadError(f"payload.context must be an object, not {json_kind(context)}")
    for key in CONTEXT_KEYS:
        value = get_optional_string(context, key, f"payload.context.{key}")
        if value:
            return value[:MAX_ID_LENGTH]
    return None


def _input(kind: str, message: Mapping[str, Any]) -> Input:
    """The `payload.payload` of one kind of message, as the flows read it."""
    where = "payload.payload"
    if kind not in ("text", "quick_reply", "button_reply", "list_reply", "location", *MEDIA_TYPES):
        return Input(type="unsupported")
    content = get_object(message, "payload", where)
    if kind in ("text", "quick_reply"):
        # A template's quick-reply button arrives as `quick_reply` and is read as text.
        return Input(text=get_string(content, "text", f"{where}.text", blank=True))
    if kind in ("button_reply", "list_reply"):
        title = get_string(content, "title", f"{where}.title", blank=True)
        return Input(
            text=title,
            type="quick_reply" if kind == "button_reply" else "list",
            id=get_optional_string(content, "id", f"{where}.id"),
            interactive=dict(content),
        )
    if kind == "location":
        return Input(
            type="location",
            latitude=get_coordinate(content, "latitude", f"{where}.latitude", 90),
            longitude=get_coordinate(content, "longitude", f"{where}.longitude", 180),
        )
    # Media: the message has no body; its url and caption are kept (Glific's message_media).
    return Input(
        type=MEDIA_TYPES[kind],
        media_url=get_string(content, "url", f"{where}.url"),
        caption=get_optional_string(content, "caption", f"{where}.caption"),
    )


def _callback(body: Any, kind: str, what: str) -> Mapping[str, Any]:
    """The body, which must be an object whose `type` is `kind`."""
    envelope = body_object(body)
    callback = envelope.get("type")
    if callback != kind:
        raise PayloadError(f"type must be {kind!r} ({what}), not {shown(callback)}")
    return envelope


def parse_message(body: Any, *, provider: str = PROVIDER) -> InboundMessage:
    """Read a decoded Gupshup v2 `message` callback; raises `PayloadError` saying what is
    wrong with it. `provider` is recorded on the message (`gupshup`, `simulator`)."""
    envelope = _callback(body, "message", "a message callback")
    message = get_object(envelope, "payload", "payload")
    provider_id = get_string(message, "id", "payload.id", limit=MAX_ID_LENGTH)
    kind = get_string(message, "type", "payload.type", limit=MAX_ID_LENGTH)
    sender = get_object(message, "sender", "payload.sender")
    phone = get_string(sender, "phone", "payload.sender.phone", limit=MAX_ID_LENGTH).strip()
    name = get_optional_string(sender, "name", "payload.sender.name")
    return InboundMessage(
        phone=phone,
        input=_input(kind, message),
        provider_message_id=provider_id,
        sender_name=name[:MAX_ID_LENGTH] if name else None,
        provider=provider,
        sent_at=_sent_at(envelope),
        context_id=_context_id(message),
    )


# --- routing ------------------------------------------------------------------------------------


def callback_kind(body: Any) -> CallbackKind:
    """Which parser a decoded callback goes to, as Glific's shunt routes `POST /gupshup`:
    `message` (parse_message), `message-event` (parse_status), `user-event`
    (parse_user_event), `form-response` (parse_form_response), or `ignored` for anything
    Glific answers 200 and drops (template and billing events, unknown callbacks). An event
    whose `payload.type` Glific has no route for (`user-event` `sandbox-start`) is ignored
    too; one that is routed is parsed, and a bad one is a PayloadError there."""
    if not isinstance(body, Mapping):
        return "ignored"
    kind = body.get("type")
    if kind == "message":
        return "message"
    if kind in ("message-event", "user-event"):
        payload = body.get("payload")
        event = payload.get("type") if isinstance(payload, Mapping) else None
        routed = STATUSES if kind == "message-event" else OPT_EVENTS
        return kind if isinstance(event, str) and event in routed else "ignored"
    if kind is None and _first_message_is_form(body):
        return "form-response"
    return "ignored"


def _first_message_is_form(body: Mapping[str, Any]) -> bool:
    """`entry[0].changes[0].value.messages[0].interactive.type == "nfm_reply"`, read
    without raising: a body of another shape is simply not a form response."""
    change = _head(_head(body, "entry"), "changes")
    value = change.get("value") if isinstance(change, Mapping) else None
    message = _head(value, "messages")
    interactive = message.get("interactive") if isinstance(message, Mapping) else None
    return isinstance(interactive, Mapping) and interactive.get("type") == "nfm_reply"


def _head(node: Any, key: str) -> Any:
    """`node[key][0]`, or None where there is no such thing."""
    items = node.get(key) if isinstance(node, Mapping) else None
    return items[0] if isinstance(items, list) and items else None


def app_name(body: Any) -> str | None:
    """`app`, the Gupshup app the callback is for (it names the organization); None when
    absent (the simulator's and the form reply's bodies have none)."""
    name = get_optional_string(body_object(body), "app", "app")
    if name is None or not name.strip():
        return None
    if len(name) > MAX_ID_LENGTH:
        raise PayloadError(f"app is longer than {MAX_ID_LENGTH} characters")
    return name.strip()


# --- events -------------------------------------------------------------------------------------


def parse_status(body: Any, *, provider: str = PROVIDER) -> StatusUpdate:
    """Read a decoded `message-event` callback. The message is looked up by `gsId` (the id
    Gupshup gave when it accepted it), falling back to `id` (WhatsApp's), as Glific does."""
    envelope = _callback(body, "message-event", "a status callback")
    event = get_object(envelope, "payload", "payload")
    state = get_string(event, "type", "payload.type")
    if state not in STATUSES:
        raise PayloadError(f"payload.type must be one of {', '.join(STATUSES)}, not {shown(state)}")
    gs_id = get_optional_string(event, "gsId", "payload.gsId")
    if gs_id is None:
        provider_id = get_string(event, "id", "payload.id", limit=MAX_ID_LENGTH)
        fallback_id = None
    else:
        if len(gs_id) > MAX_ID_LENGTH:
            raise PayloadError(f"payload.gsId is longer than {MAX_ID_LENGTH} characters")
        provider_id = gs_id
        fallback_id = get_optional_string(event, "id", "payload.id")
        if fallback_id is not None and len(fallback_id) > MAX_ID_LENGTH:
            raise PayloadError(f"payload.id is longer than {MAX_ID_LENGTH} characters")
    details = get_optional_object(event, "payload", "payload.payload")
    failed = state == "failed"
    return StatusUpdate(
        provider_message_id=provider_id,
        status=STATUSES[state],
        provider=provider,
        at=_event_time(details) or _sent_at(envelope),
        fallback_id=fallback_id,
        error=dict(details) if failed else None,
        error_code=get_code(details, "code", "payload.payload.code") if failed else None,
    )


def _event_time(details: Mapping[str, Any]) -> datetime | None:
    """`payload.payload.ts`: unix seconds in Gupshup's samples, a number or a string of one;
    a value only milliseconds could mean is read as milliseconds."""
    value = details.get("ts")
    if value is None:
        return None
    seconds = unix_seconds(value, "payload.payload.ts")
    if seconds >= _MILLISECONDS_FROM:
        seconds /= 1000
    return from_epoch(seconds, "payload.payload.ts")


def parse_user_event(body: Any, *, provider: str = PROVIDER) -> OptEvent:
    """Read a decoded `user-event` callback: the contact opted in or out on WhatsApp."""
    envelope = _callback(body, "user-event", "a user event")
    event = get_object(envelope, "payload", "payload")
    kind = get_string(event, "type", "payload.type")
    if kind not in OPT_EVENTS:
        raise PayloadError(f"payload.type must be 'opted-in' or 'opted-out', not {shown(kind)}")
    phone = get_string(event, "phone", "payload.phone", limit=MAX_ID_LENGTH).strip()
    at = _sent_at(envelope)
    return OptEvent(phone=phone, opted_in=kind == "opted-in", provider=provider, at=at)


def parse_form_response(body: Any, *, provider: str = PROVIDER) -> InboundMessage:
    """Read a WhatsApp Flow form's reply as Gupshup forwards it (Meta's Cloud API shape,
    `interactive.nfm_reply`): a `whatsapp_form_response` input whose `form_response` is the
    decoded `response_json`. Only the first message is read: it is the one Glific's shunt
    routes by."""
    entry = _first(body_object(body), "entry", "entry")
    change = _first(entry, "changes", "entry[0].changes")
    where = "entry[0].changes[0].value"
    value = get_object(change, "value", where)
    first = _first(value, "messages", f"{where}.messages")
    message = read_message(
        first,
        f"{where}.messages[0]",
        sender_names(value, where),
        provider=provider,
        context_keys=CONTEXT_KEYS,
    )
    if message.input.type != "whatsapp_form_response":
        raise PayloadError(f"{where}.messages[0] is not a form response (interactive nfm_reply)")
    return message


def _first(parent: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    """The first element of a required, non-empty list of objects."""
    items = parent.get(key)
    if items is None:
        raise PayloadError(f"{where} is missing")
    if not isinstance(items, list):
        raise PayloadError(f"{where} must be a list, not {json_kind(items)}")
    if not items:
        raise PayloadError(f"{where} is empty")
    return item_object(items[0], f"{where}[0]")
