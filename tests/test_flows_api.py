"""Flows over GraphQL: CRUD with Glific's errors, keywords (cleaned, unique per organization,
even for two saves at once), import of our own flow JSON (all or nothing), export round trip,
publishing (refused on a Critical problem, next version otherwise), copyFlow, the editor
lock between two users, roles; per-profile flowResults, flowLabels; and the helpers the flow
runner calls."""

from __future__ import annotations

import json
import uuid as uuid_lib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Flow, FlowContext, FlowLabel, FlowResult, FlowRevision
from resolvers import flows
from tests.utils.flow_defs import broken, export, small_flow, with_sub_flow
from tests.utils.tenants import Tenant

ERRORS = "errors { key message }"
FLOW = "id uuid name keywords ignoreKeywords isActive isBackground isPinned description"
NOT_FOUND = [{"key": "Elixir.Glific.Flows.Flow", "message": "Resource not found"}]
UNAUTHORIZED = "Unauthorized"


def create(tenant: Tenant, role: str = "manager", **values: Any) -> dict[str, Any]:
    return tenant.data(
        f"mutation($input: FlowInput!) {{ createFlow(input: $input) {{ flow {{ {FLOW} }}"
        f" {ERRORS} }} }}",
        {"input": values},
        role,
    )["createFlow"]


def created(tenant: Tenant, **values: Any) -> dict[str, Any]:
    result = create(tenant, **values)
    assert result["errors"] is None, result
    flow: dict[str, Any] = result["flow"]
    return flow


def update(tenant: Tenant, flow_id: str, **values: Any) -> dict[str, Any]:
    return tenant.data(
        f"mutation($id: ID!, $input: FlowInput) {{ updateFlow(id: $id, input: $input) {{"
        f" flow {{ {FLOW} }} {ERRORS} }} }}",
        {"id": flow_id, "input": values},
    )["updateFlow"]


def get(tenant: Tenant, flow_id: str, role: str = "manager") -> dict[str, Any]:
    return tenant.data(
        f"query($id: ID!) {{ flow(id: $id) {{ flow {{ {FLOW} lastPublishedAt lastChangedAt"
        f" roles {{ id }} tag {{ id }} }} {ERRORS} }} }}",
        {"id": flow_id},
        role,
    )["flow"]


def import_flow(tenant: Tenant, data: str) -> list[dict[str, Any]]:
    status: list[dict[str, Any]] = tenant.data(
        "mutation($flow: Json!) { importFlow(flow: $flow) { status { flowName status } } }",
        {"flow": data},
    )["importFlow"]["status"]
    return status


def publish(tenant: Tenant, uuid: str) -> dict[str, Any]:
    result: dict[str, Any] = tenant.data(
        "mutation($uuid: UUID4!) { publishFlow(uuid: $uuid) {"
        " success errors { key message category } } }",
        {"uuid": uuid},
    )["publishFlow"]
    return result


def flow_names(tenant: Tenant) -> list[str]:
    rows = tenant.data("{ flows(opts: {order: ASC}) { name } }")["flows"]
    return [r["name"] for r in rows]


def by_uuid(tenant: Tenant, uuid: str) -> dict[str, Any]:
    rows = tenant.data(
        f"query($f: FlowFilter) {{ flows(filter: $f) {{ {FLOW} }} }}", {"f": {"uuid": uuid}}
    )["flows"]
    assert len(rows) == 1, rows
    found: dict[str, Any] = rows[0]
    return found


def revisions(tenant: Tenant, flow_id: str) -> list[tuple[int, str, int]]:
    """(revision number, status, version) of the flow's revisions, oldest first."""

    async def read(session: AsyncSession) -> list[tuple[int, str, int]]:
        rows = await session.execute(
            select(
                col(FlowRevision.revision_number),
                col(FlowRevision.status),
                col(FlowRevision.version),
            )
            .where(col(FlowRevision.flow_id) == int(flow_id))
            .order_by(col(FlowRevision.revision_number))
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]

    return tenant.server.in_transaction(read)


