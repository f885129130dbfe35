"""Between rows and the flow engine: the contact, its profiles and groups as the engine's
`ContactView`, the organization as its `OrgView`, a contact's unfinished `flow_contexts` as
the engine's `Session` (and back), and the parsed flows the engine may enter.

Parsed flows are cached per process by database and revision id: a revision's definition
never changes once written (an edit is a new revision), so the cache needs no invalidation,
only a bound.

Every statement here runs on each inbound message: each is built once and read or written
through the driver (`models.read_rows` / `models.write_rows`), and runs are plain `RunRow`s,
not ORM objects (the ORM's statement and flush machinery cost several times the rest of a
flow step; README, Performance, "Flows").
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
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
    bound,
    guarded,
    prepared,
    read_rows,
    records,
    unscoped,
    utcnow,
    write_rows,
)
from models.records import complete
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

    def template_named(self, name: str) -> Flow | None:
        """The published template flow (`is_template`) of this name, any case."""
        wanted = name.strip().lower()
        return next(
            (
                flow
                for flow in self.records.values()
                if flow.is_template
                and (flow.name or "").strip().lower() == wanted
                and flow.uuid in self.by_uuid
            ),
            None,
        )


_FLOWS = prepared(
    guarded(
        records(Flow)
        .add_columns(
            col(FlowRevision.id).label("revision_id"),
            col(FlowRevision.version).label("revision_version"),
        )
        .outerjoin(
            FlowRevision,
            (col(FlowRevision.flow_id) == col(Flow.id)) & (col(FlowRevision.status) == "published"),
        )
        .where(col(Flow.organization_id) == bindparam("org"), col(Flow.is_active).is_(True))
    )
)
_NEWEST_REVISION = prepared(
    guarded(
        select(col(FlowRevision.id), col(FlowRevision.version), col(FlowRevision.definition))
        .where(col(FlowRevision.flow_id) == bindparam("flow"))
        .order_by(col(FlowRevision.revision_number).desc())
        .limit(1)
    )
)
_DEFINITIONS = prepared(
    guarded(
        select(col(FlowRevision.id), col(FlowRevision.definition)).where(
            col(FlowRevision.id).in_(bindparam("ids", expanding=True))
        )
    )
)


async def org_flows(
    session: AsyncSession, org_id: int, *, draft_flow_id: int | None = None
) -> OrgFlows:
    """The organization's active flows with their published revisions, parsed (and
    cached); with `draft_flow_id`, that flow's newest revision instead of its published one.
    One statement when every revision is parsed already. The flows are read-only records
    with a Flow's attributes."""
    rows = await read_rows(session, _FLOWS, {"org": org_id})
    result = OrgFlows()
    published: dict[int, tuple[Any, int, int]] = {}
    for flow in rows:
        result.records[flow.uuid] = flow
        for keyword in flow.keywords or []:
            result.by_keyword[clean_keyword(keyword)] = flow
        if flow.revision_id is not None and flow.id is not None:
            published[flow.id] = (flow, int(flow.revision_id), int(flow.revision_version))
    if draft_flow_id is not None:
        newest = next(
            iter(await read_rows(session, _NEWEST_REVISION, {"flow": draft_flow_id})), None
        )
        drafted = next((f for f in result.records.values() if f.id == draft_flow_id), None)
        if newest is not None and drafted is not None:
            key = _key(session, newest.id)
            result.by_uuid[drafted.uuid] = _cached(key) or _remember(
                key, parse_flow(newest.definition, version=newest.version)
            )
            published.pop(draft_flow_id, None)
    missing = [
        rev_id for _, rev_id, _ in published.values() if _key(session, rev_id) not in _PARSED
    ]
    definitions: dict[int, Any] = {}
    if missing:
        loaded = await read_rows(session, _DEFINITIONS, {"ids": missing})
        definitions = {int(row.id): row.definition for row in loaded}
    for flow, rev_id, version in published.values():
        key = _key(session, rev_id)
        parsed = _cached(key)
        if parsed is None:
            parsed = _remember(key, parse_flow(definitions[rev_id], version=version))
        result.by_uuid[flow.uuid] = parsed
    return result


# --- the contact and the organization ------------------------------------------------------


