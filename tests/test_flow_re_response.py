"""Glific's interactive re-response (flows spec §3.3, acceptance 85 and 86): with the
organization's flag on, a reply whose id is an older interactive message's node answers
that message; with it off, or with an id that is no node, the waiting node takes the reply."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from resolvers import organization_view
from resolvers.flow_engine import Input
from tests.utils.chat import Phone, import_and_publish
from tests.utils.flow_engine import ORG, Chat, FlowTable, action, flow, node, router_node, send, uid
from tests.utils.flow_engine import texts as said
from tests.utils.tenants import Tenant

QUICK_REPLY = {
    "type": "quick_reply",
    "content": {"type": "text", "text": "Which colour?"},
    "options": [{"type": "text", "title": "Red"}, {"type": "text", "title": "Blue"}],
}


def colour_then_size() -> tuple[dict[str, Any], str]:
    """Asks a colour with buttons, then a size; says both at the end. Returns the flow and
    the node uuid of the colour buttons (the id a tap on them carries)."""
    ask_colour, colour, ask_size, size, done = (uid("n") for _ in range(5))
    data = flow(
        "Colour and size",
        [
            node(
                ask_colour,
                [action("send_interactive_msg", name="Colours", text=json.dumps(QUICK_REPLY))],
                to=colour,
            ),
            router_node(
                colour,
                [
                    ("Red", ask_size, "has_only_text", ["red"]),
                    ("Blue", ask_size, "has_only_text", ["blue"]),
                ],
                result_name="colour",
            ),
            node(ask_size, [send("Which size?")], to=size),
            router_node(size, [("Big", done, "has_only_text", ["big"])], result_name="size"),
            node(done, [send("@results.colour and @results.size")]),
        ],
    )
    return data, ask_colour


def tap(title: str, node_uuid: str) -> Input:
    return Input(text=title, type="quick_reply", id=node_uuid, interactive={"id": node_uuid})


def chat_about(data: dict[str, Any], *, flag: bool) -> Chat:
    flows = FlowTable()
    f = flows.add(data)
    chat = Chat(flows, org=replace(ORG, interactive_re_response=flag))
    chat.start(f.uuid)
    return chat


def test_86_an_older_button_answers_its_own_question_when_the_flag_is_on() -> None:
    data, buttons = colour_then_size()
    chat = chat_about(data, flag=True)
    assert said(chat.resume(input=tap("Red", buttons))) == ["Which size?"]
    # Waiting for the size, the person taps "Blue" on the colour message again: it answers
    # the colour, and the flow asks the size again (back at the same wait).
    assert said(chat.resume(input=tap("Blue", buttons))) == ["Which size?"]
    assert said(chat.say("big")) == ["Blue and big"]


def test_86_with_the_flag_off_the_old_button_is_an_answer_to_the_waiting_node() -> None:
    data, buttons = colour_then_size()
    chat = chat_about(data, flag=False)
    chat.resume(input=tap("Red", buttons))
    sprint = chat.resume(input=tap("Blue", buttons))
    assert said(sprint) == []  # "Blue" is no size: Other, which ends the flow
    assert chat.session.runs[0].status == "completed"
    assert chat.session.runs[0].results["colour"]["value"] == "Red"


def test_85_an_id_that_is_no_node_leaves_the_run_where_it_is() -> None:
    data, buttons = colour_then_size()
    chat = chat_about(data, flag=True)
    chat.resume(input=tap("Red", buttons))
    assert said(chat.resume(input=tap("big", "not-a-node"))) == ["Red and big"]


def test_a_phone_answers_an_older_button_once_the_flag_is_on(tenant: Tenant) -> None:
    """End to end through the simulator: the operator's flag (`python -m app org-flag`)
    turns it on for one organization."""
    data, buttons = colour_then_size()
    import_and_publish(tenant, (data, ["colours"]))

    async def switch_on(session: AsyncSession) -> None:
        await organization_view.set_operator_flag(
            session, tenant.shortcode, "interactive-re-response", True
        )

    tenant.server.in_transaction(switch_on)
    phone = Phone(tenant)

    def tap_on_phone(title: str) -> list[str]:
        sent = phone.send("", type="button_reply", title=title, id=buttons, reply=f"{title} 1")
        assert sent.status_code == 200, sent.text
        return [m.body or "" for m in phone.new_replies()]

    assert phone.say("colours") == ["Which colour?"]
    assert tap_on_phone("Red") == ["Which size?"]
    assert tap_on_phone("Blue") == ["Which size?"]
    assert phone.say("big") == ["Blue and big"]
