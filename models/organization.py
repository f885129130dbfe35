"""Organizations (tenants) and the access roles seeded for each of them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Column, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import (
    OrgScoped,
    fk_column,
    id_column,
    json_column,
    org_column,
    timestamp_column,
    utcnow,
)


class Organization(SQLModel, table=True):
    __tablename__ = "organizations"

    id: int | None = Field(default=None, sa_column=id_column())
    name: str = Field(sa_column=Column(String(255), nullable=False))
    shortcode: str = Field(sa_column=Column(String(255), nullable=False, unique=True))
    email: str | None = Field(default=None, sa_column=Column(String(255)))
    status: str = Field(default="active", sa_column=Column(String(32), nullable=False))
    is_active: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    is_approved: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    timezone: str = Field(default="Asia/Kolkata", sa_column=Column(String(64), nullable=False))
    # The chatbot's own contact (Glific's "NGO Main Account"); cannot be deleted.
    contact_id: int | None = Field(
        default=None,
        sa_column=fk_column("contacts.id", ondelete="SET NULL", nullable=True, use_alter=True),
    )
    default_language_id: int = Field(sa_column=fk_column("languages.id", ondelete="RESTRICT"))
    is_contact_profile_enabled: bool = Field(
        default=True, sa_column=Column(Boolean, nullable=False)
    )
    fields: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    inserted_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(seconds=True))
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=timestamp_column(seconds=True, onupdate=True)
    )


class AccessRole(OrgScoped, SQLModel, table=True):
    """The reserved roles (Admin, Manager, Staff, ...) as rows, as Glific's frontend lists them."""

    __tablename__ = "access_roles"
    __table_args__ = (UniqueConstraint("label", "organization_id"),)

    id: int | None = Field(default=None, sa_column=id_column())
    organization_id: int = Field(sa_column=org_column())
    label: str = Field(sa_column=Column(String(255), nullable=False))
    description: str | None = Field(default=None, sa_column=Column(String(255)))
    is_reserved: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    inserted_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(seconds=True))
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=timestamp_column(seconds=True, onupdate=True)
    )
