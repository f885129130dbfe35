"""Saved searches (Glific's `saved_searches`): a label, a shortcode and the `search` arguments
(`{filter, contactOpts, messageOpts}`) that the chat screen's collection chips run. The
reserved ones (All, Unread, Not replied, ...) are Glific's seeded searches."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Column, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import OrgScoped, id_column, json_column, org_column, timestamp_column, utcnow


class SavedSearch(OrgScoped, SQLModel, table=True):
    __tablename__ = "saved_searches"
    __table_args__ = (
        UniqueConstraint(
            "shortcode", "organization_id", name="saved_searches_shortcode_organization_id_index"
        ),
    )

    id: int | None = Field(default=None, sa_column=id_column())
    organization_id: int = Field(sa_column=org_column(index=False))
    label: str = Field(sa_column=Column(String(255), nullable=False))
    shortcode: str = Field(sa_column=Column(String(255), nullable=False))
    args: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    is_reserved: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    inserted_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(seconds=True))
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=timestamp_column(seconds=True, onupdate=True)
    )
