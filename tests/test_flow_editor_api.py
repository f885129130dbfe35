"""The flow editor's REST calls (`/flow-editor/*`, spec §5.2) over HTTP, as the editor
Glific's web app embeds sends them: every path with and without its trailing slash, the
token and roles, the assets it loads (completion, fields, groups, labels, languages, ...),
a flow's revisions (list, read, save, then publish and run), the editing lock, and the
activity on the canvas counted per contact and per profile."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import timedelta
from typing import Any

import httpx2
import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import (
    Contact,
    Flow,
    FlowContext,
    FlowRevision,
    Organization,
    UserToken,
    utcnow,
)
from resolvers.flow_engine.expressions import interpreter
from tests.test_household import activity_flow
from tests.utils.builders import make_field, make_profile
from tests.utils.chat import Phone, import_and_publish
from tests.utils.flow_builder import FlowBuilder
from tests.utils.tenants import Tenant

PUBLISH = "mutation($u: UUID4!) { publishFlow(uuid: $u) { success errors { message } } }"
FLOW_GET = "query($id: ID!) { flowGet(id: $id) { flow { id } errors { key message } } }"


# --- helpers -------------------------------------------------------------------------------


def get(tenant: Tenant, path: str, role: str | None = "staff", **params: Any) -> httpx2.Response:
    headers = {"authorization": tenant.token(role)} if role else {}
    return tenant.client.get(f"/flow-editor/{path}", headers=headers, params=params)


def post(
    tenant: Tenant, path: str, body: Any, role: str | None = "manager", **headers: str
) -> httpx2.Response:
    if role:
        headers.setdefault("authorization", tenant.token(role))
    if isinstance(body, (bytes, str)):
        return tenant.client.post(f"/flow-editor/{path}", content=body, headers=headers)
    return tenant.client.post(f"/flow-editor/{path}", json=body, headers=headers)


def read(tenant: Tenant, path: str, role: str = "staff", **params: Any) -> Any:
    """GET `path` with and without its trailing slash: both 200, the same JSON."""
    bare = get(tenant, path.rstrip("/"), role, **params)
    slashed = get(tenant, path.rstrip("/") + "/", role, **params)
    assert bare.status_code == 200, bare.text
    assert slashed.status_code == 200, slashed.text
    assert bare.headers["content-type"] == "application/json"
    assert bare.json() == slashed.json()
    return bare.json()


def write(tenant: Tenant, path: str, body: Any, role: str = "manager") -> Any:
    response = post(tenant, path, body, role)
    assert response.status_code == 200, response.text
    return response.json()


def refused(response: httpx2.Response, status: int) -> str:
    """A JSON error in Glific's shape; returns its message."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["error"]["status"] == status
    message: str = body["error"]["message"]
    assert message and "Traceback" not in response.text
    return message


def story_flow(name: str, text: str = "Once upon a time") -> dict[str, Any]:
    f = FlowBuilder(name)
    f.send("tell", text, "ask")
    f.wait("ask", [], other="bye", result_name="answer", other_name="All Responses")
    f.send("bye", "The end", None)
    return f.build()


def flow_id(tenant: Tenant, flow_uuid: str) -> str:
    rows = tenant.data(
        "query($f: FlowFilter) { flows(filter: $f) { id } }", {"f": {"uuid": flow_uuid}}
    )["flows"]
    assert len(rows) == 1, rows
    return str(rows[0]["id"])


def newest(tenant: Tenant, flow_uuid: str) -> dict[str, Any]:
    """The newest revision as the editor picks it (by created_on) and its definition."""
    listed = read(tenant, f"revisions/{flow_uuid}", version="14.3")["results"]
    latest = max(listed, key=lambda r: r["created_on"])
    return read(tenant, f"revisions/{flow_uuid}/{latest['id']}", version="14.3")


# --- sign-in and roles ---------------------------------------------------------------------

READS = [
    "completion",
    "globals",
    "languages",
    "fields",
    "groups",
    "labels",
    "classifiers",
    "resthooks",
    "ticketers",
    "templates",
    "interactive-templates",
    "sheets",
    "channels",
    "environment",
    "users",
    "recipients",
    "flows",
    "validate-media",
]