def save_draft(tenant: Tenant, flow_id: str, definition: dict[str, Any]) -> None:
    """What the flow editor's save does: a new draft revision (resolvers.flows.save_revision)."""

    async def save(session: AsyncSession) -> None:
        flow = await session.get(Flow, int(flow_id))
        assert flow is not None
        await flows.save_revision(session, tenant.org_id, flow, definition)

    tenant.server.in_transaction(save)


# --- CRUD ----------------------------------------------------------------------------------


def test_create_read_update_delete(tenant: Tenant) -> None:
    made = created(
        tenant,
        name="Daily activity",
        keywords=["Activity", " START "],
        description="Sends the day's activity",
        isBackground=False,
    )
    assert made["name"] == "Daily activity"
    assert made["keywords"] == ["activity", "start"]  # lower-cased on save
    assert made["isActive"] is True and made["ignoreKeywords"] is False
    assert made["uuid"] and len(made["uuid"]) == 36

    found = get(tenant, made["id"], role="staff")
    assert found["errors"] is None
    assert found["flow"]["name"] == "Daily activity"
    assert found["flow"]["roles"] == [] and found["flow"]["tag"] is None
    assert found["flow"]["lastChangedAt"].endswith("Z")  # the empty draft createFlow saved
    assert found["flow"]["lastPublishedAt"] is None

    changed = update(tenant, made["id"], name="Daily activity v2", keywords=["go"], isPinned=True)
    assert changed["errors"] is None
    assert changed["flow"]["keywords"] == ["go"] and changed["flow"]["isPinned"] is True
    assert tenant.data(
        "query($f: FlowFilter!) { countFlows(filter: $f) }", {"f": {"keyword": "GO!"}}
    ) == {"countFlows": 1}

    deleted = tenant.data(
        f"mutation($id: ID!) {{ deleteFlow(id: $id) {{ flow {{ id }} {ERRORS} }} }}",
        {"id": made["id"]},
    )["deleteFlow"]
    assert deleted == {"flow": None, "errors": None}
    assert get(tenant, made["id"]) == {"flow": None, "errors": NOT_FOUND}
    # Its keywords are free again.
    assert created(tenant, name="Another", keywords=["go"])["keywords"] == ["go"]


@pytest.mark.parametrize("missing", ["999999999", "abc", "0"])
def test_misses_are_payload_errors(tenant: Tenant, missing: str) -> None:
    assert get(tenant, missing) == {"flow": None, "errors": NOT_FOUND}
    assert update(tenant, missing, name="x") == {"flow": None, "errors": NOT_FOUND}


def test_another_organizations_flow_is_not_found(tenant: Tenant, other_tenant: Tenant) -> None:
    theirs = created(other_tenant, name="Theirs")
    assert get(tenant, theirs["id"]) == {"flow": None, "errors": NOT_FOUND}
    assert flow_names(tenant) == []


def test_name_is_required_and_unique(tenant: Tenant) -> None:
    assert create(tenant, keywords=["x"])["errors"] == [
        {"key": "name", "message": "Name: can't be blank"}
    ]
    created(tenant, name="Registration")
    assert create(tenant, name="Registration")["errors"] == [
        {"key": "name", "message": "Name: Sorry, the flow name already exists."}
    ]


def test_flows_filters_and_order(tenant: Tenant) -> None:
    a = created(tenant, name="b quiz", keywords=["quiz"])
    created(tenant, name="A survey", keywords=["survey"], isActive=False)
    created(tenant, name="c help", isPinned=True)
    assert flow_names(tenant) == ["A survey", "b quiz", "c help"]

    def names(flt: dict[str, Any]) -> list[str]:
        rows = tenant.data(
            "query($f: FlowFilter) { flows(filter: $f, opts: {order: ASC}) { name } }",
            {"f": flt},
        )["flows"]
        return [r["name"] for r in rows]

    assert names({"isActive": False}) == ["A survey"]
    assert names({"isPinned": True}) == ["c help"]
    assert names({"name": "QUI"}) == ["b quiz"]
    assert names({"keyword": "Quiz"}) == ["b quiz"]
    assert names({"nameOrKeywordOrTags": "surv"}) == ["A survey"]
    assert names({"uuid": a["uuid"]}) == ["b quiz"]
    assert names({"status": "published"}) == []
    assert names({"status": "draft"}) == ["A survey", "b quiz", "c help"]


