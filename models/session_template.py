"""Message templates (Glific's `session_templates`): saved texts staff reuse, and HSM
templates, the only messages WhatsApp lets a business send outside the 24-hour window. An
HSM template is approved at the provider (Gupshup, Meta) and named there by `uuid`; its
body holds numbered placeholders, `{{1}}` ... `{{number_parameters}}`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Column, Integer, String, Text, UniqueConstraint
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


class SessionTemplate(OrgScoped, SQLModel, table=True):
    __tablename__ = "session_templates"
    __table_args__ = (UniqueConstraint("label", "language_id", "organization_id"),)

    id: int | None = Field(default=None, sa_column=id_column())
    organization_id: int = Field(sa_column=org_column())
    label: str = Field(sa_column=Column(String(255), nullable=False))
    body: str = Field(sa_column=Column(Text, nullable=False))
    type: str = Field(default="text", sa_column=Column(String(32), nullable=False))
    shortcode: str | None = Field(default=None, sa_column=Column(String(255)))
    language_id: int = Field(sa_column=fk_column("languages.id", index=False))
    is_hsm: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    number_parameters: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    is_active: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    is_reserved: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    is_source: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    # The provider's id of an HSM template (Gupshup's template id); Meta names it by shortcode.
    uuid: str | None = Field(default=None, sa_column=Column(String(255)))
    # "APPROVED" (it may be sent), "PENDING", "REJECTED" (Glific's statuses).
    status: str | None = Field(default=None, sa_column=Column(String(32)))
    category: str | None = Field(default=None, sa_column=Column(String(64)))
    example: str | None = Field(default=None, sa_column=Column(Text))
    translations: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    # What the web app's template form keeps besides the body (Glific's columns): kept and
    # shown again, not sent (templates go out as their text here).
    footer: str | None = Field(default=None, sa_column=Column(Text))
    has_buttons: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    button_type: str | None = Field(default=None, sa_column=Column(String(32)))
    buttons: list[Any] = Field(default_factory=list, sa_column=json_column())
    tag_id: int | None = Field(
        default=None, sa_column=fk_column("tags.id", ondelete="SET NULL", nullable=True)
    )
    inserted_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(seconds=True))
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=timestamp_column(seconds=True, onupdate=True)
    )
