"""Running flows for a contact: one sprint of the engine inside one write transaction that
holds the contact's row lock, its events applied through the resolver functions GraphQL
uses (profiles, fields, languages, groups, history), the runs written back to
`flow_contexts`, the answers filed on the flow result row of the profile active when they
were given, and replies stored as outbound messages.

A `call_webhook` is made after that transaction commits (never inside one) and its outcome
resumes the run in a new transaction. Wait timeouts, `wait_for_time`, flow expiry and
pending webhook calls are durable jobs (`resolvers.jobs`): each names the run (and a timer
the moment it was armed for), so a stale one (the person answered, or a new flow started)
does nothing. They take no job lock: a job lock keeps later jobs waiting behind one not yet
due (an expiry a week away would hold back every timer of the contact), and the turn they
take holds the contact's row lock anyway.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx2
from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import (
    Contact,
    ContactGroup,
    Database,
    Flow,
    FlowContext,
    FlowResult,
    Group,
    Message,
    bound,
    guarded,
    prepared,
    read_rows,
    records,
    saved_id,
    utcnow,
    write_rows,
)
from resolvers import (
    contacts,
    contacts_fields,
    flows,
    groups,
    history,
    jobs,
    notifications,
    outbox,
    profiles,
    providers,
    sending,
    templates,
)
from resolvers.conversation import Reply
from resolvers.errors import InputErrors, not_found
from resolvers.flow_engine import (
    AWAITING_RESULT,
    ContactView,
    Environment,
    Input,
    OrgView,
    Session,
    Sprint,
    interrupt,
)
from resolvers.flow_engine import events as ev
from resolvers.flow_engine import resume as engine_resume
from resolvers.flow_engine import start as engine_start
from resolvers.flow_state import (
    FINISHED,
    OrgFlows,
    RunRow,
    contact_view,
    insert_run,
    org_flows,
    org_view,
    save_run,
    session_of,
    state_of,
    unfinished_runs,
)
from resolvers.providers import ProviderAccount
from resolvers.querying import to_int_id

log = logging.getLogger(__name__)

FLOW_METHOD = "Switched profile via flow"
WAKEUP_JOB = "flow_wakeup"
WEBHOOK_JOB = "flow_webhook"
EXPIRE_JOB = "flow_expire"
# start_session's starts, for other contacts and collections (resolvers.group_sends).
SESSION_JOB = "flow_start_session"
# send_broadcast's messages to other contacts (resolvers.group_sends).
BROADCAST_JOB = "flow_send_broadcast"
# How long after a turn its webhook job waits for the inline call to have been made.
WEBHOOK_FALLBACK_SECONDS = 60.0
WEBHOOK_TIMEOUT_SECONDS = 20.0
# A run may call webhooks in a row; past this many in one go it waits for the next message.
MAX_WEBHOOKS_PER_TURN = 5


@dataclass
class Turn:
    """What the engine sees at the start of a sprint, loaded under the contact's lock."""

    session: AsyncSession
    org_id: int
    contact: Contact
    view: ContactView
    org: OrgView
    flows: OrgFlows
    runs: Session
    rows: dict[str, RunRow]
    env: Environment
    # True when the caller makes the turn's webhook calls itself right after commit (an
    # inbound message); then the durable job for each call is only a fallback, run later.
    follows_webhooks: bool = True
    # The account replies go through (None: provider `log`), read at the first reply.
    sender: ProviderAccount | None = None
    sender_known: bool = False
    # Runs whose row this turn changed outside the engine's session (ended, interrupted).
    ended: list[RunRow] = field(default_factory=list)
    # A profile was created, switched or deactivated: `view.profiles` is out of date.
    profiles_changed: bool = False


@dataclass
class Outcome:
    replies: list[Reply] = field(default_factory=list)
    webhooks: list[ev.WebhookRequested] = field(default_factory=list)


def environment() -> Environment:
    return Environment()