_PROFILES = prepared(
    guarded(
        records(Profile)
        .where(col(Profile.contact_id) == bindparam("contact"))
        .order_by(col(Profile.id))
    )
)
_GROUPS = prepared(
    guarded(
        select(col(Group.id), col(Group.label))
        .join(ContactGroup, col(ContactGroup.group_id) == col(Group.id))
        .where(col(ContactGroup.contact_id) == bindparam("contact"))
        .order_by(col(Group.id))
    )
)


async def contact_view(session: AsyncSession, contact: Contact) -> ContactView:
    profiles = await read_rows(session, _PROFILES, {"contact": contact.id})
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
    groups = await read_rows(session, _GROUPS, {"contact": contact.id})
    return ContactView(
        id=contact.id or 0,
        name=contact.name,
        phone=contact.phone,
        language_id=contact.language_id,
        fields=dict(contact.fields or {}),
        profiles=views,
        active_profile=active,
        groups=[GroupView(id=g.id, label=g.label) for g in groups if g.id is not None],
        optin=contact.optin_status,
        opted_out=contact.optout_time is not None,
        status=contact.status,
        bsp_status=contact.bsp_status,
        last_message_at=contact.last_message_at,
        settings=dict(contact.settings or {}),
    )


_ORGANIZATION = prepared(
    unscoped(records(Organization).where(col(Organization.id) == bindparam("org")))
)
_ORGANIZATION_KEY = "flow_state_organization"


async def organization_row(session: AsyncSession, org_id: int) -> Any:
    """The organization's row as a record, read once per session (a flow step asks for it
    several times)."""
    transaction = session.sync_session.get_transaction()
    cached = session.info.get(_ORGANIZATION_KEY)
    if cached is not None and cached[0] is transaction and cached[1].id == org_id:
        return cached[1]
    found = next(iter(await read_rows(session, _ORGANIZATION, {"org": org_id})), None)
    if found is None:
        raise RuntimeError(f"organization {org_id} does not exist")
    if transaction is not None:
        session.info[_ORGANIZATION_KEY] = (transaction, found)
    return found


# The organization's flag (in its `fields`) that lets a reply answer an older button
# (Glific's FunWithFlags `is_interactive_re_response_enabled`); set by `python -m app
# org-flag`.
INTERACTIVE_RE_RESPONSE = "interactive_re_response_enabled"


async def org_view(session: AsyncSession, org_id: int) -> OrgView:
    org = await organization_row(session, org_id)
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
        interactive_re_response=bool(
            (org.fields or {}).get(INTERACTIVE_RE_RESPONSE)
            if isinstance(org.fields, dict)
            else False
        ),
    )


# --- runs ----------------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_dt(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


@dataclass
class RunRow:
    """A `flow_contexts` row as a flow step reads and writes it (a plain object: the step
    writes it back with one prepared UPDATE, not through the ORM)."""

    id: int
    organization_id: int
    run_uuid: str
    contact_id: int
    profile_id: int | None
    flow_id: int
    flow_uuid: str
    flow_version: int
    node_uuid: str | None
    parent_id: int | None
    status: str
    state: dict[str, Any]
    results: dict[str, Any]
    wakeup_at: datetime | None
    completed_at: datetime | None
    is_await_result: bool
    is_killed: bool
    reason: str | None
    inserted_at: datetime


_ROW_FIELDS = tuple(f.name for f in fields(RunRow))
_UNFINISHED = prepared(
    guarded(
        records(FlowContext, frozenset(_ROW_FIELDS))
        .where(
            col(FlowContext.contact_id) == bindparam("contact"),
            col(FlowContext.completed_at).is_(None),
        )
        .order_by(col(FlowContext.id))
    )
)


async def unfinished_runs(session: AsyncSession, contact_id: int) -> list[RunRow]:
    rows = complete(await read_rows(session, _UNFINISHED, {"contact": contact_id}))
    return [RunRow(**{name: getattr(row, name) for name in _ROW_FIELDS}) for row in rows]


