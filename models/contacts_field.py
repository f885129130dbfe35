"""Organization-level definitions of the custom fields stored in `contacts.fields`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import OrgScoped, id_column, org_column, timestamp_column, utcnow


class ContactsField(OrgScoped, SQLModel, table=True):
    __tablename__ = "contacts_fields"
    __table_args__ = (
        UniqueConstraint("name", "organization_id", "scope", name="contacts_fields_name_index"),
        UniqueConstraint(
            "shortcode", "organization_id", "scope", name="contacts_fields_shortcode_index"
        ),
    )

    id: int | None = Field(default=None, sa_column=id_column())
    organization_id: int = Field(sa_column=org_column())
    name: str = Field(sa_column=Column(String(255), nullable=False))
    shortcode: str = Field(sa_column=Column(String(255), nullable=False))
    value_type: str = Field(default="text", sa_column=Column(String(16), nullable=False))
    scope: str = Field(default="contact", sa_column=Column(String(16), nullable=False))
    inserted_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(seconds=True))
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=timestamp_column(seconds=True, onupdate=True)
    )
