"""Messages to and from a contact (enough of Glific's model for flow traffic; the WhatsApp
issue adds provider ids and statuses). `profile_id` is the profile active when the row was
written."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Column, Index, Integer, String, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from models.base import (
    OrgScoped,
    fk_column,
    id_column,
    json_column,
    optional_timestamp_column,
    org_column,
    timestamp_column,
    utcnow,
)


class Message(OrgScoped, SQLModel, table=True):
    __tablename__ = "messages"
    __table_args__ = (
        Index(
            "messages_organization_id_contact_id_id_index", "organization_id", "contact_id", "id"
        ),
        Index("messages_flow_id_index", "flow_id"),
        # A provider delivers a message more than once; the second copy is ignored.
        UniqueConstraint(
            "bsp_message_id", "organization_id", name="messages_bsp_message_id_org_index"
        ),
        # The outbox: a contact's messages waiting to be delivered, oldest first.
        Index("messages_contact_id_status_id_index", "contact_id", "status", "id"),
        # A collection's messages (few rows have one).
        Index(
            "messages_group_id_index",
            "group_id",
            sqlite_where=text("group_id IS NOT NULL"),
            postgresql_where=text("group_id IS NOT NULL"),
        ),
        # A broadcast's messages (broadcastStats).
        Index(
            "messages_message_broadcast_id_index",
            "message_broadcast_id",
            sqlite_where=text("message_broadcast_id IS NOT NULL"),
            postgresql_where=text("message_broadcast_id IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, sa_column=id_column())
    organization_id: int = Field(sa_column=org_column(index=False))
    uuid: str | None = Field(default=None, sa_column=Column(String(36)))
    # The conversation's contact: the sender of an inbound message, the receiver of an
    # outbound one.
    contact_id: int = Field(sa_column=fk_column("contacts.id", ondelete="CASCADE", index=False))
    sender_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    receiver_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    profile_id: int | None = Field(
        default=None,
        sa_column=fk_column("profiles.id", ondelete="SET NULL", nullable=True, index=False),
    )
    user_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    # The collection a message was sent to as a whole (resolvers.group_sends): its own row,
    # and each member's copy.
    group_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    # An HSM message's template (models.session_template) and the values of its {{n}}.
    template_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    params: list[str] | None = Field(default=None, sa_column=json_column(nullable=True))
    # The broadcast a collection's message or a member's copy belongs to (models.broadcast).
    message_broadcast_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    flow_id: int | None = Field(
        default=None,
        sa_column=fk_column("flows.id", ondelete="SET NULL", nullable=True, index=False),
    )
    # Direction: "inbound" or "outbound" (Glific's `flow` column).
    flow: str = Field(sa_column=Column(String(16), nullable=False))
    type: str = Field(default="text", sa_column=Column(String(32), nullable=False))
    body: str | None = Field(default=None, sa_column=Column(Text))
    flow_label: str | None = Field(default=None, sa_column=Column(String(255)))
    status: str = Field(default="enqueued", sa_column=Column(String(32), nullable=False))
    bsp_status: str | None = Field(default=None, sa_column=Column(String(32)))
    bsp_message_id: str | None = Field(default=None, sa_column=Column(String(255)))
    errors: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    interactive_content: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    media_url: str | None = Field(default=None, sa_column=Column(Text))
    caption: str | None = Field(default=None, sa_column=Column(Text))
    message_number: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    is_hsm: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    context_id: str | None = Field(default=None, sa_column=Column(String(255)))
    send_at: datetime | None = Field(default=None, sa_column=optional_timestamp_column())
    sent_at: datetime | None = Field(default=None, sa_column=optional_timestamp_column())
    # When the provider reported the message delivered and read (status callbacks).
    delivered_at: datetime | None = Field(default=None, sa_column=optional_timestamp_column())
    read_at: datetime | None = Field(default=None, sa_column=optional_timestamp_column())
    # Delivery attempts made so far (the outbox retries timeouts, 5xx and 429).
    send_attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    inserted_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(onupdate=True))
