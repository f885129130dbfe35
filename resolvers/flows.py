"""Flows: the flow records and their keywords, revisions (drafts, publishing), import and
export, copying, and the flow-editor lock; plus the look-ups the flow runner uses
(`flow_for_keyword`, `flow_by_uuid`, `published_definition`, `latest_definition`).

Keywords are stored lower-cased on the flow and, cleaned (`flow_engine.text.clean_keyword`),
one row each in `flow_keywords`, whose unique index makes a keyword belong to one flow of an
organization even when two flows are saved at the same moment. Inactive flows keep their
keywords reserved (as Glific) but leave the keyword map (`flow_for_keyword`).

Publishing validates the newest revision (`flow_engine.definition.validate`); a Critical
problem refuses the publish and changes nothing (Glific publishes anyway).
"""

from __future__ import annotations

import copy
import json
import re
import uuid as uuid_lib
from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import (
    Flow,
    FlowContext,
    FlowKeyword,
    FlowRevision,
    Read,
    Tag,
    User,
    guarded,
    records,
    saved_id,
    utcnow,
    utcnow_seconds,
)
from resolvers import validation as v
from resolvers.errors import InputErrors, not_found
from resolvers.flow_engine import Problem, validate
from resolvers.flow_engine.text import clean_keyword
from resolvers.querying import (
    ListOpts,
    apply_opts,
    as_list,
    by_id,
    by_ids,
    fetch_for_write,
    ilike,
    int_ids,
    keyed_by_id,
    lookup_id,
    one_or,
    to_int_id,
)

ENTITY = "Flows.Flow"
NAME_TAKEN = "Sorry, the flow name already exists."
IMPORTED = "Successfully imported"
CRITICAL = "Critical"
WARNING = "Warning"
# How long `flowGet` keeps a flow for the user who opened it (renewed by every flowGet).
LOCK_MINUTES = 30
LOCKED = "Sorry! You cannot edit the flow right now. It is being edited by \n {name}"
INACTIVE_REASON = "Flow terminated because it has been set to inactive."
STUCK_CONTEXTS = "Some of your users in the flow have their node deleted"
SPEC_VERSION = "13.2.0"


class FlowType(StrEnum):
    MESSAGE = "message"


class RevisionStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


_COLUMNS = {
    "id": Flow.id,
    "name": Flow.name,
    "uuid": Flow.uuid,
    "is_active": Flow.is_active,
    "is_pinned": Flow.is_pinned,
    "is_background": Flow.is_background,
    "is_template": Flow.is_template,
    "inserted_at": Flow.inserted_at,
    "updated_at": Flow.updated_at,
}
_BOOLEANS = (
    "ignore_keywords",
    "is_active",
    "is_background",
    "is_pinned",
    "is_template",
    "skip_validation",
    "respond_other",
    "respond_no_response",
)


# --- reading -------------------------------------------------------------------------------


def flow_read(org_id: int, raw_id: Any) -> Read[Any]:
    """`flow(id)`: a miss is Glific's `Elixir.Glific.Flows.Flow` / `Resource not found`."""
    fid = lookup_id(raw_id)
    return Read(by_id(Flow), {"id": fid, "org": org_id}, one_or(lambda: not_found(ENTITY)))


def flows_by_ids_read(ids: list[int]) -> Read[dict[int, Any]]:
    return Read(by_ids(Flow), {"ids": ids}, keyed_by_id)


def _keyword_match(flow_id: Any, cleaned: str) -> Any:
    return exists().where(col(FlowKeyword.flow_id) == flow_id, col(FlowKeyword.keyword) == cleaned)


def _filtered(stmt: Any, org_id: int, flt: dict[str, Any]) -> Any:
    stmt = stmt.where(Flow.organization_id == org_id)
    if flt.get("name"):
        stmt = stmt.where(ilike(Flow.name, flt["name"]))
    if flt.get("name_or_keyword_or_tags"):
        term = flt["name_or_keyword_or_tags"]
        stmt = stmt.where(
            or_(
                ilike(Flow.name, term),
                exists().where(
                    col(FlowKeyword.flow_id) == Flow.id,
                    ilike(FlowKeyword.keyword, clean_keyword(term) or term),
                ),
            )
        )
    if flt.get("keyword"):
        stmt = stmt.where(_keyword_match(Flow.id, clean_keyword(flt["keyword"])))
    if flt.get("uuid"):
        stmt = stmt.where(Flow.uuid == str(flt["uuid"]))
    if flt.get("status"):
        stmt = stmt.where(
            exists().where(
                col(FlowRevision.flow_id) == Flow.id, FlowRevision.status == flt["status"]
            )
        )
    if flt.get("tag_ids") is not None:
        stmt = stmt.where(col(Flow.tag_id).in_(int_ids(flt["tag_ids"])))
    for key in ("is_active", "is_template", "is_background", "is_pinned"):
        if flt.get(key) is not None:
            stmt = stmt.where(getattr(Flow, key) == flt[key])
    return stmt


