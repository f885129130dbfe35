"""Acceptance scenarios of Glific's flow engine (spec §7) that no other test covered; each
test names its scenario number. docs/acceptance.md maps every scenario to its test."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Contact, Flow, FlowContext, FlowResult, Message
from resolvers import inbound
from resolvers.flow_engine import FlowInvalid, Input, Problem, parse_flow, validate
from resolvers.flow_engine.events import (
    ContactLanguageChanged,
    EngineError,
    MsgCreated,
    RunEnded,
    WaitStarted,
)
from tests.utils.chat import Phone, import_and_publish
from tests.utils.flow_builder import FlowBuilder
from tests.utils.flow_engine import (
    HINDI,
    T0,
    Chat,
    FlowTable,
    action,
    flow,
    make_contact,
    node,
    outcome_node,
    router_node,
    send,
    texts,
    uid,
)
from tests.utils.tenants import Tenant, unique_phone


def critical(problems: list[Problem]) -> list[str]:
    return [p.message for p in problems if p.category == "Critical"]


def exists(_: str) -> bool:
    return True


# --- parsing actions (1-13) -------------------------------------------------------------------


def test_01_an_action_without_a_type_is_refused() -> None:
    raw = {"uuid": uid("a"), "flow": {"uuid": uid("f"), "name": "Child"}}
    data = flow("No type", [node(uid("n"), [raw])])
    assert any("type" in m for m in critical(validate(data, flow_exists=exists)))
    with pytest.raises(FlowInvalid):
        parse_flow(data)


def test_01_enter_flow_keeps_the_child_uuid() -> None:
    child = uid("f")
    a = uid("n")
    parsed = parse_flow(flow("Parent", [node(a, [action("enter_flow", flow={"uuid": child})])]))
    node_ = parsed.node(a)
    assert node_ is not None
    assert node_.actions[0].get("flow")["uuid"] == child


@pytest.mark.parametrize(
    ("kind", "fields"),
    [
        ("set_contact_field", {"field": {"key": "k", "name": "K"}}),  # 4: no value
        ("set_contact_profile", {"profile_type": "Switch Profile"}),  # 9: no value
    ],
)
def test_04_09_an_action_without_its_value_is_refused(kind: str, fields: dict[str, Any]) -> None:
    data = flow("No value", [node(uid("n"), [action(kind, **fields)])])
    assert any("value" in m for m in critical(validate(data, flow_exists=exists)))
    with pytest.raises(FlowInvalid):
        parse_flow(data)


def test_09_profile_values_are_kept_as_written() -> None:
    a, b = uid("n"), uid("n")
    create = action(
        "set_contact_profile",
        profile_type="Create Profile",
        value={"name": "John", "type": "student"},
    )
    switch = action("set_contact_profile", profile_type="Switch Profile", value="1")
    parsed = parse_flow(
        flow(
            "Profiles",
            [
                outcome_node(a, create, b, None, ("Success", "Failure")),
                outcome_node(b, switch, None, None, ("Success", "Failure")),
            ],
        )
    )
    first, second = parsed.node(a), parsed.node(b)
    assert first is not None and second is not None
    assert first.actions[0].get("value") == {"name": "John", "type": "student"}
    assert second.actions[0].get("value") == "1"


def test_12_wait_for_time_waits_the_delay_it_names() -> None:
    a, b = uid("n"), uid("n")
    flows = FlowTable()
    f = flows.add(
        flow("Wait", [node(a, [action("wait_for_time", delay="23")], to=b), node(b, [send("on")])])
    )
    chat = Chat(flows)
    (wait,) = chat.start(f.uuid).of_type(WaitStarted)
    assert wait.kind == "time" and wait.timeout_at == T0 + timedelta(seconds=23)


# --- executing actions (14-33) ----------------------------------------------------------------


def test_15_send_msg_with_a_broken_template_expression_sends_its_text() -> None:
    a = uid("n")
    message = send("Your code is @contact.name", templating={"expression": "<%= 1 + %>"})
    flows = FlowTable()
    f = flows.add(flow("Template", [node(a, [message])]))
    sprint = Chat(flows).start(f.uuid)
    assert texts(sprint) == ["Your code is Asha"]
    assert sprint.of_type(MsgCreated)[0].type == "text"


def test_23_two_creates_then_switch_1_leave_the_default_profile_active() -> None:
    c1, c2, sw = uid("n"), uid("n"), uid("n")

    def create(name: str, kind: str) -> dict[str, Any]:
        return action(
            "set_contact_profile",
            profile_type="Create Profile",
            value={"name": name, "type": kind},
        )

    switch = action("set_contact_profile", profile_type="Switch Profile", value="1")
    flows = FlowTable()
    f = flows.add(
        flow(
            "Two creates",
            [
                outcome_node(c1, create("John", "student"), c2, None, ("Success", "Failure")),
                outcome_node(c2, create("Mary", "teacher"), sw, None, ("Success", "Failure")),
                outcome_node(sw, switch, None, None, ("Success", "Failure")),
            ],
        )
    )
    chat = Chat(flows, contact=make_contact(fields={"city": {"value": "Pune"}}))
    chat.start(f.uuid)
    contact = chat.contact
    active = contact.active()
    assert active is not None and active.is_default and active.name == "Asha"
    assert [(p.name, p.type) for p in contact.profiles if not p.is_default] == [
        ("John", "student"),
        ("Mary", "teacher"),
    ]


def test_29_a_message_while_a_webhook_is_pending_is_ignored() -> None:
    a, ok, bad = uid("n"), uid("n"), uid("n")
    hook = action(
        "call_webhook", url="https://x.org/hook", method="GET", headers={}, result_name="api"
    )
    flows = FlowTable()
    f = flows.add(
        flow(
            "Hook",
            [
                outcome_node(a, hook, ok, bad, ("Success", "Failure")),
                node(ok, [send("ok")]),
                node(bad, [send("bad")]),
            ],
        )
    )
    chat = Chat(flows)
    chat.start(f.uuid)
    assert chat.say("Success").events == ()
    assert chat.session.runs[0].status == "waiting"
    assert texts(chat.resume(signal="webhook_success", response={"a": 1})) == ["ok"]


def test_31_an_unsupported_action_is_skipped_with_an_error() -> None:
    a, b = uid("n"), uid("n")
    flows = FlowTable()
    f = flows.add(
        flow(
            "Ticket",
            [node(a, [action("open_ticket", body="help")], to=b), node(b, [send("after")])],
        )
    )
    sprint = Chat(flows).start(f.uuid)
    assert any("open_ticket" in e.message for e in sprint.of_type(EngineError))
    assert texts(sprint) == ["after"]


def test_31_an_unsupported_action_on_an_outcome_node_takes_failure() -> None:
    a, ok, bad = uid("n"), uid("n"), uid("n")
    sheet = action("link_google_sheet", sheet_id="s", result_name="sheet")
    flows = FlowTable()
    f = flows.add(
        flow(
            "Sheet",
            [
                # Failure is a case and Success the default: a skipped action that gave no
                # outcome would fall through to Success.
                outcome_node(a, sheet, bad, ok, ("Failure", "Success")),
                node(ok, [send("ok")]),
                node(bad, [send("bad")]),
            ],
        )
    )
    assert texts(Chat(flows).start(f.uuid)) == ["bad"]


BAD_CODE = '<%= System.cmd("ls", []) %>'


def test_33_disallowed_code_in_enter_flow_and_interactive_expressions_is_critical() -> None:
    a, b = uid("n"), uid("n")
    enter = action("enter_flow", flow={"uuid": uid("f"), "name": "Expression", "expression": ""})
    interactive = action("send_interactive_msg", name="Menu", id=1, expression="")
    data = flow(
        "Expressions",
        [
            outcome_node(a, enter, b, b, ("Complete", "Expired")),
            router_node(b, [], default=("All Responses", None), actions=[interactive]),
        ],
    )
    assert not critical(validate(data, flow_exists=exists))
    enter["flow"]["expression"] = BAD_CODE
    assert len(critical(validate(data, flow_exists=exists))) == 1
    interactive["expression"] = BAD_CODE
    assert len(critical(validate(data, flow_exists=exists))) == 2


def test_33_a_profile_map_value_and_plain_values_pass() -> None:
    a, b = uid("n"), uid("n")
    create = action(
        "set_contact_profile",
        profile_type="Create Profile",
        value={"name": BAD_CODE, "type": "x"},
    )
    data = flow(
        "Map",
        [
            outcome_node(a, create, b, None, ("Success", "Failure")),
            node(b, [action("set_run_result", name="r", value="plain <%= 5 * 60 %>", category="")]),
        ],
    )
    assert not critical(validate(data, flow_exists=exists))


# --- router, node, exit (60-68) ---------------------------------------------------------------


def test_60_61_cases_in_order_then_the_default_and_a_null_exit_ends_the_run() -> None:
    a, n23 = uid("n"), uid("n")
    data = flow(
        "Numbers",
        [
            router_node(
                a,
                [
                    ("Word", None, "has_any_word", ["alpha beta"]),
                    ("Range", None, "has_number_between", ["1", "100"]),
                    ("TwentyThree", n23, "has_number_eq", ["23"]),
                ],
                default=("Other", None),
                result_name="pick",
            ),
            node(n23, [send("never: Range comes first")]),
        ],
    )
    flows = FlowTable()
    f = flows.add(data)
    for said, category in (("alpha", "Word"), ("23", "Range"), ("123", "Other")):
        chat = Chat(flows)
        chat.start(f.uuid)
        sprint = chat.say(said)
        assert chat.session.runs[0].results["pick"]["category"] == category
        assert texts(sprint) == []
        assert [e.status for e in sprint.of_type(RunEnded)] == ["completed"]
        assert chat.session.active_run() is None


def test_60_has_number_eq_23() -> None:
    a, yes = uid("n"), uid("n")
    data = flow(
        "Eq",
        [
            router_node(a, [("23", yes, "has_number_eq", ["23"])], default=("Other", None)),
            node(yes, [send("twenty-three")]),
        ],
    )
    flows = FlowTable()
    f = flows.add(data)
    chat = Chat(flows)
    chat.start(f.uuid)
    assert texts(chat.say("23")) == ["twenty-three"]
    chat = Chat(flows)
    chat.start(f.uuid)
    assert texts(chat.say("123")) == []


def test_62_split_by_expression_with_code() -> None:
    a, odd, even = uid("n"), uid("n"), uid("n")

    def splitter(operand: str) -> dict[str, Any]:
        return flow(
            "Split",
            [
                router_node(
                    a,
                    [("Odd", odd, "has_number_eq", ["1"])],
                    default=("Other", even),
                    wait=False,
                    operand=operand,
                ),
                node(odd, [send("odd")]),
                node(even, [send("other")]),
            ],
        )

    flows = FlowTable()
    assert texts(Chat(flows).start(flows.add(splitter("<%= rem(5, 2) %>")).uuid)) == ["odd"]
    broken = Chat(flows).start(flows.add(splitter("<%= rem(5, %>")).uuid)
    assert texts(broken) == ["other"]
    assert [e.status for e in broken.of_type(RunEnded)] == ["completed"]
    messages = critical(validate(splitter(BAD_CODE), flow_exists=exists))
    assert any("unsupported expression" in m for m in messages)


def test_65_set_language_then_send_speaks_the_new_language_and_ends() -> None:
    a = uid("n")
    hello = send("Hello")
    data = flow(
        "Language",
        [node(a, [action("set_contact_language", language="Hindi"), hello])],
        localization={"hi": {hello["uuid"]: {"text": ["नमस्ते"]}}},
    )
    flows = FlowTable()
    f = flows.add(data)
    chat = Chat(flows)
    sprint = chat.start(f.uuid)
    assert [e.language_id for e in sprint.of_type(ContactLanguageChanged)] == [HINDI.id]
    assert chat.contact.language_id == HINDI.id
    assert texts(sprint) == ["नमस्ते"]
    assert [e.status for e in sprint.of_type(RunEnded)] == ["completed"]


# --- flow context (69-76) ---------------------------------------------------------------------


def test_75_media_only_sends_are_counted_by_their_url() -> None:
    a, b = uid("n"), uid("n")
    picture = send("", attachments=["image:https://x.org/cat.jpg"])
    data = flow(
        "Pictures", [node(a, [picture], to=b), router_node(b, [], default=("All Responses", a))]
    )
    flows = FlowTable()
    f = flows.add(data)
    chat = Chat(flows)
    assert len(chat.start(f.uuid).of_type(MsgCreated)) == 1
    for _ in range(3):
        assert len(chat.say("again").of_type(MsgCreated)) == 1
    sprint = chat.say("again")
    assert not sprint.of_type(MsgCreated)
    assert any("Infinite loop" in e.message for e in sprint.of_type(EngineError))
    assert [e.status for e in sprint.of_type(RunEnded)] == ["failed"]


def test_75_another_node_with_the_same_body_is_not_counted() -> None:
    a, b, c, d = uid("n"), uid("n"), uid("n"), uid("n")
    data = flow(
        "Two senders",
        [
            node(a, [send("Answer me")], to=b),
            router_node(b, [], default=("All Responses", c)),
            node(c, [send("Answer me")], to=d),
            router_node(d, [], default=("All Responses", a)),
        ],
    )
    flows = FlowTable()
    f = flows.add(data)
    chat = Chat(flows)
    chat.start(f.uuid)
    # Each node sends four times in eight turns; neither reaches the limit alone.
    for _ in range(6):
        assert texts(chat.say("meh")) == ["Answer me"]
    assert chat.session.active_run() is not None


# --- inbound routing and storage, end to end (69, 81, 84) --------------------------------------


def _quiz() -> dict[str, Any]:
    f = FlowBuilder("Quiz")
    f.send("ask", "Favourite number?", "listen")
    f.wait("listen", [], other="set", result_name="number", other_name="All Responses")
    f.actions(
        "set",
        [{"type": "set_run_result", "name": "score", "value": "7", "category": "Scored"}],
        None,
    )
    return f.build()


def _rows(tenant: Tenant, contact_id: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    async def read(session: AsyncSession) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        contexts = await session.scalars(
            select(col(FlowContext.results)).where(col(FlowContext.contact_id) == contact_id)
        )
        results = await session.scalars(
            select(col(FlowResult.results)).where(col(FlowResult.contact_id) == contact_id)
        )
        return list(contexts), list(results)

    return tenant.server.in_transaction(read)


def test_69_flow_results_mirror_the_runs_results(tenant: Tenant) -> None:
    import_and_publish(tenant, (_quiz(), ["quiz"]))
    phone = Phone(tenant, "9876543210_4")
    assert phone.say("quiz") == ["Favourite number?"]
    phone.say("42")
    (context,), (row,) = _rows(tenant, phone.contact_id())
    assert context == row
    assert row["number"]["input"] == "42" and row["number"]["category"] == "All Responses"
    assert row["score"]["value"] == "7" and row["score"]["category"] == "Scored"
    assert row["flow_keyword"]["input"] == "quiz"


def test_81_draft_prefix_starts_the_newest_draft(tenant: Tenant) -> None:
    published = _quiz()
    import_and_publish(tenant, (published, ["quiz"]))
    draft = json.loads(json.dumps(published))
    ask = next(n for n in draft["nodes"] if n["actions"] and n["actions"][0]["type"] == "send_msg")
    ask["actions"][0]["text"] = "Draft: favourite colour?"

    async def save(session: AsyncSession) -> None:
        from resolvers import flows

        found = await session.scalar(
            select(Flow).where(
                col(Flow.uuid) == published["uuid"], col(Flow.organization_id) == tenant.org_id
            )
        )
        assert found is not None
        await flows.save_revision(session, tenant.org_id, found, draft)

    tenant.server.in_transaction(save)
    phone = Phone(tenant, "9876543210_3")
    assert phone.say("quiz") == ["Favourite number?"]
    assert phone.say("draft:quiz") == ["Draft: favourite colour?"]
    assert phone.say("draftquiz") == ["Draft: favourite colour?"]
    assert phone.say("quiz") == ["Favourite number?"]


def test_81_template_prefix_starts_the_template_flow_of_that_name(tenant: Tenant) -> None:
    numbers = FlowBuilder("Numbers")
    numbers.send("ask", "Favourite number?", "listen")
    numbers.wait("listen", [], other="noted", result_name="number", other_name="All Responses")
    numbers.send("noted", "Noted", None)
    kit = FlowBuilder("Welcome kit")
    kit.send("hi", "Here is your welcome kit", None)
    import_and_publish(tenant, (numbers.build(), ["numbers"]), (kit.build(), []))
    kit_id = next(
        f["id"] for f in tenant.data("{ flows { id name } }")["flows"] if f["name"] == "Welcome kit"
    )
    phone = Phone(tenant, "9876543210_4")
    assert phone.say("numbers") == ["Favourite number?"]
    # Not a template flow: the text is an answer to the flow in progress.
    assert phone.say("template:Welcome kit") == ["Noted"]
    tenant.data(
        "mutation($id: ID!) { updateFlow(id: $id, input: {isTemplate: true}) { errors { key } } }",
        {"id": kit_id},
    )
    assert phone.say("numbers") == ["Favourite number?"]
    assert phone.say("template:welcome KIT") == ["Here is your welcome kit"]
    assert phone.say("7") == []  # the flow in progress ended when the template flow started


def _optout_flow() -> dict[str, Any]:
    f = FlowBuilder("Leave")
    f.actions(
        "out",
        [
            {
                "type": "set_contact_field",
                "field": {"key": "settings", "name": "Settings"},
                "value": "optout",
            },
            {"type": "send_msg", "text": "Bye", "attachments": [], "quick_replies": []},
        ],
        None,
    )
    return f.build()


def _optin_flow() -> dict[str, Any]:
    f = FlowBuilder("Come back")
    f.send("ask", "Welcome back?", None)
    return f.build()


def _receive(tenant: Tenant, number: str, text: str) -> list[str]:
    message = inbound.InboundMessage(
        phone=number,
        input=Input(text=text),
        provider_message_id=str(uuid.uuid4()),
        sender_name="Sita",
        provider="test",
    )

    async def go() -> Any:
        return await inbound.receive(tenant.server.db, tenant.org_id, message)

    return [r.body for r in tenant.server.run(go).replies]


def test_84_an_opted_out_contact_and_an_inactive_optin_flow(tenant: Tenant) -> None:
    optin = _optin_flow()
    import_and_publish(tenant, (_optout_flow(), ["leave"]), (optin, ["optin"]))
    number = unique_phone()
    assert _receive(tenant, number, "leave") == ["Bye"]
    # While the opt-in flow is active, anything the opted-out contact says starts it.
    assert _receive(tenant, number, "hello") == ["Welcome back?"]

    async def flow_id(session: AsyncSession) -> int:
        found = await session.scalar(
            select(col(Flow.id)).where(
                col(Flow.uuid) == optin["uuid"], col(Flow.organization_id) == tenant.org_id
            )
        )
        assert found is not None
        return int(found)

    changed = tenant.data(
        "mutation($id: ID!, $input: FlowInput) {"
        " updateFlow(id: $id, input: $input) { errors { message } } }",
        {"id": str(tenant.server.in_transaction(flow_id)), "input": {"isActive": False}},
    )["updateFlow"]
    assert not changed["errors"]

    async def state(session: AsyncSession) -> tuple[int, int]:
        contact = await session.scalar(
            select(Contact).where(
                col(Contact.phone) == number, col(Contact.organization_id) == tenant.org_id
            )
        )
        assert contact is not None and contact.optout_time is not None
        runs = await session.scalars(
            select(col(FlowContext.id)).where(col(FlowContext.contact_id) == contact.id)
        )
        messages = await session.scalars(
            select(col(Message.body)).where(
                col(Message.contact_id) == contact.id, col(Message.body) == "still here"
            )
        )
        return len(list(runs)), len(list(messages))

    before, _ = tenant.server.in_transaction(state)
    assert _receive(tenant, number, "still here") == []
    after, stored = tenant.server.in_transaction(state)
    assert after == before and stored == 1
