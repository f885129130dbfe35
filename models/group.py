"""Groups ("collections" in Glific's UI) and which contacts and users belong to them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import (
    OrgScoped,
    fk_column,
    id_column,
    optional_timestamp_column,
    org_column,
    timestamp_column,
    utcnow,
)


class Group(OrgScoped, SQLModel, table=True):
    __tablename__ = "groups"
    __table_args__ = (UniqueConstraint("label", "organization_id"),)

    id: int | None = Field(default=None, sa_column=id_column())
    organization_id: int = Field(sa_column=org_column())
    label: str = Field(sa_column=Column(String(255), nullable=False))
    description: str | None = Field(default=None, sa_column=Column(Text))
    is_restricted: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    last_communication_at: datetime | None = Field(
        default=None, sa_column=optional_timestamp_column()
    )
    inserted_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(seconds=True))
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=timestamp_column(seconds=True, onupdate=True)
    )


class ContactGroup(OrgScoped, SQLModel, table=True):
    __tablename__ = "contacts_groups"
    __table_args__ = (
        UniqueConstraint("contact_id", "group_id"),
        Index("contacts_groups_organization_id_contact_id_index", "organization_id", "contact_id"),
    )

    id: int | None = Field(default=None, sa_column=id_column())
    organization_id: int = Field(sa_column=org_column(index=False))
    contact_id: int = Field(sa_column=fk_column("contacts.id", ondelete="CASCADE"))
    group_id: int = Field(sa_column=fk_column("groups.id", ondelete="CASCADE"))


class UserGroup(OrgScoped, SQLModel, table=True):
    __tablename__ = "users_groups"
    __table_args__ = (UniqueConstraint("user_id", "group_id"),)

    id: int | None = Field(default=None, sa_column=id_column())
    organization_id: int = Field(sa_column=org_column())
    user_id: int = Field(sa_column=fk_column("users.id", ondelete="CASCADE"))
    group_id: int = Field(sa_column=fk_column("groups.id", ondelete="CASCADE"))
