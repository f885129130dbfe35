"""An organization's WhatsApp provider accounts (Gupshup, Meta Cloud API): the credentials
to send with and the key a provider's callback names the organization by (Gupshup's app
name, Meta's phone number id). An organization may have one of each; it accepts inbound
traffic from every one it has, and replies through the one marked `sends_replies` (none:
the `log` provider)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Column, Integer, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import OrgScoped, id_column, json_column, org_column, timestamp_column, utcnow


class WhatsappProvider(OrgScoped, SQLModel, table=True):
    __tablename__ = "whatsapp_providers"
    __table_args__ = (
        UniqueConstraint(
            "organization_id", "provider", name="whatsapp_providers_organization_id_provider_index"
        ),
        # A callback's app name or phone number id names exactly one organization.
        UniqueConstraint("provider", "app_key", name="whatsapp_providers_provider_app_key_index"),
    )

    id: int | None = Field(default=None, sa_column=id_column())
    organization_id: int = Field(sa_column=org_column(index=False))
    provider: str = Field(sa_column=Column(String(16), nullable=False))
    app_key: str = Field(sa_column=Column(String(255), nullable=False))
    # Gupshup: api_key, source_number, api_url. Meta: access_token, app_secret, verify_token,
    # api_url, api_version. Never returned by the API.
    credentials: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    # Gupshup sends no signature: when set, only these addresses (IPs or CIDR ranges) may
    # post its callbacks.
    allowed_sources: list[str] = Field(default_factory=list, sa_column=json_column())
    sends_replies: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    # Messages per second the organization may send through it (Glific's bsp_limit).
    rate_limit: int = Field(default=30, sa_column=Column(Integer, nullable=False))
    inserted_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(onupdate=True))
