"""Profiles: the people behind one contact's phone number."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Column, Index, String, text
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


class Profile(OrgScoped, SQLModel, table=True):
    __tablename__ = "profiles"
    __table_args__ = (
        # Same name and type twice on one contact is refused. A missing type counts as one
        # value (Glific's plain unique index lets NULL types repeat).
        Index(
            "profiles_contact_name_type_index",
            "contact_id",
            text("coalesce(name, '')"),
            text("coalesce(type, '')"),
            unique=True,
        ),
        Index("profiles_organization_id_contact_id_index", "organization_id", "contact_id"),
    )

    id: int | None = Field(default=None, sa_column=id_column())
    organization_id: int = Field(sa_column=org_column(index=False))
    # Indexed by profiles_contact_id_menu_order_index below.
    contact_id: int = Field(sa_column=fk_column("contacts.id", ondelete="CASCADE", index=False))
    language_id: int = Field(sa_column=fk_column("languages.id", ondelete="RESTRICT"))
    name: str | None = Field(default=None, sa_column=Column(String(255)))
    type: str | None = Field(default=None, sa_column=Column(String(255)))
    fields: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    is_active: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    is_default: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    inserted_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(seconds=True))
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=timestamp_column(seconds=True, onupdate=True)
    )


# A contact's profiles in menu order (default first, then oldest), read straight off the
# index for a whole page of contacts at once; it also serves every lookup by contact. It
# carries the organization (for the guard), the name and is_active too, so a list's profiles
# are read without visiting the table (migration 0003).
# (SQLModel's typing does not declare the `__table__` that every table model has.)
_columns = Profile.__table__.c  # type: ignore[attr-defined]
Index(
    "profiles_contact_id_menu_order_index",
    _columns.contact_id,
    _columns.is_default.desc(),
    _columns.id,
    _columns.organization_id,
    _columns.name,
    _columns.is_active,
)
