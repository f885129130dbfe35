"""Background-job bookkeeping visible to users (contact import reports) and simulator leases."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Integer, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import (
    OrgScoped,
    Timestamp,
    fk_column,
    id_column,
    json_column,
    org_column,
    timestamp_column,
    utcnow,
)


class UserJob(OrgScoped, SQLModel, table=True):
    """One contact import: per-row outcomes are kept so `getContactUploadReport` can list them."""

    __tablename__ = "user_jobs"

    id: int | None = Field(default=None, sa_column=id_column())
    organization_id: int = Field(sa_column=org_column())
    user_id: int | None = Field(
        default=None, sa_column=fk_column("users.id", ondelete="SET NULL", nullable=True)
    )
    type: str = Field(sa_column=Column(String(64), nullable=False))
    status: str = Field(default="pending", sa_column=Column(String(32), nullable=False))
    total_tasks: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    tasks_done: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    # {"rows": [{"phone": ..., "status": ...}], ...}
    errors: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    inserted_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(onupdate=True))


class SimulatorLease(OrgScoped, SQLModel, table=True):
    """Which user holds which simulator contact, until when (shared by all app processes)."""

    __tablename__ = "simulator_leases"
    __table_args__ = (UniqueConstraint("contact_id"),)

    id: int | None = Field(default=None, sa_column=id_column())
    organization_id: int = Field(sa_column=org_column())
    contact_id: int = Field(sa_column=fk_column("contacts.id", ondelete="CASCADE", index=False))
    user_id: int = Field(sa_column=fk_column("users.id", ondelete="CASCADE"))
    expires_at: datetime = Field(sa_column=Column(Timestamp, nullable=False))
