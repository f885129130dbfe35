"""Glific's own seed flows (`../shared/glific-data/flows/`, or $GLIFIC_REFERENCE_DATA), with
their placeholders filled: each one parses and validates with no Critical problem, and runs
the way Glific runs it. Skipped with the path when the data is missing; fails under CI."""

from __future__ import annotations

from typing import Any

import pytest

from resolvers.flow_engine import validate
from resolvers.flow_engine.events import (
    ContactFieldChanged,
    ContactGroupsAdded,
    ContactLanguageChanged,
    ContactOptedIn,
    ContactOptedOut,
    GroupRef,
    InputLabelsAdded,
    MsgCreated,
    ProfileCreated,
    ProfileDeactivated,
    ProfileSwitched,
    RunEnded,
    RunStarted,
)
from resolvers.flow_engine.state import ProfileView
from tests.utils.flow_engine import (
    FLOW_FILES,
    HINDI,
    OPTOUT_GROUP_ID,
    Chat,
    FlowTable,
    make_contact,
    reference_definitions,
    texts,
)


@pytest.fixture(scope="module")
def definitions() -> dict[str, dict[str, Any]]:
    return reference_definitions()


@pytest.fixture
def flows(definitions: dict[str, dict[str, Any]]) -> FlowTable:
    table = FlowTable()
    for definition in definitions.values():
        table.add(definition)
    return table


def uuid_of(definitions: dict[str, dict[str, Any]], name: str) -> str:
    return str(definitions[name]["uuid"])


@pytest.mark.parametrize("name", FLOW_FILES)
def test_every_reference_flow_validates_without_critical_problems(
    definitions: dict[str, dict[str, Any]], name: str
) -> None:
    known = {d["uuid"] for d in definitions.values()}
    problems = validate(definitions[name], flow_exists=known.__contains__)
    assert [p for p in problems if p.category == "Critical"] == []


def test_multiple_profile_creation_creates_and_activates_a_profile(
    definitions: dict[str, dict[str, Any]], flows: FlowTable
) -> None:
    chat = Chat(flows, contact=make_contact(fields={"school": {"value": "GHS"}}))
    assert texts(chat.start(uuid_of(definitions, "multiple_profile_creation"))) == [
        "Can I know your name please?"
    ]
    (role,) = chat.say("Ravi").of_type(MsgCreated)
    assert role.type == "quick_reply" and role.quick_replies == ("student", "teacher")
    confirm = chat.say("student").of_type(MsgCreated)[0]
    assert "*Name:* Ravi" in confirm.text and "*Profile of:* student" in confirm.text
    done = chat.say("Correct")
    (created,) = done.of_type(ProfileCreated)
    assert (created.name, created.type) == ("Ravi", "student")
    contact = chat.contact
    default, ravi = contact.profiles
    assert default.is_default and default.fields == {"school": {"value": "GHS"}}
    assert contact.active() is ravi
    assert (
        contact.fields["name"]["value"] == "Ravi" and contact.fields["role"]["value"] == "student"
    )
    assert ravi.fields == contact.fields
    assert [e.key for e in done.of_type(ContactFieldChanged)] == ["name", "role"]
    assert [e.status for e in done.of_type(RunEnded)] == ["completed"]


def test_multiple_profile_creation_times_out_after_six_hours(
    definitions: dict[str, dict[str, Any]], flows: FlowTable
) -> None:
    chat = Chat(flows)
    chat.start(uuid_of(definitions, "multiple_profile_creation"))
    chat.say("Ravi")
    waits = chat.say("student").of_type(RunEnded)
    assert waits == []
    run = chat.session.runs[0]
    assert run.wait is not None and run.wait.timeout_at is not None
    assert (run.wait.timeout_at - chat.env.now()).total_seconds() == 21600
    sprint = chat.timeout()
    assert [e.status for e in sprint.of_type(RunEnded)] == ["completed"]
    assert chat.contact.profiles == []


def test_multiple_profile_lists_profiles_and_switches_by_the_typed_number(
    definitions: dict[str, dict[str, Any]], flows: FlowTable
) -> None:
    chat = Chat(flows)
    first = chat.start(uuid_of(definitions, "multiple_profile"), keyword="multiple")
    assert first.of_type(MsgCreated)[0].quick_replies == (
        "Create New Profile",
        "Select Profile",
        "Start New Activity",
    )
    entered = chat.say("Create New Profile")
    (child_started,) = entered.of_type(RunStarted)
    assert child_started.flow_uuid == uuid_of(definitions, "multiple_profile_creation")
    assert child_started.parent_uuid == chat.session.runs[0].uuid
    chat.say("Ravi")
    chat.say("student")
    back = chat.say("Correct")
    assert "Congratulation! Your profile has been created!😁" in texts(back)
    parent = chat.session.runs[0]
    assert parent.results["child"]["name"]["input"] == "Ravi"

    listing = texts(chat.say("Select Profile"))[0]
    assert "1. Asha" in listing and "2. Ravi" in listing
    assert texts(chat.say("hello"))[0].startswith("You have to send only the *number*")
    switched = chat.say("1")
    assert switched.of_type(ProfileSwitched)[0].index == 1
    assert texts(switched)[0] == "Profile has been switched.\nCurrent profile is of Asha"
    assert chat.contact.active() is chat.contact.profiles[0]
    chat.say("Select Profile")
    again = chat.say("2")
    assert texts(again)[0] == "Profile has been switched.\nCurrent profile is of Ravi"
    chat.say("Select Profile")
    assert texts(chat.say("7"))[0].startswith("Sorry, there was some issue in choosing profile.")


