"""Flows run for a WhatsApp group (Glific's `startWaGroupFlow`, `startWaGroupCollectionFlow`).

The engine runs them as it runs a contact's, with the group standing in for the contact
(`ContactView.wa_group`): `send_msg` says its text in the group (`wa_messages.send_in_group`,
through Maytapi), `set_wa_group_field` writes the group's fields, results stay in the run,
sub-flows and `wait_for_time` work; actions about a contact are skipped with a logged
error. Nobody answers a group's flow (Glific does not route group messages to flows), so
a wait for a reply ends the run there.

A group's run is one `wa_group_flow_runs` row holding the engine's session as JSON; a new
flow for the group ends the one in progress. Its timers are durable jobs, and each step
holds the group's row locked until it commits, so a wake-up and a new start never
interleave."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Database, Group, WaGroup, WaGroupCollection, WaGroupFlowRun, utcnow
from resolvers import flows, jobs, wa_groups, wa_messages
from resolvers.errors import InputErrors
from resolvers.flow_engine import ContactView, Session, Sprint
from resolvers.flow_engine import events as ev
from resolvers.flow_engine import resume as engine_resume
from resolvers.flow_engine import start as engine_start
from resolvers.flow_runs import environment
from resolvers.flow_state import OrgFlows, org_flows, org_view, session_from_json, session_to_json
from resolvers.querying import fetch_for_write

log = logging.getLogger(__name__)

WAKE_JOB = "wa_group_flow_wakeup"
COLLECTION_JOB = "wa_group_collection_flow"
NO_REPLIES = "a WhatsApp group's flow does not wait for replies"
REPLACED = "another flow started for the group"


def _lock(org_id: int, wa_group_id: int) -> str:
    return f"wa_group:{org_id}:{wa_group_id}"[: jobs.LOCK_LENGTH]


async def _published(session: AsyncSession, org_id: int, flow_id: Any) -> tuple[Any, OrgFlows]:
    flow = await flows.fetch_flow(session, org_id, flow_id)
    known = await org_flows(session, org_id)
    if known.get(flow.uuid) is None:
        raise InputErrors.raw("flow", "Flow is not published or not active")
    return flow, known


def _view(group: WaGroup, language_id: int) -> ContactView:
    assert group.id is not None
    return ContactView(
        id=group.id,
        name=group.label,
        phone=group.bsp_id,
        language_id=language_id,
        fields=dict(group.fields or {}),
        wa_group=True,
    )


async def start_wa_group_flow(
    session: AsyncSession, org_id: int, flow_id: Any, wa_group_id: Any
) -> WaGroupFlowRun:
    """GraphQL `startWaGroupFlow`: start a published flow for the group now, ending the one
    it is in. Runs in the caller's transaction."""
    flow, known = await _published(session, org_id, flow_id)
    group = await fetch_for_write(
        session, WaGroup, org_id, wa_group_id, wa_groups.WA_GROUP, lock=True
    )
    await session.execute(
        update(WaGroupFlowRun)
        .where(
            col(WaGroupFlowRun.organization_id) == org_id,
            col(WaGroupFlowRun.wa_group_id) == group.id,
            col(WaGroupFlowRun.status) == "active",
        )
        .values(status="interrupted", reason=REPLACED, updated_at=utcnow())
    )
    assert flow.id is not None and group.id is not None
    row = WaGroupFlowRun(organization_id=org_id, wa_group_id=group.id, flow_id=flow.id)
    session.add(row)
    await session.flush()
    org = await org_view(session, org_id)
    sprint = engine_start(
        environment(), known, org, _view(group, org.default_language_id), Session(), flow.uuid
    )
    await _apply(session, org_id, group, row, known, sprint)
    return row


async def start_wa_group_collection_flow(
    session: AsyncSession, org_id: int, flow_id: Any, group_id: Any
) -> None:
    """GraphQL `startWaGroupCollectionFlow`: the flow for every WhatsApp group of the
    collection, each in a transaction of its own, by a job once this one commits."""
    flow, _ = await _published(session, org_id, flow_id)
    collection = await fetch_for_write(session, Group, org_id, group_id, wa_groups.GROUP)
    asked = {"org": org_id, "flow": flow.id, "group": collection.id, "at": utcnow().isoformat()}
    await jobs.defer(session, COLLECTION_JOB, asked)


