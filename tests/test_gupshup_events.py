"""Gupshup's other callbacks (webhook.gupshup_payload): which parser a body goes to
(`callback_kind`, Glific's shunt), `message-event` statuses, `user-event` opt-ins and
opt-outs, the WhatsApp Flow form reply (`nfm_reply`) and the envelope's `app`; bad bodies as
a `PayloadError` with its exact message; and every reference payload of Glific's
(`webhooks/gupshup/` in the reference data, read from there, never copied)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.utils.client_ops import require_reference
from webhook.gupshup_payload import (
    PayloadError,
    app_name,
    callback_kind,
    parse_form_response,
    parse_message,
    parse_status,
    parse_user_event,
)

GS_ID = "gs-0001"
WA_ID = "wamid-0001"


def status_event(kind: str, details: Any = None, **extra: Any) -> dict[str, Any]:
    """A `message-event` about a message we sent to 919800000001."""
    payload: dict[str, Any] = {
        "id": WA_ID,
        "gsId": GS_ID,
        "type": kind,
        "destination": "919800000001",
        "payload": {"ts": 1700000000} if details is None else details,
    }
    payload.update(extra)
    return {"app": "Test App", "timestamp": 1700000005000, "version": 2,
            "type": "message-event", "payload": payload}  # fmt: skip


def user_event(kind: str, phone: Any = "919800000001") -> dict[str, Any]:
    return {"app": "Test App", "timestamp": 1700000000000, "version": 2, "type": "user-event",
            "payload": {"phone": phone, "type": kind}}  # fmt: skip


ANSWERS = {"rating": "5_Great", "topics": ["a", "b"], "flow_token": "t-1"}


def form_message(**changes: Any) -> dict[str, Any]:
    """One Cloud API message carrying a form reply, from 919800000001."""
    message: dict[str, Any] = {
        "context": {"from": "919800000001", "gs_id": "gs-form-1", "id": "short-1",
                    "meta_msg_id": "wamid.sent"},
        "from": "919800000001",
        "id": "wamid.form-1",
        "timestamp": "1700000000",
        "type": "interactive",
        "interactive": {"type": "nfm_reply", "nfm_reply": {
            "body": "Sent", "name": "flow", "response_json": json.dumps(ANSWERS)}},
    }  # fmt: skip
    message.update(changes)
    return message


def form_body(*messages: dict[str, Any], contacts: Any = None) -> dict[str, Any]:
    """Gupshup's forward of a form reply (no `type`, no `app`)."""
    if contacts is None:
        contacts = [{"profile": {"name": "Ravi"}, "wa_id": "919800000001"}]
    value = {"contacts": contacts, "messages": list(messages or [form_message()])}
    return {"entry": [{"id": "waba-1", "changes": [{"field": "messages", "value": value}]}]}


# --- routing ----------------------------------------------------------------------------------

ROUTES: list[tuple[str, Any, str]] = [
    ("a message", {"type": "message", "payload": {}}, "message"),
    ("a bad message is still a message", {"type": "message"}, "message"),
    ("enqueued", status_event("enqueued"), "message-event"),
    ("sent", status_event("sent"), "message-event"),
    ("delivered", status_event("delivered"), "message-event"),
    ("read", status_event("read"), "message-event"),
    ("failed", status_event("failed", {"code": 1002}), "message-event"),
    ("an unrouted status", status_event("deleted"), "ignored"),
    ("a status without payload", {"type": "message-event"}, "ignored"),
    ("a status payload list", {"type": "message-event", "payload": [1]}, "ignored"),
    ("a status type list", status_event("sent", type=["sent"]), "ignored"),
    ("opted in", user_event("opted-in"), "user-event"),
    ("opted out", user_event("opted-out"), "user-event"),
    ("sandbox start", user_event("sandbox-start"), "ignored"),
    ("a form reply", form_body(), "form-response"),
    (
        "a form reply after a text",
        form_body({"type": "text", "text": {"body": "hi"}}, form_message()),
        "ignored",
    ),
    ("an entry with a text", form_body({"type": "text", "text": {"body": "hi"}}), "ignored"),
    (
        "an entry with a button reply",
        form_body(form_message(interactive={"type": "button_reply", "button_reply": {}})),
        "ignored",
    ),
    ("an empty entry", {"entry": []}, "ignored"),
    ("entry an object", {"entry": {"changes": []}}, "ignored"),
    ("changes null", {"entry": [{"changes": None}]}, "ignored"),
    ("value a list", {"entry": [{"changes": [{"value": []}]}]}, "ignored"),
    ("a typed body with an entry", {**form_body(), "type": "template-event"}, "ignored"),
    ("a template event", {"type": "template-event", "payload": {}}, "ignored"),
    ("a billing event", {"type": "billing-event", "payload": {"deductions": {}}}, "ignored"),
    ("an unknown type", {"type": "something-new", "payload": {}}, "ignored"),
    ("no type", {"payload": {}}, "ignored"),
    ("an empty object", {}, "ignored"),
    ("a list", [status_event("sent")], "ignored"),
    ("a string", "message", "ignored"),
    ("null", None, "ignored"),
]


