"""Glific's own flows imported unchanged, published, and talked to through the simulator
endpoint as a person would: the Manage Profile flows, registration, language, help, opt-in
and opt-out, and the new-contact flow's chain of sub-flows."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Contact, Message
from resolvers import inbound
from resolvers.flow_engine.state import Input
from tests.utils.chat import Phone, import_and_publish
from tests.utils.reference_flows import reference_flows
from tests.utils.tenants import Tenant, unique_phone


@pytest.fixture
def glific_flows(tenant: Tenant) -> dict[str, tuple[dict[str, Any], list[str]]]:
    flows = reference_flows()
    import_and_publish(tenant, *flows.values())
    return flows


def _contact(tenant: Tenant, contact_id: int) -> dict[str, Any]:
    contact = tenant.data(
        "query($id: ID!) { contact(id: $id) { contact { name fields"
        " language { label } activeProfile { name type } } } }",
        {"id": str(contact_id)},
    )["contact"]["contact"]
    contact["fields"] = json.loads(contact["fields"])
    return contact


def _profiles(tenant: Tenant, contact_id: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = tenant.data(
        "query($f: ProfileFilter) { profiles(filter: $f) { name type isActive isDefault } }",
        {"f": {"contactId": str(contact_id)}},
    )["profiles"]
    return rows


def test_every_reference_flow_imports_and_publishes(tenant: Tenant, glific_flows: Any) -> None:
    names = {f["name"] for f in tenant.data("{ flows { name keywords } }")["flows"]}
    assert {d["name"] for d, _ in glific_flows.values()} <= names


def test_profiles_are_created_listed_switched_and_deactivated_from_the_chat(
    tenant: Tenant, glific_flows: Any
) -> None:
    phone = Phone(tenant)
    contact_id = phone.contact_id()
    tenant.data(
        'mutation($id: ID!) { updateContact(id: $id, input: {name: "Meena"}) {'
        " errors { message } } }",
        {"id": str(contact_id)},
    )

    # multiple_profile_creation: name, role, confirm -> a new profile, made active, and the
    # fields the flow then sets land on it.
    assert phone.say("profilecreation") == ["Can I know your name please?"]
    assert phone.say("Ravi") == ["Kindly tell us your role"]
    confirm = phone.say("student")
    assert len(confirm) == 1 and "Ravi" in confirm[0] and "student" in confirm[0]
    phone.say("Correct")
    contact = _contact(tenant, contact_id)
    assert contact["activeProfile"] == {"name": "Ravi", "type": "student"}
    assert contact["fields"]["name"]["value"] == "Ravi"
    assert contact["fields"]["role"]["value"] == "student"
    assert [(p["name"], p["isDefault"]) for p in _profiles(tenant, contact_id)] == [
        ("Meena", True),
        ("Ravi", False),
    ]

    # multiple_profile: "Select Profile" lists the profiles; the typed number switches.
    phone.say("multiple")
    listing = phone.say("Select Profile")
    assert len(listing) == 1 and " 1. Meena \n 2. Ravi \n" in listing[0], listing
    assert phone.say("1")[0].startswith("Profile has been switched.")
    assert _contact(tenant, contact_id)["activeProfile"]["name"] == "Meena"
    phone.say("multiple")
    phone.say("Select Profile")
    # (then the flow shows its menu again)
    assert phone.say("2")[0] == "Profile has been switched.\nCurrent profile is of Ravi"
    # A number that names no profile takes the Failure path and switches nothing.
    phone.say("multiple")
    phone.say("Select Profile")
    assert phone.say("7")[0].startswith("Sorry, there was some issue in choosing profile.")
    assert _contact(tenant, contact_id)["activeProfile"]["name"] == "Ravi"

    # deactivate_profile: Ravi (2) leaves the menu; the contact falls back to Meena.
    listing = phone.say("deactivate")
    assert " 2. Ravi \n" in listing[0]
    assert phone.say("2") == ["Profile deactivated "]
    assert _contact(tenant, contact_id)["activeProfile"]["name"] == "Meena"
    assert [p["isActive"] for p in _profiles(tenant, contact_id)] == [True, False]


def test_registration_saves_fields_labels_and_results(tenant: Tenant, glific_flows: Any) -> None:
    phone = Phone(tenant, "9876543210_2")
    assert phone.say("registration")[0].startswith("You can ask for user's name.")
    assert phone.say("Vikas Singh")[0].startswith("You can ask for details such as age.")
    # An answer outside the options is asked again.
    assert phone.say("9")[0].startswith("Sorry, we didn't understand that.")
    assert phone.say("2") == ["Thank you for introducing yourself to us Vikas Singh  😊 "]
    contact = _contact(tenant, phone.contact_id())
    assert contact["fields"]["name"]["value"] == "Vikas Singh"
    assert contact["fields"]["age_group"]["value"] == "11 to 14"

    async def labels(session: AsyncSession) -> list[str | None]:
        rows = await session.scalars(
            select(col(Message.flow_label)).where(
                col(Message.organization_id) == tenant.org_id,
                col(Message.flow) == "inbound",
                col(Message.body) == "2",
            )
        )
        return list(rows.all())

    assert tenant.server.in_transaction(labels) == ["Age Group 11 to 14"]


def test_language_flow_switches_language_and_speaks_it(tenant: Tenant, glific_flows: Any) -> None:
    phone = Phone(tenant, "9876543210_3")
    first = phone.say("language")
    assert first[0].startswith("Your language is currently set at English")
    reply = phone.say("1")
    assert _contact(tenant, phone.contact_id())["language"]["label"] == "Hindi"
    # The confirmation is sent after the switch, so in Hindi (the flow's `hi` translation).
    assert reply == ["अब आपकी भाषा Hindi पर सेट है"]


def test_help_answers_and_loops_on_other(tenant: Tenant, glific_flows: Any) -> None:
    phone = Phone(tenant, "9876543210_4")
    replies = phone.say("help")
    assert replies and replies[0]
    # "Help!" is the same keyword once cleaned of punctuation, and restarts the flow.
    assert phone.say("Help!") == replies


def _receive(tenant: Tenant, phone: str, text: str) -> list[str]:
    message = inbound.InboundMessage(
        phone=phone,
        input=Input(text=text),
        provider_message_id=str(uuid.uuid4()),
        sender_name="Sita",
        provider="test",
    )

    async def go() -> Any:
        return await inbound.receive(tenant.server.db, tenant.org_id, message)

    received = tenant.server.run(go)
    return [r.body for r in received.replies]


def test_optout_then_optin_through_the_flows(tenant: Tenant, glific_flows: Any) -> None:
    # Simulator contacts cannot opt out (Glific), so this is a real number, through the same
    # `receive` the webhooks call.
    number = unique_phone()
    assert _receive(tenant, number, "stop")[0].startswith("We are sorry to see you go.")
    assert _receive(tenant, number, "1") == ["You have been opted out from the system."]

    async def state(session: AsyncSession) -> tuple[Any, bool]:
        contact = await session.scalar(
            select(Contact).where(
                col(Contact.phone) == number, col(Contact.organization_id) == tenant.org_id
            )
        )
        assert contact is not None
        return contact.optout_time, contact.optin_status

    optout_time, _ = tenant.server.in_transaction(state)
    assert optout_time is not None
    # An opted-out contact who writes anything lands in the opt-in flow; 👍 opts in.
    replies = _receive(tenant, number, "hello again")
    assert replies, "an opted-out contact is sent to the opt-in flow"
    _receive(tenant, number, "👍")
    optout_time, optin = tenant.server.in_transaction(state)
    assert optout_time is None and optin is True


def test_new_contact_flow_runs_its_sub_flows_in_turn(tenant: Tenant, glific_flows: Any) -> None:
    phone = Phone(tenant, "9876543210_5")
    optin_question = phone.say("newcontact")
    assert optin_question and "permission" in optin_question[0]
    # Opt-in completes; the parent resumes and enters the language flow.
    after_optin = phone.say("👍")
    assert any(r.startswith("Your language is currently set at") for r in after_optin)
    # Language completes; the parent enters registration.
    after_language = phone.say("2")
    assert any(r.startswith("You can ask for user's name.") for r in after_language)
    phone.say("Kavya")
    # Registration completes; the parent goes on to its last message and ends.
    assert phone.say("1") == [
        "Thank you for introducing yourself to us Kavya  😊 ",
        "Continue building the flow however you'd like.",
    ]
