"""Contacts (one WhatsApp number each), their history and their shared locations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Column, Float, Index, Integer, String, Text, UniqueConstraint, text
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

SIMULATOR_PHONE_PREFIX = "9876543210"

# SQLite: the FTS5 trigram table over contacts' name and phone (rowid = contacts.id), kept in
# step by triggers (migration 0007); PostgreSQL: pg_trgm GIN indexes on the columns instead.
CONTACT_SEARCH_TABLE = "contacts_search"
CONTACT_TRIGRAM_INDEXES = frozenset({"contacts_name_trigram_index", "contacts_phone_trigram_index"})
# The conversation list's order (newest communication first), dialect-specific: migration 0009.
CONVERSATION_INDEX = "contacts_organization_id_last_communication_index"
# SQLite: contacts per (organization_id, status), kept by triggers (migration 0007).
CONTACT_COUNTS_TABLE = "contact_counts"


class Contact(OrgScoped, SQLModel, table=True):
    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("phone", "organization_id", name="contacts_phone_organization_id_index"),
        # Lists are ordered by lower(name) (Glific's rule); this index serves them in order,
        # and with the status every list filters on, skips a deep offset's rows by itself.
        Index(
            "contacts_organization_id_lower_name_index",
            "organization_id",
            text("lower(name)"),
            "id",
            "status",
        ),
        # countContacts without a filter counts this narrow index on PostgreSQL, not the
        # table's rows (SQLite reads CONTACT_COUNTS_TABLE). Substring search on name and phone
        # has its own index, which the models do not declare: migration 0007.
        Index("contacts_organization_id_status_index", "organization_id", "status"),
    )

    id: int | None = Field(default=None, sa_column=id_column())
    organization_id: int = Field(sa_column=org_column(index=False))
    name: str | None = Field(default=None, sa_column=Column(String(255)))
    phone: str = Field(sa_column=Column(String(255), nullable=False))
    contact_type: str = Field(default="WABA", sa_column=Column(String(16), nullable=False))
    status: str = Field(default="valid", sa_column=Column(String(32), nullable=False))
    bsp_status: str = Field(default="none", sa_column=Column(String(32), nullable=False))
    language_id: int = Field(sa_column=fk_column("languages.id", ondelete="RESTRICT"))
    active_profile_id: int | None = Field(
        default=None,
        sa_column=fk_column("profiles.id", ondelete="SET NULL", nullable=True, use_alter=True),
    )
    is_org_read: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    is_org_replied: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    is_contact_replied: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    optin_time: datetime | None = Field(default=None, sa_column=optional_timestamp_column())
    optout_time: datetime | None = Field(default=None, sa_column=optional_timestamp_column())
    optin_status: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    optin_method: str | None = Field(default=None, sa_column=Column(String(255)))
    optout_method: str | None = Field(default=None, sa_column=Column(String(255)))
    last_message_at: datetime | None = Field(default=None, sa_column=optional_timestamp_column())
    last_communication_at: datetime | None = Field(
        default=None, sa_column=optional_timestamp_column()
    )
    first_message_number: int = Field(default=1, sa_column=Column(Integer, nullable=False))
    last_message_number: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    settings: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    fields: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    inserted_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(onupdate=True))


class ContactHistory(OrgScoped, SQLModel, table=True):
    __tablename__ = "contact_histories"
    __table_args__ = (
        Index("contact_histories_contact_id_id_index", "contact_id", "id"),
        Index(
            "contact_histories_organization_id_contact_id_index",
            "organization_id",
            "contact_id",
            "id",
        ),
    )

    id: int | None = Field(default=None, sa_column=id_column())
    organization_id: int = Field(sa_column=org_column(index=False))
    contact_id: int = Field(sa_column=fk_column("contacts.id", ondelete="CASCADE", index=False))
    # The profile active when the row was written; SET NULL when that profile is deleted.
    profile_id: int | None = Field(
        default=None, sa_column=fk_column("profiles.id", ondelete="SET NULL", nullable=True)
    )
    event_type: str = Field(sa_column=Column(String(255), nullable=False))
    event_label: str = Field(sa_column=Column(Text, nullable=False))
    event_meta: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    event_datetime: datetime = Field(
        default_factory=utcnow, sa_column=timestamp_column(seconds=True)
    )
    inserted_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(onupdate=True))


class Location(OrgScoped, SQLModel, table=True):
    """A location a contact shared (written by the webhook); `contactLocation` reads the latest."""

    __tablename__ = "locations"
    __table_args__ = (
        Index("locations_organization_id_contact_id_index", "organization_id", "contact_id"),
    )

    id: int | None = Field(default=None, sa_column=id_column())
    organization_id: int = Field(sa_column=org_column(index=False))
    contact_id: int = Field(sa_column=fk_column("contacts.id", ondelete="CASCADE"))
    message_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    longitude: float = Field(sa_column=Column(Float, nullable=False))
    latitude: float = Field(sa_column=Column(Float, nullable=False))
    inserted_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(onupdate=True))