# Written by insert_run; the rest of a new row is the table's defaults.
_NEW_COLUMNS = (
    "organization_id",
    "run_uuid",
    "contact_id",
    "profile_id",
    "flow_id",
    "flow_uuid",
    "flow_version",
    "parent_id",
    "status",
    "state",
    "results",
    "is_background_flow",
    "is_await_result",
    "is_killed",
    "inserted_at",
    "updated_at",
)
_INSERT_RUN = prepared(
    insert(FlowContext).values(bound(_NEW_COLUMNS)).returning(col(FlowContext.id))
)
# What a flow step changes in a run.
_CHANGING = (
    "node_uuid",
    "status",
    "state",
    "results",
    "wakeup_at",
    "completed_at",
    "is_await_result",
    "is_killed",
    "reason",
)
_UPDATE_RUN = prepared(
    guarded(
        update(FlowContext)
        .where(col(FlowContext.id) == bindparam("run_id"))
        .values(bound((*_CHANGING, "updated_at")))
    )
)


async def insert_run(
    session: AsyncSession,
    *,
    org_id: int,
    run_uuid: str,
    contact_id: int,
    profile_id: int | None,
    flow_id: int,
    flow_uuid: str,
    flow_version: int,
    parent_id: int | None,
) -> RunRow:
    now = utcnow().replace(microsecond=0)
    values: dict[str, Any] = {
        "organization_id": org_id,
        "run_uuid": run_uuid,
        "contact_id": contact_id,
        "profile_id": profile_id,
        "flow_id": flow_id,
        "flow_uuid": flow_uuid,
        "flow_version": flow_version,
        "parent_id": parent_id,
        "status": "published",
        "state": {},
        "results": {},
        "is_background_flow": False,
        "is_await_result": False,
        "is_killed": False,
        "inserted_at": now,
        "updated_at": now,
    }
    (created,) = await write_rows(session, _INSERT_RUN, values)
    return RunRow(
        id=int(created.id),
        node_uuid=None,
        wakeup_at=None,
        completed_at=None,
        reason=None,
        **{k: v for k, v in values.items() if k in _ROW_FIELDS},
    )


async def save_run(session: AsyncSession, row: RunRow) -> None:
    values = {name: getattr(row, name) for name in _CHANGING}
    values.update(run_id=row.id, updated_at=utcnow().replace(microsecond=0))
    await write_rows(session, _UPDATE_RUN, values)


def run_of(row: RunRow, parents: dict[int, str]) -> Run:
    return _run(
        row.state or {},
        uuid=row.run_uuid,
        flow_uuid=row.flow_uuid,
        flow_version=row.flow_version,
        node_uuid=row.node_uuid,
        results=dict(row.results or {}),
        parent_uuid=parents.get(row.parent_id) if row.parent_id is not None else None,
        started_at=row.inserted_at,
        draft=row.status == "draft",
    )


def _run(state: dict[str, Any], **columns: Any) -> Run:
    """A Run from its `state_of` map and the values kept beside it."""
    wait = state.get("wait")
    return Run(
        status=state.get("status", "active"),
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
        **columns,
    )


def session_to_json(session: Session) -> dict[str, Any]:
    """A whole session as one JSON value (a WhatsApp group's flow run keeps it in one row;
    a contact's runs are rows of their own)."""
    return {
        "runs": [
            {
                "uuid": run.uuid,
                "flow_uuid": run.flow_uuid,
                "flow_version": run.flow_version,
                "node_uuid": run.node_uuid,
                "results": run.results,
                "parent_uuid": run.parent_uuid,
                "started_at": _iso(run.started_at),
                "state": state_of(run),
            }
            for run in session.runs
        ]
    }


def session_from_json(value: dict[str, Any]) -> Session:
    return Session(
        runs=[
            _run(
                run.get("state") or {},
                uuid=run["uuid"],
                flow_uuid=run["flow_uuid"],
                flow_version=int(run.get("flow_version") or 0),
                node_uuid=run.get("node_uuid"),
                results=dict(run.get("results") or {}),
                parent_uuid=run.get("parent_uuid"),
                started_at=_parse_dt(run.get("started_at")),
            )
            for run in value.get("runs", [])
        ]
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


def session_of(rows: list[RunRow]) -> Session:
    parents = {row.id: row.run_uuid for row in rows if row.id is not None}
    return Session(runs=[run_of(row, parents) for row in rows])
