"""What passes between the outbox (`resolvers`) and a provider's transport (`webhook/senders/`):
the message to deliver, the organization's credentials for that provider, and what the
provider answered. Transports register themselves by provider name; the outbox looks them up,
so resolvers never import webhook code.

A transport makes one HTTP request and classifies the answer; it never retries, sleeps or
touches the database (the outbox does that: retries with backoff, the rate limit, statuses).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx2

SendOutcome = Literal["sent", "retry", "failed"]


@dataclass(frozen=True)
class GupshupCredentials:
    app_name: str
    api_key: str
    source_number: str
    api_url: str = "https://api.gupshup.io"


@dataclass(frozen=True)
class MetaCredentials:
    access_token: str
    phone_number_id: str
    api_url: str = "https://graph.facebook.com"
    api_version: str = "v21.0"


@dataclass(frozen=True)
class MaytapiCredentials:
    """Maytapi (WhatsApp groups): the product id names the account in its API paths."""

    product_id: str
    token: str
    api_url: str = "https://api.maytapi.com"


Credentials = GupshupCredentials | MetaCredentials | MaytapiCredentials


@dataclass(frozen=True)
class OutboundMessage:
    """One stored outbound message, as a transport needs it.

    `type` is Glific's message type (text, image, audio, video, document, sticker,
    quick_reply, list, location_request_message). `interactive` is Glific's interactive
    content for quick_reply and list messages, e.g.
    `{"type": "quick_reply", "content": {"type": "text", "text": "Pick"},
      "options": [{"type": "text", "title": "Yes"}]}` or
    `{"type": "list", "title": "..", "body": "..", "globalButtons": [{"type": "text",
      "title": "Menu"}], "items": [{"title": "..", "subtitle": "..", "options":
      [{"type": "text", "title": "..", "description": ".."}]}]}`."""

    uuid: str
    destination: str  # the contact's phone, digits without `+`
    type: str
    body: str = ""
    media_url: str | None = None
    caption: str | None = None
    filename: str | None = None
    interactive: Mapping[str, Any] = field(default_factory=dict)
    # An HSM message: the approved template it fills, sent through the provider's template
    # API instead of as free text (`body` is the filled-in text, for the record).
    template: TemplateRef | None = None


@dataclass(frozen=True)
class TemplateRef:
    """An approved template as the providers name it: Gupshup by its id (`uuid`), Meta by
    its name (`shortcode`) and language; `params` fill its {{1}}, {{2}} ..."""

    uuid: str
    name: str
    language: str
    params: tuple[str, ...] = ()


@dataclass(frozen=True)
class SendResult:
    """`sent`: the provider accepted it (`provider_message_id` set). `retry`: a timeout, a
    connection error, 5xx or 429 (`retry_after` seconds when the provider said). `failed`:
    final (other 4xx, or a message this provider cannot carry); `error` holds the provider's
    answer or the reason, JSON-serialisable."""

    outcome: SendOutcome
    provider_message_id: str | None = None
    error: Mapping[str, Any] | None = None
    retry_after: float | None = None


Transport = Callable[[httpx2.AsyncClient, Any, OutboundMessage], Awaitable[SendResult]]

_transports: dict[str, Transport] = {}


def register_transport(provider: str, transport: Transport) -> None:
    _transports[provider] = transport


def transport_for(provider: str) -> Transport | None:
    return _transports.get(provider)


# Reads the provider's wallet balance (Gupshup); a provider without one registers nothing.
BalanceReader = Callable[[httpx2.AsyncClient, Any], Awaitable[float | None]]
_balance_readers: dict[str, BalanceReader] = {}


def register_balance_reader(provider: str, reader: BalanceReader) -> None:
    _balance_readers[provider] = reader


def balance_reader_for(provider: str) -> BalanceReader | None:
    return _balance_readers.get(provider)


# Fetches a media file a contact sent, by the provider's media id (Meta sends ids, not URLs):
# (bytes, mime type). Raises when the provider does not hand it over.
MediaFetcher = Callable[[httpx2.AsyncClient, Any, str], Awaitable[tuple[bytes, str]]]
_media_fetchers: dict[str, MediaFetcher] = {}


def register_media_fetcher(provider: str, fetcher: MediaFetcher) -> None:
    _media_fetchers[provider] = fetcher


def media_fetcher_for(provider: str) -> MediaFetcher | None:
    return _media_fetchers.get(provider)


@dataclass(frozen=True)
class GroupOutboundMessage:
    """One stored WhatsApp-group message, as a group transport needs it: `phone_id` is the
    provider's number for the managed phone that sends it, `to` the group's provider id
    (`...@g.us`); `type` is "text" or a media type (then `media_url`, `caption`)."""

    phone_id: int
    to: str
    type: str
    body: str = ""
    media_url: str | None = None
    caption: str | None = None


# WhatsApp groups go through their own provider (Maytapi): a second registry, same rules.
GroupTransport = Callable[
    [httpx2.AsyncClient, MaytapiCredentials, GroupOutboundMessage], Awaitable[SendResult]
]
_group_transports: dict[str, GroupTransport] = {}


def register_group_transport(provider: str, transport: GroupTransport) -> None:
    _group_transports[provider] = transport


def group_transport_for(provider: str) -> GroupTransport | None:
    return _group_transports.get(provider)


# Lists a provider account's phones and each phone's groups (Maytapi's listPhones and
# getGroups), for resolvers.wa_sync. Raises `GroupSyncError` when the provider refuses.
@dataclass(frozen=True)
class ManagedPhoneInfo:
    phone_id: int
    number: str
    status: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class GroupInfo:
    bsp_id: str
    name: str
    participants: tuple[str, ...] = ()  # phone digits
    admins: tuple[str, ...] = ()


class GroupSyncError(Exception):
    """The provider did not list the phones or groups; the text says why."""


PhoneLister = Callable[[httpx2.AsyncClient, MaytapiCredentials], Awaitable[list[ManagedPhoneInfo]]]
GroupLister = Callable[[httpx2.AsyncClient, MaytapiCredentials, int], Awaitable[list[GroupInfo]]]
_group_listers: dict[str, tuple[PhoneLister, GroupLister]] = {}


def register_group_listers(provider: str, phones: PhoneLister, groups: GroupLister) -> None:
    _group_listers[provider] = (phones, groups)


def group_listers_for(provider: str) -> tuple[PhoneLister, GroupLister] | None:
    return _group_listers.get(provider)
