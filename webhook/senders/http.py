"""What the provider transports share: the one POST they make and how its answer becomes a
`SendResult`, so Gupshup and Meta classify timeouts, 5xx, 429 and 4xx the same way.

- a timeout, a connection error, 5xx or 429 -> `retry` (`retry_after` from a numeric
  `Retry-After` header);
- 2xx with the provider's message id -> `sent`; 2xx without one -> `failed` with the body;
- any other answer -> `failed`, `error` being the provider's JSON body (or its status and
  the start of its text).

Nothing here raises for what a provider does: every answer is a result.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import Any

import httpx2

from resolvers.delivery import OutboundMessage, SendResult

# WhatsApp's limit as Glific enforces it: a text or caption must be shorter than this.
MAX_TEXT_LENGTH = 4096
MAX_ERROR_TEXT = 1000
# A body larger than this is not decoded into `error` (the column it lands in is JSON).
MAX_ERROR_JSON_BYTES = 64 * 1024
MEDIA_TYPES = frozenset({"image", "audio", "video", "document", "sticker"})
CAPTIONED_TYPES = frozenset({"image", "video", "document"})

# Reads the provider's message id out of a decoded 2xx body (None when there is none).
IdReader = Callable[[Any], str | None]


class Unsendable(Exception):
    """A message this provider cannot carry; the text is the reason in the failed result."""


def failed(reason: str) -> SendResult:
    return SendResult("failed", error={"message": reason})


def check_length(message: OutboundMessage) -> None:
    """Glific's size rule: a text body, or a media caption, of 4096 characters or more."""
    text = message.body if message.type == "text" else message.caption
    if text is not None and len(text) >= MAX_TEXT_LENGTH:
        raise Unsendable(
            f"the {'text' if message.type == 'text' else 'caption'} is {len(text)} characters"
            f" long; WhatsApp takes fewer than {MAX_TEXT_LENGTH}"
        )


def media_url(message: OutboundMessage) -> str:
    if not message.media_url:
        raise Unsendable(f"a {message.type} message needs a media_url")
    return message.media_url


async def post(
    client: httpx2.AsyncClient,
    url: str,
    read_id: IdReader,
    *,
    headers: Mapping[str, str],
    data: Mapping[str, str] | None = None,
    json_body: Any = None,
) -> SendResult:
    """Make the one request and classify what came back (or did not)."""
    try:
        response = await client.post(url, headers=dict(headers), data=data, json=json_body)
    except (httpx2.TimeoutException, httpx2.NetworkError, httpx2.RemoteProtocolError) as exc:
        return SendResult("retry", error=_exception_error(exc))
    except (httpx2.RequestError, httpx2.InvalidURL) as exc:
        # A bad api_url or proxy: trying again would not help.
        return SendResult("failed", error=_exception_error(exc))
    return classify(response, read_id)


def classify(response: httpx2.Response, read_id: IdReader) -> SendResult:
    status = response.status_code
    if 200 <= status < 300:
        provider_id = read_id(_decoded(response))
        if provider_id:
            return SendResult("sent", provider_message_id=provider_id)
        return SendResult("failed", error=response_error(response))
    if status == 429 or status >= 500:
        return SendResult(
            "retry", error=response_error(response), retry_after=retry_after(response)
        )
    return SendResult("failed", error=response_error(response))


def retry_after(response: httpx2.Response) -> float | None:
    """`Retry-After` in seconds; the HTTP-date form and nonsense are ignored."""
    try:
        seconds = float(response.headers.get("retry-after", ""))
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def response_error(response: httpx2.Response) -> dict[str, Any]:
    decoded = _decoded(response)
    if isinstance(decoded, dict):
        return decoded
    if decoded is not None:
        return {"status": response.status_code, "body": decoded}
    return {"status": response.status_code, "body": response.text[:MAX_ERROR_TEXT]}


def _decoded(response: httpx2.Response) -> Any:
    """The body as JSON, or None when it is not JSON (or too large to keep)."""
    if not response.content or len(response.content) > MAX_ERROR_JSON_BYTES:
        return None
    try:
        return json.loads(response.content)
    except ValueError:
        return None


def _exception_error(exc: Exception) -> dict[str, Any]:
    return {"message": str(exc) or type(exc).__name__, "exception": type(exc).__name__}
