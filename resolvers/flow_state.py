"""Between rows and the flow engine: the contact, its profiles and groups as the engine's
`ContactView`, the organization as its `OrgView`, a contact's unfinished `flow_contexts` as
the engine's `Session` (and back), and the parsed flows the engine may enter.

Parsed flows are cached per process by database and revision id: a revision's definition
never changes once written (an edit is a new revision), so the cache needs no invalidation,
only a bound.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import (
    Contact,
    ContactGroup,
    Flow,
    FlowContext,
    FlowRevision,
    Group,
    Organization,
    Profile,
)
from resolvers.flow_engine import (
    ContactView,
    GroupView,
    LanguageView,
    OrgView,
    ProfileView,
    Run,
    Session,
    Wait,
    parse_flow,
)
from resolvers.flow_engine import Flow as ParsedFlow
from resolvers.flow_engine.text import clean_keyword
from resolvers.languages import all_languages

FINISHED = ("completed", "expired", "interrupted", "failed")

# --- parsed flows --------------------------------------------------------------------------

# (database URL, revision id) -> the parsed revision.
_PARSED: OrderedDict[tuple[str, int], ParsedFlow] = OrderedDict()
_PARSED_LIMIT = 512


def _key(session: AsyncSession, revision_id: int) -> tuple[str, int]:
    return (str(session.get_bind().engine.url), revision_id)


def _cached(key: tuple[str, int]) -> ParsedFlow | None:
    found = _PARSED.get(key)
    if found is not None:
        _PARSED.move_to_end(key)
    return found


def _remember(key: tuple[str, int], parsed: ParsedFlow) -> ParsedFlow:
    _PARSED[key] = parsed
    if len(_PARSED) > _PARSED_LIMIT:
        _PARSED.popitem(last=False)
    return parsed


@dataclass
class OrgFlows:
    """The organization's flows the engine may run: by uuid, the published revision of each
    active flow (or, for a draft run, the newest revision of that one flow)."""

    by_uuid: dict[str, ParsedFlow] = field(default_factory=dict)
    records: dict[str, Flow] = field(default_factory=dict)
    # Cleaned keyword -> the active flow it starts (keywords are unique per organization).
    by_keyword: dict[str, Flow] = field(default_factory=dict)

    def get(self, flow_uuid: str) -> ParsedFlow | None:
        return self.by_uuid.get(flow_uuid)

    def for_keyword(self, cleaned: str) -> Flow | None:
        return self.by_keyword.get(cleaned) if cleaned else None

    def record(self, flow_uuid: str) -> Flow | None:
        return self.records.get(flow_uuid)


async def org_flows(
    session: AsyncSession, org_id: int, *, draft_flow_id: int | None = None
) -> OrgFlows:
    """The organization's active flows with their published revisions, parsed (and
    cached); with `draft_flow_id`, that flow's newest revision instead of its published one.
    One statement when every revision is parsed already."""
    rows = await session.execute(
        select(Flow, col(FlowRevision.id), col(FlowRevision.version))
        .outerjoin(
            FlowRevision,
            (col(FlowRevision.flow_id) == col(Flow.id)) & (col(FlowRevision.status) == "published"),
        )
        .where(col(Flow.organization_id) == org_id, col(Flow.is_active).is_(True))
    )
    result = OrgFlows()
    published: dict[int, tuple[Flow, int, int]] = {}
    for flow, rev_id, version in rows.all():
        result.records[flow.uuid] = flow
        for keyword in flow.keywords or []:
            result.by_keyword[clean_keyword(keyword)] = flow
        if rev_id is not None and flow.id is not None:
            published[flow.id] = (flow, int(rev_id), int(version))
    if draft_flow_id is not None:
        newest = await session.scalar(
            select(FlowRevision)
            .where(col(FlowRevision.flow_id) == draft_flow_id)
            .order_by(col(FlowRevision.revision_number).desc())
            .limit(1)
        )
        drafted = next((f for f in result.records.values() if f.id == draft_flow_id), None)
        if newest is not None and newest.id is not None and drafted is not None:
            key = _key(session, newest.id)
            result.by_uuid[drafted.uuid] = _cached(key) or _remember(
                key, parse_flow(newest.definition, version=newest.version)
            )
            published.pop(draft_flow_id, None)
    missing = [
        rev_id for _, rev_id, _ in published.values() if _key(session, rev_id) not in _PARSED
    ]
    definitions: dict[int, dict[str, Any]] = {}
    if missing:
        loaded = await session.execute(
            select(col(FlowRevision.id), col(FlowRevision.definition)).where(
                col(FlowRevision.id).in_(missing)
            )
        )
        definitions = {int(rid): definition for rid, definition in loaded.all()}
    for flow, rev_id, version in published.values():
        key = _key(session, rev_id)
        parsed = _cached(key)
        if parsed is None:
            parsed = _remember(key, parse_flow(definitions[rev_id], version=version))
        result.by_uuid[flow.uuid] = parsed
    return result


# --- the contact and the organization ------------------------------------------------------


async def contact_view(session: AsyncSession, contact: Contact) -> ContactView:
    profiles = (
        await session.scalars(
            select(Profile).where(col(Profile.contact_id) == contact.id).order_by(col(Profile.id))
        )
    ).all()
    views = [
        ProfileView(
            id=p.id,
            name=p.name,
            type=p.type,
            language_id=p.language_id,
            fields=dict(p.fields or {}),
            is_active=p.is_active,
            is_default=p.is_default,
        )
        for p in profiles
    ]
    active = next((i for i, p in enumerate(profiles) if p.id == contact.active_profile_id), None)
    groups = (
        await session.execute(
            select(col(Group.id), col(Group.label))
            .join(ContactGroup, col(ContactGroup.group_id) == col(Group.id))
            .where(col(ContactGroup.contact_id) == contact.id)
            .order_by(col(Group.id))
        )
    ).all()
    return ContactView(
        id=contact.id or 0,
        name=contact.name,
        phone=contact.phone,
        language_id=contact.language_id,
        fields=dict(contact.fields or {}),
        profiles=views,
        active_profile=active,
        groups=[GroupView(id=gid, label=label) for gid, label in groups if gid is not None],
        optin=contact.optin_status,
        opted_out=contact.optout_time is not None,
        status=contact.status,
        bsp_status=contact.bsp_status,
        last_message_at=contact.last_message_at,
        settings=dict(contact.settings or {}),
    )


async def org_view(session: AsyncSession, org_id: int) -> OrgView:
    org = await session.get(Organization, org_id)
    if org is None:
        raise RuntimeError(f"organization {org_id} does not exist")
    languages = await all_languages(session)
    return OrgView(
        id=org_id,
        languages=tuple(
            LanguageView(id=lang.id, label=lang.label, locale=lang.locale) for lang in languages
        ),
        default_language_id=org.default_language_id,
        timezone=org.timezone,
        name=org.name,
        contact_id=org.contact_id,
    )


# --- runs ----------------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_dt(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def run_of(row: FlowContext, parents: dict[int, str]) -> Run:
    state = row.state or {}
    wait = state.get("wait")
    return Run(
        uuid=row.run_uuid,
        flow_uuid=row.flow_uuid,
        flow_version=row.flow_version,
        node_uuid=row.node_uuid,
        status=state.get("status", "active"),
        results=dict(row.results or {}),
        parent_uuid=parents.get(row.parent_id) if row.parent_id is not None else None,
        wait=(
            Wait(
                kind=wait["kind"],
                timeout_at=_parse_dt(wait.get("timeout_at")),
                request=wait.get("request"),
            )
            if isinstance(wait, dict)
            else None
        ),
        uuids_seen=list(state.get("uuids_seen", [])),
        recent_outbound=[tuple(x) for x in state.get("recent_outbound", [])],
        started_at=row.inserted_at,
        draft=row.status == "draft",
    )


def state_of(run: Run) -> dict[str, Any]:
    return {
        "status": run.status,
        "wait": (
            None
            if run.wait is None
            else {
                "kind": run.wait.kind,
                "timeout_at": _iso(run.wait.timeout_at),
                "request": dict(run.wait.request) if run.wait.request else None,
            }
        ),
        "uuids_seen": list(run.uuids_seen),
        "recent_outbound": [list(x) for x in run.recent_outbound],
    }


async def unfinished_runs(session: AsyncSession, contact_id: int) -> list[FlowContext]:
    return list(
        (
            await session.scalars(
                select(FlowContext)
                .where(
                    col(FlowContext.contact_id) == contact_id,
                    col(FlowContext.completed_at).is_(None),
                )
                .order_by(col(FlowContext.id))
            )
        ).all()
    )


def session_of(rows: list[FlowContext]) -> Session:
    parents = {row.id: row.run_uuid for row in rows if row.id is not None}
    return Session(runs=[run_of(row, parents) for row in rows])