def flows_read(org_id: int, flt: dict[str, Any], opts: ListOpts) -> Read[list[Any]]:
    """`flows(filter, opts)`: ordered by name with opts (Glific's sort field)."""
    stmt = apply_opts(
        _filtered(records(Flow), org_id, flt),
        opts,
        columns=_COLUMNS,
        default_field="name",
        tiebreak=Flow.id,
    )
    return Read(guarded(stmt), {}, as_list)


async def count_flows(session: AsyncSession, org_id: int, flt: dict[str, Any]) -> int:
    stmt = _filtered(select(func.count()).select_from(Flow), org_id, flt)
    return int((await session.execute(stmt)).scalar_one())


async def revision_dates(
    session: AsyncSession, flow_ids: list[int]
) -> dict[int, tuple[datetime | None, datetime | None]]:
    """{flow id: (last published at, last changed at)}: when the published revision became
    published, and when the newest revision was saved."""
    published = col(FlowRevision.status) == RevisionStatus.PUBLISHED.value
    rows = await session.execute(
        select(
            col(FlowRevision.flow_id),
            func.max(FlowRevision.inserted_at),
            func.max(func.coalesce(FlowRevision.updated_at, FlowRevision.inserted_at)).filter(
                published
            ),
        )
        .where(col(FlowRevision.flow_id).in_(flow_ids))
        .group_by(col(FlowRevision.flow_id))
    )
    return {fid: (last_published, changed) for fid, changed, last_published in rows}


async def flow_by_uuid(
    session: AsyncSession, org_id: int, uuid: Any, *, lock: bool = False
) -> Flow | None:
    """With `lock`, the row stays locked (and is read afresh) until the transaction ends."""
    stmt = select(Flow).where(col(Flow.organization_id) == org_id, col(Flow.uuid) == str(uuid))
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return await session.scalar(stmt)


async def flow_for_keyword(session: AsyncSession, org_id: int, cleaned_keyword: str) -> Flow | None:
    """The active flow whose (cleaned) keywords include `cleaned_keyword`."""
    if not cleaned_keyword:
        return None
    return await session.scalar(
        select(Flow)
        .join(FlowKeyword, col(FlowKeyword.flow_id) == col(Flow.id))
        .where(
            col(FlowKeyword.organization_id) == org_id,
            col(FlowKeyword.keyword) == cleaned_keyword,
            col(Flow.is_active).is_(True),
        )
    )


async def _newest_revision(
    session: AsyncSession, org_id: int, flow_id: int, status: str | None = None
) -> FlowRevision | None:
    stmt = select(FlowRevision).where(
        col(FlowRevision.organization_id) == org_id, col(FlowRevision.flow_id) == flow_id
    )
    if status is not None:
        stmt = stmt.where(col(FlowRevision.status) == status)
    return await session.scalar(stmt.order_by(col(FlowRevision.revision_number).desc()).limit(1))


async def published_definition(
    session: AsyncSession, org_id: int, flow_id: int
) -> tuple[FlowRevision, dict[str, Any]] | None:
    """The published revision of the flow and its definition (unwrapped), or None."""
    revision = await _newest_revision(session, org_id, flow_id, RevisionStatus.PUBLISHED)
    return None if revision is None else (revision, unwrap(revision.definition))


async def latest_definition(
    session: AsyncSession, org_id: int, flow_id: int
) -> tuple[FlowRevision, dict[str, Any]] | None:
    """The newest revision of the flow (the draft the editor and the simulator see)."""
    revision = await _newest_revision(session, org_id, flow_id)
    return None if revision is None else (revision, unwrap(revision.definition))


