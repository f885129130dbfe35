"""Staff users of an organization and their API session tokens (stored hashed)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Column, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import (
    OrgScoped,
    Timestamp,
    fk_column,
    id_column,
    org_column,
    timestamp_column,
    utcnow,
)


class User(OrgScoped, SQLModel, table=True):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("phone", "organization_id"),)

    id: int | None = Field(default=None, sa_column=id_column())
    organization_id: int = Field(sa_column=org_column())
    name: str = Field(sa_column=Column(String(255), nullable=False))
    phone: str = Field(sa_column=Column(String(255), nullable=False))
    email: str | None = Field(default=None, sa_column=Column(String(255)))
    password_hash: str = Field(sa_column=Column(String(255), nullable=False))
    # Names of roles (resolvers.roles).
    roles: list[str] = Field(
        default_factory=lambda: ["none"], sa_column=Column(JSON, nullable=False)
    )
    is_restricted: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    contact_id: int | None = Field(
        default=None, sa_column=fk_column("contacts.id", ondelete="SET NULL", nullable=True)
    )
    language_id: int | None = Field(
        default=None, sa_column=fk_column("languages.id", ondelete="SET NULL", nullable=True)
    )
    last_login_at: datetime | None = Field(default=None, sa_column=Column(Timestamp))
    inserted_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(seconds=True))
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=timestamp_column(seconds=True, onupdate=True)
    )


class UserToken(OrgScoped, SQLModel, table=True):
    """One access or renewal token. `session_id` pairs the two tokens of one sign-in."""

    __tablename__ = "user_tokens"

    id: int | None = Field(default=None, sa_column=id_column())
    user_id: int = Field(sa_column=fk_column("users.id", ondelete="CASCADE"))
    organization_id: int = Field(sa_column=org_column())
    kind: str = Field(sa_column=Column(String(16), nullable=False))  # access | renewal
    token_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    session_id: str = Field(sa_column=Column(String(64), nullable=False, index=True))
    expires_at: datetime = Field(sa_column=Column(Timestamp, nullable=False, index=True))
    inserted_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
