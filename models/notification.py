"""Notifications (Glific's `notifications`): what the system tells an organization's staff
about things they must see: a message that failed to send, a flow that hit its loop limit, a
webhook a flow called that failed, an import that finished with errors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Column, Index, String, Text
from sqlmodel import Field, SQLModel

from models.base import OrgScoped, id_column, json_column, org_column, timestamp_column, utcnow


class Notification(OrgScoped, SQLModel, table=True):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("notifications_organization_id_is_read_index", "organization_id", "is_read"),
    )

    id: int | None = Field(default=None, sa_column=id_column())
    organization_id: int = Field(sa_column=org_column(index=False))
    category: str = Field(sa_column=Column(String(255), nullable=False))
    # What it is about, e.g. {"message_id": 7, "contact_id": 3} or {"flow_id": 2}.
    entity: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    message: str = Field(sa_column=Column(Text, nullable=False))
    severity: str = Field(default="Error", sa_column=Column(String(32), nullable=False))
    is_read: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    inserted_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(seconds=True))
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=timestamp_column(seconds=True, onupdate=True)
    )
