"""Message broadcasts (Glific's `message_broadcasts`): one send of a text or a flow to a whole
collection, and each member's part in it (`message_broadcast_contacts`: pending until the
member's copy is queued or the flow started for them, `processed`; processed but still
`pending` when it could not be), which `broadcastStats` counts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, String, UniqueConstraint
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


class MessageBroadcast(OrgScoped, SQLModel, table=True):
    __tablename__ = "message_broadcasts"

    id: int | None = Field(default=None, sa_column=id_column())
    organization_id: int = Field(sa_column=org_column())
    group_id: int = Field(sa_column=fk_column("groups.id", ondelete="CASCADE"))
    # The flow a flow broadcast starts (None for a text).
    flow_id: int | None = Field(
        default=None, sa_column=fk_column("flows.id", ondelete="CASCADE", nullable=True)
    )
    # The collection's own message for it (what the chat screen's collection view shows).
    message_id: int | None = Field(
        default=None,
        sa_column=fk_column("messages.id", ondelete="SET NULL", nullable=True, index=False),
    )
    user_id: int | None = Field(
        default=None,
        sa_column=fk_column("users.id", ondelete="SET NULL", nullable=True, index=False),
    )
    # "message" or "flow".
    type: str = Field(default="message", sa_column=Column(String(16), nullable=False))
    default_results: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    started_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    completed_at: datetime | None = Field(default=None, sa_column=optional_timestamp_column())
    inserted_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(onupdate=True))


class MessageBroadcastContact(OrgScoped, SQLModel, table=True):
    __tablename__ = "message_broadcast_contacts"
    __table_args__ = (UniqueConstraint("message_broadcast_id", "contact_id"),)

    id: int | None = Field(default=None, sa_column=id_column())
    organization_id: int = Field(sa_column=org_column(index=False))
    message_broadcast_id: int = Field(
        sa_column=fk_column("message_broadcasts.id", ondelete="CASCADE", index=False)
    )
    contact_id: int = Field(sa_column=fk_column("contacts.id", ondelete="CASCADE"))
    # "pending" or "processed".
    status: str = Field(default="pending", sa_column=Column(String(16), nullable=False))
    processed_at: datetime | None = Field(default=None, sa_column=optional_timestamp_column())
    inserted_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(onupdate=True))