async def lock_contact(session: AsyncSession, org_id: int, contact_id: int) -> Contact:
    """The contact, locked until the transaction ends (`profiles.lock_contact`)."""
    contact = await profiles.lock_contact(session, org_id, contact_id)
    if contact is None:
        raise not_found("Contacts.Contact")
    return contact


async def load_turn(
    session: AsyncSession,
    org_id: int,
    contact: Contact,
    *,
    draft_flow_id: int | None = None,
    env: Environment | None = None,
) -> Turn:
    rows = await unfinished_runs(session, saved_id(contact))
    return Turn(
        session=session,
        org_id=org_id,
        contact=contact,
        view=await contact_view(session, contact),
        org=await org_view(session, org_id),
        flows=await org_flows(session, org_id, draft_flow_id=draft_flow_id),
        runs=session_of(rows),
        rows={row.run_uuid: row for row in rows},
        env=env or environment(),
    )


# --- applying a sprint ----------------------------------------------------------------------


async def apply(turn: Turn, sprint: Sprint) -> Outcome:
    """Apply the sprint's events in order, then write every run back."""
    outcome = Outcome()
    for event in sprint.events:
        await _apply_event(turn, event, outcome)
    await _write_runs(turn, sprint.session)
    return outcome


def _flow_id(turn: Turn, flow_uuid: str) -> int | None:
    record = turn.flows.record(flow_uuid)
    return None if record is None else record.id


def _run_flow_id(turn: Turn, run_uuid: str) -> int | None:
    row = turn.rows.get(run_uuid)
    return None if row is None else row.flow_id


