"""The flows a message starts when no keyword does (resolvers/flow_triggers.py), set from
the settings screen: the new-contact flow, the opt-in flow, the regular-expression flow,
the periodic flows (`daily` ...) once a period, and out-of-office or default flows by the
opening hours. Through the simulator, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Contact, utcnow
from resolvers import flow_triggers
from tests.utils.chat import Phone, import_and_publish
from tests.utils.flow_builder import FlowBuilder
from tests.utils.tenants import Tenant

SETTINGS = """mutation($id: ID!, $i: OrganizationInput!) { updateOrganization(id: $id,
  input: $i) { errors { key message } } }"""


def _says(name: str, text: str, keywords: list[str] | None = None) -> tuple[Any, list[str]]:
    f = FlowBuilder(name)
    f.send("say", text, None)
    return f.build(), keywords or []


def _publish(tenant: Tenant, *flows: tuple[Any, list[str]]) -> dict[str, str]:
    import_and_publish(tenant, *flows)
    return {f["name"]: f["id"] for f in tenant.data("{ flows { id name } }")["flows"]}


def _settings(tenant: Tenant, **given: Any) -> None:
    result = tenant.data(SETTINGS, {"id": str(tenant.org_id), "i": given}, role="admin")
    assert result["updateOrganization"]["errors"] is None, result


def test_a_new_contact_gets_the_new_contact_flow_once(tenant: Tenant) -> None:
    ids = _publish(tenant, _says("Welcome", "Welcome to the reading club!"))
    _settings(tenant, newcontactFlowId=ids["Welcome"])
    phone = Phone(tenant, "9876543210_2")
    assert phone.say("hi") == ["Welcome to the reading club!"]
    assert phone.say("hi again") == []


def test_an_opted_out_contact_gets_the_organizations_opt_in_flow(tenant: Tenant) -> None:
    ids = _publish(tenant, _says("Come back", "Reply YES to hear from us again"))
    _settings(tenant, optinFlowId=ids["Come back"])
    phone = Phone(tenant, "9876543210_3")
    phone.say("hello")
    contact_id = phone.contact_id()

    async def opt_out(session: AsyncSession) -> None:
        await session.execute(
            update(Contact).where(col(Contact.id) == contact_id).values(optout_time=utcnow())
        )

    tenant.server.in_transaction(opt_out)
    assert phone.say("hello") == ["Reply YES to hear from us again"]


def test_the_regex_flow_takes_a_message_no_keyword_or_run_takes(tenant: Tenant) -> None:
    ask = FlowBuilder("Ask")
    ask.send("q", "Your name?", "listen")
    ask.wait("listen", [], other=None, result_name="name", other_name="All Responses")
    ids = _publish(
        tenant, _says("Pin code", "Thanks, we noted your pin code"), (ask.build(), ["ask"])
    )
    _settings(tenant, regxFlow={"flowId": ids["Pin code"], "regx": "^\\d{6}$", "regxOpt": "i"})
    phone = Phone(tenant, "9876543210_4")
    assert phone.say("560001") == ["Thanks, we noted your pin code"]
    assert phone.say("hello") == []
    # A run in progress takes the text first.
    assert phone.say("ask") == ["Your name?"]
    assert phone.say("560001") == []
    assert phone.say("560001") == ["Thanks, we noted your pin code"]
    # A pattern that does not compile, or one that could take exponential time on a
    # crafted message, is refused; the one in force stays.
    refusals = (
        ("(", "not a valid"),
        ("(?<=a+)b", "not a valid"),  # parses, but does not compile
        ("^(a+)+$", "repeats a repetition"),
        ("(.*a){10}x", "repeats a repetition"),
        ("(a|aa)+b", "repeats alternatives"),
        ("\\d+\\d+\\d+x", "more than 2 open-ended"),
        ("(a)\\1", "refers back"),
    )
    for pattern, words in refusals:
        result = tenant.data(
            SETTINGS,
            {
                "id": str(tenant.org_id),
                "i": {"regxFlow": {"flowId": ids["Pin code"], "regx": pattern}},
            },
            role="admin",
        )["updateOrganization"]["errors"]
        assert result[0]["key"] == "regx" and words in result[0]["message"], result
    assert phone.say("560001") == ["Thanks, we noted your pin code"]


def test_a_daily_flow_runs_once_a_day_unless_told_each_time(tenant: Tenant) -> None:
    _publish(tenant, _says("Daily tip", "Tip of the day: read aloud", ["daily"]))
    phone = Phone(tenant, "9876543210_5")
    assert phone.say("hello") == ["Tip of the day: read aloud"]
    assert phone.say("hello") == []
    _settings(tenant, setting={"runFlowEachTime": True})
    assert phone.say("hello") == ["Tip of the day: read aloud"]


def test_out_of_office_and_default_flows_follow_the_opening_hours(tenant: Tenant) -> None:
    ids = _publish(
        tenant,
        _says("Closed", "We are closed; we will answer tomorrow"),
        _says("Open", "A teacher will answer you soon"),
    )
    closed_all_week = [{"id": day, "enabled": False} for day in range(1, 8)]
    office = {
        "enabled": True,
        "enabledDays": closed_all_week,
        "flowId": ids["Closed"],
        "defaultFlowId": ids["Open"],
    }
    _settings(tenant, outOfOffice=office, setting={"runFlowEachTime": True})
    phone = Phone(tenant, "9876543210_1")
    assert phone.say("hello") == ["We are closed; we will answer tomorrow"]
    open_all_day = [{"id": day, "enabled": True} for day in range(1, 8)]
    _settings(
        tenant,
        outOfOffice={
            **office,
            "enabledDays": open_all_day,
            "startTime": "00:00:00",
            "endTime": "23:59:59",
        },
    )
    assert phone.say("hello") == ["A teacher will answer you soon"]


def test_opening_hours_are_the_organizations_local_time() -> None:
    office = {
        "enabled_days": [{"id": d, "enabled": d <= 5} for d in range(1, 8)],
        "start_time": "09:00:00",
        "end_time": "17:30:00",
    }

    class Org:
        timezone = "Asia/Kolkata"

    # Monday 2026-11-30 04:00 UTC is 09:30 in India: open. 12:30 UTC is 18:00: closed.
    monday_morning = flow_triggers.local_now(Org, datetime(2026, 11, 30, 4, 0))
    assert not flow_triggers.out_of_office(office, monday_morning)
    assert flow_triggers.out_of_office(
        office, flow_triggers.local_now(Org, datetime(2026, 11, 30, 12, 30))
    )
    # Saturday is not an open day.
    saturday = flow_triggers.local_now(Org, datetime(2026, 12, 5, 6, 0))
    assert saturday.isoweekday() == 6 and flow_triggers.out_of_office(office, saturday)
    assert monday_morning.tzinfo is not None and monday_morning.utcoffset() != UTC.utcoffset(None)