@pytest.mark.parametrize(
    ("body", "expected"), [(b, e) for _, b, e in ROUTES], ids=[n for n, *_ in ROUTES]
)
def test_callback_kind(body: Any, expected: str) -> None:
    assert callback_kind(body) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"app": "Test App", "type": "message"}, "Test App"),
        ({"app": "  Padded  "}, "Padded"),
        ({"app": ""}, None),
        ({"app": "   "}, None),
        ({"app": None}, None),
        ({"type": "message"}, None),
        (form_body(), None),
    ],
)
def test_app_name(body: dict[str, Any], expected: str | None) -> None:
    assert app_name(body) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"app": 7}, "app must be a string or null, not a number"),
        ({"app": ["a"]}, "app must be a string or null, not a list"),
        ({"app": "x" * 256}, "app is longer than 255 characters"),
        ([], "The body must be a JSON object, not a list"),
        (None, "The body must be a JSON object, not null"),
    ],
)
def test_app_name_refuses(body: Any, expected: str) -> None:
    with pytest.raises(PayloadError) as caught:
        app_name(body)
    assert caught.value.message == expected


# --- message-event ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["enqueued", "sent", "delivered", "read"])
def test_status(kind: str) -> None:
    update = parse_status(status_event(kind))
    assert update.status == kind
    assert update.provider == "gupshup"
    assert update.provider_message_id == GS_ID  # the gsId wins ...
    assert update.fallback_id == WA_ID  # ... and the WhatsApp id is the fallback
    assert update.at == datetime(2023, 11, 14, 22, 13, 20)  # payload.payload.ts
    assert (update.error, update.error_code) == (None, None)


def test_failed_keeps_the_whole_error_and_its_code() -> None:
    details = {"ts": 1700000000, "code": 1002, "reason": "Number does not exist on WhatsApp"}
    update = parse_status(status_event("failed", details))
    assert update.status == "failed"
    assert update.error == details
    assert update.error_code == "1002"
    assert parse_status(status_event("failed", {"code": "471"})).error_code == "471"
    assert parse_status(status_event("failed", {"code": 1003.0})).error_code == "1003"


def test_failed_without_a_code() -> None:
    update = parse_status(status_event("failed", {"reason": "unknown"}))
    assert (update.error, update.error_code) == ({"reason": "unknown"}, None)
    bare = status_event("failed")
    del bare["payload"]["payload"]
    update = parse_status(bare)
    assert (update.error, update.error_code) == ({}, None)


def test_a_code_on_another_status_is_not_an_error() -> None:
    update = parse_status(status_event("delivered", {"ts": 1700000000, "code": 5}))
    assert (update.error, update.error_code) == (None, None)


@pytest.mark.parametrize(
    ("ids", "expected"),
    [
        ({"gsId": "gs-9", "id": "wa-9"}, ("gs-9", "wa-9")),
        ({"gsId": "gs-9"}, ("gs-9", None)),
        ({"gsId": "gs-9", "id": ""}, ("gs-9", None)),
        ({"gsId": None, "id": "wa-9"}, ("wa-9", None)),
        ({"gsId": "", "id": "wa-9"}, ("wa-9", None)),
        ({"id": "wa-9"}, ("wa-9", None)),
    ],
)
def test_the_message_is_found_by_gs_id_then_id(
    ids: dict[str, Any], expected: tuple[str, str | None]
) -> None:
    body = status_event("read")
    del body["payload"]["id"], body["payload"]["gsId"]
    body["payload"].update(ids)
    update = parse_status(body)
    assert (update.provider_message_id, update.fallback_id) == expected


