"""One phone, several children: the scenario the project exists for, end to end through the
simulator endpoint, with flows written here (not Glific's)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.utils.chat import Phone, WhatsAppPhone, import_and_publish
from tests.utils.flow_builder import FlowBuilder
from tests.utils.tenants import Tenant, unique_phone


def activity_flow() -> dict[str, Any]:
    """Ask who is on the phone (a menu of profiles, or NEW), then two questions whose
    answers become contact fields and results."""
    f = FlowBuilder("Daily activity")
    f.send(
        "ask_who",
        "Who is using the phone? @contact.list_profiles Send the number, or NEW.",
        "who",
    )
    f.wait(
        "who",
        [
            ("has_any_word", ["new"], "New", "ask_name"),
            ("has_number", [], "Number", "switch"),
        ],
        other="ask_who",
        result_name="who",
    )
    f.send("ask_name", "What is your name?", "name")
    f.wait("name", [], other="create", result_name="name", other_name="All Responses")
    f.outcome(
        "create",
        {
            "type": "set_contact_profile",
            "profile_type": "Create Profile",
            "value": {"name": "@results.name", "type": "student"},
            "result_name": "@results.name",
        },
        success="ask_colour",
        failure="ask_name",
    )
    f.outcome(
        "switch",
        {
            "type": "set_contact_profile",
            "profile_type": "Switch Profile",
            "value": "@results.who",
            "result_name": "@results.who",
        },
        success="welcome_back",
        failure="ask_who",
    )
    f.send(
        "welcome_back",
        "Welcome back @contact.active_profile_name, your colour is @contact.fields.colour.",
        "ask_colour",
    )
    f.send("ask_colour", "What is your favourite colour?", "colour")
    f.wait("colour", [], other="save_colour", result_name="colour", other_name="All Responses")
    f.actions(
        "save_colour",
        [
            {
                "type": "set_contact_field",
                "field": {"key": "colour", "name": "Colour"},
                "value": "@results.colour",
            }
        ],
        "ask_age",
    )
    f.send("ask_age", "How old are you?", "age")
    f.wait(
        "age",
        [("has_number_between", ["1", "18"], "Child", "save_age")],
        other="ask_age",
        result_name="age",
    )
    f.actions(
        "save_age",
        [
            {
                "type": "set_contact_field",
                "field": {"key": "age", "name": "Age"},
                "value": "@results.age",
            }
        ],
        "bye",
    )
    f.send("bye", "Thank you @contact.active_profile_name!", None)
    return f.build()


def _profiles(tenant: Tenant, contact_id: int) -> dict[str, dict[str, Any]]:
    rows = tenant.data(
        "query($f: ProfileFilter) { profiles(filter: $f) { id name fields language { id } } }",
        {"f": {"contactId": str(contact_id)}},
    )["profiles"]
    return {p["name"]: p for p in rows}


def _results(tenant: Tenant, profile_id: str) -> list[dict[str, Any]]:
    rows = tenant.data(
        "query($f: FlowRunResultFilter) { flowResults(filter: $f) {"
        " results profile { id name } flow { name } } }",
        {"f": {"profileId": profile_id}},
    )["flowResults"]
    return [{"results": json.loads(r["results"]), "profile": r["profile"]["name"]} for r in rows]


def _answers(rows: list[dict[str, Any]], key: str) -> list[str]:
    return [r["results"][key]["input"] for r in rows if key in r["results"]]


@pytest.mark.parametrize("channel", ["simulator", "gupshup", "meta"])
def test_two_children_share_a_phone_and_keep_their_own_answers(
    timed_tenant: Tenant, channel: str
) -> None:
    """The same conversation through the simulator and through each provider's webhook (on
    a server whose jobs handle what the webhooks acknowledge) gives the same profiles,
    fields and results."""
    tenant = timed_tenant
    import_and_publish(tenant, (activity_flow(), ["activity"]))
    phone = (
        Phone(tenant)
        if channel == "simulator"
        else WhatsAppPhone(tenant, channel, unique_phone(), name="Parent")
    )
    # The phone's own contact is the parent: a simulator contact comes with a name of its
    # own; a WhatsApp number's contact takes the sender's name on its first message.
    if channel == "simulator":
        tenant.data(
            'mutation($id: ID!) { updateContact(id: $id, input: {name: "Parent"}) {'
            " errors { message } } }",
            {"id": str(phone.contact_id())},
        )

    # The parent's phone starts the activity; nobody has a profile yet.
    assert phone.say("activity")[0].startswith("Who is using the phone?")
    assert phone.say("new") == ["What is your name?"]
    assert phone.say("Asha") == ["What is your favourite colour?"]
    assert phone.say("red") == ["How old are you?"]
    assert phone.say("9") == ["Thank you Asha!"]

    # A second child on the same phone: the menu now lists the parent (the default profile,
    # the phone's own identity) and Asha.
    who = phone.say("activity")[0]
    assert "1. Parent" in who and "2. Asha" in who, who
    phone.say("new")
    phone.say("Ravi")
    phone.say("blue")
    assert phone.say("7") == ["Thank you Ravi!"]

    contact_id = phone.contact_id()
    profiles = _profiles(tenant, contact_id)
    assert set(profiles) == {"Parent", "Asha", "Ravi"}
    asha, ravi = profiles["Asha"], profiles["Ravi"]
    assert json.loads(asha["fields"])["colour"]["value"] == "red"
    assert json.loads(ravi["fields"])["colour"]["value"] == "blue"
    assert json.loads(ravi["fields"])["age"]["value"] == "7"

    # Choosing Asha again from the menu brings back her fields (and her language).
    menu = phone.say("activity")[0]
    assert "3. Ravi" in menu, menu
    assert phone.say("2") == [
        "Welcome back Asha, your colour is red.",
        "What is your favourite colour?",
    ]
    contact = tenant.data(
        "query($id: ID!) { contact(id: $id) { contact { fields language { id }"
        " activeProfile { name } } } }",
        {"id": str(contact_id)},
    )["contact"]["contact"]
    assert contact["activeProfile"]["name"] == "Asha"
    assert json.loads(contact["fields"])["colour"]["value"] == "red"
    assert contact["language"]["id"] == asha["language"]["id"]
    phone.say("green")
    phone.say("10")

    # Each child's answers are on their own profile; the menu answers are filed on whoever
    # was active when they were given.
    asha_rows = _results(tenant, asha["id"])
    assert _answers(asha_rows, "colour") == ["red", "green"]
    assert _answers(asha_rows, "age") == ["9", "10"]
    assert all(r["profile"] == "Asha" for r in asha_rows)
    ravi_rows = _results(tenant, ravi["id"])
    assert _answers(ravi_rows, "colour") == ["blue"]
    assert _answers(ravi_rows, "age") == ["7"]
    assert _answers(asha_rows, "name") == ["Ravi"]  # Asha was active when Ravi was named
    assert _answers(ravi_rows, "who") == ["2"]  # Ravi was active when Asha was picked
    assert _results(tenant, profiles["Parent"]["id"]) == []
    # The first answers came before the phone had any profile: they are the contact's own.
    first = tenant.data(
        "query($f: FlowRunResultFilter) { flowResults(filter: $f) { results profile { id } } }",
        {"f": {"contactId": str(contact_id)}},
    )["flowResults"]
    unfiled = [json.loads(r["results"]) for r in first if r["profile"] is None]
    assert [r["name"]["input"] for r in unfiled] == ["Asha"]

    # The history shows each switch.
    history = tenant.data(
        "query($f: ContactsHistoryFilter) { contactHistory(filter: $f, opts: {limit: 100}) {"
        " eventType eventLabel profile { name } } }",
        {"f": {"contactId": str(contact_id)}},
    )["contactHistory"]
    switches = [h["eventLabel"] for h in history if h["eventType"] == "profile_switched"]
    assert "Switched profile to Asha" in switches
    assert "Switched profile to Ravi" in switches
    assert switches.count("Switched profile to Asha") >= 2
