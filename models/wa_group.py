"""WhatsApp groups (Glific's WA groups, through Maytapi): the organization's own phones
that sit in groups (`wa_managed_phones`), the groups (`wa_groups`), who is in each
(`contacts_wa_groups`), the collections a group belongs to (`wa_groups_collections`), the
messages said in a group (`wa_messages`, apart from the 1:1 `messages`), and the flows
run for a group (`wa_group_flow_runs`).

A WhatsApp group is one row per organization, named by the provider's id (`bsp_id`,
`…@g.us`) and reached through the managed phone that first reported it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Column, Index, Integer, String, Text, UniqueConstraint
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


class WaManagedPhone(OrgScoped, SQLModel, table=True):
    __tablename__ = "wa_managed_phones"
    __table_args__ = (UniqueConstraint("organization_id", "phone_id"),)

    id: int | None = Field(default=None, sa_column=id_column())
    organization_id: int = Field(sa_column=org_column(index=False))
    label: str | None = Field(default=None, sa_column=Column(String(255)))
    # Digits, without `+`.
    phone: str = Field(sa_column=Column(String(64), nullable=False))
    # Maytapi's number for the phone (the `{phone_id}` of its API paths).
    phone_id: int = Field(sa_column=Column(Integer, nullable=False))
    product_id: str = Field(sa_column=Column(String(255), nullable=False))
    # Maytapi's status of the phone: "active", "qr-screen", "loading" ...
    status: str | None = Field(default=None, sa_column=Column(String(32)))
    # The phone as a contact: the sender of what the organization says in its groups.
    contact_id: int | None = Field(
        default=None,
        sa_column=fk_column("contacts.id", ondelete="SET NULL", nullable=True, index=False),
    )
    last_status_checked_at: datetime | None = Field(
        default=None, sa_column=optional_timestamp_column()
    )
    inserted_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(onupdate=True))


class WaGroup(OrgScoped, SQLModel, table=True):
    __tablename__ = "wa_groups"
    __table_args__ = (UniqueConstraint("organization_id", "bsp_id"),)

    id: int | None = Field(default=None, sa_column=id_column())
    organization_id: int = Field(sa_column=org_column(index=False))
    label: str = Field(sa_column=Column(String(255), nullable=False))
    bsp_id: str = Field(sa_column=Column(String(255), nullable=False))
    wa_managed_phone_id: int = Field(
        sa_column=fk_column("wa_managed_phones.id", ondelete="CASCADE")
    )
    last_communication_at: datetime | None = Field(
        default=None, sa_column=optional_timestamp_column()
    )
    # False while the group has messages no staff member has read.
    is_org_read: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    # `@wa_group.fields.<key>`: {"value", "label", "type", "inserted_at"}, as a contact's.
    fields: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    inserted_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(onupdate=True))


class ContactWaGroup(OrgScoped, SQLModel, table=True):
    __tablename__ = "contacts_wa_groups"
    __table_args__ = (UniqueConstraint("contact_id", "wa_group_id"),)

    id: int | None = Field(default=None, sa_column=id_column())
    organization_id: int = Field(sa_column=org_column(index=False))
    contact_id: int = Field(sa_column=fk_column("contacts.id", ondelete="CASCADE", index=False))
    wa_group_id: int = Field(sa_column=fk_column("wa_groups.id", ondelete="CASCADE"))
    is_admin: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    inserted_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(onupdate=True))


class WaGroupCollection(OrgScoped, SQLModel, table=True):
    __tablename__ = "wa_groups_collections"
    __table_args__ = (UniqueConstraint("group_id", "wa_group_id"),)

    id: int | None = Field(default=None, sa_column=id_column())
    organization_id: int = Field(sa_column=org_column(index=False))
    group_id: int = Field(sa_column=fk_column("groups.id", ondelete="CASCADE", index=False))
    wa_group_id: int = Field(sa_column=fk_column("wa_groups.id", ondelete="CASCADE"))
    inserted_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(onupdate=True))


class WaMessage(OrgScoped, SQLModel, table=True):
    __tablename__ = "wa_messages"
    __table_args__ = (
        # A group's conversation, newest last (waSearch, the chat screen).
        Index("wa_messages_wa_group_id_id_index", "wa_group_id", "id"),
        # Maytapi redelivers; the second copy is ignored.
        UniqueConstraint("bsp_id", "organization_id", name="wa_messages_bsp_id_org_index"),
    )

    id: int | None = Field(default=None, sa_column=id_column())
    organization_id: int = Field(sa_column=org_column())
    uuid: str | None = Field(default=None, sa_column=Column(String(36)))
    # Who said it: a member for an inbound message, the managed phone's contact for ours.
    contact_id: int = Field(sa_column=fk_column("contacts.id", ondelete="CASCADE", index=False))
    wa_managed_phone_id: int | None = Field(
        default=None,
        sa_column=fk_column(
            "wa_managed_phones.id", ondelete="SET NULL", nullable=True, index=False
        ),
    )
    # None for a direct message to a managed phone (`is_dm`).
    wa_group_id: int | None = Field(
        default=None,
        sa_column=fk_column("wa_groups.id", ondelete="CASCADE", nullable=True, index=False),
    )
    # The flow that sent it, for a group flow's message.
    flow_id: int | None = Field(
        default=None,
        sa_column=fk_column("flows.id", ondelete="SET NULL", nullable=True, index=False),
    )
    # The collection it was sent to as a whole (sendMessageToWaGroupCollection).
    group_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    # Direction: "inbound" or "outbound" (Glific's `flow` column).
    flow: str = Field(sa_column=Column(String(16), nullable=False))
    type: str = Field(default="text", sa_column=Column(String(32), nullable=False))
    body: str | None = Field(default=None, sa_column=Column(Text))
    status: str = Field(default="enqueued", sa_column=Column(String(32), nullable=False))
    bsp_status: str | None = Field(default=None, sa_column=Column(String(32)))
    bsp_id: str | None = Field(default=None, sa_column=Column(String(255)))
    errors: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    media_url: str | None = Field(default=None, sa_column=Column(Text))
    caption: str | None = Field(default=None, sa_column=Column(Text))
    is_dm: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    flow_label: str | None = Field(default=None, sa_column=Column(String(255)))
    context_id: str | None = Field(default=None, sa_column=Column(String(255)))
    message_number: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    send_attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    send_at: datetime | None = Field(default=None, sa_column=optional_timestamp_column())
    sent_at: datetime | None = Field(default=None, sa_column=optional_timestamp_column())
    inserted_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(onupdate=True))


class WaGroupFlowRun(OrgScoped, SQLModel, table=True):
    """A flow run for a WhatsApp group: the engine's session for the group, kept as JSON
    between a wait_for_time and its wake-up."""

    __tablename__ = "wa_group_flow_runs"
    __table_args__ = (
        Index("wa_group_flow_runs_wa_group_id_status_index", "wa_group_id", "status"),
    )

    id: int | None = Field(default=None, sa_column=id_column())
    organization_id: int = Field(sa_column=org_column(index=False))
    wa_group_id: int = Field(sa_column=fk_column("wa_groups.id", ondelete="CASCADE", index=False))
    flow_id: int = Field(sa_column=fk_column("flows.id", ondelete="CASCADE"))
    # "active" (between its steps or waiting for time), "completed", "failed", "interrupted".
    status: str = Field(default="active", sa_column=Column(String(16), nullable=False))
    session: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    reason: str | None = Field(default=None, sa_column=Column(Text))
    inserted_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(onupdate=True))