def unwrap(definition: Any) -> dict[str, Any]:
    """The flow JSON itself: the editor sometimes wraps it under a `definition` key."""
    if isinstance(definition, dict) and isinstance(definition.get("definition"), dict):
        inner: dict[str, Any] = definition["definition"]
        return inner
    return definition if isinstance(definition, dict) else {}


# --- keywords ------------------------------------------------------------------------------


def _keywords(params: dict[str, Any]) -> list[str]:
    """The keywords as stored: lower-cased and stripped, without empties or repeats (two
    spellings that clean to the same keyword count once)."""
    raw = params.get("keywords")
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(k, str) or k is None for k in raw):
        raise InputErrors.field("keywords", "is invalid")
    out: list[str] = []
    seen: set[str] = set()
    for keyword in raw:
        text = (keyword or "").strip().lower()
        if not text:
            continue
        cleaned = clean_keyword(text)
        if not cleaned:
            raise InputErrors.field(
                "keywords",
                f"The keyword `{text}` has no letters or digits, so no message can match it.",
            )
        if cleaned not in seen:
            seen.add(cleaned)
            out.append(text)
    return out


def _taken_message(clashes: Iterable[tuple[str, str]]) -> str:
    """Glific's wording: "The keyword `hi` was already used in the `Welcome` Flow."."""
    parts = [f"The keyword `{kw}` was already used in the `{name}` Flow" for kw, name in clashes]
    return ", ".join(parts) + "."


async def _clashes(
    session: AsyncSession, org_id: int, flow_id: int, keywords: list[str]
) -> list[tuple[str, str]]:
    cleaned = {clean_keyword(k): k for k in keywords}
    if not cleaned:
        return []
    rows = await session.execute(
        select(col(FlowKeyword.keyword), col(Flow.name))
        .join(Flow, col(Flow.id) == col(FlowKeyword.flow_id))
        .where(
            col(FlowKeyword.organization_id) == org_id,
            col(FlowKeyword.keyword).in_(list(cleaned)),
            col(FlowKeyword.flow_id) != flow_id,
        )
    )
    return [(cleaned[kw], name) for kw, name in rows]


async def _save_keywords(session: AsyncSession, flow: Flow, keywords: list[str]) -> None:
    """Make `keywords` the flow's: refused with Glific's message when another flow of the
    organization has one (checked first, and by the unique index for concurrent saves)."""
    flow_id, org_id = saved_id(flow), flow.organization_id
    clashes = await _clashes(session, org_id, flow_id, keywords)
    if clashes:
        raise InputErrors.field("keywords", _taken_message(clashes))
    flow.keywords = keywords
    await session.execute(delete(FlowKeyword).where(col(FlowKeyword.flow_id) == flow_id))
    try:
        # (begin_nested flushes what is pending first: the rows are added inside it.)
        async with session.begin_nested():
            for keyword in keywords:
                session.add(
                    FlowKeyword(
                        organization_id=org_id, flow_id=flow_id, keyword=clean_keyword(keyword)
                    )
                )
            await session.flush()
    except IntegrityError:
        # Another flow took one of them since the check, and committed: name it.
        clashes = await _clashes(session, org_id, flow_id, keywords)
        raise InputErrors.field(
            "keywords",
            _taken_message(clashes)
            if clashes
            else "One of these keywords was just taken by another flow.",
        ) from None


# --- writing -------------------------------------------------------------------------------


def _apply(flow: Flow, params: dict[str, Any]) -> None:
    for key in _BOOLEANS:
        value = v.boolean(params, key)
        if value is not None:
            setattr(flow, key, value)
    if "description" in params:
        flow.description = v.text(params, "description", max_len=10_000)
    if "tag_id" in params:
        flow.tag_id = None if params["tag_id"] is None else to_int_id(params["tag_id"], "tag_id")


async def _save_flow(session: AsyncSession, flow: Flow) -> None:
    """Add or update the flow row; a name another flow of the organization has is refused."""
    clash = select(col(Flow.id)).where(
        col(Flow.organization_id) == flow.organization_id,
        col(Flow.name) == flow.name,
        col(Flow.id) != (flow.id or 0),
    )
    if await session.scalar(clash.limit(1)) is not None:
        raise InputErrors.field("name", NAME_TAKEN)
    if flow.tag_id is not None:
        tag = select(col(Tag.id)).where(
            col(Tag.id) == flow.tag_id, col(Tag.organization_id) == flow.organization_id
        )
        if await session.scalar(tag) is None:
            raise InputErrors.field("tag_id", "does not exist")
    try:
        async with session.begin_nested():
            session.add(flow)
            await session.flush()
    except IntegrityError:
        raise InputErrors.field("name", NAME_TAKEN) from None


