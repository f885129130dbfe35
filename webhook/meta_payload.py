"""Meta's WhatsApp Cloud API webhook (spec §4.6; Glific itself has none): the `GET`
verification handshake, the `X-Hub-Signature-256` check over the raw body, and the `POST`
notification read into the `InboundMessage`s and `StatusUpdate`s it carries.

    {"object": "whatsapp_business_account", "entry": [{"id", "changes": [{"field":
     "messages", "value": {"metadata": {"phone_number_id"}, "contacts"?: [...],
     "messages"?: [...], "statuses"?: [...]}}]}]}

One notification may batch several entries, changes, messages and statuses; each is paired
with its change's `metadata.phone_number_id`, the business number that names the
organization. Pure functions: no database, no I/O. Anything missing or of the wrong type is a
`PayloadError` naming its path (`entry[0].changes[0].value.messages[1].from is missing`).
A kind of message the flows cannot read (a reaction, an order) is an `unsupported` input, and
a status the mirror does not track (`deleted`) is left out.

The Cloud API message reader is shared with Gupshup, which forwards WhatsApp Flow form
replies (`nfm_reply`) in this same shape.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from resolvers.conversation import InboundMessage, MessageStatus, StatusUpdate
from resolvers.flow_engine.state import Input, InputType
from webhook.payload_fields import (
    MAX_ID_LENGTH,
    PayloadError,
    body_object,
    get_code,
    get_coordinate,
    get_list,
    get_object,
    get_optional_object,
    get_optional_string,
    get_string,
    get_unix_time,
    item_object,
    json_kind,
    shown,
)

PROVIDER = "meta"
OBJECT = "whatsapp_business_account"
MEDIA_TYPES: dict[str, InputType] = {
    "image": "image",
    "audio": "audio",
    "video": "video",
    "document": "document",
    "sticker": "sticker",
}
# The statuses read; any other (`deleted`, `warning`, ...) is skipped.
STATUSES: dict[str, MessageStatus] = {
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "failed": "failed",
}
_SIGNATURE = re.compile(r"(?i:sha256)=([0-9a-fA-F]{64})")


@dataclass(frozen=True)
class MetaNotification:
    """What one notification carries, each item with its `phone_number_id`."""

    messages: tuple[tuple[str, InboundMessage], ...]
    statuses: tuple[tuple[str, StatusUpdate], ...]


# --- authenticity -------------------------------------------------------------------------------


def verify_signature(raw_body: bytes, header: str | None, app_secret: str) -> bool:
    """Whether `header` (`X-Hub-Signature-256: sha256=<hex>`) is the HMAC-SHA256 of the raw
    request bytes under the app secret. False for a missing or malformed header, or when no
    secret is configured."""
    if not app_secret or header is None:
        return False
    match = _SIGNATURE.fullmatch(header.strip())
    if match is None:
        return False
    expected = hmac.new(app_secret.encode("utf-8"), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, match.group(1).lower())


def handshake(params: Mapping[str, str], verify_token: str) -> str | None:
    """The `hub.challenge` to answer (200, plain text) to Meta's verification `GET`, or None
    to refuse it (403): the mode must be `subscribe` and `hub.verify_token` the configured
    token. An empty configured token never matches."""
    if not verify_token or params.get("hub.mode") != "subscribe":
        return None
    token = params.get("hub.verify_token")
    challenge = params.get("hub.challenge")
    if token is None or not challenge:
        return None
    # surrogatepass: a query string may decode to lone surrogates, which must not raise.
    given = token.encode("utf-8", "surrogatepass")
    if not hmac.compare_digest(given, verify_token.encode("utf-8", "surrogatepass")):
        return None
    return challenge


# --- the notification ---------------------------------------------------------------------------


def parse_notification(body: Any) -> MetaNotification:
    """Read a decoded Cloud API notification; raises `PayloadError` saying what is wrong."""
    envelope = body_object(body)
    kind = envelope.get("object")
    if kind != OBJECT:
        raise PayloadError(
            f"object must be {OBJECT!r} (a WhatsApp Cloud API notification), not {shown(kind)}"
        )
    messages: list[tuple[str, InboundMessage]] = []
    statuses: list[tuple[str, StatusUpdate]] = []
    for e, item in enumerate(get_list(envelope, "entry", "entry")):
        entry = item_object(item, f"entry[{e}]")
        for c, change in enumerate(get_list(entry, "changes", f"entry[{e}].changes")):
            _read_change(change, f"entry[{e}].changes[{c}]", messages, statuses)
    return MetaNotification(messages=tuple(messages), statuses=tuple(statuses))


def _read_change(
    item: Any,
    where: str,
    messages: list[tuple[str, InboundMessage]],
    statuses: list[tuple[str, StatusUpdate]],
) -> None:
    """One element of `entry[].changes[]`: its messages and statuses appended to the lists."""
    change = item_object(item, where)
    # Other fields (account updates, template reviews, ...) carry no messages.
    if get_string(change, "field", f"{where}.field") != "messages":
        return
    where = f"{where}.value"
    value = get_object(change, "value", where)
    metadata = get_object(value, "metadata", f"{where}.metadata")
    number_id = get_string(
        metadata, "phone_number_id", f"{where}.metadata.phone_number_id", limit=MAX_ID_LENGTH
    )
    names = sender_names(value, where)
    for i, message in enumerate(get_list(value, "messages", f"{where}.messages", required=False)):
        messages.append((number_id, read_message(message, f"{where}.messages[{i}]", names)))
    for i, status in enumerate(get_list(value, "statuses", f"{where}.statuses", required=False)):
        update = _status(status, f"{where}.statuses[{i}]")
        if update is not None:
            statuses.append((number_id, update))


def sender_names(value: Mapping[str, Any], where: str) -> dict[str, str]:
    """`value.contacts[]`: the WhatsApp profile name of each sender, by `wa_id`."""
    names: dict[str, str] = {}
    for i, item in enumerate(get_list(value, "contacts", f"{where}.contacts", required=False)):
        at = f"{where}.contacts[{i}]"
        contact = item_object(item, at)
        wa_id = get_string(contact, "wa_id", f"{at}.wa_id", limit=MAX_ID_LENGTH).strip()
        profile = get_optional_object(contact, "profile", f"{at}.profile")
        name = get_optional_string(profile, "name", f"{at}.profile.name")
        if name:
            names.setdefault(wa_id, name[:MAX_ID_LENGTH])
    return names


def read_message(
    item: Any,
    where: str,
    names: Mapping[str, str],
    *,
    provider: str = PROVIDER,
    context_keys: Sequence[str] = ("id",),
) -> InboundMessage:
    """One element of `value.messages[]` at `where`. `names` maps a sender's `wa_id` to its
    name; `context_keys` are the keys of `context` that may hold the id of the message this
    one answers, the first non-empty one wins (Gupshup forwards its own `gs_id` there)."""
    message = item_object(item, where)
    phone = get_string(message, "from", f"{where}.from", limit=MAX_ID_LENGTH).strip()
    provider_id = get_string(message, "id", f"{where}.id", limit=MAX_ID_LENGTH)
    sent_at = get_unix_time(message, "timestamp", f"{where}.timestamp")
    kind = get_string(message, "type", f"{where}.type", limit=MAX_ID_LENGTH)
    return InboundMessage(
        phone=phone,
        input=_input(message, kind, where),
        provider_message_id=provider_id,
        sender_name=names.get(phone),
        provider=provider,
        sent_at=sent_at,
        context_id=_context_id(message, where, context_keys),
    )


def _context_id(message: Mapping[str, Any], where: str, keys: Sequence[str]) -> str | None:
    context = get_optional_object(message, "context", f"{where}.context")
    for key in keys:
        value = get_optional_string(context, key, f"{where}.context.{key}")
        if value:
            return value[:MAX_ID_LENGTH]
    return None


def _input(message: Mapping[str, Any], kind: str, where: str) -> Input:
    """The message's content, read from the object named by its `type`."""
    if kind == "text":
        text = get_object(message, "text", f"{where}.text")
        return Input(text=get_string(text, "body", f"{where}.text.body", blank=True))
    if kind == "button":
        # A template's quick-reply button: read as the text on the button, like Gupshup's.
        button = get_object(message, "button", f"{where}.button")
        return Input(text=get_string(button, "text", f"{where}.button.text", blank=True))
    if kind == "interactive":
        content = get_object(message, "interactive", f"{where}.interactive")
        return _interactive(content, f"{where}.interactive")
    if kind == "location":
        place = get_object(message, "location", f"{where}.location")
        return Input(
            type="location",
            latitude=get_coordinate(place, "latitude", f"{where}.location.latitude", 90),
            longitude=get_coordinate(place, "longitude", f"{where}.location.longitude", 180),
        )
    if kind in MEDIA_TYPES:
        return _media(get_object(message, kind, f"{where}.{kind}"), kind, f"{where}.{kind}")
    return Input(type="unsupported")