# --- keywords ------------------------------------------------------------------------------


def test_a_keyword_belongs_to_one_flow(tenant: Tenant) -> None:
    first = created(tenant, name="Welcome", keywords=["hi", "hello"])
    clash = create(tenant, name="Other", keywords=["Hi!", "bye"])
    assert clash["flow"] is None
    assert clash["errors"] == [
        {
            "key": "keywords",
            "message": "Keywords: The keyword `hi!` was already used in the `Welcome` Flow.",
        }
    ]
    second = created(tenant, name="Other", keywords=["bye"])
    refused = update(tenant, second["id"], keywords=["bye", "HELLO"])
    assert refused["errors"] == [
        {
            "key": "keywords",
            "message": "Keywords: The keyword `hello` was already used in the `Welcome` Flow.",
        }
    ]
    # A flow may keep its own keywords; the refused update changed nothing.
    assert update(tenant, first["id"], keywords=["hi", "hello", "hey"])["errors"] is None
    assert get(tenant, second["id"])["flow"]["keywords"] == ["bye"]


def test_keywords_are_per_organization(tenant: Tenant, other_tenant: Tenant) -> None:
    created(tenant, name="Welcome", keywords=["hi"])
    assert created(other_tenant, name="Welcome", keywords=["hi"])["keywords"] == ["hi"]


def test_two_flows_saved_at_once_with_one_keyword(tenant: Tenant) -> None:
    """Exactly one wins; the other gets the keywords error, never a crash."""
    document = (
        f"mutation($input: FlowInput!) {{ createFlow(input: $input) {{ flow {{ id }} {ERRORS} }} }}"
    )
    for attempt in range(3):
        keyword = f"race{attempt}"

        def save(index: int, keyword: str = keyword) -> dict[str, Any]:
            return tenant.gql(
                document, {"input": {"name": f"Racer {keyword} {index}", "keywords": [keyword]}}
            )

        with ThreadPoolExecutor(max_workers=2) as pool:
            bodies = list(pool.map(save, range(2)))
        for body in bodies:
            assert "errors" not in body, body
        results = [b["data"]["createFlow"] for b in bodies]
        winners = [r for r in results if r["errors"] is None]
        losers = [r for r in results if r["errors"] is not None]
        assert len(winners) == 1 and len(losers) == 1, results
        assert losers[0]["flow"] is None
        assert losers[0]["errors"][0]["key"] == "keywords"
        count = tenant.data(
            "query($f: FlowFilter!) { countFlows(filter: $f) }", {"f": {"keyword": keyword}}
        )
        assert count == {"countFlows": 1}


def test_an_inactive_flow_leaves_the_keyword_map(tenant: Tenant) -> None:
    made = created(tenant, name="Quiz", keywords=["quiz"])

    async def lookup(session: AsyncSession) -> int | None:
        found = await flows.flow_for_keyword(session, tenant.org_id, "quiz")
        return None if found is None else found.id

    assert tenant.server.in_transaction(lookup) == int(made["id"])
    update(tenant, made["id"], isActive=False)
    assert tenant.server.in_transaction(lookup) is None
    # ...but keeps its keywords reserved, as in Glific.
    assert create(tenant, name="Quiz 2", keywords=["quiz"])["errors"][0]["key"] == "keywords"


def test_setting_a_flow_inactive_ends_its_runs(tenant: Tenant) -> None:
    made = created(tenant, name="Running")
    asha = tenant.create_contact("Asha")

    async def start(session: AsyncSession) -> int:
        run = FlowContext(
            organization_id=tenant.org_id,
            run_uuid=str(uuid_lib.uuid4()),
            contact_id=int(asha["id"]),
            flow_id=int(made["id"]),
            flow_uuid=made["uuid"],
            node_uuid=str(uuid_lib.uuid4()),
        )
        session.add(run)
        await session.flush()
        assert run.id is not None
        return run.id

    run_id = tenant.server.in_transaction(start)
    assert update(tenant, made["id"], isActive=False)["errors"] is None

    async def read(session: AsyncSession) -> tuple[Any, Any]:
        run = await session.get(FlowContext, run_id)
        assert run is not None
        return run.completed_at, run.reason

    completed_at, reason = tenant.server.in_transaction(read)
    assert completed_at is not None
    assert reason == "Flow terminated because it has been set to inactive."