def test_a_missing_or_bad_token_is_401_and_no_role_is_403(tenant: Tenant) -> None:
    for path in [*READS, "labels/", "fields?scope=contact"]:
        assert refused(get(tenant, path, role=None), 401) == "Invalid token"
        bad = tenant.client.get(f"/flow-editor/{path}", headers={"authorization": "nope"})
        assert refused(bad, 401) == "Invalid token"
        assert refused(get(tenant, path, role="none"), 403) == "Unauthorized"
    assert refused(post(tenant, "labels", {"name": "x"}, role=None), 401) == "Invalid token"
    assert refused(post(tenant, "labels", {"name": "x"}, role="none"), 403) == "Unauthorized"
    # An expired token is no better than a wrong one.
    user_id = tenant.users["staff"]["id"]

    async def expire(session: AsyncSession) -> None:
        await session.execute(
            update(UserToken)
            .where(col(UserToken.user_id) == user_id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )

    assert get(tenant, "labels").status_code == 200
    tenant.server.in_transaction(expire)
    assert refused(get(tenant, "labels"), 401) == "Invalid token"


def test_bearer_tokens_work_and_staff_read_but_do_not_write(tenant: Tenant) -> None:
    bearer = {"authorization": f"Bearer {tenant.token('staff')}"}
    assert tenant.client.get("/flow-editor/globals/", headers=bearer).json() == {"results": []}
    for role in ("staff", "manager", "admin", "glific_admin"):
        assert read(tenant, "labels", role=role) == {"results": []}
    for path, body in (
        ("labels", {"name": "Feedback"}),
        ("groups", {"name": "Readers"}),
        ("fields", {"label": "Age"}),
    ):
        assert refused(post(tenant, path, body, role="staff"), 403) == "Unauthorized"
    assert read(tenant, "labels") == {"results": []}  # nothing was written
    created = write(tenant, "labels", {"name": "Feedback"}, role="manager")
    assert created["name"] == "Feedback"
    assert write(tenant, "labels/", {"name": "Praise"}, role="admin")["name"] == "Praise"


def test_unknown_paths_and_methods_are_json_errors(tenant: Tenant) -> None:
    for path in ("nothing-here", "nothing-here/", "", "revisions", "flows/a/b", "labels/x"):
        refused(get(tenant, path), 404)
    refused(tenant.client.get("/flow-editor", headers={"authorization": tenant.token()}), 404)
    refused(post(tenant, "completion", {}), 405)
    refused(post(tenant, "nothing-here", {}), 404)
    response = tenant.client.put(
        "/flow-editor/labels", json={}, headers={"authorization": tenant.token()}
    )
    refused(response, 405)


# --- the assets the editor loads ---------------------------------------------------------


def test_completion_describes_the_context_and_every_function(tenant: Tenant) -> None:
    body = read(tenant, "completion")
    assert set(body) == {"context", "functions"}
    types = {t["name"]: t for t in body["context"]["types"]}
    roots = {r["key"]: r for r in body["context"]["root"]}
    assert {"contact", "results", "input", "flow", "parent", "fields"} <= set(roots)
    contact = {p["key"] for p in types["contact"]["properties"]}
    assert {
        "name",
        "phone",
        "language",
        "fields",
        "groups",
        "profiles",
        "list_profiles",
        "active_profile_name",
        "has_multiple_profile",
    } <= contact
    assert types["fields"]["key_source"] == "fields"
    assert types["results"]["key_source"] == "results"
    # Every type a property or a root names is described (or a plain value).
    plain = {"text", "any", "number", "datetime"}
    named = [r["type"] for r in roots.values()]
    for t in types.values():
        named += [p["type"] for p in t.get("properties", [])]
        if "property_template" in t:
            named.append(t["property_template"]["type"])
    assert set(named) - plain <= set(types), set(named) - plain - set(types)
    functions = {f["signature"].split("(")[0]: f for f in body["functions"]}
    assert set(functions) == set(interpreter.FUNCTIONS)
    assert functions["String.upcase"] == {
        "signature": "String.upcase(text)",
        "summary": "the text in upper case",
    }
    assert functions["String.split"]["signature"] == "String.split(text [, separator])"
    assert all(f["summary"] for f in body["functions"])


def test_a_new_expression_function_is_listed_without_more_code(tenant: Tenant) -> None:
    interpreter.FUNCTIONS["String.pad_leading"] = (2, 3, lambda a, _: a[0])
    try:
        functions = read(tenant, "completion")["functions"]
    finally:
        del interpreter.FUNCTIONS["String.pad_leading"]
    found = [f for f in functions if f["signature"].startswith("String.pad_leading(")]
    assert found == [
        {
            "signature": "String.pad_leading(arg1, arg2 [, arg3])",
            "summary": "String.pad_leading, in a <%= ... %> block",
        }
    ]
    assert not any(
        f["signature"].startswith("String.pad_leading(")
        for f in read(tenant, "completion")["functions"]
    )


def test_empty_assets_and_media_checks(tenant: Tenant) -> None:
    for path in (
        "globals",
        "classifiers",
        "resthooks",
        "ticketers",
        "templates",
        "interactive-templates",
        "interactive-templates/12",
        "sheets",
    ):
        assert read(tenant, path) == {"results": []}, path
    assert read(tenant, "recents/exit-uuid/node-uuid/flow-uuid") == []
    assert read(tenant, "validate-media", url="https://example.org/a.png", type="image") == {
        "is_valid": True,
        "message": "success",
    }
    for url in ("ftp://example.org/a.png", "not a url", "https://", ""):
        checked = read(tenant, "validate-media", url=url)
        assert checked["is_valid"] is False and checked["message"], url
    assert read(tenant, "validate-media")["is_valid"] is False


def test_languages_environment_and_channels_are_the_organizations(tenant: Tenant) -> None:
    hindi = tenant.language_id("hi")

    async def choose(session: AsyncSession) -> str:
        org = await session.get(Organization, tenant.org_id)
        assert org is not None
        org.fields = {**org.fields, "active_language_ids": [int(hindi)]}
        phone = await session.scalar(
            select(col(Contact.phone)).where(col(Contact.id) == org.contact_id)
        )
        return str(phone)

    org_phone = tenant.server.in_transaction(choose)
    languages = read(tenant, "languages")["results"]
    assert sorted(languages, key=lambda lang: lang["iso"]) == [
        {"iso": "en", "name": "English", "default": True},
        {"iso": "hi", "name": "Hindi", "default": False},
    ]
    assert read(tenant, "environment") == {
        "date_format": "DD-MM-YYYY",
        "time_format": "tt:mm",
        "timezone": "Asia/Kolkata",
        "default_language": "en",
        "allowed_languages": [lang["iso"] for lang in languages],
        "default_country": "IN",
        "redaction_policy": "none",
    }
    assert read(tenant, "channels") == {
        "results": [
            {
                "uuid": str(tenant.org_id),
                "name": "WhatsApp",
                "address": org_phone,
                "schemes": ["whatsapp"],
                "roles": ["send", "receive"],
            }
        ]
    }


def test_fields_are_listed_and_created_once(tenant: Tenant, other_tenant: Tenant) -> None:
    made = make_field(tenant)
    tenant.data(
        "mutation($i: ContactsFieldInput!) { createContactsField(input: $i) { errors { key } } }",
        {"i": {"name": "Score", "shortcode": "score", "valueType": "INTEGER"}},
    )
    listed = read(tenant, "fields", scope="contact")["results"]
    assert read(tenant, "fields")["results"] == listed
    by_key = {f["key"]: f for f in listed}
    assert by_key[made["shortcode"]] == {
        "key": made["shortcode"],
        "name": made["name"],
        "label": made["name"],
        "value_type": "text",
        "scope": "contact",
    }
    assert by_key["score"]["value_type"] == "number"
    assert read(tenant, "fields", scope="globals") == {"results": []}
    created = write(tenant, "fields", {"label": "Age Group"})
    assert created == {
        "key": "age_group",
        "name": "Age Group",
        "label": "Age Group",
        "value_type": "text",
    }
    # The same name again (as `label` or `name`) is the same field, not a second one.
    assert write(tenant, "fields/", {"name": "Age Group"}) == created
    assert write(tenant, "fields", {"label": made["name"]})["key"] == made["shortcode"]
    keys = [f["key"] for f in read(tenant, "fields")["results"]]
    assert sorted(keys) == sorted([made["shortcode"], "score", "age_group"])
    assert read(other_tenant, "fields") == {"results": []}
    refused(post(tenant, "fields", {"label": "  "}), 400)
    refused(post(tenant, "fields", ["Age"]), 400)


def test_groups_are_listed_with_their_counts_and_created_once(tenant: Tenant) -> None:
    created = write(tenant, "groups", {"name": "Readers"})
    assert set(created) == {"uuid", "name"} and created["name"] == "Readers"
    assert write(tenant, "groups", {"name": "Readers"}) == created
    asha = tenant.create_contact("Asha")
    tenant.data(
        "mutation($i: GroupContactsInput!) { updateGroupContacts(input: $i) { numberDeleted } }",
        {"i": {"groupId": created["uuid"], "addContactIds": [asha["id"]], "deleteContactIds": []}},
    )
    write(tenant, "groups/", {"name": "Writers"})
    listed = read(tenant, "groups")["results"]
    assert [(g["name"], g["count"]) for g in listed] == [("Readers", 1), ("Writers", 0)]
    assert listed[0]["uuid"] == created["uuid"]
    refused(post(tenant, "groups", {"name": ""}), 400)
    refused(post(tenant, "groups", {}), 400)


def test_labels_are_listed_and_created_once(tenant: Tenant, other_tenant: Tenant) -> None:
    created = write(tenant, "labels", {"name": "Feedback"})
    assert set(created) == {"uuid", "name", "count"}
    assert created["name"] == "Feedback" and created["count"] == 0
    uuid.UUID(created["uuid"])
    assert write(tenant, "labels/", {"name": " Feedback "}) == created
    assert read(tenant, "labels") == {"results": [created]}
    assert read(other_tenant, "labels") == {"results": []}
    refused(post(tenant, "labels", {"name": None}), 400)


def test_users_and_recipients(tenant: Tenant, other_tenant: Tenant) -> None:
    users = read(tenant, "users")["results"]
    assert {u["name"] for u in users} == {
        "Staff User",
        "Manager User",
        "Admin User",
        "Glific_Admin User",
        "None User",
    }
    assert all(set(u) == {"email", "name"} for u in users)
    asha = tenant.create_contact("Asha")
    other_tenant.create_contact("Stranger")
    group = write(tenant, "groups", {"name": "Readers"})
    found = read(tenant, "recipients")["results"]
    assert {"uuid": asha["id"], "name": "Asha", "type": "contact"} in found
    assert {"uuid": group["uuid"], "name": "Readers", "type": "group"} in found
    assert "Stranger" not in {r["name"] for r in found}


def test_flows_are_listed_with_their_expiry(tenant: Tenant) -> None:
    quick = story_flow("Quick")
    quick["expire_after_minutes"] = 60
    slow = story_flow("Slow")
    del slow["expire_after_minutes"]
    gone = story_flow("Gone")
    import_and_publish(tenant, (quick, ["quick"]), (slow, ["slow"]), (gone, ["gone"]))
    tenant.data(
        "mutation($id: ID!) { updateFlow(id: $id, input: {isActive: false}) { errors { key } } }",
        {"id": flow_id(tenant, gone["uuid"])},
    )
    entry = {"type": "message", "archived": False, "labels": [], "parent_refs": []}
    assert read(tenant, "flows") == {
        "results": [
            {"uuid": quick["uuid"], "name": "Quick", "expires": 60, **entry},
            {"uuid": slow["uuid"], "name": "Slow", "expires": 10080, **entry},
        ]
    }
    assert read(tenant, f"flows/{quick['uuid']}") == {
        "uuid": quick["uuid"],
        "name": "Quick",
        "expires": 60,
        **entry,
    }
    assert read(tenant, f"flows/{gone['uuid']}")["archived"] is True
    refused(get(tenant, f"flows/{uuid.uuid4()}"), 404)


# --- revisions -----------------------------------------------------------------------------


def test_revisions_round_trip_then_publish_and_run(tenant: Tenant) -> None:
    story = story_flow("Story")
    import_and_publish(tenant, (story, ["story"]))
    listed = read(tenant, f"revisions/{story['uuid']}", version="14.3")["results"]
    assert len(listed) >= 1
    first = listed[0]
    assert set(first) == {"id", "created_on", "user", "status", "version", "revision"}
    assert first["status"] == "published" and first["version"] == "13.0.0"
    assert first["created_on"].endswith("Z")
    opened = read(tenant, f"revisions/{story['uuid']}/{first['id']}", version="14.3")
    assert opened["metadata"] == {"issues": []}
    definition = opened["definition"]
    assert definition["nodes"] == story["nodes"]
    assert (definition["uuid"], definition["name"]) == (story["uuid"], "Story")
    assert definition["revision"] == first["revision"]

    edited = copy.deepcopy(definition)
    edited["nodes"][0]["actions"][0]["text"] = "A long time ago"
    saved = write(tenant, f"revisions/{story['uuid']}/", edited)
    assert saved["issues"] == [] and saved["metadata"] == {"issues": []}
    revision = saved["revision"]
    assert revision["revision"] == first["revision"] + 1
    assert revision["status"] == "draft" and revision["version"] == "13.0.0"
    assert revision["user"] == {"email": "", "name": "Manager User"}
    relisted = read(tenant, f"revisions/{story['uuid']}")["results"]
    assert relisted[0] == revision
    assert [r["revision"] for r in relisted] == sorted(
        (r["revision"] for r in relisted), reverse=True
    )
    assert relisted[1]["id"] == first["id"]
    latest = newest(tenant, story["uuid"])
    assert latest["definition"]["nodes"][0]["actions"][0]["text"] == "A long time ago"
    assert latest["definition"]["revision"] == revision["revision"]

    # Still the published text until the draft is published.
    assert Phone(tenant).say("story") == ["Once upon a time"]
    published = tenant.data(PUBLISH, {"u": story["uuid"]})["publishFlow"]
    assert published["success"], published
    assert read(tenant, f"revisions/{story['uuid']}")["results"][0]["status"] == "published"
    assert Phone(tenant, "9876543210_2").say("story") == ["A long time ago"]


def test_a_manage_profile_node_survives_save_and_get(tenant: Tenant) -> None:
    flow = activity_flow()  # the household's flow: Manage Profile nodes that create and switch
    import_and_publish(tenant, (flow, ["who"]))
    definition = newest(tenant, flow["uuid"])["definition"]
    definition["_ui"]["nodes"][flow["nodes"][0]["uuid"]]["position"] = {"top": 40, "left": 80}
    saved = write(tenant, f"revisions/{flow['uuid']}", {"definition": definition})
    back = newest(tenant, flow["uuid"])["definition"]
    assert back == {**definition, "revision": saved["revision"]["revision"]}
    actions = [a for node in back["nodes"] for a in node["actions"]]
    managed = [a for a in actions if a["type"] == "set_contact_profile"]
    assert managed == [a for node in flow["nodes"] for a in node["actions"] if a in managed]
    assert [a["profile_type"] for a in managed] == ["Create Profile", "Switch Profile"]
    assert managed[0]["value"] == {"name": "@results.name", "type": "student"}


def test_a_save_is_refused_while_another_user_holds_the_flow(tenant: Tenant) -> None:
    story = story_flow("Locked story")
    import_and_publish(tenant, (story, ["locked"]))
    definition = newest(tenant, story["uuid"])["definition"]
    # Free: anyone with the manager role saves.
    assert post(tenant, f"revisions/{story['uuid']}", definition, role="admin").status_code == 200
    opened = tenant.data(FLOW_GET, {"id": flow_id(tenant, story["uuid"])}, role="manager")
    assert opened["flowGet"]["errors"] is None
    before = read(tenant, f"revisions/{story['uuid']}")["results"]
    response = post(tenant, f"revisions/{story['uuid']}/", definition, role="admin")
    assert response.status_code == 409, response.text
    assert response.json()["description"] == "This flow is being edited by Manager User right now!"
    assert read(tenant, f"revisions/{story['uuid']}")["results"] == before
    # The holder saves.
    assert write(tenant, f"revisions/{story['uuid']}", definition, role="manager")["revision"]
    # An expired lock holds nothing.

    async def expire(session: AsyncSession) -> None:
        flow = await session.scalar(select(Flow).where(col(Flow.uuid) == story["uuid"]))
        assert flow is not None
        flow.locked_until = utcnow() - timedelta(minutes=1)

    tenant.server.in_transaction(expire)
    assert post(tenant, f"revisions/{story['uuid']}", definition, role="admin").status_code == 200


def test_bad_revision_requests_are_clear_4xx(tenant: Tenant, other_tenant: Tenant) -> None:
    story = story_flow("Bad input")
    other = story_flow("Another")
    import_and_publish(tenant, (story, ["bad"]), (other, ["another"]))
    path = f"revisions/{story['uuid']}"
    for body in (b"{not json", b"", b"\xff\xfe", "[1, 2]", '"text"', "{}", '{"nodes": 3}'):
        response = post(tenant, path, body, **{"content-type": "text/plain"})
        message = refused(response, 400)
        assert response.json()["description"] == message
    wrong = {**story, "uuid": other["uuid"]}
    assert "not of" in refused(post(tenant, path, wrong), 400)
    # Whatever the content type says, a JSON body is read.
    plain = post(tenant, path, json.dumps(story), **{"content-type": "text/plain"})
    assert plain.status_code == 200, plain.text
    unknown = str(uuid.uuid4())
    refused(get(tenant, f"revisions/{unknown}"), 404)
    refused(get(tenant, f"revisions/{unknown}/1"), 404)
    refused(post(tenant, f"revisions/{unknown}", story), 404)
    refused(get(tenant, "activity", flow=unknown), 404)
    refused(get(tenant, "activity"), 400)
    other_revision = read(tenant, f"revisions/{other['uuid']}")["results"][0]["id"]
    for rid in (other_revision, 999_999_999, "abc", "0", "-1", "9" * 40):
        refused(get(tenant, f"{path}/{rid}"), 404)
    # Another organization's flow does not exist for this one.
    refused(get(other_tenant, path), 404)
    refused(post(other_tenant, path, story), 404)


def test_a_flow_without_revisions_opens_empty(tenant: Tenant) -> None:
    story = story_flow("Bare")
    import_and_publish(tenant, (story, ["bare"]))

    async def forget(session: AsyncSession) -> None:
        found = await session.scalar(
            select(col(Flow.id)).where(
                col(Flow.uuid) == story["uuid"], col(Flow.organization_id) == tenant.org_id
            )
        )
        await session.execute(delete(FlowRevision).where(col(FlowRevision.flow_id) == found))

    tenant.server.in_transaction(forget)
    listed = read(tenant, f"revisions/{story['uuid']}")["results"]
    assert [(r["id"], r["revision"], r["status"]) for r in listed] == [(0, 0, "draft")]
    definition = read(tenant, f"revisions/{story['uuid']}/0")["definition"]
    assert definition["nodes"] == []
    assert (definition["uuid"], definition["name"]) == (story["uuid"], "Bare")
    saved = write(tenant, f"revisions/{story['uuid']}", story)
    assert saved["revision"]["revision"] == 1
    refused(get(tenant, f"revisions/{story['uuid']}/0"), 404)


# --- activity ------------------------------------------------------------------------------


def test_activity_counts_contacts_and_profiles_waiting_at_each_node(tenant: Tenant) -> None:
    story = story_flow("Activity story")
    other = story_flow("Elsewhere")
    import_and_publish(tenant, (story, ["tale"]), (other, ["elsewhere"]))
    waiting = story["nodes"][1]["uuid"]  # the wait after the first message
    assert read(tenant, "activity", flow=story["uuid"]) == {
        "nodes": {},
        "segments": {},
        "recentMessages": {},
        "profiles": {},
    }
    # A phone shared by two children: a profile is made for each.
    family = Phone(tenant, "9876543210_1")
    family.say("hello")
    contact_id = str(family.contact_id())
    kid = make_profile(tenant, contact_id, name="Tara")
    assert family.say("tale") == ["Once upon a time"]
    # Starting again ends the first run: only the new one waits.
    assert family.say("tale") == ["Once upon a time"]
    assert read(tenant, "activity/", flow=story["uuid"])["nodes"] == {waiting: 1}
    assert read(tenant, "activity", flow=story["uuid"])["profiles"] == {waiting: 1}
    # The engine keeps one unfinished run per contact; the sibling's run waiting at the same
    # node is written as it would stand (a run of the default profile).
    sibling = tenant.data(
        "query($id: ID!) { contact(id: $id) { contact { profiles { id isDefault } } } }",
        {"id": contact_id},
    )["contact"]["contact"]["profiles"]
    default = next(int(p["id"]) for p in sibling if p["isDefault"])
    assert default != int(kid["id"])

    async def sibling_run(session: AsyncSession) -> None:
        run = await session.scalar(
            select(FlowContext).where(
                col(FlowContext.contact_id) == int(contact_id),
                col(FlowContext.completed_at).is_(None),
            )
        )
        assert run is not None and run.profile_id == int(kid["id"])
        session.add(
            FlowContext(
                organization_id=run.organization_id,
                run_uuid=str(uuid.uuid4()),
                contact_id=run.contact_id,
                profile_id=default,
                flow_id=run.flow_id,
                flow_uuid=run.flow_uuid,
                node_uuid=run.node_uuid,
            )
        )

    tenant.server.in_transaction(sibling_run)
    # Two children of one phone at one node: one contact, two profiles.
    assert read(tenant, "activity", flow=story["uuid"]) == {
        "nodes": {waiting: 1},
        "segments": {},
        "recentMessages": {},
        "profiles": {waiting: 2},
    }
    # Two phones with no profiles wait there too (contacts, no profiles); another finishes
    # the story; another is in another flow.
    Phone(tenant, "9876543210_2").say("tale")
    Phone(tenant, "9876543210_5").say("tale")
    done = Phone(tenant, "9876543210_3")
    done.say("tale")
    assert done.say("yes") == ["The end"]
    Phone(tenant, "9876543210_4").say("elsewhere")
    activity = read(tenant, "activity", flow=story["uuid"])
    assert activity == {
        "nodes": {waiting: 3},
        "segments": {},
        "recentMessages": {},
        "profiles": {waiting: 2},
    }
    assert read(tenant, "activity", flow=other["uuid"])["nodes"] == {other["nodes"][1]["uuid"]: 1}


def test_activity_is_one_grouped_query(tenant: Tenant) -> None:
    story = story_flow("Counted story")
    import_and_publish(tenant, (story, ["counted"]))
    for i in range(1, 4):
        Phone(tenant, f"9876543210_{i}").say("counted")
    read(tenant, "activity", flow=story["uuid"])  # warm
    counter = tenant.server.count_statements()
    try:
        body = get(tenant, "activity", flow=story["uuid"]).json()
    finally:
        tenant.server.stop_counting(counter)
    assert body["nodes"] == {story["nodes"][1]["uuid"]: 3}
    flow_contexts = [s for s in counter.statements if "flow_contexts" in s]
    assert len(flow_contexts) == 1, counter.statements
    assert "GROUP BY" in flow_contexts[0].upper()


@pytest.mark.parametrize("path", ["labels", "groups", "fields"])
def test_writes_need_a_json_object(tenant: Tenant, path: str) -> None:
    refused(post(tenant, path, b"{oops"), 400)
    refused(post(tenant, path, "[]"), 400)


def test_exports_are_untouched_by_editor_saves(tenant: Tenant) -> None:
    """A saved definition is what exportFlow hands out next (no wrapper, same nodes)."""
    story = story_flow("Exported")
    import_and_publish(tenant, (story, ["exported"]))
    edited = copy.deepcopy(story)
    edited["nodes"][2]["actions"][0]["text"] = "Fin"
    write(tenant, f"revisions/{story['uuid']}", {"definition": edited})
    exported = json.loads(
        tenant.data(
            "query($id: ID!) { exportFlow(id: $id) { exportData } }",
            {"id": flow_id(tenant, story["uuid"])},
        )["exportFlow"]["exportData"]
    )
    definition = exported["flows"][0]["definition"]
    assert definition["nodes"] == edited["nodes"]
    assert "definition" not in definition


def test_unstorable_input_is_a_4xx_not_a_crash(tenant: Tenant) -> None:
    """What PostgreSQL cannot store (NUL, lone surrogates, NaN) and ids that are not ids."""
    story = story_flow("Hostile")
    import_and_publish(tenant, (story, ["hostile"]))
    path = f"revisions/{story['uuid']}"
    for body in (
        b'{"name": "a\\u0000b"}',
        b'{"name": "\\ud800"}',
    ):
        for resource in ("labels", "groups", "fields"):
            refused(post(tenant, resource, body), 400)
    nul = json.dumps({**story, "nodes": story["nodes"], "x": "\u0000"})
    refused(post(tenant, path, nul), 400)
    for constant in ("NaN", "Infinity", "1e999"):
        refused(post(tenant, path, json.dumps(story)[:-1] + f', "x": {constant}}}'), 400)
    for bad in ("flows/a%00b", "revisions/a%00b", "revisions/not-a-uuid/1", "flows/²"):
        refused(get(tenant, bad), 404)
    for rid in ("²", "\uff11", "%00"):
        refused(get(tenant, f"{path}/{rid}"), 404)
    refused(get(tenant, "activity", flow="a\u0000b"), 404)
    assert read(tenant, "fields", scope="a\u0000b") == {"results": []}
    assert read(tenant, "validate-media", url="https://a\u0000b")["is_valid"] is False
