"""The Gupshup and Meta transports (`webhook/senders/`) against a fake provider over real HTTP
(`tests/utils/fake_provider.py`): the request each message type makes, and how each answer
(success, timeout, 5xx, 429, 4xx, a refused connection) becomes a `SendResult` (spec §5)."""

from __future__ import annotations

import asyncio
import json
import socket
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx2
import pytest

from resolvers.delivery import (
    GupshupCredentials,
    MetaCredentials,
    OutboundMessage,
    SendResult,
    Transport,
    transport_for,
)
from tests.utils.fake_provider import FakeProvider, FakeRequest, Reply
from webhook.senders import gupshup, meta, register_all

PHONE = "919812345678"
CLIENT_TIMEOUT = 0.3  # what "timeout" steps outlast; the fake sleeps far longer

QUICK_REPLY: dict[str, Any] = {
    "type": "quick_reply",
    "content": {"type": "text", "header": "Glific", "text": "Are you excited?"},
    "options": [
        {"type": "text", "title": "Yes"},
        {"type": "text", "title": "No"},
        {"type": "text", "title": "A title longer than twenty characters"},
    ],
}
LIST: dict[str, Any] = {
    "type": "list",
    "title": "Courses",
    "body": "Pick a course",
    "globalButtons": [{"type": "text", "title": "See the course list please"}],
    "items": [
        {
            "title": "Science and mathematics courses",
            "subtitle": "STEM",
            "options": [
                {"type": "text", "title": "Physics", "description": "Motion, energy " * 8},
                {"type": "text", "title": "A row title over 24 characters long"},
            ],
        },
        {
            "title": "Arts",
            "subtitle": "Arts",
            "options": [{"type": "text", "title": "Music", "description": "Notes"}],
        },
    ],
}


@pytest.fixture(scope="module")
def provider_server() -> Iterator[FakeProvider]:
    with FakeProvider(timeout_sleep=10) as fake:
        yield fake


@pytest.fixture
def fake(provider_server: FakeProvider) -> FakeProvider:
    provider_server.reset()
    return provider_server


def message(kind: str, **fields: Any) -> OutboundMessage:
    return OutboundMessage(uuid=str(uuid.uuid4()), destination=PHONE, type=kind, **fields)


def deliver(
    transport: Transport,
    credentials: GupshupCredentials | MetaCredentials,
    outbound: OutboundMessage,
    *,
    timeout: float = 5.0,
) -> SendResult:
    async def go() -> SendResult:
        async with httpx2.AsyncClient(timeout=timeout) as client:
            return await transport(client, credentials, outbound)

    return asyncio.run(go())


def only_request(fake: FakeProvider) -> FakeRequest:
    requests = fake.requests
    assert len(requests) == 1, requests
    return requests[0]


# --- registry ------------------------------------------------------------------------------


def test_register_all_registers_both_transports_idempotently() -> None:
    register_all()
    register_all()
    assert transport_for("gupshup") is gupshup.send
    assert transport_for("meta") is meta.send


# --- Gupshup: the request ------------------------------------------------------------------


def test_gupshup_text_request_and_success(fake: FakeProvider) -> None:
    outbound = message("text", body="नमस्ते, see https://glific.org")
    result = deliver(gupshup.send, fake.gupshup_credentials(), outbound)

    sent = only_request(fake)
    assert (sent.method, sent.path) == ("POST", "/wa/api/v1/msg")
    assert sent.headers["apikey"] == "gupshup-test-key"
    assert sent.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert sent.form is not None
    assert {k: v for k, v in sent.form.items() if k != "message"} == {
        "channel": "whatsapp",
        "source": "919900000001",
        "src.name": "glific-test-app",
        "destination": PHONE,
    }
    assert sent.message == {
        "type": "text",
        "text": "नमस्ते, see https://glific.org",
        "isHSM": False,
        "previewUrl": True,
        "msgid": outbound.uuid,
    }
    assert sent.status == 202
    assert result == SendResult("sent", provider_message_id=sent.reply["messageId"])


