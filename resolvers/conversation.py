"""What passes between a channel (Gupshup, Meta, the simulator, the terminal chat) and the
flows: the inbound message as the channel parsed it, and the replies the flows produced."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

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