async def _apply_event(turn: Turn, event: ev.Event, outcome: Outcome) -> None:
    s, contact, org_id = turn.session, turn.contact, turn.org_id
    if isinstance(event, ev.RunStarted):
        await _start_row(turn, event)
    elif isinstance(event, ev.RunEnded):
        await _end_row(turn, event)
    elif isinstance(event, ev.MsgCreated):
        outcome.replies.append(await _send(turn, event))
    elif isinstance(event, ev.ContactFieldChanged):
        await contacts_fields.ensure_field(s, org_id, event.key, event.label)
        fields = copy.deepcopy(contact.fields or {})
        fields[event.key] = {
            "value": event.value,
            "label": event.label,
            "type": "string",
            "inserted_at": utcnow().isoformat() + "Z",
        }
        await profiles.write_contact_fields(s, contact, fields)
        await history.record(
            s,
            contact,
            history.CONTACT_FIELDS_UPDATED,
            f"Value for {event.label} is updated to {event.value}",
            {"field": event.key, "value": event.value},
        )
    elif isinstance(event, ev.ContactNameChanged):
        contact.name = event.name[:255]
        contact.updated_at = utcnow()
        await history.record(
            s, contact, "contact_name_updated", f"contact name changed to {event.name}"
        )
    elif isinstance(event, ev.ContactLanguageChanged):
        await profiles.write_contact_language(s, contact, event.language_id)
        label = next(
            (lang.label for lang in turn.org.languages if lang.id == event.language_id), ""
        )
        await history.record(
            s, contact, history.CONTACT_LANGUAGE_UPDATED, f"Changed contact language to {label}"
        )
    elif isinstance(event, ev.ContactOptedIn):
        await contacts.mark_opted_in(s, contact, method="WA")
    elif isinstance(event, ev.ContactOptedOut):
        await contacts.optout_contact(s, contact, method="WA")
    elif isinstance(event, ev.ContactPreferencesChanged):
        settings = copy.deepcopy(contact.settings or {})
        prefs = dict(settings.get("preferences") or {})
        if event.preference is None:
            prefs = {}
        else:
            prefs[event.preference] = True
        settings["preferences"] = prefs
        contact.settings = settings
        contact.updated_at = utcnow()
    elif isinstance(event, ev.ProfileCreated):
        turn.profiles_changed = True
        await profiles.create_profile(
            s,
            org_id,
            {"contact_id": contact.id, "name": event.name, "type": event.type},
            activate=event.activate,
            method=_method(turn, event.run_uuid),
        )
    elif isinstance(event, ev.ProfileSwitched):
        turn.profiles_changed = True
        await profiles.switch_profile(
            s, org_id, contact.id, index=event.index, method=_method(turn, event.run_uuid)
        )
    elif isinstance(event, ev.ProfileDeactivated):
        turn.profiles_changed = True
        menu = await profiles.indexed_profiles(s, saved_id(contact))
        if 1 <= event.index <= len(menu) and not menu[event.index - 1].is_default:
            await profiles.set_profile_active(
                s, org_id, menu[event.index - 1].id, False, method=_method(turn, event.run_uuid)
            )
    elif isinstance(event, ev.ResultSaved):
        await _file_result(turn, event)
    elif isinstance(event, ev.InputLabelsAdded):
        await _label_input(turn, event)
    elif isinstance(event, ev.ContactGroupsAdded):
        for ref in event.groups:
            group = await _group(turn, ref, create=True)
            if group is not None and await groups.add_contact(s, group, saved_id(contact)):
                await history.record(
                    s, contact, "contact_groups_updated", f'Added to collection: "{group.label}"'
                )
    elif isinstance(event, ev.ContactGroupsRemoved):
        await _remove_groups(turn, event)
    elif isinstance(event, ev.BroadcastRequested):
        # Written in a job of their own, as start_session's starts are.
        await jobs.defer(
            s,
            BROADCAST_JOB,
            {
                "org": org_id,
                "text": event.text,
                "contacts": sorted(event.contact_ids),
                "attachment": list(event.attachment) if event.attachment else None,
                "flow": _run_flow_id(turn, event.run_uuid),
            },
        )
    elif isinstance(event, ev.SessionStartRequested):
        # Other contacts' runs start in a job of their own: this turn holds only its
        # contact's lock.
        await jobs.defer(
            s,
            SESSION_JOB,
            {
                "org": org_id,
                "flow": event.flow_uuid,
                "contacts": sorted(event.contact_ids),
                "groups": list(event.group_ids),
                "skip_busy": event.skip_busy,
            },
        )
    elif isinstance(event, ev.WaitStarted):
        if event.timeout_at is not None:
            await jobs.defer(
                s,
                WAKEUP_JOB,
                {
                    "org_id": org_id,
                    "contact_id": contact.id,
                    "run_uuid": event.run_uuid,
                    "armed_for": event.timeout_at.isoformat(),
                },
                run_at=event.timeout_at,
            )
    elif isinstance(event, ev.WebhookRequested):
        outcome.webhooks.append(event)
        # Durable: if this process dies before the call is made, the job makes it.
        delay = WEBHOOK_FALLBACK_SECONDS if turn.follows_webhooks else 0.0
        await jobs.defer(
            s,
            WEBHOOK_JOB,
            {"org_id": org_id, "contact_id": contact.id, "request": _request_args(event)},
            run_at=turn.env.now() + timedelta(seconds=delay),
        )
    elif isinstance(event, ev.EngineError):
        log.warning(
            "flow problem for contact %s (run %s, node %s): %s",
            contact.id,
            event.run_uuid,
            event.node_uuid,
            event.message,
        )
        record = _flow_of_run(turn, event.run_uuid)
        name = f'"{record.name}"' if record is not None else "a flow"
        await notifications.notify(
            s,
            org_id,
            notifications.FLOW,
            f"{name} stopped for a contact: {event.message}",
            {
                "flow_id": record.id if record is not None else None,
                "contact_id": contact.id,
                "node_uuid": event.node_uuid,
            },
        )


def _flow_of_run(turn: Turn, run_uuid: str | None) -> Flow | None:
    row = turn.rows.get(run_uuid) if run_uuid else None
    if row is None:
        return None
    return next((f for f in turn.flows.records.values() if f.id == row.flow_id), None)