@pytest.mark.parametrize(
    ("kind", "fields", "expected"),
    [
        (
            "image",
            {"media_url": "https://m.test/a.png", "caption": "A cat"},
            {
                "type": "image",
                "originalUrl": "https://m.test/a.png",
                "previewUrl": "https://m.test/a.png",
                "caption": "A cat",
            },
        ),
        (
            "audio",
            {"media_url": "https://m.test/a.ogg"},
            {"type": "audio", "url": "https://m.test/a.ogg"},
        ),
        (
            "video",
            {"media_url": "https://m.test/a.mp4", "caption": "Watch"},
            {"type": "video", "url": "https://m.test/a.mp4", "caption": "Watch"},
        ),
        (
            "video",
            {"media_url": "https://m.test/a.mp4"},
            {"type": "video", "url": "https://m.test/a.mp4", "caption": ""},
        ),
        (
            "document",
            {"media_url": "https://m.test/a.pdf", "filename": "report.pdf"},
            {"type": "file", "url": "https://m.test/a.pdf", "filename": "report.pdf"},
        ),
        (
            "sticker",
            {"media_url": "https://m.test/a.webp"},
            {"type": "sticker", "url": "https://m.test/a.webp"},
        ),
    ],
)
def test_gupshup_media_message_json(
    fake: FakeProvider, kind: str, fields: dict[str, Any], expected: dict[str, Any]
) -> None:
    outbound = message(kind, **fields)
    result = deliver(gupshup.send, fake.gupshup_credentials(), outbound)
    assert only_request(fake).message == {**expected, "msgid": outbound.uuid}
    assert result.outcome == "sent"


@pytest.mark.parametrize("content", [QUICK_REPLY, LIST], ids=["quick_reply", "list"])
def test_gupshup_interactive_goes_as_glific_stores_it(
    fake: FakeProvider, content: dict[str, Any]
) -> None:
    outbound = message(content["type"], interactive=content)
    result = deliver(gupshup.send, fake.gupshup_credentials(), outbound)
    assert only_request(fake).message == {**content, "msgid": outbound.uuid}
    assert result.outcome == "sent"


def test_gupshup_2xx_without_message_id_is_failed_with_the_body(fake: FakeProvider) -> None:
    body = {"status": "error", "message": "Invalid App Details"}
    fake.script([Reply(200, body)])
    result = deliver(gupshup.send, fake.gupshup_credentials(), message("text", body="Hi"))
    assert result == SendResult("failed", error=body)


# --- Gupshup and Meta: messages refused without a request -----------------------------------


@pytest.mark.parametrize("transport", [gupshup.send, meta.send], ids=["gupshup", "meta"])
@pytest.mark.parametrize(
    ("outbound", "reason"),
    [
        (message("text", body="x" * 4096), "4096"),
        (message("image", media_url="https://m.test/a.png", caption="y" * 5000), "4096"),
        (message("poll", body="?"), "poll"),
        (message("image"), "media_url"),
        (message("quick_reply", body="Pick"), "interactive"),
    ],
    ids=["long-text", "long-caption", "unknown-type", "no-media-url", "no-interactive"],
)
def test_unsendable_message_fails_without_a_request(
    fake: FakeProvider, transport: Transport, outbound: OutboundMessage, reason: str
) -> None:
    credentials = (
        fake.gupshup_credentials() if transport is gupshup.send else fake.meta_credentials()
    )
    result = deliver(transport, credentials, outbound)
    assert result.outcome == "failed"
    assert result.error is not None and reason in result.error["message"]
    assert fake.requests == []


@pytest.mark.parametrize("transport", [gupshup.send, meta.send], ids=["gupshup", "meta"])
def test_text_just_under_the_limit_is_sent(fake: FakeProvider, transport: Transport) -> None:
    credentials = (
        fake.gupshup_credentials() if transport is gupshup.send else fake.meta_credentials()
    )
    result = deliver(transport, credentials, message("text", body="x" * 4095))
    assert result.outcome == "sent"
    assert len(fake.requests) == 1


# --- Gupshup and Meta: classifying the answer ----------------------------------------------


@pytest.fixture(params=["gupshup", "meta"])
def provider(request: pytest.FixtureRequest, fake: FakeProvider) -> tuple[Transport, Any]:
    if request.param == "gupshup":
        return gupshup.send, fake.gupshup_credentials()
    return meta.send, fake.meta_credentials()


def test_timeout_is_retry(fake: FakeProvider, provider: tuple[Transport, Any]) -> None:
    fake.script(["timeout"])
    started = time.monotonic()
    result = deliver(*provider, message("text", body="Hi"), timeout=CLIENT_TIMEOUT)
    assert time.monotonic() - started < 3
    assert result.outcome == "retry"
    assert result.retry_after is None
    assert result.error is not None and "Timeout" in result.error["exception"]
    assert len(fake.requests) == 1


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_retry_with_the_provider_error(
    fake: FakeProvider, provider: tuple[Transport, Any], status: int
) -> None:
    fake.script([status])
    result = deliver(*provider, message("text", body="Hi"))
    assert result == SendResult("retry", error=only_request(fake).reply)
    assert result.error