# --- import and export ---------------------------------------------------------------------


def test_import_a_flow_then_export_it(tenant: Tenant, other_tenant: Tenant) -> None:
    definition = small_flow("Class feedback")
    status = import_flow(tenant, export(definition, keywords=[["Feedback"]]))
    assert status == [{"flowName": "Class feedback", "status": "Successfully imported"}]
    flow = by_uuid(tenant, definition["uuid"])
    assert flow["name"] == "Class feedback" and flow["keywords"] == ["feedback"]
    # Imported as a draft, not published.
    assert revisions(tenant, flow["id"]) == [(1, "draft", 0)]
    # The importer created the contact field the flow writes.
    fields = tenant.data("{ contactsFields { shortcode } }")["contactsFields"]
    assert {"shortcode": "class_feedback"} not in fields  # not listed in our export file

    exported = tenant.data(
        "query($id: ID!) { exportFlow(id: $id) { exportData errors { key message } } }",
        {"id": flow["id"]},
    )["exportFlow"]
    assert exported["errors"] is None
    data = json.loads(exported["exportData"])
    assert [f["keywords"] for f in data["flows"]] == [["feedback"]]
    assert data["flows"][0]["definition"] == definition
    assert data["contact_field"] == ["class_feedback", "name"]
    assert set(data) == {"flows", "contact_field", "collections", "interactive_templates"}

    # The export imports unchanged into another organization.
    again = import_flow(other_tenant, exported["exportData"])
    assert again == [{"flowName": "Class feedback", "status": "Successfully imported"}]
    theirs = by_uuid(other_tenant, definition["uuid"])
    fields = other_tenant.data("{ contactsFields { shortcode } }")["contactsFields"]
    assert {"shortcode": "class_feedback"} in fields
    back = json.loads(
        other_tenant.data(
            "query($id: ID!) { exportFlow(id: $id) { exportData } }", {"id": theirs["id"]}
        )["exportFlow"]["exportData"]
    )
    assert back["flows"] == data["flows"]


def test_export_takes_each_sub_flow_once(tenant: Tenant) -> None:
    sub = small_flow("Sub")
    parent = with_sub_flow(small_flow("Parent"), sub)
    parent = with_sub_flow(parent, sub)  # entered twice
    assert import_flow(tenant, export(parent, sub)) == [
        {"flowName": "Parent", "status": "Successfully imported"},
        {"flowName": "Sub", "status": "Successfully imported"},
    ]
    parent_id = by_uuid(tenant, parent["uuid"])["id"]
    data = json.loads(
        tenant.data("query($id: ID!) { exportFlow(id: $id) { exportData } }", {"id": parent_id})[
            "exportFlow"
        ]["exportData"]
    )
    assert [f["definition"]["name"] for f in data["flows"]] == ["Parent", "Sub"]


@pytest.mark.parametrize("kind", ["dangling exit", "unknown action", "loop without wait"])
def test_a_malformed_flow_is_not_imported(tenant: Tenant, kind: str) -> None:
    good = small_flow("Good one")
    status = import_flow(tenant, export(good, broken(kind)))
    assert status[1]["flowName"] == "Broken"
    assert status[1]["status"].startswith("Not imported: "), status
    assert len(status[1]["status"]) > len("Not imported: ") + 5
    # All or nothing: the good flow of the same file is not stored either.
    assert status[0] == {
        "flowName": "Good one",
        "status": "Not imported: other flows in this file have problems",
    }
    assert flow_names(tenant) == []


def test_broken_json_is_a_clear_error(tenant: Tenant) -> None:
    body = tenant.gql(
        "mutation($flow: Json!) { importFlow(flow: $flow) { status { flowName status } } }",
        {"flow": '{"flows": [{"definition": '},
    )
    assert body["data"] is None
    assert "not valid JSON" in body["errors"][0]["message"]
    not_export = import_flow(tenant, json.dumps({"name": "just a flow"}))
    assert not_export == [
        {
            "flowName": "flow",
            "status": 'Not a flow export: expected a JSON object with a "flows" list',
        }
    ]
    assert flow_names(tenant) == []