def _method(turn: Turn, run_uuid: str) -> str:
    record = _flow_of_run(turn, run_uuid)
    return f"{FLOW_METHOD}: {record.name}" if record is not None else FLOW_METHOD


async def _start_row(turn: Turn, event: ev.RunStarted) -> None:
    flow_id = _flow_id(turn, event.flow_uuid)
    if flow_id is None:
        raise RuntimeError(f"flow {event.flow_uuid} started but not loaded")
    parent = turn.rows.get(event.parent_uuid) if event.parent_uuid else None
    parsed = turn.flows.get(event.flow_uuid)
    row = await insert_run(
        turn.session,
        org_id=turn.org_id,
        run_uuid=event.run_uuid,
        contact_id=saved_id(turn.contact),
        profile_id=turn.contact.active_profile_id,
        flow_id=flow_id,
        flow_uuid=event.flow_uuid,
        flow_version=parsed.version if parsed is not None else 0,
        parent_id=parent.id if parent is not None else None,
    )
    turn.rows[event.run_uuid] = row
    minutes = parsed.expire_after_minutes if parsed is not None else None
    if event.parent_uuid is None and minutes is not None and minutes > 0:
        # Glific ignores expire_after_minutes (runs live until a 14-day purge); here a run
        # left waiting that long ends, so an abandoned activity does not catch the next
        # message weeks later.
        await jobs.defer(
            turn.session,
            EXPIRE_JOB,
            {"org_id": turn.org_id, "contact_id": turn.contact.id, "run_uuid": event.run_uuid},
            run_at=turn.env.now() + timedelta(minutes=minutes),
        )
    name = turn.flows.record(event.flow_uuid)
    await history.record(
        turn.session,
        turn.contact,
        "contact_flow_started",
        "Flow Started",
        {"flow_id": flow_id, "flow_name": name.name if name else ""},
    )


async def _end_row(turn: Turn, event: ev.RunEnded) -> None:
    row = turn.rows.get(event.run_uuid)
    if row is None or row.completed_at is not None:
        return
    row.completed_at = utcnow().replace(microsecond=0)
    row.reason = event.reason or event.status
    row.is_killed = event.status in ("interrupted", "failed")
    row.wakeup_at = None
    turn.ended.append(row)
    await history.record(
        turn.session,
        turn.contact,
        "contact_flow_ended",
        event.reason or f"Flow {event.status}",
        {"flow_id": row.flow_id, "status": event.status},
    )


async def _send(turn: Turn, event: ev.MsgCreated) -> Reply:
    """Store the reply as an outbound message, in the outbox (`resolvers.outbox`)."""
    contact = turn.contact
    media = event.attachments[0][1] if event.attachments else None
    if not turn.sender_known:
        turn.sender = await providers.sender_of(turn.session, turn.org_id)
        turn.sender_known = True
    body, hsm = event.text, {}
    if event.template is not None:
        template = await templates.approved(turn.session, turn.org_id, event.template[0])
        params = list(event.template[1])
        usable = (
            template is not None
            and len(params) == template.number_parameters
            and all(p.strip() for p in params)
            and outbox.hsm_allowed(contact)
        )
        if template is not None and usable:
            body = templates.render(template, params, contact.language_id)
            hsm = {"is_hsm": True, "template_id": template.id, "params": params}
        else:
            # Sent as its text instead, inside the 24-hour window only: the template is
            # not approved here, its variables do not fill it, or the contact has not
            # opted in.
            log.info("flow template %s not used for contact %s", event.template[0], contact.id)
    row = sending.outbound_values(
        turn.org_id,
        contact,
        uuid=event.node_uuid,
        sender_id=turn.org.contact_id,
        flow_id=_run_flow_id(turn, event.run_uuid),
        type=event.type,
        body=body,
        flow_label=", ".join(event.labels) or None,
        interactive_content=dict(event.interactive or {}),
        media_url=media,
        **hsm,
        **outbox.starting_status(contact, turn.sender),
    )
    message_id = await sending.insert_outbound(turn.session, row)
    await outbox.queue(turn.session, turn.org_id, contact, message_id, turn.sender, body)
    return Reply(
        message_id=message_id,
        body=body,
        type=event.type,
        options=tuple(event.quick_replies),
        media_url=media,
    )


