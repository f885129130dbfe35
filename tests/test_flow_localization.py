"""A flow's translations as a sheet (exportFlowLocalization, importFlowLocalization,
inlineFlowLocalization): exported, translated, imported back as a new draft that a
Hindi-speaking contact then reads; bad sheets refused with nothing written. On SQLite and
PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from tests.utils.chat import Phone, import_and_publish
from tests.utils.flow_builder import FlowBuilder
from tests.utils.load import Call, burst
from tests.utils.tenants import Tenant, create_tenant

EXPORT = "query($id: ID!) { exportFlowLocalization(id: $id, addTranslation: true) { export_data } }"
IMPORT = (
    "mutation($l: String!, $id: ID!) { importFlowLocalization(localization: $l, id: $id) {"
    " success errors { key message } } }"
)
INLINE = "mutation($id: ID!) { inlineFlowLocalization(id: $id) { success errors { key message } } }"


def _setup(tenant: Tenant) -> tuple[str, dict[str, Any]]:
    """A published two-message flow, its Hindi translation of the greeting already there
    (with an attachment), and the organization using English and Hindi only."""
    hindi = tenant.language_id("hi")
    tenant.data(
        "mutation($id: ID!, $i: OrganizationInput!) { updateOrganization(id: $id, input: $i) {"
        " errors { key message } } }",
        {"id": str(tenant.org_id), "i": {"activeLanguageIds": [hindi]}},
        role="admin",
    )
    f = FlowBuilder("Lesson")
    f.send("greet", "Welcome to today's lesson", "ask")
    f.send("ask", "What is 2 + 2?, @contact.name", None)
    definition = f.build()
    greet = definition["nodes"][0]["actions"][0]["uuid"]
    definition["localization"] = {
        "hi": {greet: {"text": ["आज के पाठ में स्वागत है"], "attachments": ["image:https://x/y.png"]}}
    }
    import_and_publish(tenant, (definition, ["lesson"]))
    flow_id = tenant.data("{ flows { id } }")["flows"][0]["id"]
    return flow_id, definition


def _rows(tenant: Tenant, flow_id: str) -> list[list[str]]:
    text = tenant.data(EXPORT, {"id": flow_id})["exportFlowLocalization"]["export_data"]
    return list(csv.reader(io.StringIO(text)))


def _csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue()


def test_a_translated_sheet_comes_back_into_the_flow(tenant: Tenant) -> None:
    flow_id, definition = _setup(tenant)
    greet, ask = (n["actions"][0]["uuid"] for n in definition["nodes"])
    rows = _rows(tenant, flow_id)
    assert rows == [
        ["Type", "UUID", "English", "Hindi"],
        ["Type", "UUID", "en", "hi"],
        ["action", greet, "Welcome to today's lesson", "आज के पाठ में स्वागत है"],
        ["action", ask, "What is 2 + 2?, @contact.name", ""],
    ]
    # Nothing to translate by machine here: inline says what is missing.
    inline = tenant.data(INLINE, {"id": flow_id})["inlineFlowLocalization"]
    assert inline["success"] is False and "hi: 1" in inline["errors"][0]["message"]

    rows[3][3] = "2 + 2 कितना होता है?, @contact.name"
    result = tenant.data(IMPORT, {"l": _csv(rows), "id": flow_id})["importFlowLocalization"]
    assert result == {"success": True, "errors": None}
    assert tenant.data(INLINE, {"id": flow_id})["inlineFlowLocalization"]["success"] is True

    # A new draft: the editor's export shows it, attachments of the greeting kept.
    exported = tenant.data(
        "query($id: ID!) { exportFlow(id: $id) { export_data } }", {"id": flow_id}
    )["exportFlow"]["export_data"]
    localization = json.loads(exported)["flows"][0]["definition"]["localization"]["hi"]
    assert localization[ask] == {"text": ["2 + 2 कितना होता है?, @contact.name"]}
    assert localization[greet]["attachments"] == ["image:https://x/y.png"]
    assert _rows(tenant, flow_id)[3][3] == "2 + 2 कितना होता है?, @contact.name"

    # Published, a Hindi-speaking contact reads it.
    uuid = definition["uuid"]
    published = tenant.data(
        "mutation($u: UUID4!) { publishFlow(uuid: $u) { success } }", {"u": uuid}
    )["publishFlow"]
    assert published["success"] is True
    phone = Phone(tenant)
    phone.say("hello")
    contact_id = phone.contact_id()
    tenant.data(
        "mutation($id: ID!, $i: ContactInput!) { updateContact(id: $id, input: $i) {"
        " errors { key message } } }",
        {"id": str(contact_id), "i": {"languageId": tenant.language_id("hi")}},
    )
    greeting, question = phone.say("lesson")
    assert greeting == "आज के पाठ में स्वागत है"
    assert question.startswith("2 + 2 कितना होता है?, ") and "@contact" not in question


def test_a_sheet_that_does_not_fit_the_flow_changes_nothing(tenant: Tenant) -> None:
    flow_id, _ = _setup(tenant)
    rows = _rows(tenant, flow_id)
    before = tenant.data(
        "query($id: ID!) { exportFlow(id: $id) { export_data } }", {"id": flow_id}
    )["exportFlow"]["export_data"]

    def refused(sheet: str, words: str) -> None:
        result = tenant.data(IMPORT, {"l": sheet, "id": flow_id})["importFlowLocalization"]
        assert result["success"] is False, result
        assert words in result["errors"][0]["message"], result

    # A row naming a message the flow does not have (the second row is fine: all or nothing).
    wrong = [r[:] for r in rows]
    wrong[3][3] = "अनुवाद"
    wrong.append(["action", "00000000-0000-4000-8000-000000000000", "Hi", "नमस्ते"])
    refused(_csv(wrong), "no message of this flow")
    # A language the organization does not use, or no locale row at all.
    refused(_csv([rows[0], ["Type", "UUID", "en", "fr"], *rows[2:]]), "header row of locales")
    refused("just some text", "header row of locales")
    refused("", "is empty")
    # More cells than languages.
    refused(_csv([*rows[:2], [*rows[2], "extra"]]), "more cells")
    after = tenant.data("query($id: ID!) { exportFlow(id: $id) { export_data } }", {"id": flow_id})[
        "exportFlow"
    ]["export_data"]
    assert after == before
    # Staff may not; another organization's flow is not found.
    body = tenant.gql(IMPORT, {"l": _csv(rows), "id": flow_id}, role="staff")
    assert body["errors"]
    other = create_tenant(tenant.server)
    theirs = FlowBuilder("Theirs")
    theirs.send("hi", "Hello", None)
    import_and_publish(other, (theirs.build(), ["theirs"]))
    their_id = other.data("{ flows { id } }")["flows"][0]["id"]
    for flow in (their_id, "999999999"):
        body = tenant.gql(EXPORT, {"id": flow})
        assert body["errors"] and body["data"]["exportFlowLocalization"] is None
        answer = tenant.data(IMPORT, {"l": _csv(rows), "id": flow})["importFlowLocalization"]
        assert answer["success"] is False


def test_sheets_imported_at_once_both_land(tenant: Tenant) -> None:
    flow_id, _ = _setup(tenant)
    rows = _rows(tenant, flow_id)
    only_greet, only_ask = [r[:] for r in rows], [r[:] for r in rows]
    only_greet[2][3], only_ask[2][3] = "नमस्ते", ""
    only_ask[3][3] = "कितना?"
    token = tenant.token("manager")
    calls = [
        Call(IMPORT, {"l": _csv(sheet), "id": flow_id}, token) for sheet in (only_greet, only_ask)
    ]
    answers = burst(tenant.server.base_url, calls)
    assert all(a.body["data"]["importFlowLocalization"]["success"] for a in answers), answers
    # Each import reads the draft the other wrote (the flow is locked): neither is lost.
    final = _rows(tenant, flow_id)
    assert (final[2][3], final[3][3]) == ("नमस्ते", "कितना?")