def test_deactivate_profile(definitions: dict[str, dict[str, Any]], flows: FlowTable) -> None:
    profiles = [
        ProfileView(id=1, name="Asha", type=None, language_id=1, fields={}, is_default=True),
        ProfileView(id=2, name="Ravi", type="student", language_id=1, fields={"x": 1}),
    ]
    chat = Chat(flows, contact=make_contact(profiles=profiles, active_profile=1, fields={"x": 1}))
    listing = texts(chat.start(uuid_of(definitions, "deactivate_profile")))[0]
    assert "1. Asha" in listing and "2. Ravi" in listing
    done = chat.say("2")
    assert texts(done) == ["Profile deactivated "]
    assert done.of_type(ProfileDeactivated)[0].index == 2
    assert chat.contact.active() is chat.contact.profiles[0]
    chat.start(uuid_of(definitions, "deactivate_profile"))
    assert texts(chat.say("x")) == ["Sorry, there was some issue in choosing profile."]


def test_language_flow_switches_to_hindi_and_answers_in_hindi(
    definitions: dict[str, dict[str, Any]], flows: FlowTable
) -> None:
    chat = Chat(flows)
    first = texts(chat.start(uuid_of(definitions, "language")))[0]
    assert first.startswith("Your language is currently set at English")
    done = chat.say("1", message_id=9)
    assert done.of_type(InputLabelsAdded)[0].labels == ("Hindi",)
    assert done.of_type(ContactLanguageChanged)[0].language_id == HINDI.id
    assert texts(done) == ["अब आपकी भाषा Hindi पर सेट है"]
    assert chat.session.runs[0].results["Language"]["category"] == "Hindi"


def test_help_flow(definitions: dict[str, dict[str, Any]], flows: FlowTable) -> None:
    help_uuid = uuid_of(definitions, "help")
    chat = Chat(flows)
    assert texts(chat.start(help_uuid, keyword="help"))[0].startswith("Thank you for reaching out")
    again = chat.say("what?")  # Other: asked again
    assert texts(again)[0].startswith("Thank you for reaching out")
    two = chat.say("2")
    image = two.of_type(MsgCreated)[0]
    assert image.attachments == (
        ("image", "https://www.buildquickbots.com/whatsapp/media/sample/jpg/sample01.jpg"),
    )
    assert two.of_type(ContactGroupsAdded)[0].groups == (GroupRef(5, "Priority"),)
    assert texts(two)[-1] == "We hope that helped you out."

    chat.start(help_uuid)
    four = chat.say("4")
    assert texts(four) == ["Message for option 4"] and four.of_type(ContactOptedOut)

    hindi = Chat(flows, contact=make_contact(language_id=HINDI.id))
    greeting = texts(hindi.start(help_uuid))[0]
    assert not greeting.startswith("Thank you")
    hi_text = definitions["help"]["localization"]["hi"]
    assert greeting in [entry["text"][0] for entry in hi_text.values() if entry.get("text")]


def test_optin_and_optout_flows(definitions: dict[str, dict[str, Any]], flows: FlowTable) -> None:
    chat = Chat(flows)
    (ask,) = chat.start(uuid_of(definitions, "optin")).of_type(MsgCreated)
    assert ask.type == "quick_reply" and ask.quick_replies == ("👍", "👎")
    again = chat.timeout()  # No Response: asked again
    assert again.of_type(MsgCreated)[0].quick_replies == ("👍", "👎")
    yes = chat.say("👍", type="quick_reply")
    assert yes.of_type(ContactOptedIn) and chat.contact.optin
    assert yes.of_type(ContactGroupsAdded)[0].groups == (GroupRef(1, "Optin contacts"),)

    chat.start(uuid_of(definitions, "optout"))
    assert texts(chat.timeout()) == [
        "Thank you for staying with us. You are still enrolled in the system."
    ]
    chat.start(uuid_of(definitions, "optout"))
    out = chat.say("1")
    assert out.of_type(ContactGroupsAdded)[0].groups == (
        GroupRef(OPTOUT_GROUP_ID, "Optout contacts"),
    )
    assert out.of_type(ContactOptedOut) and chat.contact.opted_out


def test_registration_flow(definitions: dict[str, dict[str, Any]], flows: FlowTable) -> None:
    chat = Chat(flows)
    chat.start(uuid_of(definitions, "registration"))
    chat.say("Vikas Singh")
    assert chat.contact.fields["name"]["value"] == "Vikas Singh"
    assert texts(chat.say("9"))[0].startswith("Sorry, we didn't understand that.")
    done = chat.say("2", message_id=4)
    assert done.of_type(InputLabelsAdded)[0].labels == ("Age Group 11 to 14",)
    assert chat.contact.fields["age_group"]["value"] == "11 to 14"
    assert texts(done) == ["Thank you for introducing yourself to us Vikas Singh  😊 "]


def test_new_contact_runs_its_three_sub_flows_in_turn(
    definitions: dict[str, dict[str, Any]], flows: FlowTable
) -> None:
    chat = Chat(flows)
    first = chat.start(uuid_of(definitions, "new_contact"))
    assert first.of_type(RunStarted)[1].flow_uuid == uuid_of(definitions, "optin")
    to_language = chat.say("👍")
    assert to_language.of_type(ContactOptedIn)
    assert to_language.of_type(RunStarted)[0].flow_uuid == uuid_of(definitions, "language")
    to_registration = chat.say("2")
    assert to_registration.of_type(RunStarted)[0].flow_uuid == uuid_of(definitions, "registration")
    chat.say("Vikas")
    done = chat.say("4")
    assert texts(done)[-1] == "Continue building the flow however you'd like."
    assert all(run.status == "completed" for run in chat.session.runs)
    top = chat.session.runs[0]
    assert top.results["child"]["age_group"]["category"] == "19 or above"