def test_import_refuses_a_keyword_or_name_in_use(tenant: Tenant) -> None:
    created(tenant, name="Welcome", keywords=["hi"])
    status = import_flow(tenant, export(small_flow("New one"), keywords=[["HI"]]))
    assert status == [
        {
            "flowName": "New one",
            "status": "Not imported: The keyword `hi` was already used in the `Welcome` Flow.",
        }
    ]
    status = import_flow(tenant, export(small_flow("Welcome")))
    assert status == [
        {"flowName": "Welcome", "status": "Not imported: Sorry, the flow name already exists."}
    ]
    assert flow_names(tenant) == ["Welcome"]


# --- publishing ----------------------------------------------------------------------------


def test_publish_refuses_a_broken_draft_and_bumps_the_version(tenant: Tenant) -> None:
    definition = small_flow("Quiz")
    import_flow(tenant, export(definition))
    flow = by_uuid(tenant, definition["uuid"])

    first = publish(tenant, definition["uuid"])
    assert first == {"success": True, "errors": []}
    assert revisions(tenant, flow["id"]) == [(1, "published", 1)]
    assert get(tenant, flow["id"])["flow"]["lastPublishedAt"].endswith("Z")

    bad = broken("dangling exit", "Quiz")
    bad["uuid"] = definition["uuid"]
    save_draft(tenant, flow["id"], bad)
    refused = publish(tenant, definition["uuid"])
    assert refused["success"] is False
    assert refused["errors"] and all(
        e["category"] in ("Critical", "Warning") for e in refused["errors"]
    )
    assert any(e["category"] == "Critical" for e in refused["errors"])
    # Nothing changed: the published revision stays, the draft stays a draft.
    assert revisions(tenant, flow["id"]) == [(1, "published", 1), (2, "draft", 0)]

    fixed = small_flow("Quiz", definition["uuid"])
    save_draft(tenant, flow["id"], fixed)
    second = publish(tenant, definition["uuid"])
    assert second["success"] is True
    assert revisions(tenant, flow["id"]) == [
        (1, "archived", 1),
        (2, "draft", 0),
        (3, "published", 2),
    ]

    async def definitions(session: AsyncSession) -> tuple[Any, Any]:
        published = await flows.published_definition(session, tenant.org_id, int(flow["id"]))
        latest = await flows.latest_definition(session, tenant.org_id, int(flow["id"]))
        assert published is not None and latest is not None
        return published[1], latest[0].revision_number

    published_def, latest_number = tenant.server.in_transaction(definitions)
    assert published_def == fixed and latest_number == 3


def test_publish_an_unknown_uuid(tenant: Tenant) -> None:
    result = publish(tenant, "6d7f5a8e-0000-4000-8000-000000000000")
    assert result == {
        "success": False,
        "errors": [
            {
                "key": "Elixir.Glific.Flows.Flow",
                "message": "Resource not found",
                "category": "Critical",
            }
        ],
    }
    body = tenant.gql('mutation { publishFlow(uuid: "not-a-uuid") { success } }')
    assert body["data"] is None and "UUID" in body["errors"][0]["message"]


# --- copy ----------------------------------------------------------------------------------


def test_copy_flow_copies_the_newest_definition_with_a_new_uuid(tenant: Tenant) -> None:
    definition = small_flow("Original")
    import_flow(tenant, export(definition, keywords=[["orig"]]))
    source = by_uuid(tenant, definition["uuid"])
    copied = tenant.data(
        f"mutation($id: ID!, $input: FlowInput) {{ copyFlow(id: $id, input: $input) {{"
        f" flow {{ {FLOW} }} {ERRORS} }} }}",
        {"id": source["id"], "input": {"name": "Copy", "keywords": ["copy"]}},
    )["copyFlow"]
    assert copied["errors"] is None
    flow = copied["flow"]
    assert flow["name"] == "Copy" and flow["keywords"] == ["copy"]
    assert flow["uuid"] != definition["uuid"]

    async def latest(session: AsyncSession) -> dict[str, Any]:
        found = await flows.latest_definition(session, tenant.org_id, int(flow["id"]))
        assert found is not None
        return found[1]

    copy = tenant.server.in_transaction(latest)
    assert copy["uuid"] == flow["uuid"] and copy["name"] == "Copy"
    assert copy["nodes"] == definition["nodes"]
    # A copy with another flow's keyword is refused like any save.
    again = tenant.data(
        f'mutation($id: ID!) {{ copyFlow(id: $id, input: {{name: "Copy 2",'
        f' keywords: ["orig"]}}) {{ flow {{ id }} {ERRORS} }} }}',
        {"id": source["id"]},
    )["copyFlow"]
    assert again["errors"][0]["key"] == "keywords"