@pytest.mark.parametrize(
    ("details", "timestamp", "expected"),
    [
        ({"ts": 1700000000}, 1, datetime(2023, 11, 14, 22, 13, 20)),
        ({"ts": "1700000000"}, 1, datetime(2023, 11, 14, 22, 13, 20)),
        ({"ts": 1700000000.5}, 1, datetime(2023, 11, 14, 22, 13, 20, 500000)),
        ({"ts": 1700000000123}, 1, datetime(2023, 11, 14, 22, 13, 20, 123000)),  # ms
        ({}, 1700000005000, datetime(2023, 11, 14, 22, 13, 25)),  # the envelope's (ms)
        ({"ts": None}, 1700000005000, datetime(2023, 11, 14, 22, 13, 25)),
        ({}, None, None),
    ],
)
def test_when_the_status_happened(
    details: dict[str, Any], timestamp: int | None, expected: datetime | None
) -> None:
    body = status_event("sent", details)
    if timestamp is None:
        del body["timestamp"]
    else:
        body["timestamp"] = timestamp
    assert parse_status(body).at == expected


def test_parse_status_names_its_provider() -> None:
    assert parse_status(status_event("sent"), provider="gupshup-enterprise").provider == (
        "gupshup-enterprise"
    )


def _status_without(*keys: str) -> dict[str, Any]:
    body = status_event("sent")
    for key in keys:
        del body["payload"][key]
    return body


BAD_STATUSES: list[tuple[str, Any, str]] = [
    ("a list", [], "The body must be a JSON object, not a list"),
    (
        "a message",
        {"type": "message", "payload": {}},
        "type must be 'message-event' (a status callback), not 'message'",
    ),
    ("no type", {"payload": {}}, "type must be 'message-event' (a status callback), not null"),
    ("no payload", {"type": "message-event"}, "payload is missing"),
    (
        "payload a list",
        {"type": "message-event", "payload": []},
        "payload must be an object, not a list",
    ),
    ("no status", _status_without("type"), "payload.type is missing"),
    (
        "status a number",
        status_event("sent", type=3),
        "payload.type must be a string, not a number",
    ),
    (
        "an unknown status",
        status_event("deleted"),
        "payload.type must be one of enqueued, sent, delivered, read, failed, not 'deleted'",
    ),
    ("no ids", _status_without("gsId", "id"), "payload.id is missing"),
    ("no gsId, blank id", status_event("sent", gsId=None, id=" "), "payload.id must not be empty"),
    (
        "gsId a number",
        status_event("sent", gsId=5),
        "payload.gsId must be a string or null, not a number",
    ),
    (
        "id a list",
        status_event("sent", id=["x"]),
        "payload.id must be a string or null, not a list",
    ),
    (
        "gsId too long",
        status_event("sent", gsId="g" * 256),
        "payload.gsId is longer than 255 characters",
    ),
    ("id too long", status_event("sent", id="w" * 256), "payload.id is longer than 255 characters"),
    (
        "only id, too long",
        status_event("sent", gsId=None, id="w" * 256),
        "payload.id is longer than 255 characters",
    ),
    (
        "details a string",
        status_event("sent", "x"),
        "payload.payload must be an object or null, not a string",
    ),
    (
        "ts a word",
        status_event("sent", {"ts": "soon"}),
        "payload.payload.ts must be a unix time in seconds, not 'soon'",
    ),
    (
        "ts true",
        status_event("sent", {"ts": True}),
        "payload.payload.ts must be a unix time in seconds, not a boolean",
    ),
    (
        "ts negative text",
        status_event("sent", {"ts": "-5"}),
        "payload.payload.ts must be a unix time in seconds, not '-5'",
    ),
    (
        "ts huge",
        status_event("sent", {"ts": 10**30}),
        "payload.payload.ts is not a time this server can represent",
    ),
    (
        "code a list",
        status_event("failed", {"code": [1]}),
        "payload.payload.code must be a number or a string, not a list",
    ),
    (
        "code a fraction",
        status_event("failed", {"code": 1.5}),
        "payload.payload.code must be a whole number or a string, not 1.5",
    ),
    (
        "timestamp a string",
        {**status_event("sent", {}), "timestamp": "now"},
        "timestamp must be a number of milliseconds, not a string",
    ),
]