def empty_definition(flow: Flow) -> dict[str, Any]:
    """What the flow editor opens for a new flow."""
    return {
        "name": flow.name,
        "uuid": flow.uuid,
        "spec_version": SPEC_VERSION,
        "language": "base",
        "type": "messaging",
        "nodes": [],
        "_ui": {},
        "revision": 1,
        "expire_after_minutes": 10080,
    }


async def create_flow(
    session: AsyncSession,
    org_id: int,
    params: dict[str, Any],
    *,
    user_id: int | None = None,
    definition: dict[str, Any] | None = None,
    flow_uuid: str | None = None,
) -> Flow:
    """A new flow with its first draft revision (`definition`, else an empty flow)."""
    name = v.text(params, "name", required=True)
    keywords = _keywords(params)
    flow = Flow(
        organization_id=org_id,
        name=name,
        uuid=flow_uuid or str(uuid_lib.uuid4()),
        version_number=SPEC_VERSION,
        flow_type=FlowType.MESSAGE.value,
    )
    _apply(flow, params)
    await _save_flow(session, flow)
    await _save_keywords(session, flow, keywords)
    if definition is None:
        definition = empty_definition(flow)
    else:
        flow.version_number = str(definition.get("spec_version") or SPEC_VERSION)
    await save_revision(session, org_id, flow, definition, user_id)
    return flow


async def fetch_flow(
    session: AsyncSession, org_id: int, raw_id: Any, *, lock: bool = False
) -> Flow:
    return await fetch_for_write(session, Flow, org_id, raw_id, ENTITY, lock=lock)


async def update_flow(
    session: AsyncSession, org_id: int, raw_id: Any, params: dict[str, Any]
) -> Flow:
    flow = await fetch_flow(session, org_id, raw_id, lock=True)
    was_active = flow.is_active
    if "name" in params:
        flow.name = v.text(params, "name", required=True)
    _apply(flow, params)
    flow.updated_at = utcnow_seconds()
    await _save_flow(session, flow)
    if "keywords" in params:
        await _save_keywords(session, flow, _keywords(params))
    if was_active and not flow.is_active:
        await _end_runs(session, saved_id(flow), INACTIVE_REASON)
    return flow


async def _end_runs(session: AsyncSession, flow_id: int, reason: str) -> None:
    """Glific ends the running contexts of a flow that is set inactive."""
    now = utcnow_seconds()
    await session.execute(
        update(FlowContext)
        .where(col(FlowContext.flow_id) == flow_id, col(FlowContext.completed_at).is_(None))
        .values(completed_at=now, wakeup_at=None, reason=reason, updated_at=now)
        .execution_options(synchronize_session=False)
    )


async def delete_flow(session: AsyncSession, org_id: int, raw_id: Any) -> None:
    """Delete the flow, its keywords, revisions, runs and results (messages keep their rows,
    without the flow)."""
    flow = await fetch_flow(session, org_id, raw_id, lock=True)
    await session.delete(flow)
    await session.flush()


async def copy_flow(
    session: AsyncSession,
    org_id: int,
    raw_id: Any,
    params: dict[str, Any],
    *,
    user_id: int | None = None,
) -> Flow:
    """A new flow (new uuid) holding the newest definition of flow `raw_id` as its draft.
    Name and settings come from `params` (default name: "Copy of <name>"); keywords are not
    copied (they belong to one flow), only those given."""
    source = await fetch_flow(session, org_id, raw_id)
    params = dict(params)
    params.setdefault("name", f"Copy of {source.name}")
    for key in ("ignore_keywords", "is_background", "description"):
        params.setdefault(key, getattr(source, key))
    latest = await latest_definition(session, org_id, saved_id(source))
    new_uuid = str(uuid_lib.uuid4())
    definition = copy.deepcopy(latest[1]) if latest else None
    if definition is not None:
        definition["uuid"] = new_uuid
        definition["name"] = v.text(params, "name", required=True)
    return await create_flow(
        session, org_id, params, user_id=user_id, definition=definition, flow_uuid=new_uuid
    )


# --- revisions and publishing ---------------------------------------------------------------