# --- the editor lock -----------------------------------------------------------------------

FLOW_GET = (
    f"query($id: ID!, $forced: Boolean) {{ flowGet(id: $id, isForced: $forced) {{"
    f" flow {{ id }} {ERRORS} }} }}"
)


def test_flow_get_holds_the_flow_for_one_user(tenant: Tenant) -> None:
    made = created(tenant, name="Shared")
    other = created(tenant, name="Other")

    def open_as(role: str, forced: bool | None = None) -> dict[str, Any]:
        result: dict[str, Any] = tenant.data(FLOW_GET, {"id": made["id"], "forced": forced}, role)[
            "flowGet"
        ]
        return result

    assert open_as("manager") == {"flow": {"id": made["id"]}, "errors": None}
    assert open_as("manager") == {"flow": {"id": made["id"]}, "errors": None}  # renewed
    held = open_as("admin")
    assert held == {
        "flow": None,
        "errors": [
            {
                "key": "error",
                "message": "Sorry! You cannot edit the flow right now. It is being edited by"
                " \n Manager User",
            }
        ],
    }
    assert open_as("admin", forced=True)["errors"] is None
    assert "Admin User" in open_as("manager")["errors"][0]["message"]
    # The admin opening another flow gives this one up.
    assert tenant.data(FLOW_GET, {"id": other["id"]}, "admin")["flowGet"]["errors"] is None
    assert open_as("manager")["errors"] is None
    # Releasing frees it for the next user.
    assert tenant.data("{ flowRelease { id uuid } }") == {"flowRelease": None}
    assert open_as("admin")["errors"] is None


# --- roles ---------------------------------------------------------------------------------


def test_staff_read_flows_managers_change_them(tenant: Tenant) -> None:
    made = created(tenant, name="Roles")
    assert get(tenant, made["id"], role="staff")["flow"]["id"] == made["id"]
    assert tenant.data("{ flows { id } }", role="staff") == {"flows": [{"id": made["id"]}]}
    for document in (
        "{ countFlows }",
        '{ exportFlow(id: "1") { exportData } }',
        '{ flowGet(id: "1") { flow { id } } }',
        'mutation { createFlow(input: {name: "x"}) { flow { id } } }',
        'mutation { updateFlow(id: "1", input: {name: "x"}) { flow { id } } }',
        'mutation { deleteFlow(id: "1") { flow { id } } }',
        'mutation { copyFlow(id: "1") { flow { id } } }',
        'mutation { importFlow(flow: "{}") { status { status } } }',
        'mutation { resetFlowCount(flowId: "1") { success } }',
    ):
        body = tenant.gql(document, role="staff")
        assert body["errors"][0]["message"] == UNAUTHORIZED, (document, body)
    body = tenant.gql("{ flows { id } }", role="none")
    assert body["errors"][0]["message"] == UNAUTHORIZED
    assert get(tenant, made["id"])["flow"]["name"] == "Roles"


def test_reset_flow_count(tenant: Tenant) -> None:
    made = created(tenant, name="Counted")
    document = "mutation($id: ID!) { resetFlowCount(flowId: $id) { success errors { key } } }"
    assert tenant.data(document, {"id": made["id"]})["resetFlowCount"] == {
        "success": True,
        "errors": None,
    }
    missing = tenant.data(document, {"id": "999999999"})["resetFlowCount"]
    assert missing["success"] is False


# --- per-profile results and labels --------------------------------------------------------