@pytest.mark.parametrize(
    ("body", "expected"),
    [(b, e) for _, b, e in BAD_STATUSES],
    ids=[n for n, *_ in BAD_STATUSES],
)
def test_bad_statuses_say_what_is_wrong(body: Any, expected: str) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_status(body)
    assert caught.value.message == expected


# --- user-event -------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "opted_in"), [("opted-in", True), ("opted-out", False)])
def test_user_event(kind: str, opted_in: bool) -> None:
    event = parse_user_event(user_event(kind, phone=" 919800000001 "))
    assert event.phone == "919800000001"
    assert event.opted_in is opted_in
    assert event.provider == "gupshup"
    assert event.at == datetime(2023, 11, 14, 22, 13, 20)


def test_user_event_without_timestamp() -> None:
    body = user_event("opted-in")
    del body["timestamp"]
    assert parse_user_event(body).at is None


BAD_USER_EVENTS: list[tuple[str, Any, str]] = [
    ("a string", "opted-in", "The body must be a JSON object, not a string"),
    (
        "a status",
        status_event("sent"),
        "type must be 'user-event' (a user event), not 'message-event'",
    ),
    ("no payload", {"type": "user-event"}, "payload is missing"),
    ("no kind", {"type": "user-event", "payload": {"phone": "91"}}, "payload.type is missing"),
    (
        "an unknown kind",
        user_event("sandbox-start"),
        "payload.type must be 'opted-in' or 'opted-out', not 'sandbox-start'",
    ),
    (
        "no phone",
        {"type": "user-event", "payload": {"type": "opted-in"}},
        "payload.phone is missing",
    ),
    ("blank phone", user_event("opted-in", phone=""), "payload.phone must not be empty"),
    (
        "phone a number",
        user_event("opted-out", phone=91),
        "payload.phone must be a string, not a number",
    ),
    (
        "phone too long",
        user_event("opted-out", phone="9" * 256),
        "payload.phone is longer than 255 characters",
    ),
]


@pytest.mark.parametrize(
    ("body", "expected"),
    [(b, e) for _, b, e in BAD_USER_EVENTS],
    ids=[n for n, *_ in BAD_USER_EVENTS],
)
def test_bad_user_events_say_what_is_wrong(body: Any, expected: str) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_user_event(body)
    assert caught.value.message == expected


# --- form response (nfm_reply) ----------------------------------------------------------------


def test_form_response() -> None:
    parsed = parse_form_response(form_body())
    assert parsed.phone == "919800000001"
    assert parsed.sender_name == "Ravi"
    assert parsed.provider_message_id == "wamid.form-1"
    assert parsed.provider == "gupshup"
    assert parsed.sent_at == datetime(2023, 11, 14, 22, 13, 20)
    assert parsed.context_id == "gs-form-1"  # Gupshup's id of the form we sent
    assert parsed.input.type == "whatsapp_form_response"
    assert parsed.input.text == "Sent"
    assert parsed.input.form_response == ANSWERS


def test_form_response_context_falls_back_to_the_short_id() -> None:
    body = form_body(form_message(context={"id": "short-1"}))
    assert parse_form_response(body).context_id == "short-1"
    assert parse_form_response(form_body(form_message(context=None))).context_id is None


def test_form_response_sender_without_a_contact_has_no_name() -> None:
    assert parse_form_response(form_body(contacts=[])).sender_name is None
    other = [{"profile": {"name": "Asha"}, "wa_id": "919800000002"}]
    assert parse_form_response(form_body(contacts=other)).sender_name is None


def test_form_response_without_body_text() -> None:
    message = form_message()
    del message["interactive"]["nfm_reply"]["body"]
    assert parse_form_response(form_body(message)).input.text == ""