async def _lock_flow(session: AsyncSession, flow_id: int) -> None:
    """Revisions of one flow are numbered and published one writer at a time."""
    await session.execute(select(col(Flow.id)).where(col(Flow.id) == flow_id).with_for_update())


async def save_revision(
    session: AsyncSession,
    org_id: int,
    flow: Flow,
    definition: dict[str, Any],
    user_id: int | None = None,
) -> FlowRevision:
    """Store `definition` as the flow's newest draft revision."""
    flow_id = saved_id(flow)
    await _lock_flow(session, flow_id)
    last = await session.scalar(
        select(func.max(FlowRevision.revision_number)).where(col(FlowRevision.flow_id) == flow_id)
    )
    revision = FlowRevision(
        organization_id=org_id,
        flow_id=flow_id,
        definition=unwrap(definition),
        revision_number=(last or 0) + 1,
        status=RevisionStatus.DRAFT.value,
        user_id=user_id,
    )
    session.add(revision)
    await session.flush()
    return revision


async def _org_flow_uuids(session: AsyncSession, org_id: int) -> set[str]:
    rows = await session.scalars(select(col(Flow.uuid)).where(col(Flow.organization_id) == org_id))
    return set(rows)


async def publish(session: AsyncSession, org_id: int, flow_uuid: Any) -> list[Problem]:
    """Validate the newest revision; with no Critical problem, archive the published one and
    publish the newest with the next version. Returns the problems found (Critical ones mean
    nothing changed). Publishing what is already published changes nothing."""
    flow = await flow_by_uuid(session, org_id, flow_uuid)
    if flow is None:
        raise not_found(ENTITY)
    flow_id = saved_id(flow)
    await _lock_flow(session, flow_id)
    newest = await _newest_revision(session, org_id, flow_id)
    if newest is None:
        return [Problem("flow", "The flow has no definition to publish", CRITICAL)]
    definition = unwrap(newest.definition)
    known = await _org_flow_uuids(session, org_id)
    problems = list(validate(definition, flow_exists=known.__contains__))
    problems += await _stuck_contexts(session, flow_id, definition)
    if any(p.category == CRITICAL for p in problems):
        return problems
    if newest.status == RevisionStatus.PUBLISHED:
        return problems
    previous = await session.scalar(
        select(func.max(FlowRevision.version)).where(col(FlowRevision.flow_id) == flow_id)
    )
    now = utcnow()
    await session.execute(
        update(FlowRevision)
        .where(
            col(FlowRevision.flow_id) == flow_id,
            col(FlowRevision.status) == RevisionStatus.PUBLISHED,
        )
        .values(status=RevisionStatus.ARCHIVED.value, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    newest.status = RevisionStatus.PUBLISHED.value
    newest.version = (previous or 0) + 1
    newest.updated_at = now
    flow.updated_at = utcnow_seconds()
    await session.flush()
    return problems


async def _stuck_contexts(
    session: AsyncSession, flow_id: int, definition: dict[str, Any]
) -> list[Problem]:
    """Running contexts waiting on a node the new definition no longer has (a Warning: the
    runner must cope with them, and refusing would block every later publish)."""
    nodes = {n.get("uuid") for n in definition.get("nodes") or [] if isinstance(n, dict)}
    waiting = await session.scalars(
        select(col(FlowContext.node_uuid))
        .where(
            col(FlowContext.flow_id) == flow_id,
            col(FlowContext.completed_at).is_(None),
            col(FlowContext.node_uuid).is_not(None),
        )
        .distinct()
    )
    if any(node not in nodes for node in waiting):
        return [Problem("flowContext", STUCK_CONTEXTS, WARNING)]
    return []


# --- export and import ---------------------------------------------------------------------

_FIELD_REFERENCE = re.compile(r"@contact\.fields\.([A-Za-z0-9_]+)")


def _actions(definition: dict[str, Any]) -> Iterable[dict[str, Any]]:
    for node in definition.get("nodes") or []:
        if isinstance(node, dict):
            for action in node.get("actions") or []:
                if isinstance(action, dict):
                    yield action


def _sub_flow_uuids(definition: dict[str, Any]) -> list[str]:
    found = []
    for action in _actions(definition):
        if action.get("type") == "enter_flow":
            target = (action.get("flow") or {}).get("uuid")
            if isinstance(target, str):
                found.append(target)
    return found


def _contact_fields(definition: dict[str, Any]) -> set[str]:
    fields = set(_FIELD_REFERENCE.findall(json.dumps(definition)))
    for action in _actions(definition):
        if action.get("type") == "set_contact_field":
            key = (action.get("field") or {}).get("key")
            if isinstance(key, str) and key:
                fields.add(key)
    return fields


def _collections(definition: dict[str, Any]) -> set[str]:
    names = set()
    for action in _actions(definition):
        if action.get("type") in ("add_contact_groups", "remove_contact_groups"):
            for group in action.get("groups") or []:
                if isinstance(group, dict) and isinstance(group.get("name"), str):
                    names.add(group["name"])
    return names


async def export_flow(session: AsyncSession, org_id: int, raw_id: Any) -> dict[str, Any]:
    """Glific's export: the flow's newest definition (named as the flow) with its keywords,
    then each sub-flow it reaches through `enter_flow`, once each; the contact fields and
    collections the flows use."""
    flow = await fetch_flow(session, org_id, raw_id)
    pending: list[Flow] = [flow]
    seen: set[str] = set()
    flows: list[dict[str, Any]] = []
    fields: set[str] = set()
    groups: set[str] = set()
    while pending:
        current = pending.pop(0)
        if current.uuid in seen:
            continue
        seen.add(current.uuid)
        latest = await latest_definition(session, org_id, saved_id(current))
        definition = copy.deepcopy(latest[1]) if latest else empty_definition(current)
        definition["name"] = current.name
        flows.append({"definition": definition, "keywords": list(current.keywords or [])})
        fields |= _contact_fields(definition)
        groups |= _collections(definition)
        for sub_uuid in _sub_flow_uuids(definition):
            if sub_uuid not in seen:
                sub = await flow_by_uuid(session, org_id, sub_uuid)
                if sub is not None:
                    pending.append(sub)
    return {
        "flows": flows,
        "contact_field": sorted(fields),
        "collections": sorted(groups),
        "interactive_templates": [],
    }


class ImportRefused(InputErrors):
    """The import stored nothing; `errors` are (flow name, why) for every flow."""


def _import_entries(export: Any) -> list[tuple[str, dict[str, Any], list[str], list[str]]]:
    """(name, definition, keywords, problems) per flow of an export; a file that is not an
    export at all is refused as a whole."""
    if isinstance(export, str):
        try:
            export = json.loads(export)
        except ValueError:
            raise ImportRefused([("flow", "The file is not valid JSON")]) from None
    if not isinstance(export, dict) or not isinstance(export.get("flows"), list):
        raise ImportRefused(
            [("flow", 'Not a flow export: expected a JSON object with a "flows" list')]
        )
    if not export["flows"]:
        raise ImportRefused([("flow", "The export holds no flows")])
    entries = []
    for index, entry in enumerate(export["flows"], start=1):
        problems: list[str] = []
        definition = unwrap(entry.get("definition")) if isinstance(entry, dict) else {}
        name = definition.get("name") if isinstance(definition.get("name"), str) else None
        name = (name or "").strip()
        if not name:
            problems.append("the flow has no name")
            name = f"Flow {index}"
        if not isinstance(definition.get("uuid"), str):
            problems.append("the flow has no uuid")
        else:
            try:
                uuid_lib.UUID(definition["uuid"])
            except ValueError:
                problems.append(f"the flow uuid {definition['uuid']!r} is not a UUID")
        keywords = entry.get("keywords") if isinstance(entry, dict) else None
        if keywords is None:
            keywords = []
        if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
            problems.append("keywords should be a list of strings")
            keywords = []
        entries.append((name, definition, keywords, problems))
    return entries


async def import_flows(session: AsyncSession, org_id: int, export: Any) -> list[tuple[str, str]]:
    """Import a Glific export: every flow gets a draft revision of its definition and its
    keywords; the contact fields and collections it lists are created when missing. All or
    nothing: if any flow has a problem (a malformed definition, a name or keyword already
    used, a uuid already here), nothing is stored and `ImportRefused` says, per flow, why
    (flows without a problem of their own say they were not imported because of the
    others). Returns [(flow name, "Successfully imported")]."""
    entries = _import_entries(export)
    known = await _org_flow_uuids(session, org_id)
    importing = {d.get("uuid") for _, d, _, _ in entries if isinstance(d.get("uuid"), str)}
    names = [name for name, *_ in entries]
    for name, definition, keywords, problems in entries:
        if problems:
            continue
        if names.count(name) > 1:
            problems.append("two flows in the file have this name")
        for problem in validate(definition, flow_exists=lambda u: u in known or u in importing):
            if problem.category == CRITICAL:
                problems.append(problem.message)
        if definition["uuid"] in known:
            problems.append(f"a flow with uuid {definition['uuid']} already exists")
        clash = await session.scalar(
            select(col(Flow.id)).where(col(Flow.organization_id) == org_id, col(Flow.name) == name)
        )
        if clash is not None:
            problems.append(NAME_TAKEN)
        try:
            cleaned = _keywords({"keywords": keywords})
        except InputErrors as exc:
            problems.extend(m.removeprefix("Keywords: ") for _, m in exc.errors)
        else:
            taken = await _clashes(session, org_id, 0, cleaned)
            if taken:
                problems.append(_taken_message(taken))
    if any(problems for *_, problems in entries):
        raise ImportRefused(
            [
                (
                    name,
                    "Not imported: " + "; ".join(problems)
                    if problems
                    else "Not imported: other flows in this file have problems",
                )
                for name, _, _, problems in entries
            ]
        )
    done = []
    for name, definition, keywords, _ in entries:
        try:
            await create_flow(
                session,
                org_id,
                {"name": name, "keywords": keywords},
                definition={**definition, "name": name},
                flow_uuid=definition["uuid"],
            )
        except InputErrors as exc:  # taken by a concurrent writer since the checks
            raise ImportRefused(
                [(n, "Not imported: " + (exc.errors[0][1] if n == name else "")) for n in names]
            ) from None
        done.append((name, IMPORTED))
    await _import_extras(session, org_id, export if isinstance(export, dict) else {})
    return done


async def _import_extras(session: AsyncSession, org_id: int, export: dict[str, Any]) -> None:
    """Contact fields and collections the export lists, created when missing."""
    from resolvers import contacts_fields, groups

    for shortcode in export.get("contact_field") or []:
        if isinstance(shortcode, str) and contacts_fields.snake_case(shortcode):
            await contacts_fields.ensure_field(session, org_id, shortcode)
    for label in export.get("collections") or []:
        if isinstance(label, str) and label.strip():
            await groups.group_by_label(session, org_id, label.strip(), create=True)


# --- the editor lock (flowGet / flowRelease) ------------------------------------------------


async def flow_get(
    session: AsyncSession, org_id: int, user_id: int, raw_id: Any, *, forced: bool = False
) -> Flow:
    """Open the flow in the editor for `user_id`: they hold it for LOCK_MINUTES (renewed by
    every flowGet) and give up any other flow they held. While another user holds it, it is
    refused with Glific's message naming them, unless `forced` (the editor's "take over")."""
    flow = await fetch_flow(session, org_id, raw_id, lock=True)
    if not forced and (name := await lock_holder(session, flow, user_id)) is not None:
        raise InputErrors.raw("error", LOCKED.format(name=name))
    await _release(session, org_id, user_id, keep=saved_id(flow))
    flow.locked_by_user_id = user_id
    flow.locked_until = utcnow_seconds() + timedelta(minutes=LOCK_MINUTES)
    await session.flush()
    return flow


async def lock_holder(session: AsyncSession, flow: Flow, user_id: int) -> str | None:
    """The name of the user other than `user_id` who holds `flow` in the editor right now
    (`flow_get`), or None when it is free or theirs. `flow` is read under its row lock."""
    now = utcnow_seconds()
    holder = flow.locked_by_user_id
    if holder is None or holder == user_id or (flow.locked_until or now) <= now:
        return None
    name = await session.scalar(select(col(User.name)).where(col(User.id) == holder))
    return name or ""


async def _release(session: AsyncSession, org_id: int, user_id: int, keep: int = 0) -> None:
    await session.execute(
        update(Flow)
        .where(
            col(Flow.organization_id) == org_id,
            col(Flow.locked_by_user_id) == user_id,
            col(Flow.id) != keep,
        )
        .values(locked_by_user_id=None, locked_until=None)
        .execution_options(synchronize_session=False)
    )


async def flow_release(session: AsyncSession, org_id: int, user_id: int) -> None:
    """Give up whatever flow the user holds (Glific answers no flow)."""
    await _release(session, org_id, user_id)