_RESULT_ROW = prepared(
    guarded(
        records(FlowResult, frozenset({"results"})).where(
            col(FlowResult.flow_context_id) == bindparam("run_id"),
            col(FlowResult.profile_key) == bindparam("key"),
        )
    )
)
_NEW_RESULT_COLUMNS = (
    "organization_id",
    "contact_id",
    "profile_id",
    "profile_key",
    "flow_id",
    "flow_uuid",
    "flow_version",
    "flow_context_id",
    "results",
    "inserted_at",
    "updated_at",
)
_INSERT_RESULT = prepared(insert(FlowResult).values(bound(_NEW_RESULT_COLUMNS)))
_UPDATE_RESULT = prepared(
    guarded(
        update(FlowResult)
        .where(col(FlowResult.id) == bindparam("result_id"))
        .values(results=bindparam("results"), updated_at=bindparam("updated_at"))
    )
)


async def _file_result(turn: Turn, event: ev.ResultSaved) -> None:
    """The answer goes on the row of this run and the profile active now: a run whose
    profile changed part way has one row per profile."""
    row = turn.rows.get(event.run_uuid)
    if row is None:
        return
    profile_id = turn.contact.active_profile_id
    key = profile_id or 0
    now = utcnow()
    found = next(
        iter(await read_rows(turn.session, _RESULT_ROW, {"run_id": row.id, "key": key})), None
    )
    results = dict(found.results or {}) if found is not None else {}
    results[event.name] = _jsonable(dict(event.result))
    if found is not None:
        await write_rows(
            turn.session,
            _UPDATE_RESULT,
            {"result_id": found.id, "results": results, "updated_at": now},
        )
        return
    await write_rows(
        turn.session,
        _INSERT_RESULT,
        {
            "organization_id": turn.org_id,
            "contact_id": saved_id(turn.contact),
            "profile_id": profile_id,
            "profile_key": key,
            "flow_id": row.flow_id,
            "flow_uuid": row.flow_uuid,
            "flow_version": max(row.flow_version, 1),
            "flow_context_id": row.id,
            "results": results,
            "inserted_at": now,
            "updated_at": now,
        },
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat() + ("Z" if value.tzinfo is None else "")
    return value


async def _label_input(turn: Turn, event: ev.InputLabelsAdded) -> None:
    if event.message_id is None or not event.labels:
        return
    message = await turn.session.get(Message, event.message_id)
    if message is None or message.contact_id != turn.contact.id:
        return
    existing = [x.strip() for x in (message.flow_label or "").split(",") if x.strip()]
    for label in event.labels:
        if label not in existing:
            existing.append(label)
    message.flow_label = ", ".join(existing)[:255]
    await turn.session.flush()


async def _group(turn: Turn, ref: ev.GroupRef, *, create: bool) -> Group | None:
    if ref.id is not None:
        group = await turn.session.scalar(
            select(Group).where(col(Group.id) == ref.id, col(Group.organization_id) == turn.org_id)
        )
        if group is not None:
            return group
    if not ref.name:
        return None
    return await groups.group_by_label(turn.session, turn.org_id, ref.name, create=create)


async def _remove_groups(turn: Turn, event: ev.ContactGroupsRemoved) -> None:
    s, contact = turn.session, turn.contact
    if event.all_groups:
        await s.execute(delete(ContactGroup).where(col(ContactGroup.contact_id) == contact.id))
        await history.record(
            s, contact, "contact_groups_updated", "Removed from All the collections"
        )
        return
    for ref in event.groups:
        group = await _group(turn, ref, create=False)
        if group is None:
            continue
        result = await s.execute(
            delete(ContactGroup).where(
                col(ContactGroup.contact_id) == contact.id,
                col(ContactGroup.group_id) == group.id,
            )
        )
        if getattr(result, "rowcount", 0):
            await history.record(
                s, contact, "contact_groups_updated", f'Removed from collection: "{group.label}"'
            )


async def _write_runs(turn: Turn, session: Session) -> None:
    changed = {id(row): row for row in turn.ended}
    for run in session.runs:
        row = turn.rows.get(run.uuid)
        if row is None:
            continue
        row.node_uuid = run.node_uuid
        row.results = _jsonable(run.results)
        row.state = _jsonable(state_of(run))
        row.wakeup_at = run.wait.timeout_at if run.wait is not None else None
        row.is_await_result = run.wait is not None and run.wait.kind in AWAITING_RESULT
        if run.status in FINISHED and row.completed_at is None:
            row.completed_at = utcnow().replace(microsecond=0)
            row.reason = row.reason or run.status
        row.status = "draft" if run.draft else "published"
        changed[id(row)] = row
    for row in changed.values():
        await save_run(turn.session, row)
    turn.ended.clear()


# --- one turn, and the webhooks it asks for ------------------------------------------------

Decide = Callable[[Turn], Awaitable[Sprint | None]]


async def take_turn(
    db: Database,
    org_id: int,
    contact_id: int,
    decide: Decide,
    *,
    draft_flow_id: int | None = None,
    env: Environment | None = None,
) -> Outcome:
    """Run `decide` under the contact's lock and apply the sprint it returns; then make any
    webhook calls it asked for (outside the transaction) and resume with their outcome."""
    async with db.transaction(org_id) as session:
        contact = await lock_contact(session, org_id, contact_id)
        turn = await load_turn(session, org_id, contact, draft_flow_id=draft_flow_id, env=env)
        sprint = await decide(turn)
        outcome = await apply(turn, sprint) if sprint is not None else Outcome()
    return await follow_webhooks(db, org_id, contact_id, outcome, env)


async def follow_webhooks(
    db: Database,
    org_id: int,
    contact_id: int,
    outcome: Outcome,
    env: Environment | None = None,
) -> Outcome:
    """Make the webhook calls a committed turn asked for, each resuming its run in a new
    turn (which may ask for more, up to MAX_WEBHOOKS_PER_TURN)."""
    calls = 0
    while outcome.webhooks and calls < MAX_WEBHOOKS_PER_TURN:
        request = outcome.webhooks.pop(0)
        calls += 1
        ok, response = await call_webhook(request)
        if not ok:
            await _report_failed_webhook(db, org_id, contact_id, request, response)
        more = await take_turn(
            db, org_id, contact_id, _webhook_answered(request, ok, response), env=env
        )
        outcome.replies.extend(more.replies)
        outcome.webhooks.extend(more.webhooks)
    return outcome


async def _report_failed_webhook(
    db: Database,
    org_id: int,
    contact_id: int,
    request: ev.WebhookRequested,
    response: dict[str, Any],
) -> None:
    async with db.transaction(org_id) as session:
        await notifications.notify(
            session,
            org_id,
            notifications.WEBHOOK,
            f"A flow's webhook call to {request.url[:200]} failed: {response}"[:1000],
            {"contact_id": contact_id, "node_uuid": request.node_uuid, "url": request.url},
            severity=notifications.WARNING,
        )


def _waits_for(turn: Turn, request: ev.WebhookRequested) -> bool:
    run = turn.runs.find(request.run_uuid)
    return (
        run is not None
        and run.wait is not None
        and run.wait.kind == "webhook"
        and run.node_uuid == request.node_uuid
    )


def _request_args(request: ev.WebhookRequested) -> dict[str, Any]:
    return {
        "run_uuid": request.run_uuid,
        "node_uuid": request.node_uuid,
        "method": request.method,
        "url": request.url,
        "headers": dict(request.headers),
        "body": request.body,
        "result_name": request.result_name,
    }


def _webhook_answered(request: ev.WebhookRequested, ok: bool, response: dict[str, Any]) -> Decide:
    async def decide(turn: Turn) -> Sprint | None:
        if not _waits_for(turn, request):
            return None  # answered already, or the run moved on (a new keyword)
        return engine_resume(
            turn.env,
            turn.flows,
            turn.org,
            turn.view,
            turn.runs,
            signal="webhook_success" if ok else "webhook_failure",
            response=response,
        )

    return decide


async def call_webhook(request: ev.WebhookRequested) -> tuple[bool, dict[str, Any]]:
    """Glific's rule: a 2xx answer with a JSON object (or array, as {"0": …}) is Success;
    anything else (other status, a body that is not JSON, a timeout) is Failure."""
    method = request.method.upper()
    try:
        async with httpx2.AsyncClient(timeout=WEBHOOK_TIMEOUT_SECONDS) as client:
            if method == "GET":
                response = await client.get(request.url, headers=dict(request.headers))
            else:
                response = await client.request(
                    "POST" if method == "FUNCTION" else method,
                    request.url,
                    headers={"content-type": "application/json", **dict(request.headers)},
                    content=request.body.encode(),
                )
    except (httpx2.HTTPError, ValueError) as exc:
        log.info("webhook %s failed: %s", request.url, exc)
        return False, {"error": str(exc)[:500]}
    if not 200 <= response.status_code < 300:
        return False, {"status": response.status_code}
    try:
        body = response.json()
    except ValueError:
        return False, {"status": response.status_code, "error": "response is not JSON"}
    if isinstance(body, list):
        body = {str(i): v for i, v in enumerate(body)}
    if not isinstance(body, dict):
        return False, {"status": response.status_code, "error": "response is not a JSON object"}
    return True, body


# --- entry points --------------------------------------------------------------------------


def start_sprint(
    turn: Turn,
    flow_uuid: str,
    *,
    results: dict[str, Any] | None = None,
    keyword: str | None = None,
    draft: bool = False,
) -> Sprint:
    return engine_start(
        turn.env,
        turn.flows,
        turn.org,
        turn.view,
        turn.runs,
        flow_uuid,
        results=results,
        keyword=keyword,
        draft=draft,
    )


async def start_contact_flow(
    session: AsyncSession,
    org_id: int,
    flow_id: Any,
    contact_id: Any,
    default_results: dict[str, Any] | None = None,
) -> Outcome:
    """GraphQL `startContactFlow`: start a published flow for a contact now, ending the
    flow it is in. Runs in the caller's transaction (webhooks the flow calls at once are
    made by a job once it commits)."""
    flow = await flows.fetch_flow(session, org_id, flow_id)
    contact = await lock_contact(session, org_id, to_int_id(contact_id, "contact_id"))
    turn = await load_turn(session, org_id, contact)
    turn.follows_webhooks = False
    if turn.flows.get(flow.uuid) is None:
        raise InputErrors.raw("flow", "Flow is not published or not active")
    results = default_results if isinstance(default_results, dict) else None
    return await apply(turn, start_sprint(turn, flow.uuid, results=results))


async def resume_contact_flow(
    session: AsyncSession, org_id: int, flow_id: Any, contact_id: Any, result: Any
) -> Outcome:
    """GraphQL `resumeContactFlow`: an outside service answers the contact's run of the flow
    that awaits a result (a wait_for_result node, or a webhook call): each entry of
    `result` becomes a result of the run and the run goes on. Runs in the caller's
    transaction."""
    if result is not None and not isinstance(result, dict):
        raise InputErrors.field("result", "should be a JSON object")
    flow = await flows.fetch_flow(session, org_id, flow_id)
    contact = await lock_contact(session, org_id, to_int_id(contact_id, "contact_id"))
    turn = await load_turn(session, org_id, contact)
    turn.follows_webhooks = False
    run = turn.runs.active_run()
    if (
        run is None
        or run.flow_uuid != flow.uuid
        or run.wait is None
        or run.wait.kind not in AWAITING_RESULT
    ):
        # Glific's words (it answers success true beside them; here success is false).
        raise InputErrors.raw(
            "Flow", f"{contact.id} does not have any active flows awaiting results."
        )
    sprint = engine_resume(
        turn.env, turn.flows, turn.org, turn.view, turn.runs, signal="resumed", response=result
    )
    return await apply(turn, sprint)


async def terminate_contact_flows(session: AsyncSession, org_id: int, contact_id: Any) -> None:
    """GraphQL `terminateContactFlows`: end every flow the contact is in."""
    cid = to_int_id(contact_id, "contact_id")
    contact = await lock_contact(session, org_id, cid)
    await end_all(session, org_id, contact, "Flows terminated by a staff member")


async def end_all(session: AsyncSession, org_id: int, contact: Contact, reason: str) -> None:
    rows = await unfinished_runs(session, saved_id(contact))
    if not rows:
        return
    now = utcnow().replace(microsecond=0)
    await session.execute(
        update(FlowContext)
        .where(col(FlowContext.id).in_([r.id for r in rows]))
        .values(completed_at=now, reason=reason, is_killed=True, wakeup_at=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    for row in rows:
        row.completed_at = now
    await history.record(session, contact, "contact_flow_ended_all", reason)


@jobs.job(WEBHOOK_JOB)
async def make_pending_call(db: Database, args: dict[str, Any]) -> None:
    """A webhook call a turn asked for and nobody has made yet (the flow was started from
    GraphQL, or the process died after the turn committed)."""
    org_id, contact_id = int(args["org_id"]), int(args["contact_id"])
    request = ev.WebhookRequested(**args["request"])
    async with db.session(org_id) as session:
        contact = await session.get(Contact, contact_id)
        if contact is None or contact.organization_id != org_id:
            return
        still_waiting = _waits_for(await load_turn(session, org_id, contact), request)
    if still_waiting:
        outcome = Outcome(webhooks=[request])
        await follow_webhooks(db, org_id, contact_id, outcome)


@jobs.job(EXPIRE_JOB)
async def expire_run(db: Database, args: dict[str, Any]) -> None:
    """A run's `expire_after_minutes` have passed: if it is still open, it and the runs it
    entered end (as expired), and the contact is free for the next keyword."""
    org_id, contact_id, run_uuid = int(args["org_id"]), int(args["contact_id"]), args["run_uuid"]

    async def decide(turn: Turn) -> Sprint | None:
        run = turn.runs.find(str(run_uuid))
        if run is None or run.status not in ("active", "waiting"):
            return None
        return interrupt(turn.env, turn.runs, "Flow expired")

    await take_turn(db, org_id, contact_id, decide)


@jobs.job(WAKEUP_JOB)
async def wake_up(db: Database, args: dict[str, Any]) -> None:
    """A wait's timer fired: if the run still waits for that same moment, it takes its
    No Response path (or, after wait_for_time, goes on)."""
    org_id, contact_id = int(args["org_id"]), int(args["contact_id"])
    run_uuid, armed_for = str(args["run_uuid"]), str(args["armed_for"])

    async def decide(turn: Turn) -> Sprint | None:
        run = turn.runs.active_run()
        if run is None or run.uuid != run_uuid or run.wait is None:
            return None
        if run.wait.timeout_at is None or run.wait.timeout_at.isoformat() != armed_for:
            return None
        return engine_resume(turn.env, turn.flows, turn.org, turn.view, turn.runs, signal="timeout")

    await take_turn(db, org_id, contact_id, decide)


def resume_sprint(turn: Turn, data: Input) -> Sprint:
    return engine_resume(turn.env, turn.flows, turn.org, turn.view, turn.runs, input=data)


def interrupt_sprint(turn: Turn, reason: str) -> Sprint:
    return interrupt(turn.env, turn.runs, reason)
