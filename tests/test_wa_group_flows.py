"""Flows run for WhatsApp groups (resolvers/wa_group_flows.py), end to end: GraphQL
`startWaGroupFlow` / `startWaGroupCollectionFlow` on a server that runs its jobs, the flow's
messages said in each group through a fake Maytapi on loopback, the group's fields, a
durable wait_for_time, and a new flow replacing the one in progress. On SQLite and on
PostgreSQL."""

from __future__ import annotations

import concurrent.futures
import json
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import WaGroup, WaGroupFlowRun, utcnow
from resolvers import wa_group_flows
from tests.test_jobs import wait_until
from tests.test_wa_group_messages import GROUP, SendingOrg, fake, make_collection, wa_server
from tests.utils.chat import import_and_publish
from tests.utils.fake_maytapi import FakeMaytapi
from tests.utils.flow_builder import export_of
from tests.utils.flow_engine import action, flow, node, send, uid
from tests.utils.server import LiveServer
from tests.utils.tenants import create_tenant, unique_phone

__all__ = ["fake", "wa_server"]  # the module's fixtures, shared with the messages tests

START = """mutation($f: ID!, $g: ID!) { startWaGroupFlow(flowId: $f, waGroupId: $g) {
  success errors { key message } } }"""
START_COLLECTION = """mutation($f: ID!, $g: ID!) {
  startWaGroupCollectionFlow(flowId: $f, groupId: $g) { success errors { key message } } }"""
FLOWS = """query($n: String) { flows(filter: {nameOrKeywordOrTags: $n}) { id uuid } }"""


def weekly_flow(delay: str = "1") -> dict[str, Any]:
    """Greets the group, notes the week in its fields, waits, then reads the field back."""
    a, b = uid("n"), uid("n")
    return flow(
        f"Weekly {uuid.uuid4().hex[:6]}",
        [
            node(
                a,
                [
                    send("Good morning @wa_group.label"),
                    action(
                        "set_wa_group_field",
                        field={"key": "week", "name": "Week"},
                        value="@calendar.current_year",
                    ),
                    action("wait_for_time", delay=delay),
                ],
                to=b,
            ),
            node(b, [send("This is week of @wa_group.fields.week")]),
        ],
    )


def _flow_id(org: SendingOrg, definition: dict[str, Any]) -> str:
    import_and_publish(org.tenant, (definition, []))
    found = org.tenant.data(FLOWS, {"n": definition["name"]})["flows"]
    return str(next(f["id"] for f in found if f["uuid"] == definition["uuid"]))


def _runs(org: SendingOrg, wa_group_id: int) -> list[WaGroupFlowRun]:
    async def read(session: AsyncSession) -> list[WaGroupFlowRun]:
        rows = await session.scalars(
            select(WaGroupFlowRun)
            .where(col(WaGroupFlowRun.wa_group_id) == wa_group_id)
            .order_by(col(WaGroupFlowRun.id))
        )
        return list(rows)

    return list(org.read(read))


def _said(org: SendingOrg, wa_group_id: int) -> list[tuple[str | None, str]]:
    return [
        (m.body, m.status)
        for m in org.outbound()
        if m.wa_group_id == wa_group_id and m.flow_id is not None
    ]


def _second_group(org: SendingOrg) -> int:
    other = "120363000000000001@g.us"
    body = org.message(sender=unique_phone(), group=other, name="Class 5B parents")
    assert org.post(body).status_code == 200
    group = org.group(other)
    assert group is not None and group.id is not None
    return group.id


def test_a_flow_speaks_in_every_group_of_a_collection_and_waits_between(
    wa_server: LiveServer, fake: FakeMaytapi
) -> None:
    org = SendingOrg(wa_server, fake)
    first, second = org.wa_group_id, _second_group(org)
    collection = str(make_collection(org, f"School {uuid.uuid4()}", [first, second]))
    flow_id = _flow_id(org, weekly_flow())
    # Staff may not start it for a whole collection (manager, as Glific).
    refused = org.tenant.gql(START_COLLECTION, {"f": flow_id, "g": collection}, role="staff")
    assert [e["message"] for e in refused["errors"]] == ["Unauthorized"]
    started = org.tenant.data(START_COLLECTION, {"f": flow_id, "g": collection}, role="manager")
    assert started["startWaGroupCollectionFlow"] == {"success": True, "errors": None}

    def both_done() -> bool:
        return all(
            len(_said(org, g)) == 2 and all(status == "sent" for _, status in _said(org, g))
            for g in (first, second)
        )

    wait_until(both_done, timeout=30)
    for wa_group_id, label in ((first, "Default Group name"), (second, "Class 5B parents")):
        said = [body for body, _ in _said(org, wa_group_id)]
        assert said[0] == f"Good morning {label}"
        assert str(said[1]).startswith("This is week of 20"), said
        [run] = _runs(org, wa_group_id)
        assert (run.status, run.reason) == ("completed", None)

    # The group's field was kept, and Maytapi got each text for the right group.
    def fields(session: AsyncSession) -> Any:
        return session.scalar(select(col(WaGroup.fields)).where(col(WaGroup.id) == first))

    kept = org.read(fields)
    assert kept["week"]["label"] == "Week" and kept["week"]["value"].startswith("20")
    to_first = [r.json["message"] for r in fake.sent(org.product) if r.json["to_number"] == GROUP]
    assert to_first == [body for body, _ in _said(org, first)]


