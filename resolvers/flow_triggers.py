"""The flows a message starts when no keyword does (Glific's routing, spec §3.2 step 7): the
organization's opt-in and new-contact flows, its regular-expression flow, and the periodic
flows (`monthly`, `weekly`, a weekday's name, `daily`, then the out-of-office flow or, in
office hours, the default flow), each periodic one at most once per period for a contact
unless the organization's `run_flow_each_time` says otherwise.

Periods are the organization's local time: a month from the 1st, a week from Monday, a
day from midnight; out of office is a day not marked open, or a time outside the opening
hours of an open day.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import FlowContext
from resolvers import organization_view
from resolvers import validation as v
from resolvers.flow_state import OrgFlows

log = logging.getLogger(__name__)

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _by_id(flows: OrgFlows, raw_id: Any) -> Any:
    """The published flow with this id (a setting names flows by id)."""
    if raw_id in (None, ""):
        return None
    wanted = str(raw_id)
    return next(
        (f for f in flows.records.values() if str(f.id) == wanted and f.uuid in flows.by_uuid),
        None,
    )


def optin_flow(org: Any, flows: OrgFlows) -> Any:
    """The organization's opt-in flow: its setting, else the flow with keyword `optin`."""
    chosen = _by_id(flows, organization_view.flow_setting(org, "optin_flow_id"))
    return chosen if chosen is not None else flows.for_keyword("optin")


def new_contact_flow(org: Any, flows: OrgFlows) -> Any:
    return _by_id(flows, organization_view.flow_setting(org, "newcontact_flow_id"))


def regex_flow(org: Any, flows: OrgFlows, text: str) -> Any:
    """The flow of the organization's regular expression, when it matches the raw text."""
    setting = organization_view.regx_flow(org)
    if not setting or not setting.get("regx") or not text or len(text) > v.REGEX_TEXT_LIMIT:
        return None  # (a longer text could make even an accepted pattern slow)
    pattern = str(setting["regx"])
    if v.regex_problem(pattern) is not None:
        log.info("organization %s's flow regex is not used", getattr(org, "id", "?"))
        return None
    flags = re.IGNORECASE if "i" in str(setting.get("regx_opt") or "").lower() else 0
    try:
        matched = re.search(pattern, text, flags) is not None
    except re.error:  # (a pattern stored before it was checked when saved)
        return None
    return _by_id(flows, setting.get("flow_id")) if matched else None


def local_now(org: Any, now: datetime) -> datetime:
    """`now` (naive UTC) in the organization's time zone."""
    try:
        zone = ZoneInfo(str(getattr(org, "timezone", None) or "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return now.replace(tzinfo=UTC).astimezone(zone)


def _clock(value: Any) -> time | None:
    try:
        return time.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def out_of_office(office: dict[str, Any], local: datetime) -> bool:
    open_days = {
        int(day.get("id", 0))
        for day in office.get("enabled_days") or []
        if isinstance(day, dict) and day.get("enabled")
    }
    if local.isoweekday() not in open_days:
        return True
    start, end = _clock(office.get("start_time")), _clock(office.get("end_time"))
    now = local.time().replace(tzinfo=None)
    return (start is not None and now < start) or (end is not None and now > end)


def _periodic(org: Any, flows: OrgFlows, local: datetime) -> list[tuple[Any, datetime]]:
    """(flow, start of its period in local time), in Glific's order."""
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    found = [
        (flows.for_keyword("monthly"), day.replace(day=1)),
        (flows.for_keyword("weekly"), day - timedelta(days=local.weekday())),
        (flows.for_keyword(WEEKDAYS[local.weekday()]), day),
        (flows.for_keyword("daily"), day),
    ]
    office = organization_view.out_of_office(org)
    if office.get("enabled"):
        key = "flow_id" if out_of_office(office, local) else "default_flow_id"
        found.append((_by_id(flows, office.get(key)), day))
    return [(flow, start) for flow, start in found if flow is not None]


async def periodic_flow(
    session: AsyncSession, org: Any, flows: OrgFlows, contact_id: int, now: datetime
) -> Any:
    """The first periodic flow the contact has not started in its current period (any of
    them, when the organization runs them each time)."""
    local = local_now(org, now)
    each_time = bool(organization_view.setting(org).get("run_flow_each_time"))
    for flow, start in _periodic(org, flows, local):
        if each_time:
            return flow
        since = start.astimezone(UTC).replace(tzinfo=None)
        started = await session.scalar(
            select(col(FlowContext.id))
            .where(
                col(FlowContext.organization_id) == org.id,
                col(FlowContext.contact_id) == contact_id,
                col(FlowContext.flow_id) == flow.id,
                col(FlowContext.inserted_at) >= since,
            )
            .limit(1)
        )
        if started is None:
            return flow
    return None
