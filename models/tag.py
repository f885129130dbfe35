"""Tags (Glific's `tags`): labels an organization puts on flows (one tag per flow, which the
flow list filters by)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Column, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import OrgScoped, id_column, org_column, timestamp_column, utcnow


class Tag(OrgScoped, SQLModel, table=True):
    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("shortcode", "organization_id"),)

    id: int | None = Field(default=None, sa_column=id_column())
    organization_id: int = Field(sa_column=org_column())
    label: str = Field(sa_column=Column(String(255), nullable=False))
    shortcode: str = Field(sa_column=Column(String(255), nullable=False))
    description: str | None = Field(default=None, sa_column=Column(Text))
    color_code: str = Field(default="#0C976D", sa_column=Column(String(32), nullable=False))
    is_active: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    is_reserved: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    keywords: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    inserted_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(seconds=True))
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=timestamp_column(seconds=True, onupdate=True)
    )