def _interactive(content: Mapping[str, Any], where: str) -> Input:
    kind = get_string(content, "type", f"{where}.type")
    if kind in ("button_reply", "list_reply"):
        reply = get_object(content, kind, f"{where}.{kind}")
        return Input(
            text=get_string(reply, "title", f"{where}.{kind}.title", blank=True),
            type="quick_reply" if kind == "button_reply" else "list",
            id=get_optional_string(reply, "id", f"{where}.{kind}.id"),
            interactive=dict(reply),
        )
    if kind == "nfm_reply":
        where = f"{where}.nfm_reply"
        return form_response(get_object(content, "nfm_reply", where), where)
    return Input(type="unsupported")


def form_response(reply: Mapping[str, Any], where: str) -> Input:
    """A WhatsApp Flow form's reply (`interactive.nfm_reply`, at `where`): its `body` is the
    text, `response_json` (a JSON object, sent as a string) the answers."""
    text = get_optional_string(reply, "body", f"{where}.body") or ""
    raw = reply.get("response_json")
    if raw is None:
        raise PayloadError(f"{where}.response_json is missing")
    answers: Any = raw
    if isinstance(raw, str):
        try:
            answers = json.loads(raw)
        except RecursionError:
            raise PayloadError(f"{where}.response_json is nested too deeply") from None
        except ValueError as exc:
            raise PayloadError(f"{where}.response_json is not valid JSON: {exc}") from None
    if not isinstance(answers, Mapping):
        raise PayloadError(
            f"{where}.response_json must hold a JSON object, not {json_kind(answers)}"
        )
    return Input(text=text, type="whatsapp_form_response", form_response=dict(answers))


