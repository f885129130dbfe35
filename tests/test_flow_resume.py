"""resumeContactFlow and wait_for_result: a flow waits for an outside service (a grader, a
model), which answers through GraphQL; the answer becomes the run's results, on the profile
active now, and the run goes on. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

from tests.utils.chat import Phone, import_and_publish
from tests.utils.flow_builder import FlowBuilder
from tests.utils.flow_defs import awaiting_flow
from tests.utils.load import Call, burst
from tests.utils.tenants import Tenant, create_tenant

RESUME = (
    "mutation($f: ID!, $c: ID!, $r: Json!) { resumeContactFlow(flowId: $f, contactId: $c,"
    " result: $r) { success errors { key message } } }"
)


def _resume(
    tenant: Tenant, flow_id: str, contact_id: int, result: Any, role: str = "manager"
) -> dict[str, Any]:
    return tenant.gql(
        RESUME, {"f": flow_id, "c": str(contact_id), "r": json.dumps(result)}, role=role
    )


def test_an_outside_answer_resumes_the_waiting_flow_once(tenant: Tenant) -> None:
    import_and_publish(tenant, (awaiting_flow(), ["essay"]))
    flow_id = tenant.data("{ flows { id } }")["flows"][0]["id"]
    phone = Phone(tenant)
    assert phone.say("essay") == ["Checking your essay"]
    assert phone.say("is it done?") == []  # a message does not answer the wait
    contact_id = phone.contact_id()

    # Staff may not resume (Glific: manager).
    assert _resume(tenant, flow_id, contact_id, {}, role="staff")["errors"]

    body = _resume(tenant, flow_id, contact_id, {"grade": {"level": "B2"}, "remark": "clear"})
    assert body["data"]["resumeContactFlow"] == {"success": True, "errors": None}
    assert [m.body for m in phone.new_replies()] == ["Your level is B2 (clear)"]

    # The answer is filed on the run's result row, with the profile active now.
    (row,) = tenant.data(
        "query($f: FlowRunResultFilter) { flowResults(filter: $f) { results profile { id } } }",
        {"f": {"contactId": str(contact_id)}},
    )["flowResults"]
    results = json.loads(row["results"])
    assert results["grade"]["level"] == "B2" and results["remark"]["value"] == "clear"
    active = tenant.data(
        "query($id: ID!) { contact(id: $id) { contact { activeProfile { id } } } }",
        {"id": str(contact_id)},
    )["contact"]["contact"]["activeProfile"]
    assert row["profile"] == active

    # The run has moved on: a second answer finds nothing awaiting one.
    again = _resume(tenant, flow_id, contact_id, {"grade": {"level": "C1"}})
    assert again["data"]["resumeContactFlow"] == {
        "success": False,
        "errors": [
            {
                "key": "Flow",
                "message": f"{contact_id} does not have any active flows awaiting results.",
            }
        ],
    }
    assert phone.new_replies() == []


def test_a_resume_that_cannot_apply_changes_nothing(tenant: Tenant) -> None:
    import_and_publish(tenant, (awaiting_flow(), ["essay"]))
    flow_id = tenant.data("{ flows { id } }")["flows"][0]["id"]
    phone = Phone(tenant)
    phone.say("essay")
    contact_id = phone.contact_id()
    # Not an object.
    body = _resume(tenant, flow_id, contact_id, ["B2"])
    assert body["data"]["resumeContactFlow"]["success"] is False
    assert body["data"]["resumeContactFlow"]["errors"][0]["key"] == "result"
    # Another flow than the one waiting.
    other = FlowBuilder("Other")
    other.send("hi", "hi", None)
    import_and_publish(tenant, (other.build(), ["other"]))
    other_id = next(
        f["id"] for f in tenant.data("{ flows { id name } }")["flows"] if f["name"] == "Other"
    )
    body = _resume(tenant, other_id, contact_id, {"grade": {"level": "B2"}})
    assert body["data"]["resumeContactFlow"]["success"] is False
    # A contact of another organization (waiting in its own copy of the flow), or none.
    elsewhere = create_tenant(tenant.server)
    import_and_publish(elsewhere, (awaiting_flow(), ["essay"]))
    their_phone = Phone(elsewhere)
    their_phone.say("essay")
    for contact in (their_phone.contact_id(), 999_999_999):
        body = _resume(tenant, flow_id, contact, {"grade": {"level": "B2"}})
        assert body["data"]["resumeContactFlow"]["success"] is False
    assert their_phone.new_replies() == []  # still waiting
    assert phone.new_replies() == []
    # The wait is still there and still answerable.
    body = _resume(tenant, flow_id, contact_id, {"grade": {"level": "A1"}, "remark": "ok"})
    assert body["data"]["resumeContactFlow"]["success"] is True
    assert [m.body for m in phone.new_replies()] == ["Your level is A1 (ok)"]


def test_answers_arriving_at_once_resume_the_run_once(tenant: Tenant) -> None:
    import_and_publish(tenant, (awaiting_flow(), ["essay"]))
    flow_id = tenant.data("{ flows { id } }")["flows"][0]["id"]
    phone = Phone(tenant)
    phone.say("essay")
    contact_id = phone.contact_id()
    token = tenant.token("manager")
    calls = [
        Call(
            RESUME,
            {
                "f": flow_id,
                "c": str(contact_id),
                "r": json.dumps({"grade": {"level": f"L{n}"}, "remark": "x"}),
            },
            token,
        )
        for n in range(6)
    ]
    answers = burst(tenant.server.base_url, calls)
    results = [a.body["data"]["resumeContactFlow"] for a in answers]
    assert sum(r["success"] for r in results) == 1, results
    replies = [m.body or "" for m in phone.new_replies()]
    assert len(replies) == 1 and replies[0].startswith("Your level is L"), replies
