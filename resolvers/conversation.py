"""What passes between a channel (Gupshup, Meta, the simulator, the terminal chat) and the
flows: the inbound message as the channel parsed it, and the replies the flows produced."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

from resolvers.flow_engine.state import Input


@dataclass(frozen=True)
class InboundMessage:
    """`phone` is the sender's number as the provider gives it (digits, no `+`).
    `provider_message_id` is unique per organization: a redelivery is ignored."""

    phone: str
    input: Input
    provider_message_id: str
    sender_name: str | None = None
    provider: str = "simulator"
    sent_at: datetime | None = None
    # The id of the message this one answers (Gupshup `context.gsId`, Meta `context.id`).
    context_id: str | None = None


@dataclass(frozen=True)
class Reply:
    """An outbound message the flows produced while handling the inbound one."""

    message_id: int
    body: str
    type: str
    # Button titles or list item titles, in order: what the person can answer with.
    options: tuple[str, ...] = ()
    media_url: str | None = None


@dataclass(frozen=True)
class Received:
    message_id: int | None  # None when the message was a duplicate
    contact_id: int
    duplicate: bool = False
    replies: tuple[Reply, ...] = field(default_factory=tuple)
    # The name of the contact's active profile after handling, if it has profiles.
    active_profile_name: str | None = None


MessageStatus = Literal["enqueued", "sent", "delivered", "read", "failed"]


@dataclass(frozen=True)
class StatusUpdate:
    """A provider's news about a message we sent (Gupshup `message-event`, Meta
    `statuses[]`). `provider_message_id` is the id the provider gave when it accepted the
    message (Gupshup `gsId`, Meta `wamid…`); `fallback_id` another id it may be known by
    (Gupshup's `payload.id`). `error` is the provider's error for `failed`, `error_code` its
    code as text (Gupshup `payload.payload.code`, Meta `errors[0].code`)."""

    provider_message_id: str
    status: MessageStatus
    provider: str
    at: datetime | None = None
    fallback_id: str | None = None
    error: Mapping[str, Any] | None = None
    error_code: str | None = None


@dataclass(frozen=True)
class OptEvent:
    """A contact opted in or out on the provider's side (Gupshup `user-event`)."""

    phone: str
    opted_in: bool
    provider: str
    at: datetime | None = None


def inbound_to_json(message: InboundMessage) -> dict[str, Any]:
    """The message as JSON, for a job's arguments (`inbound_from_json` reads it back)."""
    data = asdict(message)
    data["sent_at"] = message.sent_at.isoformat() if message.sent_at else None
    data["input"] = {k: v for k, v in data["input"].items() if v is not None}
    return data


def inbound_from_json(data: Mapping[str, Any]) -> InboundMessage:
    fields = dict(data)
    fields["input"] = Input(**fields["input"])
    sent_at = fields.get("sent_at")
    fields["sent_at"] = datetime.fromisoformat(sent_at) if sent_at else None
    return InboundMessage(**fields)


def status_to_json(update: StatusUpdate) -> dict[str, Any]:
    """The status as JSON, for a job's arguments (`status_from_json` reads it back)."""
    data = asdict(update)
    data["at"] = update.at.isoformat() if update.at else None
    data["error"] = dict(update.error) if update.error is not None else None
    return data


def status_from_json(data: Mapping[str, Any]) -> StatusUpdate:
    fields = dict(data)
    at = fields.get("at")
    fields["at"] = datetime.fromisoformat(at) if at else None
    return StatusUpdate(**fields)
