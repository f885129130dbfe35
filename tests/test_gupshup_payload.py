"""The Gupshup v2 `message` parser (webhook.gupshup_payload): every kind of message on
payloads written here, bad and missing fields as a `PayloadError` that names the field, and
every reference `message` payload of Glific's (`webhooks/gupshup/` in the reference data,
read from there, never copied)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.utils.client_ops import require_reference
from webhook.gupshup_payload import PayloadError, parse_message


def message(kind: str, content: Any, **extra: Any) -> dict[str, Any]:
    """A Gupshup v2 message callback from 919800000001 ("Ravi")."""
    payload: dict[str, Any] = {
        "id": "wamid-1",
        "source": "919800000001",
        "type": kind,
        "payload": content,
        "sender": {"phone": "919800000001", "name": "Ravi", "country_code": "91"},
    }
    payload.update(extra)
    return {"app": "Test App", "timestamp": 1700000000000, "version": 2, "type": "message",
            "payload": payload}  # fmt: skip


# --- each kind of message -------------------------------------------------------------------


def test_text() -> None:
    parsed = parse_message(message("text", {"text": "Hello there"}))
    assert parsed.phone == "919800000001"
    assert parsed.sender_name == "Ravi"
    assert parsed.provider_message_id == "wamid-1"
    assert parsed.provider == "gupshup"
    assert parsed.sent_at == datetime(2023, 11, 14, 22, 13, 20)
    assert parsed.context_id is None
    assert parsed.input.type == "text"
    assert parsed.input.text == "Hello there"


def test_template_quick_reply_is_read_as_text() -> None:
    parsed = parse_message(message("quick_reply", {"text": "Yes", "type": "button"}))
    assert (parsed.input.type, parsed.input.text) == ("text", "Yes")


def test_button_reply() -> None:
    content = {"id": "node-uuid-1", "reply": "👍 1", "title": "👍"}
    parsed = parse_message(message("button_reply", content))
    assert parsed.input.type == "quick_reply"
    assert parsed.input.text == "👍"
    assert parsed.input.id == "node-uuid-1"
    assert parsed.input.interactive == content


def test_list_reply() -> None:
    content = {"title": "Row two", "id": "row-2", "reply": "Row two 2", "description": "d"}
    parsed = parse_message(message("list_reply", content))
    assert (parsed.input.type, parsed.input.text, parsed.input.id) == ("list", "Row two", "row-2")
    assert parsed.input.interactive == content


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("image", "image"),
        ("file", "document"),
        ("audio", "audio"),
        ("video", "video"),
        ("sticker", "sticker"),
    ],
)
def test_media(kind: str, expected: str) -> None:
    content = {"caption": "look", "url": "https://media.test/x", "urlExpiry": 1}
    parsed = parse_message(message(kind, content))
    assert parsed.input.type == expected
    assert parsed.input.media_url == "https://media.test/x"
    assert parsed.input.caption == "look"
    assert parsed.input.text == ""  # a media message has no body


def test_media_without_caption() -> None:
    parsed = parse_message(message("audio", {"caption": None, "url": "https://media.test/a"}))
    assert parsed.input.caption is None
    assert parse_message(message("image", {"url": "https://m.test/i"})).input.caption is None


def test_location() -> None:
    parsed = parse_message(message("location", {"longitude": 73.85, "latitude": 18.52}))
    assert parsed.input.type == "location"
    assert (parsed.input.latitude, parsed.input.longitude) == (18.52, 73.85)
    # Quoted numbers are numbers too.
    quoted = parse_message(message("location", {"longitude": "-0.1", "latitude": "51"}))
    assert (quoted.input.latitude, quoted.input.longitude) == (51.0, -0.1)


@pytest.mark.parametrize("kind", ["contact", "reaction", "order", "something_new"])
def test_unknown_kinds_are_unsupported(kind: str) -> None:
    parsed = parse_message(message(kind, {"anything": [1, 2]}))
    assert parsed.input.type == "unsupported"
    assert parsed.phone == "919800000001"
    # Their content is not read, so any shape (or none) will do.
    no_content = message(kind, None)
    del no_content["payload"]["payload"]
    assert parse_message(no_content).input.type == "unsupported"


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        ({"gsId": "gs-1", "id": "wa-1"}, "gs-1"),
        ({"gs_id": "gs-2", "id": "wa-2"}, "gs-2"),
        ({"gsId": None, "id": "wa-3"}, "wa-3"),
        ({"gsId": None, "id": ""}, None),
        ({}, None),
        (None, None),
    ],
)
def test_context_id(context: dict[str, Any] | None, expected: str | None) -> None:
    parsed = parse_message(message("text", {"text": "hi"}, context=context))
    assert parsed.context_id == expected


def test_the_simulator_shape_has_no_timestamp_and_names_its_provider() -> None:
    body = message("text", {"text": "hi"})
    del body["timestamp"], body["app"], body["version"]
    body["payload"]["sender"] = {"phone": "9876543210_1", "name": "Glific Simulator One"}
    parsed = parse_message(body, provider="simulator")
    assert (parsed.phone, parsed.provider, parsed.sent_at) == ("9876543210_1", "simulator", None)


def test_the_parser_does_not_change_its_input() -> None:
    body = message("button_reply", {"id": "x", "title": "Yes"})
    before = json.dumps(body, sort_keys=True)
    parse_message(body)
    assert json.dumps(body, sort_keys=True) == before


# --- what is wrong, said plainly --------------------------------------------------------------


def _without(body: dict[str, Any], *path: str) -> dict[str, Any]:
    node = body
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return body


def _with(body: dict[str, Any], value: Any, *path: str) -> dict[str, Any]:
    node = body
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return body


TEXT = ("text", {"text": "hi"})

BAD: list[tuple[str, Any, str]] = [
    ("a list", [1, 2], "The body must be a JSON object, not a list"),
    ("a string", "hello", "The body must be a JSON object, not a string"),
    ("null", None, "The body must be a JSON object, not null"),
    ("a status callback", {"type": "message-event", "payload": {}}, "type must be 'message'"),
    ("no type", {"payload": {}}, "type must be 'message' (a message callback), not null"),
    ("no payload", {"type": "message"}, "payload is missing"),
    ("a payload string", {"type": "message", "payload": "x"}, "payload must be an object"),
    ("no id", _without(message(*TEXT), "payload", "id"), "payload.id is missing"),
    ("empty id", _with(message(*TEXT), "", "payload", "id"), "payload.id must not be empty"),
    ("numeric id", _with(message(*TEXT), 7, "payload", "id"), "payload.id must be a string"),
    ("long id", _with(message(*TEXT), "x" * 300, "payload", "id"), "payload.id is longer"),
    ("no kind", _without(message(*TEXT), "payload", "type"), "payload.type is missing"),
    ("no sender", _without(message(*TEXT), "payload", "sender"), "payload.sender is missing"),
    (
        "sender is a string",
        _with(message(*TEXT), "919800000001", "payload", "sender"),
        "payload.sender must be an object, not a string",
    ),
    (
        "no sender phone",
        _without(message(*TEXT), "payload", "sender", "phone"),
        "payload.sender.phone is missing",
    ),
    (
        "blank sender phone",
        _with(message(*TEXT), " ", "payload", "sender", "phone"),
        "payload.sender.phone must not be empty",
    ),
    (
        "numeric sender phone",
        _with(message(*TEXT), 919800000001, "payload", "sender", "phone"),
        "payload.sender.phone must be a string, not a number",
    ),
    (
        "sender name a list",
        _with(message(*TEXT), ["R"], "payload", "sender", "name"),
        "payload.sender.name must be a string or null, not a list",
    ),
    ("no text", message("text", {}), "payload.payload.text is missing"),
    ("text a number", message("text", {"text": 5}), "payload.payload.text must be a string"),
    ("text content missing", _without(message(*TEXT), "payload", "payload"), "payload.payload is"),
    ("content a list", message("text", ["hi"]), "payload.payload must be an object, not a list"),
    ("button without title", message("button_reply", {"id": "x"}), "payload.payload.title is"),
    ("button id a number", message("button_reply", {"id": 3, "title": "t"}), "payload.payload.id"),
    ("list title a dict", message("list_reply", {"title": {}}), "payload.payload.title must be"),
    ("image without url", message("image", {"caption": "c"}), "payload.payload.url is missing"),
    ("file url a number", message("file", {"url": 1}), "payload.payload.url must be a string"),
    ("caption a number", message("video", {"url": "u", "caption": 2}), "payload.payload.caption"),
    ("no latitude", message("location", {"longitude": 1}), "payload.payload.latitude is missing"),
    (
        "latitude a word",
        message("location", {"longitude": 1, "latitude": "north"}),
        "payload.payload.latitude must be a number, not 'north'",
    ),
    (
        "latitude true",
        message("location", {"longitude": 1, "latitude": True}),
        "payload.payload.latitude must be a number, not a boolean",
    ),
    (
        "latitude out of range",
        message("location", {"longitude": 1, "latitude": 91}),
        "payload.payload.latitude must be between -90 and 90",
    ),
    (
        "longitude not finite",
        message("location", {"longitude": "nan", "latitude": 1}),
        "payload.payload.longitude must be between -180 and 180",
    ),
    (
        "context a string",
        message("text", {"text": "hi"}, context="gs-1"),
        "payload.context must be an object, not a string",
    ),
    (
        "context id a number",
        message("text", {"text": "hi"}, context={"gsId": 12}),
        "payload.context.gsId must be a string or null",
    ),
    ("timestamp a string", _with(message(*TEXT), "now", "timestamp"), "timestamp must be a number"),
    ("timestamp huge", _with(message(*TEXT), 10**30, "timestamp"), "timestamp is not a time"),
]


@pytest.mark.parametrize(
    ("body", "expected"), [(b, e) for _, b, e in BAD], ids=[n for n, *_ in BAD]
)
def test_bad_payloads_say_what_is_wrong(body: Any, expected: str) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_message(body)
    assert expected in caught.value.message
    assert str(caught.value) == caught.value.message


def test_payload_error_is_a_value_error() -> None:
    # Callers that treat any unreadable input alike may catch ValueError.
    with pytest.raises(ValueError):
        parse_message({})


# --- Glific's reference payloads ----------------------------------------------------------------


def _reference_messages() -> list[Path]:
    """The reference payloads of type `message`; skips (fails under CI) without them."""
    folder = require_reference("webhooks/gupshup")
    found = sorted(
        path
        for path in folder.glob("*.json")
        if json.loads(path.read_text(encoding="utf-8")).get("type") == "message"
    )
    if not found:
        pytest.fail(f"no Gupshup message payloads in {folder}")
    return found


# What each reference payload must read as (the files' own values); a new reference file is
# parsed by the generic test below without being listed here.
EXPECTED: dict[str, dict[str, Any]] = {
    "message_text.json": {"type": "text", "text": "Hi"},
    "simulator_text.json": {"type": "text", "text": "hello from the simulator"},
    "message_button_reply.json": {"type": "quick_reply", "text": "👍", "context_id": None},
    "message_list_reply.json": {"type": "list", "text": "section 1 row 1", "id": "list1"},
    "message_image.json": {"type": "image", "caption": "A sample caption"},
    "message_audio.json": {"type": "audio", "caption": None},
    "message_location.json": {"type": "location", "latitude": 28.6139, "longitude": 77.209},
}


def test_every_reference_message_parses() -> None:
    for path in _reference_messages():
        body = json.loads(path.read_text(encoding="utf-8"))
        parsed = parse_message(body)
        assert parsed.phone == body["payload"]["sender"]["phone"], path.name
        assert parsed.provider_message_id == body["payload"]["id"], path.name
        assert parsed.sender_name == body["payload"]["sender"].get("name"), path.name
        assert parsed.input.type != "unsupported", path.name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_reference_message(name: str) -> None:
    path = _reference_messages()[0].parent / name
    if not path.is_file():
        pytest.fail(f"{path} is missing from the reference data")
    parsed = parse_message(json.loads(path.read_text(encoding="utf-8")))
    for key, value in EXPECTED[name].items():
        actual = getattr(parsed, key) if key == "context_id" else getattr(parsed.input, key)
        assert actual == value, (name, key)
    if parsed.input.type in ("image", "audio"):
        assert parsed.input.media_url and parsed.input.media_url.startswith("https://")
    if name == "message_list_reply.json":
        # gsId wins over the WhatsApp id.
        assert parsed.context_id == "cbdafe39-1023-42a7-89d6-6c01a3388bb5"
        assert parsed.sent_at is not None
