"""Languages: a global table shared by every organization (Glific's `global.languages`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import id_column, timestamp_column, utcnow


class Language(SQLModel, table=True):
    __tablename__ = "languages"
    __table_args__ = (UniqueConstraint("label", "locale", name="languages_label_locale_index"),)

    id: int | None = Field(default=None, sa_column=id_column())
    label: str = Field(sa_column=Column(String(255), nullable=False))
    label_locale: str = Field(sa_column=Column(String(255), nullable=False))
    locale: str = Field(sa_column=Column(String(255), nullable=False))
    description: str | None = Field(default=None, sa_column=Column(Text))
    is_active: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    is_reserved: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    localized: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    inserted_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(seconds=True))
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=timestamp_column(seconds=True, onupdate=True)
    )
