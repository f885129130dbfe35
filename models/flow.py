"""Flows (Glific's chatbot definitions), their revisions, the runs of a flow for a contact
(`flow_contexts`), what each run's people answered (`flow_results`), and flow labels."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Column, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from models.base import (
    OrgScoped,
    fk_column,
    id_column,
    json_column,
    optional_timestamp_column,
    org_column,
    timestamp_column,
    utcnow,
)

# A list of strings: JSONB on PostgreSQL, JSON text on SQLite (Glific: text[]).
JsonList = JSON().with_variant(JSONB(), "postgresql")


class Flow(OrgScoped, SQLModel, table=True):
    __tablename__ = "flows"
    __table_args__ = (
        UniqueConstraint("name", "organization_id", name="flows_name_organization_id_index"),
        UniqueConstraint("uuid", "organization_id", name="flows_uuid_organization_id_index"),
    )

    id: int | None = Field(default=None, sa_column=id_column())
    organization_id: int = Field(sa_column=org_column())
    name: str = Field(sa_column=Column(String(255), nullable=False))
    uuid: str = Field(sa_column=Column(String(36), nullable=False))
    # Lower-cased on save; unique across the organization after cleaning (flow_keywords).
    keywords: list[str] = Field(default_factory=list, sa_column=Column(JsonList, nullable=False))
    ignore_keywords: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    is_active: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    is_background: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    is_pinned: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    is_template: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    respond_other: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    respond_no_response: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    skip_validation: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    description: str | None = Field(default=None, sa_column=Column(Text))
    version_number: str = Field(default="13.2.0", sa_column=Column(String(32), nullable=False))
    flow_type: str = Field(default="message", sa_column=Column(String(32), nullable=False))
    tag_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    # The flow-editor lock (`flowGet` / `flowRelease`): who has it open and until when.
    locked_by_user_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    locked_until: datetime | None = Field(default=None, sa_column=optional_timestamp_column())
    inserted_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(seconds=True))
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=timestamp_column(seconds=True, onupdate=True)
    )


class FlowKeyword(OrgScoped, SQLModel, table=True):
    """One cleaned keyword of one flow: the unique index makes a keyword belong to one flow
    of an organization, even when two flows are saved at the same moment."""

    __tablename__ = "flow_keywords"
    __table_args__ = (
        UniqueConstraint("keyword", "organization_id", name="flow_keywords_keyword_org_index"),
    )

    id: int | None = Field(default=None, sa_column=id_column())
    organization_id: int = Field(sa_column=org_column(index=False))
    flow_id: int = Field(sa_column=fk_column("flows.id", ondelete="CASCADE"))
    keyword: str = Field(sa_column=Column(String(255), nullable=False))


class FlowRevision(OrgScoped, SQLModel, table=True):
    """Every editor save is a draft row; publishing marks the newest one `published` with the
    next `version` and archives the previous published one. `revision_number` counts up
    (Glific numbers 0 = newest; we keep an increasing number and order by it)."""

    __tablename__ = "flow_revisions"
    __table_args__ = (
        UniqueConstraint("flow_id", "revision_number", name="flow_revisions_flow_number_index"),
        Index("flow_revisions_flow_id_status_index", "flow_id", "status"),
    )

    id: int | None = Field(default=None, sa_column=id_column())
    organization_id: int = Field(sa_column=org_column())
    flow_id: int = Field(sa_column=fk_column("flows.id", ondelete="CASCADE", index=False))
    definition: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    revision_number: int = Field(default=1, sa_column=Column(Integer, nullable=False))
    status: str = Field(default="draft", sa_column=Column(String(16), nullable=False))
    version: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    user_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    inserted_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(onupdate=True))


class FlowContext(OrgScoped, SQLModel, table=True):
    """One run of one flow for one contact: where it stands (`node_uuid`), its results, its
    wait, its parent run. `profile_id` is the profile active when the run started."""

    __tablename__ = "flow_contexts"
    __table_args__ = (
        UniqueConstraint("run_uuid", name="flow_contexts_run_uuid_index"),
        Index("flow_contexts_contact_id_completed_at_index", "contact_id", "completed_at"),
        Index("flow_contexts_flow_id_index", "flow_id"),
    )

    id: int | None = Field(default=None, sa_column=id_column())
    organization_id: int = Field(sa_column=org_column())
    run_uuid: str = Field(sa_column=Column(String(36), nullable=False))
    contact_id: int = Field(sa_column=fk_column("contacts.id", ondelete="CASCADE", index=False))
    profile_id: int | None = Field(
        default=None, sa_column=fk_column("profiles.id", ondelete="SET NULL", nullable=True)
    )
    flow_id: int = Field(sa_column=fk_column("flows.id", ondelete="CASCADE", index=False))
    flow_uuid: str = Field(sa_column=Column(String(36), nullable=False))
    flow_version: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    node_uuid: str | None = Field(default=None, sa_column=Column(String(36), nullable=True))
    parent_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    status: str = Field(default="published", sa_column=Column(String(16), nullable=False))
    # The engine's run state beyond the columns above (wait, uuids seen, recent sends).
    state: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    results: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    wakeup_at: datetime | None = Field(default=None, sa_column=optional_timestamp_column())
    completed_at: datetime | None = Field(default=None, sa_column=optional_timestamp_column())
    is_background_flow: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    is_await_result: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    is_killed: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    reason: str | None = Field(default=None, sa_column=Column(Text))
    inserted_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(seconds=True))
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=timestamp_column(seconds=True, onupdate=True)
    )


class FlowResult(OrgScoped, SQLModel, table=True):
    """What one profile answered in one run: one row per (run, profile). A run whose active
    profile changes part way has a row per profile (DESIGN.md), so `flowResults(profileId)`
    is exactly that person's answers. `flow_context_id` is not a foreign key: contexts are
    purged and results are kept."""

    __tablename__ = "flow_results"
    __table_args__ = (
        UniqueConstraint(
            "flow_context_id", "profile_key", name="flow_results_context_profile_index"
        ),
        Index("flow_results_organization_id_flow_id_index", "organization_id", "flow_id"),
        Index("flow_results_contact_id_index", "contact_id"),
        Index("flow_results_profile_id_index", "profile_id"),
    )

    id: int | None = Field(default=None, sa_column=id_column())
    organization_id: int = Field(sa_column=org_column(index=False))
    results: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    contact_id: int = Field(sa_column=fk_column("contacts.id", ondelete="CASCADE", index=False))
    profile_id: int | None = Field(
        default=None,
        sa_column=fk_column("profiles.id", ondelete="SET NULL", nullable=True, index=False),
    )
    # profile_id, or 0 for a contact with no profile: NULLs would not collide in the
    # unique index, and a profile deleted later must not break it either.
    profile_key: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    flow_id: int = Field(sa_column=fk_column("flows.id", ondelete="CASCADE", index=False))
    flow_uuid: str = Field(sa_column=Column(String(36), nullable=False))
    flow_version: int = Field(default=1, sa_column=Column(Integer, nullable=False))
    flow_context_id: int = Field(sa_column=Column(Integer, nullable=False))
    inserted_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(onupdate=True))


class FlowLabel(OrgScoped, SQLModel, table=True):
    __tablename__ = "flow_labels"
    __table_args__ = (
        UniqueConstraint("name", "organization_id", name="flow_labels_name_organization_id_index"),
    )

    id: int | None = Field(default=None, sa_column=id_column())
    organization_id: int = Field(sa_column=org_column())
    uuid: str = Field(sa_column=Column(String(36), nullable=False))
    name: str = Field(sa_column=Column(String(255), nullable=False))
    type: str | None = Field(default=None, sa_column=Column(String(255)))
    inserted_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(seconds=True))
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=timestamp_column(seconds=True, onupdate=True)
    )