def test_only_the_first_message_is_read() -> None:
    second = form_message(id="wamid.form-2")
    parsed = parse_form_response(form_body(form_message(), second))
    assert parsed.provider_message_id == "wamid.form-1"


def _form_with(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """form_body() with the first message's field at `path` set (or removed, for ...)."""
    message = form_message()
    node = message
    for key in path[:-1]:
        node = node[key]
    if value is ...:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return form_body(message)


M = "entry[0].changes[0].value.messages[0]"
NFM = f"{M}.interactive.nfm_reply"
BAD_FORMS: list[tuple[str, Any, str]] = [
    ("a list", [form_body()], "The body must be a JSON object, not a list"),
    ("no entry", {}, "entry is missing"),
    ("entry an object", {"entry": {}}, "entry must be a list, not an object"),
    ("entry empty", {"entry": []}, "entry is empty"),
    ("entry of strings", {"entry": ["x"]}, "entry[0] must be an object, not a string"),
    ("no changes", {"entry": [{}]}, "entry[0].changes is missing"),
    ("no value", {"entry": [{"changes": [{}]}]}, "entry[0].changes[0].value is missing"),
    (
        "no messages",
        {"entry": [{"changes": [{"value": {}}]}]},
        "entry[0].changes[0].value.messages is missing",
    ),
    ("no sender", _form_with(("from",), ...), f"{M}.from is missing"),
    ("no id", _form_with(("id",), ...), f"{M}.id is missing"),
    ("no timestamp", _form_with(("timestamp",), ...), f"{M}.timestamp is missing"),
    (
        "context a list",
        _form_with(("context",), []),
        f"{M}.context must be an object or null, not a list",
    ),
    ("a text", _form_with(("type",), "text"), f"{M}.text is missing"),
    (
        "a button reply",
        _form_with(("interactive",), {"type": "button_reply", "button_reply": {"title": "Yes"}}),
        f"{M} is not a form response (interactive nfm_reply)",
    ),
    (
        "no response",
        _form_with(("interactive", "nfm_reply", "response_json"), ...),
        f"{NFM}.response_json is missing",
    ),
    (
        "response not JSON",
        _form_with(("interactive", "nfm_reply", "response_json"), "{oops"),
        f"{NFM}.response_json is not valid JSON: "
        "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
    ),
    (
        "response a list",
        _form_with(("interactive", "nfm_reply", "response_json"), "[1]"),
        f"{NFM}.response_json must hold a JSON object, not a list",
    ),
    (
        "response a number",
        _form_with(("interactive", "nfm_reply", "response_json"), 5),
        f"{NFM}.response_json must hold a JSON object, not a number",
    ),
    (
        "body a number",
        _form_with(("interactive", "nfm_reply", "body"), 1),
        f"{NFM}.body must be a string or null, not a number",
    ),
    (
        "contact without wa_id",
        form_body(contacts=[{"profile": {"name": "Ravi"}}]),
        "entry[0].changes[0].value.contacts[0].wa_id is missing",
    ),
]


@pytest.mark.parametrize(
    ("body", "expected"), [(b, e) for _, b, e in BAD_FORMS], ids=[n for n, *_ in BAD_FORMS]
)
def test_bad_form_responses_say_what_is_wrong(body: Any, expected: str) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_form_response(body)
    assert caught.value.message == expected


def test_the_parsers_do_not_change_their_input() -> None:
    cases: list[tuple[Callable[[Any], object], dict[str, Any]]] = [
        (parse_status, status_event("failed", {"code": 1002})),
        (parse_user_event, user_event("opted-in")),
        (parse_form_response, form_body()),
    ]
    for parse, body in cases:
        before = copy.deepcopy(body)
        parse(body)
        assert body == before


# --- Glific's reference payloads ----------------------------------------------------------------

SENT = datetime(2020, 6, 16, 12, 50, 36)  # the samples' payload.payload.ts
OPTED = datetime(2020, 6, 19, 9, 42, 52, 322000)  # the user events' timestamp (ms)

# What each reference payload must read as (the files' own values). Every file in the folder
# is routed and parsed by test_every_reference_payload_is_routed_and_parses, listed or not.
EXPECTED: dict[str, tuple[str, dict[str, Any]]] = {
    **{
        f"message_event_{status}.json": (
            "message-event",
            {
                "status": status,
                "provider_message_id": "853bab23-0963-42c7-8436-7fe4f5866c76",
                "fallback_id": "gBEGkZkXRDmUAgl5FpzpjNgI5Co",
                "at": SENT,
                "error": None,
                "error_code": None,
            },
        )
        for status in ("enqueued", "sent", "delivered", "read")
    },
    "message_event_failed.json": (
        "message-event",
        {
            "status": "failed",
            "provider_message_id": "853bab23-0963-42c7-8436-7fe4f5866c76",
            "at": SENT,  # its ts is a string
            "error": {"ts": "1592311836", "code": 1002},
            "error_code": "1002",
        },
    ),
    "user_event_opted_in.json": (
        "user-event",
        {"phone": "919917443994", "opted_in": True, "at": OPTED},
    ),
    "user_event_opted_out.json": (
        "user-event",
        {"phone": "919917443994", "opted_in": False, "at": OPTED},
    ),
    "whatsapp_form_response_nfm_reply.json": (
        "form-response",
        {
            "phone": "919917443994",
            "sender_name": "Smit",
            "provider_message_id": "wamid.HBgMOTE5NDI1MDEwNDQ5FQIAEhgUM0E3MzZCRDU0NTNCRTIxQUFFMzkA",
            "context_id": "0e74fb92-eb8a-415a-bccd-42ee768665e0",
            "sent_at": datetime(2025, 11, 13, 6, 33, 25),
        },
    ),
    "message_text.json": ("message", {"phone": "919917443994"}),
    "simulator_text.json": ("message", {"phone": "9876543210_1"}),
    "message_button_reply.json": ("message", {"phone": "9876543210_1"}),
    "message_list_reply.json": ("message", {"phone": "919917443994"}),
    "message_image.json": ("message", {"phone": "919917443994"}),
    "message_audio.json": ("message", {"phone": "919917443994"}),
    "message_location.json": ("message", {"phone": "919917443994"}),
}
APPS = {
    "message_event_sent.json": "Glific App",
    "user_event_opted_in.json": "TidesTestApi",
    "message_text.json": "Glific Mock App",
    "simulator_text.json": None,
    "whatsapp_form_response_nfm_reply.json": None,
}
PARSERS: dict[str, Any] = {
    "message": parse_message,
    "message-event": parse_status,
    "user-event": parse_user_event,
    "form-response": parse_form_response,
}


def _reference(name: str) -> Any:
    path = require_reference("webhooks/gupshup") / name
    if not path.is_file():
        pytest.fail(f"{path} is missing from the reference data")
    return json.loads(path.read_text(encoding="utf-8"))


def test_every_reference_payload_is_routed_and_parses() -> None:
    folder = require_reference("webhooks/gupshup")
    paths: list[Path] = sorted(folder.glob("*.json"))
    if not paths:
        pytest.fail(f"no Gupshup payloads in {folder}")
    for path in paths:
        body = json.loads(path.read_text(encoding="utf-8"))
        kind = callback_kind(body)
        assert kind != "ignored", path.name
        PARSERS[kind](body)  # raises on anything it cannot read
        app_name(body)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_reference_payload(name: str) -> None:
    body = _reference(name)
    kind, values = EXPECTED[name]
    assert callback_kind(body) == kind
    parsed = PARSERS[kind](body)
    for key, value in values.items():
        assert getattr(parsed, key) == value, (name, key)
    if kind != "message-event":
        assert parsed.provider == "gupshup"


@pytest.mark.parametrize("name", sorted(APPS))
def test_reference_app_name(name: str) -> None:
    assert app_name(_reference(name)) == APPS[name]


def test_reference_form_response_answers() -> None:
    parsed = parse_form_response(_reference("whatsapp_form_response_nfm_reply.json"))
    assert parsed.input.type == "whatsapp_form_response"
    assert parsed.input.text == "Sent"
    assert parsed.input.form_response == {
        "screen_1_Purchase_experience_0": "0_Excellent",
        "screen_1_Delivery_and_setup_1": "2_Average",
        "screen_0_Choose_one_0": "0_Yes",
        "flow_token": "unused",
        "screen_1_Customer_service_2": "0_Excellent",
    }