def _media(media: Mapping[str, Any], kind: str, where: str) -> Input:
    """Image, audio, video, document or sticker. The Cloud API sends a media id, resolved to
    a URL later (`GET /<media-id>`), so the id is kept in `interactive`; a `url` or `link`,
    when one is given, is the media URL."""
    media_id = get_optional_string(media, "id", f"{where}.id")
    url = get_optional_string(media, "url", f"{where}.url") or get_optional_string(
        media, "link", f"{where}.link"
    )
    if media_id is None and url is None:
        raise PayloadError(f"{where}.id is missing")
    if media_id is not None and len(media_id) > MAX_ID_LENGTH:
        raise PayloadError(f"{where}.id is longer than {MAX_ID_LENGTH} characters")
    details: dict[str, Any] = {
        "media_id": media_id,
        "mime_type": get_optional_string(media, "mime_type", f"{where}.mime_type"),
    }
    filename = get_optional_string(media, "filename", f"{where}.filename")
    if filename:
        details["filename"] = filename
    return Input(
        type=MEDIA_TYPES[kind],
        media_url=url,
        caption=get_optional_string(media, "caption", f"{where}.caption"),
        interactive=details,
    )


def _status(item: Any, where: str) -> StatusUpdate | None:
    """One element of `value.statuses[]`; None for a status that is not tracked."""
    status = item_object(item, where)
    state = get_string(status, "status", f"{where}.status")
    if state not in STATUSES:
        return None
    provider_id = get_string(status, "id", f"{where}.id", limit=MAX_ID_LENGTH)
    at = get_unix_time(status, "timestamp", f"{where}.timestamp")
    error: dict[str, Any] | None = None
    code: str | None = None
    if state == "failed":
        errors = get_list(status, "errors", f"{where}.errors", required=False)
        if errors:
            first = item_object(errors[0], f"{where}.errors[0]")
            error = dict(first)
            code = get_code(first, "code", f"{where}.errors[0].code")
    return StatusUpdate(
        provider_message_id=provider_id,
        status=STATUSES[state],
        provider=PROVIDER,
        at=at,
        error=error,
        error_code=code,
    )