@pytest.mark.parametrize(
    ("status", "header", "expected"),
    [
        (429, {"Retry-After": "7"}, 7.0),
        (429, {"Retry-After": "1.5"}, 1.5),
        (429, {}, None),
        (429, {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, None),
        (503, {"Retry-After": "12"}, 12.0),
    ],
)
def test_429_and_5xx_carry_retry_after(
    fake: FakeProvider,
    provider: tuple[Transport, Any],
    status: int,
    header: dict[str, str],
    expected: float | None,
) -> None:
    fake.script([Reply(status, {"error": "slow down"}, headers=header)])
    result = deliver(*provider, message("text", body="Hi"))
    assert result.outcome == "retry"
    assert result.retry_after == expected
    assert result.error == {"error": "slow down"}


@pytest.mark.parametrize("status", [400, 401, 404])
def test_4xx_is_failed_with_the_provider_error(
    fake: FakeProvider, provider: tuple[Transport, Any], status: int
) -> None:
    fake.script([status])
    result = deliver(*provider, message("text", body="Hi"))
    assert result.outcome == "failed"
    assert result.error == only_request(fake).reply
    assert result.retry_after is None
    json.dumps(result.error)


def test_4xx_that_is_not_json_keeps_status_and_text(
    fake: FakeProvider, provider: tuple[Transport, Any]
) -> None:
    fake.script([Reply(403, text="<html>" + "denied " * 500)])
    result = deliver(*provider, message("text", body="Hi"))
    assert result.outcome == "failed"
    assert result.error is not None
    assert result.error["status"] == 403
    assert result.error["body"].startswith("<html>denied")
    assert len(result.error["body"]) == 1000
    json.dumps(result.error)


def test_a_json_array_error_is_wrapped(fake: FakeProvider, provider: tuple[Transport, Any]) -> None:
    fake.script([Reply(422, ["bad", "request"])])
    result = deliver(*provider, message("text", body="Hi"))
    assert result == SendResult("failed", error={"status": 422, "body": ["bad", "request"]})


def test_refused_connection_is_retry(provider: tuple[Transport, Any]) -> None:
    transport, credentials = provider
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    result = deliver(
        transport, replace(credentials, api_url=closed_url), message("text", body="Hi")
    )
    assert result.outcome == "retry"
    assert result.error is not None
    json.dumps(result.error)


def test_scripted_failures_then_success(
    fake: FakeProvider, provider: tuple[Transport, Any]
) -> None:
    fake.script(["timeout", 500, 429, 400])
    outcomes = [
        deliver(*provider, message("text", body=f"Hi {i}"), timeout=CLIENT_TIMEOUT).outcome
        for i in range(5)
    ]
    assert outcomes == ["retry", "retry", "retry", "failed", "sent"]
    statuses = [r.status for r in fake.requests]
    assert statuses[:4] == [None, 500, 429, 400]
    assert statuses[4] in {200, 202}


# --- Meta: the request ---------------------------------------------------------------------


def meta_body(payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": PHONE,
        **payload,
    }


def test_meta_text_request_and_success(fake: FakeProvider) -> None:
    credentials = fake.meta_credentials(phone_number_id="555000111", api_version="v19.0")
    outbound = message("text", body="नमस्ते https://glific.org")
    result = deliver(meta.send, credentials, outbound)

    sent = only_request(fake)
    assert (sent.method, sent.path) == ("POST", "/v19.0/555000111/messages")
    assert sent.headers["authorization"] == "Bearer meta-test-token"
    assert sent.headers["content-type"].startswith("application/json")
    assert sent.json == meta_body(
        {"type": "text", "text": {"body": "नमस्ते https://glific.org", "preview_url": True}},
    )
    assert result == SendResult("sent", provider_message_id=sent.reply["messages"][0]["id"])
    assert result.provider_message_id is not None
    assert result.provider_message_id.startswith("wamid.")


@pytest.mark.parametrize(
    ("kind", "fields", "media"),
    [
        (
            "image",
            {"media_url": "https://m.test/a.png", "caption": "A cat"},
            {"link": "https://m.test/a.png", "caption": "A cat"},
        ),
        ("image", {"media_url": "https://m.test/a.png"}, {"link": "https://m.test/a.png"}),
        (
            "audio",
            {"media_url": "https://m.test/a.ogg", "caption": "dropped"},
            {"link": "https://m.test/a.ogg"},
        ),
        (
            "video",
            {"media_url": "https://m.test/a.mp4", "caption": "Watch"},
            {"link": "https://m.test/a.mp4", "caption": "Watch"},
        ),
        (
            "document",
            {"media_url": "https://m.test/a.pdf", "caption": "Q3", "filename": "report.pdf"},
            {"link": "https://m.test/a.pdf", "caption": "Q3", "filename": "report.pdf"},
        ),
        ("sticker", {"media_url": "https://m.test/a.webp"}, {"link": "https://m.test/a.webp"}),
    ],
)
def test_meta_media_body(
    fake: FakeProvider, kind: str, fields: dict[str, Any], media: dict[str, Any]
) -> None:
    outbound = message(kind, **fields)
    result = deliver(meta.send, fake.meta_credentials(), outbound)
    assert only_request(fake).json == meta_body({"type": kind, kind: media})
    assert result.outcome == "sent"


def test_meta_quick_reply_is_a_button_message(fake: FakeProvider) -> None:
    outbound = message("quick_reply", interactive=QUICK_REPLY)
    result = deliver(meta.send, fake.meta_credentials(), outbound)
    buttons = [
        {"type": "reply", "reply": {"id": f"{outbound.uuid}-{i}", "title": title}}
        for i, title in enumerate(["Yes", "No", "A title longer than "])
    ]
    interactive = {
        "type": "button",
        "body": {"text": "Are you excited?"},
        "header": {"type": "text", "text": "Glific"},
        "action": {"buttons": buttons},
    }
    assert only_request(fake).json == meta_body({"type": "interactive", "interactive": interactive})
    assert result.outcome == "sent"


def test_meta_quick_reply_with_media_uses_the_caption(fake: FakeProvider) -> None:
    content = {
        "type": "quick_reply",
        "content": {"type": "image", "url": "https://m.test/q.png", "caption": "Like it?"},
        "options": [{"type": "text", "title": "Yes"}],
    }
    outbound = message("quick_reply", interactive=content)
    deliver(meta.send, fake.meta_credentials(), outbound)
    interactive = only_request(fake).json["interactive"]
    assert interactive["body"] == {"text": "Like it?"}
    assert interactive["header"] == {"type": "image", "image": {"link": "https://m.test/q.png"}}
    assert interactive["action"]["buttons"][0]["reply"]["title"] == "Yes"


def test_meta_more_than_three_buttons_fails_without_a_request(fake: FakeProvider) -> None:
    options = [{"type": "text", "title": f"Option {i}"} for i in range(4)]
    outbound = message("quick_reply", interactive={**QUICK_REPLY, "options": options})
    result = deliver(meta.send, fake.meta_credentials(), outbound)
    assert result.outcome == "failed"
    assert result.error is not None
    assert "3" in result.error["message"] and "4" in result.error["message"]
    assert fake.requests == []


def test_meta_list_message(fake: FakeProvider) -> None:
    outbound = message("list", interactive=LIST)
    result = deliver(meta.send, fake.meta_credentials(), outbound)
    interactive = {
        "type": "list",
        "body": {"text": "Pick a course"},
        "header": {"type": "text", "text": "Courses"},
        "action": {
            "button": "See the course list ",
            "sections": [
                {
                    "title": "Science and mathematics ",
                    "rows": [
                        {
                            "id": f"{outbound.uuid}-0-0",
                            "title": "Physics",
                            "description": ("Motion, energy " * 8)[:72],
                        },
                        {"id": f"{outbound.uuid}-0-1", "title": "A row title over 24 char"},
                    ],
                },
                {
                    "title": "Arts",
                    "rows": [
                        {"id": f"{outbound.uuid}-1-0", "title": "Music", "description": "Notes"}
                    ],
                },
            ],
        },
    }
    assert only_request(fake).json == meta_body({"type": "interactive", "interactive": interactive})
    assert result.outcome == "sent"


def test_meta_list_over_ten_rows_fails_without_a_request(fake: FakeProvider) -> None:
    options = [{"type": "text", "title": f"Row {i}"} for i in range(11)]
    items = [{"title": "All", "subtitle": "All", "options": options}]
    result = deliver(
        meta.send, fake.meta_credentials(), message("list", interactive={**LIST, "items": items})
    )
    assert result.outcome == "failed"
    assert result.error is not None and "10" in result.error["message"]
    assert fake.requests == []


def test_meta_location_request(fake: FakeProvider) -> None:
    content = {
        "type": "location_request_message",
        "body": {"type": "text", "text": "Where are you?"},
        "action": {"name": "send_location"},
    }
    outbound = message("location_request_message", interactive=content)
    deliver(meta.send, fake.meta_credentials(), outbound)
    assert only_request(fake).json["interactive"] == {
        "type": "location_request_message",
        "body": {"text": "Where are you?"},
        "action": {"name": "send_location"},
    }


def test_meta_2xx_without_message_id_is_failed_with_the_body(fake: FakeProvider) -> None:
    body = {"messaging_product": "whatsapp", "messages": []}
    fake.script([Reply(200, body)])
    result = deliver(meta.send, fake.meta_credentials(), message("text", body="Hi"))
    assert result == SendResult("failed", error=body)
