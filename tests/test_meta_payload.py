"""Meta's WhatsApp Cloud API webhook (webhook.meta_payload): the `X-Hub-Signature-256` check,
the verification handshake, every kind of message and status in a notification, batches,
bad bodies as a `PayloadError` with its exact message naming the path, and every reference
payload (`webhooks/meta/` in the reference data, read from there, never copied)."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

import pytest

from resolvers.conversation import InboundMessage, StatusUpdate
from tests.utils.client_ops import require_reference
from webhook.meta_payload import (
    MetaNotification,
    handshake,
    parse_notification,
    verify_signature,
)
from webhook.payload_fields import PayloadError, decode_json

NUMBER_ID = "106540352242922"
SENDER = "919800000001"

# --- building notifications ---------------------------------------------------------------------


def message(kind: str, content: Any = None, **extra: Any) -> dict[str, Any]:
    """A `messages[]` element of type `kind` from SENDER; `content` goes under `kind`."""
    body: dict[str, Any] = {
        "from": SENDER,
        "id": "wamid.in-1",
        "timestamp": "1700000000",
        "type": kind,
    }
    if content is not None:
        body[kind] = content
    body.update(extra)
    return body


def status(state: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "wamid.out-1",
        "status": state,
        "timestamp": "1700000100",
        "recipient_id": SENDER,
    }
    body.update(extra)
    return body


def change(
    messages: list[Any] | None = None,
    statuses: list[Any] | None = None,
    *,
    number_id: str = NUMBER_ID,
    contacts: Any = None,
) -> dict[str, Any]:
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": number_id},
    }
    if messages is not None:
        value["contacts"] = (
            [{"profile": {"name": "Ravi"}, "wa_id": SENDER}] if contacts is None else contacts
        )
        value["messages"] = messages
    if statuses is not None:
        value["statuses"] = statuses
    return {"field": "messages", "value": value}


def notification(*changes: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "waba-1", "changes": list(changes)}],
    }


def one_message(content: dict[str, Any]) -> InboundMessage:
    """The single message of a notification holding `content`, checked to be from NUMBER_ID."""
    parsed = parse_notification(notification(change([content])))
    assert parsed.statuses == ()
    assert len(parsed.messages) == 1
    number_id, inbound = parsed.messages[0]
    assert number_id == NUMBER_ID
    return inbound


def one_status(content: dict[str, Any]) -> StatusUpdate:
    parsed = parse_notification(notification(change(statuses=[content])))
    assert parsed.messages == ()
    assert len(parsed.statuses) == 1
    number_id, update = parsed.statuses[0]
    assert number_id == NUMBER_ID
    return update


# --- signature ----------------------------------------------------------------------------------

BODY = b'{"object":"whatsapp_business_account","entry":[]}'
SECRET = "app-secret"
# HMAC-SHA256(SECRET, BODY), computed outside Python (openssl dgst -sha256 -hmac app-secret).
KNOWN = "d3e4f9da0ce6c71ab3dba55929b8eeeee2455349e534924ead19f98d143e904f"


def sign(raw: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def test_a_right_signature_passes() -> None:
    assert verify_signature(BODY, f"sha256={KNOWN}", SECRET)
    assert verify_signature(BODY, f"sha256={KNOWN.upper()}", SECRET)
    assert verify_signature(BODY, f"  sha256={KNOWN}\n", SECRET)
    raw = json.dumps(notification(change([message("text", {"body": "hé"})]))).encode()
    assert verify_signature(raw, sign(raw), SECRET)


@pytest.mark.parametrize(
    ("raw", "header", "secret"),
    [
        (BODY, sign(BODY, "another-secret"), SECRET),  # signed with the wrong secret
        (BODY + b" ", f"sha256={KNOWN}", SECRET),  # a tampered body
        (BODY.replace(b"[]", b"[{}]"), f"sha256={KNOWN}", SECRET),
        (BODY, None, SECRET),  # no header
        (BODY, "", SECRET),
        (BODY, KNOWN, SECRET),  # no `sha256=`
        (BODY, f"sha1={KNOWN[:40]}", SECRET),
        (BODY, f"sha256={KNOWN[:-2]}", SECRET),  # too short
        (BODY, f"sha256={KNOWN}00", SECRET),  # too long
        (BODY, f"sha256={KNOWN[:-1]}g", SECRET),  # not hex
        (BODY, f"sha256= {KNOWN}", SECRET),
        (BODY, f"sha256={KNOWN},sha256={KNOWN}", SECRET),
        (BODY, f"sha256={KNOWN[:-1]}é", SECRET),  # not ASCII: refused, not an exception
        (BODY, sign(BODY, ""), ""),  # no secret configured: nothing passes
    ],
    ids=[
        "wrong secret",
        "body with a space",
        "body changed",
        "missing",
        "empty",
        "no prefix",
        "sha1",
        "short",
        "long",
        "not hex",
        "space after prefix",
        "two signatures",
        "not ascii",
        "empty secret",
    ],
)
def test_a_wrong_or_malformed_signature_fails(raw: bytes, header: str | None, secret: str) -> None:
    assert verify_signature(raw, header, secret) is False


# --- verification handshake ---------------------------------------------------------------------

TOKEN = "my-verify-token"


def params(**changes: str | None) -> dict[str, str]:
    query = {"hub.mode": "subscribe", "hub.verify_token": TOKEN, "hub.challenge": "1158201444"}
    for key, value in changes.items():
        name = "hub." + key
        if value is None:
            del query[name]
        else:
            query[name] = value
    return query


def test_the_right_token_gets_the_challenge() -> None:
    assert handshake(params(), TOKEN) == "1158201444"
    assert handshake(params(challenge="abc"), TOKEN) == "abc"


@pytest.mark.parametrize(
    ("query", "token"),
    [
        (params(verify_token="wrong"), TOKEN),
        (params(verify_token=TOKEN[:-1]), TOKEN),
        (params(verify_token=TOKEN + "x"), TOKEN),
        (params(verify_token=TOKEN.upper()), TOKEN),
        (params(verify_token=None), TOKEN),
        (params(verify_token="\udcff"), TOKEN),  # a lone surrogate: refused, not an exception
        (params(mode="unsubscribe"), TOKEN),
        (params(mode="Subscribe"), TOKEN),
        (params(mode=None), TOKEN),
        (params(challenge=None), TOKEN),
        (params(challenge=""), TOKEN),
        (params(verify_token=""), ""),  # an empty configured token never matches
        ({}, TOKEN),
    ],
    ids=[
        "wrong token",
        "token prefix",
        "token longer",
        "token case",
        "no token",
        "token not text",
        "wrong mode",
        "mode case",
        "no mode",
        "no challenge",
        "empty challenge",
        "empty configured token",
        "nothing",
    ],
)
def test_the_handshake_is_refused(query: dict[str, str], token: str) -> None:
    assert handshake(query, token) is None


def test_the_reference_handshake() -> None:
    sample = json.loads(
        (require_reference("webhooks/meta") / "verification_get_request.json").read_text(
            encoding="utf-8"
        )
    )
    query = sample["query"]
    assert sample["method"] == "GET"
    assert sample["expected_response"]["status"] == 200
    assert handshake(query, query["hub.verify_token"]) == sample["expected_response"]["body"]
    assert handshake(query, "not-" + query["hub.verify_token"]) is None


# --- messages -----------------------------------------------------------------------------------


def test_text() -> None:
    inbound = one_message(message("text", {"body": "Hello there"}))
    assert inbound.phone == SENDER
    assert inbound.sender_name == "Ravi"
    assert inbound.provider_message_id == "wamid.in-1"
    assert inbound.provider == "meta"
    assert inbound.sent_at == datetime(2023, 11, 14, 22, 13, 20)
    assert inbound.context_id is None
    assert (inbound.input.type, inbound.input.text) == ("text", "Hello there")


def test_context_id() -> None:
    content = message("text", {"body": "hi"}, context={"from": "15550783881", "id": "wamid.out"})
    assert one_message(content).context_id == "wamid.out"
    assert one_message(message("text", {"body": "hi"}, context={})).context_id is None
    long = message("text", {"body": "hi"}, context={"id": "w" * 300})
    assert one_message(long).context_id == "w" * 255


def test_a_whole_number_timestamp_is_read_too() -> None:
    inbound = one_message(message("text", {"body": "hi"}, timestamp=1700000000))
    assert inbound.sent_at == datetime(2023, 11, 14, 22, 13, 20)


def test_button_reply() -> None:
    reply = {"id": "node-uuid-1", "title": "👍"}
    inbound = one_message(message("interactive", {"type": "button_reply", "button_reply": reply}))
    assert inbound.input.type == "quick_reply"
    assert inbound.input.text == "👍"
    assert inbound.input.id == "node-uuid-1"
    assert inbound.input.interactive == reply


def test_list_reply() -> None:
    reply = {"id": "row-2", "title": "Row two", "description": "d"}
    inbound = one_message(message("interactive", {"type": "list_reply", "list_reply": reply}))
    assert (inbound.input.type, inbound.input.text, inbound.input.id) == (
        "list",
        "Row two",
        "row-2",
    )
    assert inbound.input.interactive == reply


def test_form_reply() -> None:
    answers = {"rating": "5", "flow_token": "t"}
    nfm = {"body": "Sent", "name": "flow", "response_json": json.dumps(answers)}
    inbound = one_message(message("interactive", {"type": "nfm_reply", "nfm_reply": nfm}))
    assert inbound.input.type == "whatsapp_form_response"
    assert inbound.input.text == "Sent"
    assert inbound.input.form_response == answers


def test_template_button_is_read_as_text() -> None:
    inbound = one_message(message("button", {"payload": "optin_yes", "text": "Yes"}))
    assert (inbound.input.type, inbound.input.text) == ("text", "Yes")


def test_location() -> None:
    place = {"latitude": 18.52, "longitude": 73.85, "name": "Pune", "address": "MH"}
    inbound = one_message(message("location", place))
    assert inbound.input.type == "location"
    assert (inbound.input.latitude, inbound.input.longitude) == (18.52, 73.85)


@pytest.mark.parametrize("kind", ["image", "audio", "video", "document", "sticker"])
def test_media_keeps_its_id_to_be_resolved(kind: str) -> None:
    media = {"id": "media-1", "mime_type": "x/y", "sha256": "abc", "caption": "look"}
    inbound = one_message(message(kind, media))
    assert inbound.input.type == kind
    assert inbound.input.media_url is None  # resolved later through GET /<media-id>
    assert inbound.input.caption == "look"
    assert inbound.input.interactive == {"media_id": "media-1", "mime_type": "x/y"}
    assert inbound.input.text == ""


def test_media_with_a_url_or_link() -> None:
    with_url = one_message(message("image", {"id": "m", "url": "https://media.test/i"}))
    assert with_url.input.media_url == "https://media.test/i"
    assert with_url.input.caption is None
    with_link = one_message(message("video", {"link": "https://media.test/v"}))
    assert with_link.input.media_url == "https://media.test/v"
    assert with_link.input.interactive == {"media_id": None, "mime_type": None}


def test_a_document_keeps_its_filename() -> None:
    document = {"id": "m", "mime_type": "application/pdf", "filename": "report.pdf"}
    inbound = one_message(message("document", document))
    assert inbound.input.type == "document"
    assert inbound.input.interactive == {
        "media_id": "m",
        "mime_type": "application/pdf",
        "filename": "report.pdf",
    }


@pytest.mark.parametrize(
    ("kind", "content"),
    [
        ("reaction", {"message_id": "wamid.x", "emoji": "👍"}),
        ("contacts", [{"name": {"formatted_name": "A"}}]),
        ("order", {"catalog_id": "1"}),
        ("system", {"body": "changed number"}),
        ("unsupported", None),
        ("something_new", "anything"),
    ],
)
def test_other_kinds_are_unsupported(kind: str, content: Any) -> None:
    inbound = one_message(message(kind, content))
    assert inbound.input.type == "unsupported"
    assert inbound.phone == SENDER


def test_an_unknown_interactive_reply_is_unsupported() -> None:
    content = message("interactive", {"type": "call_permission_reply", "x": {}})
    assert one_message(content).input.type == "unsupported"


def test_sender_names_come_from_contacts_by_wa_id() -> None:
    contacts = [
        {"profile": {"name": "Asha"}, "wa_id": "919800000002"},
        {"profile": {"name": "Ravi"}, "wa_id": SENDER},
        {"wa_id": "919800000003"},  # no profile
    ]
    messages = [
        message("text", {"body": "1"}),
        message("text", {"body": "2"}, **{"from": "919800000002", "id": "wamid.in-2"}),
        message("text", {"body": "3"}, **{"from": "919800000003", "id": "wamid.in-3"}),
        message("text", {"body": "4"}, **{"from": "919800000004", "id": "wamid.in-4"}),
    ]
    parsed = parse_notification(notification(change(messages, contacts=contacts)))
    names = [(m.phone, m.sender_name) for _, m in parsed.messages]
    assert names == [
        (SENDER, "Ravi"),
        ("919800000002", "Asha"),
        ("919800000003", None),
        ("919800000004", None),
    ]


def test_a_notification_without_contacts() -> None:
    body = notification(change([message("text", {"body": "hi"})]))
    del body["entry"][0]["changes"][0]["value"]["contacts"]
    (_, inbound), *_ = parse_notification(body).messages
    assert inbound.sender_name is None


# --- statuses -----------------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["sent", "delivered", "read"])
def test_status(state: str) -> None:
    update = one_status(status(state, conversation={"id": "c", "origin": {"type": "service"}}))
    assert update.status == state
    assert update.provider_message_id == "wamid.out-1"
    assert update.provider == "meta"
    assert update.at == datetime(2023, 11, 14, 22, 15)
    assert (update.fallback_id, update.error, update.error_code) == (None, None, None)


def test_failed_status() -> None:
    error = {"code": 131026, "title": "Message undeliverable", "error_data": {"details": "x"}}
    update = one_status(status("failed", errors=[error, {"code": 1}]))
    assert update.status == "failed"
    assert update.error == error
    assert update.error_code == "131026"
    bare = one_status(status("failed"))
    assert (bare.error, bare.error_code) == (None, None)
    no_code = one_status(status("failed", errors=[{"title": "t"}]))
    assert (no_code.error, no_code.error_code) == ({"title": "t"}, None)


@pytest.mark.parametrize("state", ["deleted", "warning", "enqueued", "something_new"])
def test_untracked_statuses_are_skipped(state: str) -> None:
    # Skipped before anything else is read: their shape is not ours to judge.
    parsed = parse_notification(notification(change(statuses=[{"status": state}])))
    assert parsed == MetaNotification(messages=(), statuses=())


# --- batches ------------------------------------------------------------------------------------


def test_a_batch_keeps_every_item_with_its_number_in_order() -> None:
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "waba-1",
                "changes": [
                    change([message("text", {"body": "a"}, id="m-1")], number_id="n-1"),
                    {"field": "account_update", "value": {"event": "anything", "x": [1]}},
                    change(
                        [message("text", {"body": "b"}, id="m-2")],
                        [status("read", id="s-1"), status("deleted", id="s-x")],
                        number_id="n-2",
                    ),
                ],
            },
            {
                "id": "waba-2",
                "changes": [
                    change(
                        [
                            message("text", {"body": "c"}, id="m-3"),
                            message("button", {"text": "d"}, id="m-4"),
                        ],
                        [status("sent", id="s-2")],
                        number_id="n-3",
                    )
                ],
            },
        ],
    }
    parsed = parse_notification(body)
    assert [(n, m.provider_message_id, m.input.text) for n, m in parsed.messages] == [
        ("n-1", "m-1", "a"),
        ("n-2", "m-2", "b"),
        ("n-3", "m-3", "c"),
        ("n-3", "m-4", "d"),
    ]
    assert [(n, s.provider_message_id, s.status) for n, s in parsed.statuses] == [
        ("n-2", "s-1", "read"),
        ("n-3", "s-2", "sent"),
    ]


def test_other_fields_are_ignored_whatever_their_value() -> None:
    body = notification({"field": "message_template_status_update", "value": "not an object"})
    assert parse_notification(body) == MetaNotification(messages=(), statuses=())
    assert parse_notification(notification()) == MetaNotification(messages=(), statuses=())
    empty = {"object": "whatsapp_business_account", "entry": []}
    assert parse_notification(empty) == MetaNotification(messages=(), statuses=())


def test_the_parser_does_not_change_its_input() -> None:
    body = notification(
        change([message("interactive", {"type": "list_reply", "list_reply": {"title": "t"}})]),
        change(statuses=[status("failed", errors=[{"code": 1}])]),
    )
    before = copy.deepcopy(body)
    parse_notification(body)
    assert body == before


# --- what is wrong, said plainly --------------------------------------------------------------

V = "entry[0].changes[0].value"
MSG = f"{V}.messages[0]"
ST = f"{V}.statuses[0]"


def _text(**extra: Any) -> dict[str, Any]:
    return notification(change([message("text", {"body": "hi"}, **extra)]))


def _missing(key: str) -> dict[str, Any]:
    content = message("text", {"body": "hi"})
    del content[key]
    return notification(change([content]))


def _status_missing(key: str) -> dict[str, Any]:
    content = status("read")
    del content[key]
    return notification(change(statuses=[content]))


def _one(content: Any) -> dict[str, Any]:
    return notification(change([content]))


def _value(value: Any) -> dict[str, Any]:
    return notification({"field": "messages", "value": value})


METADATA = {"phone_number_id": NUMBER_ID}
BAD: list[tuple[str, Any, str]] = [
    ("a list", [], "The body must be a JSON object, not a list"),
    ("null", None, "The body must be a JSON object, not null"),
    (
        "a Gupshup body",
        {"type": "message", "payload": {}},
        "object must be 'whatsapp_business_account' (a WhatsApp Cloud API notification), not null",
    ),
    (
        "another object",
        {"object": "page", "entry": []},
        "object must be 'whatsapp_business_account' (a WhatsApp Cloud API notification), "
        "not 'page'",
    ),
    (
        "object a number",
        {"object": 1, "entry": []},
        "object must be 'whatsapp_business_account' (a WhatsApp Cloud API notification), "
        "not a number",
    ),
    ("no entry", {"object": "whatsapp_business_account"}, "entry is missing"),
    (
        "entry an object",
        {"object": "whatsapp_business_account", "entry": {}},
        "entry must be a list, not an object",
    ),
    (
        "entry of strings",
        {"object": "whatsapp_business_account", "entry": ["x"]},
        "entry[0] must be an object, not a string",
    ),
    (
        "no changes",
        {"object": "whatsapp_business_account", "entry": [{"id": "w"}]},
        "entry[0].changes is missing",
    ),
    (
        "change a list",
        {"object": "whatsapp_business_account", "entry": [{"changes": [[]]}]},
        "entry[0].changes[0] must be an object, not a list",
    ),
    ("no field", notification({"value": {}}), "entry[0].changes[0].field is missing"),
    (
        "field a number",
        notification({"field": 1}),
        "entry[0].changes[0].field must be a string, not a number",
    ),
    ("no value", notification({"field": "messages"}), f"{V} is missing"),
    ("value a list", _value([]), f"{V} must be an object, not a list"),
    ("no metadata", _value({"messages": []}), f"{V}.metadata is missing"),
    ("no number id", _value({"metadata": {}}), f"{V}.metadata.phone_number_id is missing"),
    (
        "number id a number",
        _value({"metadata": {"phone_number_id": 1065}}),
        f"{V}.metadata.phone_number_id must be a string, not a number",
    ),
    (
        "number id too long",
        _value({"metadata": {"phone_number_id": "1" * 256}}),
        f"{V}.metadata.phone_number_id is longer than 255 characters",
    ),
    (
        "messages an object",
        _value({"metadata": METADATA, "messages": {}}),
        f"{V}.messages must be a list or null, not an object",
    ),
    (
        "statuses a string",
        _value({"metadata": METADATA, "statuses": "read"}),
        f"{V}.statuses must be a list or null, not a string",
    ),
    (
        "contacts an object",
        _value({"metadata": METADATA, "contacts": {}}),
        f"{V}.contacts must be a list or null, not an object",
    ),
    (
        "contact a string",
        _value({"metadata": METADATA, "contacts": ["Ravi"]}),
        f"{V}.contacts[0] must be an object, not a string",
    ),
    (
        "contact without wa_id",
        _value({"metadata": METADATA, "contacts": [{"profile": {"name": "R"}}]}),
        f"{V}.contacts[0].wa_id is missing",
    ),
    (
        "profile a string",
        _value({"metadata": METADATA, "contacts": [{"wa_id": "1", "profile": "R"}]}),
        f"{V}.contacts[0].profile must be an object or null, not a string",
    ),
    (
        "name a number",
        _value({"metadata": METADATA, "contacts": [{"wa_id": "1", "profile": {"name": 1}}]}),
        f"{V}.contacts[0].profile.name must be a string or null, not a number",
    ),
    ("message a string", _one("hi"), f"{MSG} must be an object, not a string"),
    (
        "second message without sender",
        notification(change([message("text", {"body": "a"}), {"id": "m", "type": "text"}])),
        f"{V}.messages[1].from is missing",
    ),
    ("no sender", _missing("from"), f"{MSG}.from is missing"),
    ("blank sender", _text(**{"from": " "}), f"{MSG}.from must not be empty"),
    (
        "sender a number",
        _text(**{"from": 919800000001}),
        f"{MSG}.from must be a string, not a number",
    ),
    ("sender too long", _text(**{"from": "9" * 256}), f"{MSG}.from is longer than 255 characters"),
    ("no id", _missing("id"), f"{MSG}.id is missing"),
    ("id too long", _text(id="w" * 256), f"{MSG}.id is longer than 255 characters"),
    ("no timestamp", _missing("timestamp"), f"{MSG}.timestamp is missing"),
    (
        "timestamp a word",
        _text(timestamp="yesterday"),
        f"{MSG}.timestamp must be a unix time in seconds, not 'yesterday'",
    ),
    (
        "timestamp a fraction string",
        _text(timestamp="1.5"),
        f"{MSG}.timestamp must be a unix time in seconds, not '1.5'",
    ),
    (
        "timestamp a list",
        _text(timestamp=[1]),
        f"{MSG}.timestamp must be a unix time in seconds, not a list",
    ),
    (
        "timestamp huge",
        _text(timestamp="9" * 20),
        f"{MSG}.timestamp is not a time this server can represent",
    ),
    (
        "timestamp too many digits",
        _text(timestamp="9" * 5000),
        f"{MSG}.timestamp must be a unix time in seconds, not '{'9' * 59}",
    ),
    ("no type", _missing("type"), f"{MSG}.type is missing"),
    (
        "context a string",
        _text(context="wamid"),
        f"{MSG}.context must be an object or null, not a string",
    ),
    (
        "context id a number",
        _text(context={"id": 5}),
        f"{MSG}.context.id must be a string or null, not a number",
    ),
    ("no text", _one(message("text")), f"{MSG}.text is missing"),
    ("text a string", _one(message("text", "hi")), f"{MSG}.text must be an object, not a string"),
    ("no body", _one(message("text", {})), f"{MSG}.text.body is missing"),
    (
        "body a number",
        _one(message("text", {"body": 1})),
        f"{MSG}.text.body must be a string, not a number",
    ),
    ("no button text", _one(message("button", {"payload": "p"})), f"{MSG}.button.text is missing"),
    ("no interactive", _one(message("interactive")), f"{MSG}.interactive is missing"),
    ("no interactive type", _one(message("interactive", {})), f"{MSG}.interactive.type is missing"),
    (
        "no button reply",
        _one(message("interactive", {"type": "button_reply"})),
        f"{MSG}.interactive.button_reply is missing",
    ),
    (
        "button reply without title",
        _one(message("interactive", {"type": "button_reply", "button_reply": {"id": "x"}})),
        f"{MSG}.interactive.button_reply.title is missing",
    ),
    (
        "list reply id a number",
        _one(message("interactive", {"type": "list_reply", "list_reply": {"id": 1, "title": "t"}})),
        f"{MSG}.interactive.list_reply.id must be a string or null, not a number",
    ),
    (
        "form reply without answers",
        _one(message("interactive", {"type": "nfm_reply", "nfm_reply": {"body": "Sent"}})),
        f"{MSG}.interactive.nfm_reply.response_json is missing",
    ),
    (
        "form answers not JSON",
        _one(message("interactive", {"type": "nfm_reply", "nfm_reply": {"response_json": "{"}})),
        f"{MSG}.interactive.nfm_reply.response_json is not valid JSON: "
        "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
    ),
    (
        "form answers nested too deeply",
        _one(
            message(
                "interactive",
                {"type": "nfm_reply", "nfm_reply": {"response_json": "[" * 100_000}},
            )
        ),
        f"{MSG}.interactive.nfm_reply.response_json is nested too deeply",
    ),
    (
        "form answers a list",
        _one(message("interactive", {"type": "nfm_reply", "nfm_reply": {"response_json": "[]"}})),
        f"{MSG}.interactive.nfm_reply.response_json must hold a JSON object, not a list",
    ),
    ("no location", _one(message("location")), f"{MSG}.location is missing"),
    (
        "no latitude",
        _one(message("location", {"longitude": 1})),
        f"{MSG}.location.latitude is missing",
    ),
    (
        "latitude out of range",
        _one(message("location", {"latitude": -91, "longitude": 1})),
        f"{MSG}.location.latitude must be between -90 and 90",
    ),
    (
        "longitude a word",
        _one(message("location", {"latitude": 1, "longitude": "east"})),
        f"{MSG}.location.longitude must be a number, not 'east'",
    ),
    ("no image", _one(message("image")), f"{MSG}.image is missing"),
    (
        "image without id or url",
        _one(message("image", {"mime_type": "image/png"})),
        f"{MSG}.image.id is missing",
    ),
    (
        "media id a number",
        _one(message("audio", {"id": 5})),
        f"{MSG}.audio.id must be a string or null, not a number",
    ),
    (
        "media id too long",
        _one(message("video", {"id": "1" * 256})),
        f"{MSG}.video.id is longer than 255 characters",
    ),
    (
        "caption a number",
        _one(message("image", {"id": "m", "caption": 1})),
        f"{MSG}.image.caption must be a string or null, not a number",
    ),
    (
        "mime type a list",
        _one(message("sticker", {"id": "m", "mime_type": []})),
        f"{MSG}.sticker.mime_type must be a string or null, not a list",
    ),
    (
        "url a number",
        _one(message("document", {"url": 1})),
        f"{MSG}.document.url must be a string or null, not a number",
    ),
    (
        "status a string",
        notification(change(statuses=["read"])),
        f"{ST} must be an object, not a string",
    ),
    ("no status", _status_missing("status"), f"{ST}.status is missing"),
    (
        "status a number",
        notification(change(statuses=[{**status("read"), "status": 1}])),
        f"{ST}.status must be a string, not a number",
    ),
    ("no status id", _status_missing("id"), f"{ST}.id is missing"),
    (
        "status id too long",
        notification(change(statuses=[status("read", id="w" * 256)])),
        f"{ST}.id is longer than 255 characters",
    ),
    ("no status timestamp", _status_missing("timestamp"), f"{ST}.timestamp is missing"),
    (
        "errors an object",
        notification(change(statuses=[status("failed", errors={})])),
        f"{ST}.errors must be a list or null, not an object",
    ),
    (
        "error a string",
        notification(change(statuses=[status("failed", errors=["x"])])),
        f"{ST}.errors[0] must be an object, not a string",
    ),
    (
        "error code a list",
        notification(change(statuses=[status("failed", errors=[{"code": []}])])),
        f"{ST}.errors[0].code must be a number or a string, not a list",
    ),
    (
        "second status in the second entry",
        {
            "object": "whatsapp_business_account",
            "entry": [
                {"changes": []},
                {"changes": [change(statuses=[status("read"), status("sent", timestamp="x")])]},
            ],
        },
        "entry[1].changes[0].value.statuses[1].timestamp must be a unix time in seconds, not 'x'",
    ),
]


@pytest.mark.parametrize(
    ("body", "expected"), [(b, e) for _, b, e in BAD], ids=[n for n, *_ in BAD]
)
def test_bad_notifications_say_what_is_wrong(body: Any, expected: str) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_notification(body)
    assert caught.value.message == expected
    assert str(caught.value) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"", "The request body is empty; expected a WhatsApp notification as JSON"),
        (b" \n", "The request body is empty; expected a WhatsApp notification as JSON"),
        (b"{", "Unable to parse the request body as JSON: "),
        (b"\xff{}", "The request body is not UTF-8 text"),
        (b"[" * 100_000, "The request body is nested too deeply"),
    ],
)
def test_bodies_that_are_not_json(raw: bytes, expected: str) -> None:
    with pytest.raises(PayloadError) as caught:
        decode_json(raw, "a WhatsApp notification")
    assert caught.value.message.startswith(expected)


def test_a_json_body_is_decoded_before_it_is_read() -> None:
    raw = json.dumps(notification(change([message("text", {"body": "hé"})]))).encode()
    ((_, inbound),) = parse_notification(decode_json(raw, "a WhatsApp notification")).messages
    assert inbound.input.text == "hé"


# --- Meta's reference payloads ------------------------------------------------------------------

IN = datetime(2024, 3, 9, 16, 0)  # 1710000000
OUT = "wamid.HBgMOTE5OTE3NDQzOTk0FQIAERgSQjQ1RDI0OTdGNDVENTNGMkM0AA=="
REF_NUMBER_ID = "106540352242922"
# Every notification in the folder is parsed by test_every_reference_notification_parses;
# these are what each must read as (the files' own values).
MESSAGES: dict[str, dict[str, Any]] = {
    "message_text.json": {"type": "text", "text": "help", "sent_at": IN},
    "message_button_reply.json": {
        "type": "quick_reply",
        "text": "👍",
        "id": "ceaecc2a-d76c-4bae-9e73-a0290ee0fe93",
        "context_id": "wamid.HBgMOTE5OTE3NDQzOTk0FQIAERgSQjQ1RDI0OTdGNDVENTNGMkM0AA==",
    },
    "message_list_reply.json": {"type": "list", "text": "section 1 row 1", "id": "list1"},
    "message_template_button.json": {"type": "text", "text": "Yes"},
    "message_image.json": {
        "type": "image",
        "caption": "A sample caption",
        "media_url": None,
        "interactive": {"media_id": "1234567890123456", "mime_type": "image/jpeg"},
    },
    "message_location.json": {"type": "location", "latitude": 28.6139, "longitude": 77.209},
}
STATUSES: dict[str, dict[str, Any]] = {
    f"status_{state}.json": {"status": state, "error": None, "error_code": None}
    for state in ("sent", "delivered", "read")
} | {
    "status_failed.json": {
        "status": "failed",
        "error_code": "131026",
        "error": {
            "code": 131026,
            "title": "Message undeliverable",
            "message": "Message undeliverable",
            "error_data": {"details": "Message Undeliverable."},
        },
    }
}
HANDSHAKE = "verification_get_request.json"


def _reference(name: str) -> Any:
    path = require_reference("webhooks/meta") / name
    if not path.is_file():
        pytest.fail(f"{path} is missing from the reference data")
    return json.loads(path.read_text(encoding="utf-8"))


def test_every_reference_notification_parses() -> None:
    folder = require_reference("webhooks/meta")
    names = sorted(path.name for path in folder.glob("*.json"))
    if not names:
        pytest.fail(f"no Meta payloads in {folder}")
    for name in names:
        body = _reference(name)
        if name == HANDSHAKE:
            continue  # query parameters, not a body: test_the_reference_handshake
        parsed = parse_notification(body)
        assert len(parsed.messages) + len(parsed.statuses) == 1, name
        items: list[tuple[str, InboundMessage | StatusUpdate]] = [
            *parsed.messages,
            *parsed.statuses,
        ]
        for number_id, item in items:
            assert number_id == REF_NUMBER_ID, name
            assert item.provider == "meta", name
        for _, inbound in parsed.messages:
            assert inbound.input.type != "unsupported", name


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_reference_message(name: str) -> None:
    (number_id, inbound), *rest = parse_notification(_reference(name)).messages
    assert rest == []
    assert number_id == REF_NUMBER_ID
    assert (inbound.phone, inbound.sender_name) == ("919917443994", "Smit")
    assert inbound.provider_message_id.startswith("wamid.")
    assert inbound.sent_at is not None
    for key, value in MESSAGES[name].items():
        actual = (
            getattr(inbound, key)
            if key in ("sent_at", "context_id")
            else getattr(inbound.input, key)
        )
        assert actual == value, (name, key)


@pytest.mark.parametrize("name", sorted(STATUSES))
def test_reference_status(name: str) -> None:
    parsed = parse_notification(_reference(name))
    assert parsed.messages == ()
    ((number_id, update),) = parsed.statuses
    assert number_id == REF_NUMBER_ID
    assert update.provider_message_id == OUT
    assert update.at == datetime(2024, 3, 9, 16, 1, 40)  # 1710000100
    assert update.fallback_id is None
    for key, value in STATUSES[name].items():
        assert getattr(update, key) == value, (name, key)