@jobs.job(COLLECTION_JOB)
async def _start_for_collection(db: Database, args: dict[str, Any]) -> None:
    org_id = int(args["org"])
    async with db.transaction(org_id) as session:
        ids = list(
            await session.scalars(
                select(col(WaGroupCollection.wa_group_id))
                .where(
                    col(WaGroupCollection.organization_id) == org_id,
                    col(WaGroupCollection.group_id) == int(args["group"]),
                )
                .order_by(col(WaGroupCollection.wa_group_id))
            )
        )
    asked_at = datetime.fromisoformat(args["at"])
    for wa_group_id in ids:
        try:
            async with db.transaction(org_id) as session:
                # A job run again (after a crash or an error part way) skips the groups
                # it started the flow for already.
                if await session.scalar(
                    select(col(WaGroupFlowRun.id)).where(
                        col(WaGroupFlowRun.organization_id) == org_id,
                        col(WaGroupFlowRun.wa_group_id) == wa_group_id,
                        col(WaGroupFlowRun.flow_id) == int(args["flow"]),
                        col(WaGroupFlowRun.inserted_at) >= asked_at,
                    )
                ):
                    continue
                await start_wa_group_flow(session, org_id, args["flow"], wa_group_id)
        except InputErrors as exc:
            # The flow was unpublished or the group deleted meanwhile: the others go on.
            log.warning("group flow not started for WA group %s: %s", wa_group_id, exc)


@jobs.job(WAKE_JOB)
async def _wake_up(db: Database, args: dict[str, Any]) -> None:
    """A group's run waiting for time goes on (idempotent: a run no longer waiting for
    that time is left alone)."""
    org_id, run_id = int(args["org"]), int(args["run"])
    async with db.transaction(org_id) as session:
        wa_group_id = await session.scalar(
            select(col(WaGroupFlowRun.wa_group_id)).where(
                col(WaGroupFlowRun.id) == run_id, col(WaGroupFlowRun.organization_id) == org_id
            )
        )
        if wa_group_id is None:
            return
        # The group's lock first, as a start takes it (then the runs'): a wake-up and a
        # start at the same moment wait for each other instead of deadlocking.
        group = await fetch_for_write(
            session, WaGroup, org_id, wa_group_id, wa_groups.WA_GROUP, lock=True
        )
        row = await session.get(
            WaGroupFlowRun, run_id, with_for_update=True, populate_existing=True
        )
        if row is None or row.status != "active":
            return
        runs = session_from_json(row.session)
        active = runs.active_run()
        if active is None or active.wait is None or active.wait.kind != "time":
            return
        if active.wait.timeout_at is not None and active.wait.timeout_at > utcnow():
            return  # an earlier wake-up of a run that has waited again since
        known = await org_flows(session, org_id)
        org = await org_view(session, org_id)
        sprint = engine_resume(
            environment(),
            known,
            org,
            _view(group, org.default_language_id),
            runs,
            signal="timeout",
        )
        await _apply(session, org_id, group, row, known, sprint)


async def _apply(
    session: AsyncSession,
    org_id: int,
    group: WaGroup,
    row: WaGroupFlowRun,
    known: OrgFlows,
    sprint: Sprint,
) -> None:
    assert group.id is not None and row.id is not None
    fields = dict(group.fields or {})
    failure: str | None = None
    for event in sprint.events:
        if isinstance(event, ev.MsgCreated):
            await _say(session, org_id, group.id, known, sprint.session, event)
        elif isinstance(event, ev.WaGroupFieldChanged):
            fields[event.key] = {
                "value": event.value,
                "label": event.label,
                "type": "string",
                "inserted_at": utcnow().isoformat() + "Z",
            }
        elif isinstance(event, ev.EngineError):
            log.warning("WA group %s flow run %s: %s", group.id, row.id, event.message)
        elif isinstance(event, ev.RunEnded) and event.status == "failed":
            failure = event.reason
    if fields != (group.fields or {}):
        group.fields = fields
        group.updated_at = utcnow()
    runs = sprint.session
    active = runs.active_run()
    row.reason = failure
    if active is None:
        row.status = "failed" if failure else "completed"
    elif active.wait is not None and active.wait.kind == "time":
        row.status = "active"
        await jobs.defer(
            session,
            WAKE_JOB,
            {"org": org_id, "run": row.id},
            run_at=active.wait.timeout_at,
            lock=_lock(org_id, group.id),
        )
    else:
        row.status, row.reason = "completed", NO_REPLIES
    row.session = session_to_json(runs)
    row.updated_at = utcnow()
    await session.flush()


async def _say(
    session: AsyncSession,
    org_id: int,
    wa_group_id: int,
    known: OrgFlows,
    runs: Session,
    event: ev.MsgCreated,
) -> None:
    run = runs.find(event.run_uuid)
    record = known.record(run.flow_uuid) if run is not None else None
    media_type, media_url = event.attachments[0] if event.attachments else ("text", None)
    try:
        await wa_messages.send_in_group(
            session,
            org_id,
            wa_group_id=wa_group_id,
            body=event.text,
            type=media_type if media_url else "text",
            media_url=media_url,
            caption=event.text if media_url else None,
            flow_id=record.id if record is not None else None,
            flow_label=", ".join(event.labels) or None,
        )
    except InputErrors as exc:
        # (An empty or too long text.) The flow goes on, as a contact's does past a reply
        # that cannot be sent.
        log.warning("WA group %s: flow message not sent: %s", wa_group_id, exc)