def test_a_new_flow_replaces_the_one_in_progress(wa_server: LiveServer, fake: FakeMaytapi) -> None:
    org = SendingOrg(wa_server, fake)
    waiting = _flow_id(org, weekly_flow(delay="3600"))
    other = _flow_id(
        org, flow(f"Notice {uuid.uuid4().hex[:6]}", [node(uid("n"), [send("Notice")])])
    )
    group = str(org.wa_group_id)
    assert org.tenant.data(START, {"f": waiting, "g": group})["startWaGroupFlow"]["success"]
    [run] = _runs(org, org.wa_group_id)
    assert run.status == "active"  # waiting for its hour
    assert org.tenant.data(START, {"f": other, "g": group})["startWaGroupFlow"]["success"]
    first, second = _runs(org, org.wa_group_id)
    assert (first.status, first.reason) == ("interrupted", "another flow started for the group")
    assert second.status == "completed"
    wait_until(lambda: len(_said(org, org.wa_group_id)) == 2)
    assert [body for body, _ in _said(org, org.wa_group_id)] == [
        "Good morning Default Group name",
        "Notice",
    ]


def test_starts_at_the_same_moment_leave_one_run_in_progress(
    wa_server: LiveServer, fake: FakeMaytapi
) -> None:
    """Each start ends the group's run in progress under the group's lock: started five at
    once, exactly one run is left waiting."""
    org = SendingOrg(wa_server, fake)
    flow_id = _flow_id(org, weekly_flow(delay="3600"))
    variables = {"f": flow_id, "g": str(org.wa_group_id)}
    with concurrent.futures.ThreadPoolExecutor(5) as pool:
        answers = list(pool.map(lambda _: org.tenant.data(START, variables), range(5)))
    assert all(a["startWaGroupFlow"]["success"] for a in answers), answers
    statuses = sorted(run.status for run in _runs(org, org.wa_group_id))
    assert statuses == ["active"] + ["interrupted"] * 4


def test_bad_starts_are_refused_and_start_nothing(wa_server: LiveServer, fake: FakeMaytapi) -> None:
    org = SendingOrg(wa_server, fake)
    flow_id = _flow_id(org, weekly_flow())
    group = str(org.wa_group_id)
    draft = flow(f"Draft {uuid.uuid4().hex[:6]}", [node(uid("n"), [send("draft")])])
    org.tenant.data(
        "mutation($f: Json!) { importFlow(flow: $f) { status { status } } }",
        {"f": json.dumps(export_of((draft, [])))},
    )
    draft_id = str(org.tenant.data(FLOWS, {"n": draft["name"]})["flows"][0]["id"])

    def errors(variables: dict[str, Any], document: str = START) -> Any:
        return org.tenant.data(document, variables)[
            "startWaGroupFlow" if document is START else "startWaGroupCollectionFlow"
        ]["errors"]

    assert errors({"f": draft_id, "g": group}) == [
        {"key": "flow", "message": "Flow is not published or not active"}
    ]
    assert errors({"f": flow_id, "g": "999999"}) == [
        {"key": "Elixir.Glific.Groups.WAGroup", "message": "Resource not found"}
    ]
    # Another organization's group is as unknown as a missing one.
    # (With a published flow of its own, so that the group is what is refused.)
    stranger = create_tenant(wa_server)
    own = weekly_flow()
    import_and_publish(stranger, (own, []))
    own_id = next(
        f["id"]
        for f in stranger.data(FLOWS, {"n": own["name"]})["flows"]
        if f["uuid"] == own["uuid"]
    )
    theirs = stranger.data(START, {"f": own_id, "g": group})["startWaGroupFlow"]
    assert theirs == {
        "success": False,
        "errors": [{"key": "Elixir.Glific.Groups.WAGroup", "message": "Resource not found"}],
    }
    assert errors({"f": flow_id, "g": "999999"}, START_COLLECTION) == [
        {"key": "Elixir.Glific.Groups.Group", "message": "Resource not found"}
    ]
    assert _runs(org, org.wa_group_id) == []
    assert _said(org, org.wa_group_id) == []


def test_a_collection_start_run_again_does_not_start_a_group_twice(
    wa_server: LiveServer, fake: FakeMaytapi
) -> None:
    """The job that starts a flow for a collection's groups may run again (it is retried
    after an error part way, or after a crash): the groups it reached already are skipped."""
    org = SendingOrg(wa_server, fake)
    first, second = org.wa_group_id, _second_group(org)
    collection = str(make_collection(org, f"Block {uuid.uuid4()}", [first, second]))
    flow_id = _flow_id(org, flow(f"Notice {uuid.uuid4().hex[:6]}", [node(uid("n"), [send("Hi")])]))
    args = {
        "org": org.org_id,
        "flow": int(flow_id),
        "group": int(collection),
        "at": utcnow().isoformat(),
    }

    async def start_job() -> None:
        await wa_group_flows._start_for_collection(wa_server.db, args)

    for _ in range(2):
        wa_server.run(start_job)
    for wa_group_id in (first, second):
        assert [run.status for run in _runs(org, wa_group_id)] == ["completed"]