def test_flow_results_per_profile(tenant: Tenant) -> None:
    made = created(tenant, name="Activity")
    asha = tenant.create_contact("Asha")
    kids = []
    for name in ("Ravi", "Meena"):
        result = tenant.data(
            "mutation($input: ProfileInput!) { createProfile(input: $input) {"
            " profile { id } errors { key message } } }",
            {"input": {"name": name, "contactId": asha["id"]}},
        )["createProfile"]
        assert result["errors"] is None
        kids.append(result["profile"]["id"])

    async def insert(session: AsyncSession) -> None:
        for profile_id, answer in ((kids[0], "good"), (kids[1], "bad")):
            session.add(
                FlowResult(
                    organization_id=tenant.org_id,
                    results={"feedback": {"input": answer, "category": answer}},
                    contact_id=int(asha["id"]),
                    profile_id=int(profile_id),
                    profile_key=int(profile_id),
                    flow_id=int(made["id"]),
                    flow_uuid=made["uuid"],
                    flow_version=3,
                    flow_context_id=77,  # one run, two people
                )
            )

    tenant.server.in_transaction(insert)
    document = (
        "query($f: FlowRunResultFilter) { flowResults(filter: $f, opts: {order: ASC}) {"
        " id results flowVersion insertedAt flow { name } contact { name } profile { id name } }"
        " countFlowResults(filter: $f) }"
    )
    data = tenant.data(document, {"f": {"profileId": kids[1]}}, role="staff")
    assert data["countFlowResults"] == 1
    (row,) = data["flowResults"]
    assert json.loads(row["results"]) == {"feedback": {"input": "bad", "category": "bad"}}
    assert row["flowVersion"] == 3
    assert row["flow"] == {"name": "Activity"} and row["contact"] == {"name": "Asha"}
    assert row["profile"] == {"id": kids[1], "name": "Meena"}
    both = tenant.data(document, {"f": {"flowId": made["id"], "contactId": asha["id"]}})
    assert [r["profile"]["name"] for r in both["flowResults"]] == ["Ravi", "Meena"]
    assert tenant.data(document, {"f": {"profileId": "999999"}})["countFlowResults"] == 0


def test_flow_labels(tenant: Tenant, other_tenant: Tenant) -> None:
    async def insert(session: AsyncSession) -> None:
        for org_id, name in (
            (tenant.org_id, "Feedback"),
            (tenant.org_id, "Answered"),
            (other_tenant.org_id, "Theirs"),
        ):
            session.add(FlowLabel(organization_id=org_id, uuid=str(uuid_lib.uuid4()), name=name))

    tenant.server.in_transaction(insert)
    data = tenant.data(
        "query($f: FlowLabelFilter) { flowLabels(filter: $f, opts: {order: ASC}) { id uuid name }"
        " countFlowLabels(filter: $f) }",
        {"f": None},
        role="staff",
    )
    assert [r["name"] for r in data["flowLabels"]] == ["Answered", "Feedback"]
    assert data["countFlowLabels"] == 2
    only = tenant.data('{ flowLabels(filter: {name: "feed"}) { name } }')
    assert only == {"flowLabels": [{"name": "Feedback"}]}


# --- helpers for the runner -----------------------------------------------------------------


def test_runner_helpers(tenant: Tenant) -> None:
    definition = small_flow("Helper")
    import_flow(tenant, export(definition, keywords=[["Help Me"]]))
    flow_id = int(by_uuid(tenant, definition["uuid"])["id"])

    async def check(session: AsyncSession) -> None:
        found = await flows.flow_by_uuid(session, tenant.org_id, definition["uuid"])
        assert found is not None and found.id == flow_id
        assert await flows.flow_by_uuid(session, tenant.org_id + 10**6, definition["uuid"]) is None
        keyword = await flows.flow_for_keyword(session, tenant.org_id, "helpme")
        assert keyword is not None and keyword.id == flow_id
        assert await flows.published_definition(session, tenant.org_id, flow_id) is None
        latest = await flows.latest_definition(session, tenant.org_id, flow_id)
        assert latest is not None and latest[1] == definition
        assert await flows.publish(session, tenant.org_id, definition["uuid"]) == []
        published = await flows.published_definition(session, tenant.org_id, flow_id)
        assert published is not None and published[0].version == 1

    tenant.server.in_transaction(check)
