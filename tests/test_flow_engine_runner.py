"""Driving start/resume/interrupt over small flows written here: waits, timeouts, internal
outcomes, sub-flows, webhooks, timers, translations, contact actions and the loop limits."""

from __future__ import annotations

import json
from typing import Any

from resolvers.flow_engine import Input, Limits, Session, interrupt
from resolvers.flow_engine.events import (
    BroadcastRequested,
    ContactFieldChanged,
    ContactGroupsAdded,
    ContactGroupsRemoved,
    ContactLanguageChanged,
    ContactNameChanged,
    ContactOptedIn,
    ContactOptedOut,
    ContactPreferencesChanged,
    EngineError,
    GroupRef,
    InputLabelsAdded,
    MsgCreated,
    ResultSaved,
    RunEnded,
    RunStarted,
    SessionStartRequested,
    WaitStarted,
    WebhookRequested,
)
from resolvers.flow_engine.state import GroupView
from tests.utils.flow_engine import (
    HINDI,
    T0,
    Chat,
    FlowTable,
    action,
    flow,
    make_contact,
    make_env,
    node,
    outcome_node,
    router_node,
    send,
    texts,
    uid,
)


def registration() -> dict[str, Any]:
    ask, name_wait, save, ask_age, age_wait, bye = (uid("n") for _ in range(6))
    return flow(
        "Registration",
        [
            node(ask, [send("What is your name?")], to=name_wait),
            router_node(name_wait, [], default=("All Responses", save), result_name="name"),
            node(
                save,
                [
                    action(
                        "set_contact_field",
                        field={"key": "name", "name": "Name"},
                        value="@results.name",
                    )
                ],
                to=ask_age,
            ),
            node(
                ask_age, [send("How old are you, @contact.fields.name? Type 1 or 2")], to=age_wait
            ),
            router_node(
                age_wait,
                [("Young", bye, "has_number_eq", ["1"]), ("Old", bye, "has_number_eq", ["2"])],
                default=("Other", ask_age),
                result_name="age_group",
            ),
            node(
                bye,
                [
                    action("add_input_labels", labels=[{"uuid": "l1", "name": "Age given"}]),
                    send("Thanks @results.name, you are in @results.age_group.category"),
                ],
            ),
        ],
    )


def test_registration_flow_waits_stores_results_and_completes() -> None:
    flows = FlowTable()
    reg = flows.add(registration())
    chat = Chat(flows)
    first = chat.start(reg.uuid, keyword="registration")
    assert texts(first) == ["What is your name?"]
    waits = first.of_type(WaitStarted)
    assert [w.kind for w in waits] == ["msg"] and waits[0].timeout_at is None
    run = chat.session.runs[0]
    assert run.status == "waiting" and run.results["flow_keyword"]["input"] == "registration"

    second = chat.say("Ravi")
    assert second.of_type(ContactFieldChanged)[0].value == "Ravi"
    assert chat.contact.fields["name"]["value"] == "Ravi"
    assert chat.contact.fields["name"]["label"] == "Name"
    assert texts(second) == ["How old are you, Ravi? Type 1 or 2"]
    saved = second.of_type(ResultSaved)[0]
    assert saved.name == "name" and saved.result["input"] == "Ravi"
    assert saved.result["category"] == "All Responses"

    other = chat.say("seven")
    assert texts(other) == ["How old are you, Ravi? Type 1 or 2"]
    assert chat.session.runs[0].results["age_group"]["category"] == "Other"

    last = chat.say("2", message_id=55)
    assert texts(last) == ["Thanks Ravi, you are in Old"]
    assert last.of_type(InputLabelsAdded)[0].message_id == 55
    assert last.of_type(InputLabelsAdded)[0].labels == ("Age given",)
    assert [(e.status) for e in last.of_type(RunEnded)] == ["completed"]
    assert chat.session.runs[0].status == "completed"
    assert chat.session.active_run() is None


def test_nothing_happens_without_a_waiting_run() -> None:
    chat = Chat(FlowTable())
    assert chat.say("hello").events == ()


def test_an_unknown_flow_is_an_engine_error() -> None:
    chat = Chat(FlowTable())
    sprint = chat.start("no-such-flow")
    assert sprint.of_type(EngineError) and chat.session.runs == []


def timed() -> dict[str, Any]:
    ask, wait, late, yes = (uid("n") for _ in range(4))
    return flow(
        "Timed",
        [
            node(ask, [send("Reply yes")], to=wait),
            router_node(
                wait,
                [("Yes", yes, "has_any_word", ["yes"])],
                default=("Other", None),
                timeout=300,
                no_response_to=late,
                result_name="answer",
            ),
            node(late, [send("Too late")]),
            node(yes, [send("Great")]),
        ],
    )


def test_wait_with_timeout_arms_the_timer_and_timeout_picks_no_response() -> None:
    flows = FlowTable()
    f = flows.add(timed())
    env, clock = make_env()
    chat = Chat(flows, env=env)
    started = chat.start(f.uuid)
    wait = started.of_type(WaitStarted)[0]
    assert wait.timeout_at == clock.now.replace(minute=5)
    assert chat.session.runs[0].wait is not None
    assert chat.session.runs[0].wait.timeout_at == wait.timeout_at
    clock.advance(300)
    sprint = chat.timeout()
    assert texts(sprint) == ["Too late"]
    assert chat.session.runs[0].results["answer"]["category"] == "No Response"
    assert chat.session.runs[0].status == "completed"


def test_typing_no_response_or_success_is_just_text() -> None:
    flows = FlowTable()
    f = flows.add(timed())
    chat = Chat(flows)
    chat.start(f.uuid)
    sprint = chat.say("No Response")
    assert texts(sprint) == []  # the Other category: its exit ends the flow
    assert chat.session.runs[0].results["answer"]["category"] == "Other"

    ask, wait, ok, bad = (uid("n") for _ in range(4))
    outcome_names = flow(
        "Success as text",
        [
            node(ask, [send("Say something")], to=wait),
            router_node(
                wait,
                [("Success", ok, "has_only_text", ["magic"])],
                default=("Failure", bad),
            ),
            node(ok, [send("matched by case")]),
            node(bad, [send("plain text")]),
        ],
    )
    g = flows.add(outcome_names)
    chat.start(g.uuid)
    assert texts(chat.say("Success")) == ["plain text"]


def test_timeout_without_a_no_response_category_ends_the_run() -> None:
    ask, wait = uid("n"), uid("n")
    data = flow(
        "No timeout branch",
        [
            node(ask, [send("?")], to=wait),
            router_node(wait, [("Yes", None, "has_any_word", ["y"])]),
        ],
    )
    flows = FlowTable()
    f = flows.add(data)
    chat = Chat(flows)
    chat.start(f.uuid)
    sprint = chat.timeout()
    assert [e.status for e in sprint.of_type(RunEnded)] == ["expired"]
    assert chat.session.active_run() is None


def loop_without_wait() -> dict[str, Any]:
    a, b = uid("n"), uid("n")
    count = action("set_run_result", name="n", value="x", category="y")
    other = action("set_contact_field", field={"key": "k", "name": "K"}, value="v")
    return flow("Runaway", [node(a, [count], to=b), node(b, [other], to=a)])


def test_a_runaway_loop_stops_at_the_node_visit_limit_with_every_run_failed() -> None:
    flows = FlowTable()
    f = flows.add(loop_without_wait())
    chat = Chat(flows)
    sprint = chat.start(f.uuid)
    limit = chat.env.limits.max_node_visits_per_sprint
    assert len(sprint.of_type(ResultSaved)) == limit
    assert any("Infinite loop" in e.message for e in sprint.of_type(EngineError))
    assert [e.status for e in sprint.of_type(RunEnded)] == ["failed"]
    run = chat.session.runs[0]
    assert run.status == "failed" and run.wait is None
    assert chat.session.active_run() is None


def test_the_step_limit_stops_a_long_chain() -> None:
    uuids = [uid("n") for _ in range(8)]
    nodes = [
        node(u, [send(f"n{i}")], to=uuids[i + 1] if i + 1 < len(uuids) else None)
        for i, u in enumerate(uuids)
    ]
    flows = FlowTable()
    f = flows.add(flow("Long", nodes))
    env, _ = make_env(limits=Limits(max_steps_per_sprint=5))
    chat = Chat(flows, env=env)
    sprint = chat.start(f.uuid)
    assert len(texts(sprint)) == 5
    assert [e.status for e in sprint.of_type(RunEnded)] == ["failed"]


def test_a_sending_loop_is_stopped_by_the_repeated_send_guard() -> None:
    a, b = uid("n"), uid("n")
    flows = FlowTable()
    f = flows.add(flow("Chatty", [node(a, [send("tick")], to=b), node(b, [send("tock")], to=a)]))
    chat = Chat(flows)
    sprint = chat.start(f.uuid)
    assert texts(sprint).count("tick") == chat.env.limits.repeated_send_limit
    assert [e.status for e in sprint.of_type(RunEnded)] == ["failed"]
    assert chat.session.active_run() is None


def test_repeated_sends_of_the_same_message_abort_the_flow() -> None:
    a, b = uid("n"), uid("n")
    data = flow(
        "Nag",
        [node(a, [send("Answer me")], to=b), router_node(b, [], default=("All Responses", a))],
    )
    flows = FlowTable()
    f = flows.add(data)
    chat = Chat(flows)
    chat.start(f.uuid)
    for _ in range(3):
        assert texts(chat.say("meh")) == ["Answer me"]
    sprint = chat.say("meh")
    assert texts(sprint) == []
    assert any("Infinite loop" in e.message for e in sprint.of_type(EngineError))
    assert [e.status for e in sprint.of_type(RunEnded)] == ["failed"]


def sub_flow_pair(*, terminal: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
    c_ask, c_wait, c_done = uid("n"), uid("n"), uid("n")
    child = flow(
        "Child",
        [
            node(c_ask, [send("Child asks; parent said @results.parent.color")], to=c_wait),
            router_node(
                c_wait,
                [],
                default=("All Responses", c_done),
                result_name="pet",
            ),
            node(c_done, [action("set_run_result", name="done", value="yes", category="Done")]),
        ],
    )
    p_set, p_enter, p_ok, p_bad = uid("n"), uid("n"), uid("n"), uid("n")
    enter = action("enter_flow", flow={"uuid": child["uuid"], "name": "Child"})
    parent = flow(
        "Parent",
        [
            node(
                p_set,
                [action("set_run_result", name="color", value="blue", category="c")],
                to=p_enter,
            ),
            outcome_node(
                p_enter,
                enter,
                None if terminal else p_ok,
                None if terminal else p_bad,
                ("Complete", "Expired"),
            ),
            node(p_ok, [send("Back in parent; pet @results.child.pet")]),
            node(p_bad, [send("Child expired")]),
        ],
    )
    return parent, child


def test_a_sub_flow_runs_as_a_child_and_resumes_the_parent_with_complete() -> None:
    parent_def, child_def = sub_flow_pair()
    flows = FlowTable()
    parent, child = flows.add(parent_def), flows.add(child_def)
    chat = Chat(flows)
    sprint = chat.start(parent.uuid)
    started = sprint.of_type(RunStarted)
    assert [(s.flow_uuid, s.parent_uuid) for s in started] == [
        (parent.uuid, None),
        (child.uuid, started[0].run_uuid),
    ]
    assert texts(sprint) == ["Child asks; parent said blue"]
    p_run, c_run = chat.session.runs
    assert p_run.status == "active" and c_run.status == "waiting"
    assert c_run.results["parent"]["color"]["value"] == "blue"
    assert chat.session.active_run() is c_run

    done = chat.say("cat")
    assert texts(done) == ["Back in parent; pet cat"]
    assert p_run.results["child"]["pet"]["input"] == "cat"
    assert "parent" not in p_run.results["child"]
    assert [(e.run_uuid, e.status) for e in done.of_type(RunEnded)] == [
        (c_run.uuid, "completed"),
        (p_run.uuid, "completed"),
    ]


def test_an_expired_child_resumes_the_parent_by_expired() -> None:
    parent_def, child_def = sub_flow_pair()
    flows = FlowTable()
    parent = flows.add(parent_def)
    flows.add(child_def)
    chat = Chat(flows)
    chat.start(parent.uuid)
    sprint = chat.timeout()  # the child's wait has no No Response branch
    assert texts(sprint) == ["Child expired"]
    assert [e.status for e in sprint.of_type(RunEnded)] == ["expired", "completed"]


def test_a_terminal_enter_flow_node_hands_the_child_to_the_grandparent() -> None:
    parent_def, child_def = sub_flow_pair(terminal=True)
    flows = FlowTable()
    parent = flows.add(parent_def)
    flows.add(child_def)
    chat = Chat(flows)
    sprint = chat.start(parent.uuid)
    p_run, c_run = chat.session.runs
    assert p_run.status == "completed" and c_run.parent_uuid is None
    assert [e.status for e in sprint.of_type(RunEnded)] == ["completed"]
    chat.say("dog")
    assert c_run.status == "completed"


def test_a_missing_child_flow_takes_the_expired_path() -> None:
    parent_def, _ = sub_flow_pair()
    flows = FlowTable()
    parent = flows.add(parent_def)
    chat = Chat(flows)
    sprint = chat.start(parent.uuid)
    assert any("not found" in e.message for e in sprint.of_type(EngineError))
    assert texts(sprint) == ["Child expired"]


def test_a_flow_entering_itself_is_refused() -> None:
    start_node, enter_node, expired = uid("n"), uid("n"), uid("n")
    me = uid("f")
    data = flow(
        "Recursive",
        [
            node(start_node, [send("hello")], to=enter_node),
            outcome_node(
                enter_node,
                action("enter_flow", flow={"uuid": me, "name": "Me"}),
                None,
                expired,
                ("Complete", "Expired"),
            ),
            node(expired, [send("refused")]),
        ],
        uuid=me,
    )
    flows = FlowTable()
    flows.add(data)
    chat = Chat(flows)
    sprint = chat.start(me)
    assert texts(sprint) == ["hello", "refused"]
    assert any("Repeated loop" in e.message for e in sprint.of_type(EngineError))


def test_sub_flow_depth_is_limited() -> None:
    flows = FlowTable()
    env, _ = make_env(limits=Limits(max_depth=2))
    # A -> B -> C: C is one level too deep.
    c = flows.add(flow("C", [node(uid("n"), [send("in C")])]))
    b_enter, b_exp = uid("n"), uid("n")
    b = flows.add(
        flow(
            "B",
            [
                outcome_node(
                    b_enter,
                    action("enter_flow", flow={"uuid": c.uuid, "name": "C"}),
                    None,
                    b_exp,
                    ("Complete", "Expired"),
                ),
                node(b_exp, [send("too deep")]),
            ],
        )
    )
    a_enter, a_done = uid("n"), uid("n")
    a = flows.add(
        flow(
            "A",
            [
                outcome_node(
                    a_enter,
                    action("enter_flow", flow={"uuid": b.uuid, "name": "B"}),
                    a_done,
                    a_done,
                    ("Complete", "Expired"),
                ),
                node(a_done, [send("A done")]),
            ],
        )
    )
    chat = Chat(flows, env=env)
    sprint = chat.start(a.uuid)
    assert texts(sprint) == ["too deep", "A done"]
    assert any("deeper" in e.message for e in sprint.of_type(EngineError))


def test_starting_a_flow_interrupts_the_one_in_progress_and_interrupt_ends_all() -> None:
    flows = FlowTable()
    first = flows.add(timed())
    second = flows.add(timed())
    chat = Chat(flows)
    chat.start(first.uuid)
    sprint = chat.start(second.uuid)
    ended = sprint.of_type(RunEnded)
    assert [(e.run_uuid, e.status) for e in ended] == [(chat.session.runs[0].uuid, "interrupted")]
    assert chat.session.runs[0].wait is None
    out = interrupt(chat.env, chat.session, "stop")
    assert [e.status for e in out.of_type(RunEnded)] == ["interrupted"]
    assert chat.session.active_run() is None
    assert interrupt(chat.env, Session(), "x").events == ()


def webhook_flow(result_name: str = "api") -> dict[str, Any]:
    call, ok, bad = uid("n"), uid("n"), uid("n")
    hook = action(
        "call_webhook",
        method="POST",
        url="https://example.org/@contact.id/hook",
        headers={"X-Name": "@contact.name"},
        body=json.dumps({"phone": "@contact.phone", "who": "@contact", "all": "@results"}),
        result_name=result_name,
    )
    return flow(
        "Webhook",
        [
            outcome_node(call, hook, ok, bad, ("Success", "Failure")),
            node(ok, [send("Score @results.api.score")]),
            node(bad, [send("Webhook failed")]),
        ],
    )


def test_a_webhook_node_waits_for_the_call_and_routes_by_its_outcome() -> None:
    flows = FlowTable()
    f = flows.add(webhook_flow())
    chat = Chat(flows)
    sprint = chat.start(f.uuid)
    (request,) = sprint.of_type(WebhookRequested)
    assert request.method == "POST"
    assert request.url == "https://example.org/10/hook"
    assert request.headers == {"X-Name": "Asha"}
    body = json.loads(request.body)
    assert body["phone"] == chat.contact.phone
    assert isinstance(body["who"], dict) and body["organization_id"] == 1
    assert request.result_name == "api"
    run = chat.session.runs[0]
    assert run.status == "waiting" and run.wait is not None and run.wait.kind == "webhook"
    # A message while the call is pending is ignored.
    assert chat.say("hello?").events == ()
    done = chat.resume(signal="webhook_success", response={"score": 42})
    assert texts(done) == ["Score 42"]
    assert run.results["api"]["score"] == 42


def test_a_failed_webhook_takes_the_failure_path() -> None:
    flows = FlowTable()
    f = flows.add(webhook_flow())
    chat = Chat(flows)
    chat.start(f.uuid)
    assert texts(chat.resume(signal="webhook_failure")) == ["Webhook failed"]


def test_a_webhook_with_an_unreadable_body_fails_without_a_request() -> None:
    data = webhook_flow()
    data["nodes"][0]["actions"][0]["body"] = "{broken"
    flows = FlowTable()
    f = flows.add(data)
    chat = Chat(flows)
    sprint = chat.start(f.uuid)
    assert not sprint.of_type(WebhookRequested)
    assert texts(sprint) == ["Webhook failed"]


def test_wait_for_time_sleeps_until_the_timeout_signal() -> None:
    a, b = uid("n"), uid("n")
    data = flow(
        "Sleepy",
        [
            node(a, [send("before"), action("wait_for_time", delay="120")], to=b),
            node(b, [send("after")]),
        ],
    )
    flows = FlowTable()
    f = flows.add(data)
    env, _ = make_env()
    chat = Chat(flows, env=env)
    sprint = chat.start(f.uuid)
    assert texts(sprint) == ["before"]
    (wait,) = sprint.of_type(WaitStarted)
    assert wait.kind == "time" and wait.timeout_at == T0.replace(minute=2)
    assert chat.say("hi").events == ()
    assert texts(chat.timeout()) == ["after"]


def test_wait_for_time_with_no_delay_goes_on() -> None:
    a, b = uid("n"), uid("n")
    data = flow(
        "Quick", [node(a, [action("wait_for_time", delay="0")], to=b), node(b, [send("after")])]
    )
    flows = FlowTable()
    f = flows.add(data)
    assert texts(Chat(flows).start(f.uuid)) == ["after"]


def _awaiting_flow() -> tuple[FlowTable, Any]:
    a, b = uid("n"), uid("n")
    data = flow(
        "Awaits",
        [
            node(a, [send("checking"), action("wait_for_result", delay="300")], to=b),
            node(b, [send("score @results.score, note @results.note.value")]),
        ],
    )
    flows = FlowTable()
    return flows, flows.add(data)


def test_wait_for_result_goes_on_with_the_answer_of_an_outside_service() -> None:
    flows, f = _awaiting_flow()
    env, _ = make_env()
    chat = Chat(flows, env=env)
    sprint = chat.start(f.uuid)
    assert texts(sprint) == ["checking"]
    (wait,) = sprint.of_type(WaitStarted)
    assert wait.kind == "result" and wait.timeout_at == T0.replace(minute=5)
    # A person's message does not answer it, nor does a webhook's answer.
    assert chat.say("hello").events == ()
    assert chat.resume(signal="webhook_success", response={"x": 1}).events == ()
    done = chat.resume(signal="resumed", response={"score": {"value": "7"}, "note": "fine"})
    assert texts(done) == ["score 7, note fine"]
    assert {r.name for r in done.of_type(ResultSaved)} == {"score", "note"}
    assert chat.session.active_run() is None


def test_wait_for_result_times_out_and_goes_on_without_it() -> None:
    flows, f = _awaiting_flow()
    env, _ = make_env()
    chat = Chat(flows, env=env)
    chat.start(f.uuid)
    # (Glific leaves an unknown @results reference as written.)
    assert texts(chat.timeout()) == ["score @results.score, note @results.note.value"]


def test_start_session_asks_for_other_contacts_and_collections() -> None:
    a, b = uid("n"), uid("n")
    data = flow(
        "Notify",
        [
            node(
                a,
                [
                    action(
                        "start_session",
                        flow={"uuid": "target-flow", "name": "Check in"},
                        contacts=[{"uuid": "7", "name": "Teacher"}, {"uuid": "10", "name": "Me"}],
                        groups=[{"uuid": "3", "name": "Class 5"}, {"uuid": "x", "name": "?"}],
                        exclusions={"in_a_flow": True},
                        create_contact=False,
                    ),
                    action("start_session", flow={"uuid": "target-flow"}, contacts=[]),
                ],
                to=b,
            ),
            node(b, [send("asked")]),
        ],
    )
    flows = FlowTable()
    f = flows.add(data)
    sprint = Chat(flows).start(f.uuid)  # the contact of the run has id 10
    (asked,) = sprint.of_type(SessionStartRequested)
    assert (asked.flow_uuid, asked.contact_ids, asked.group_ids, asked.skip_busy) == (
        "target-flow",
        (7,),
        (3,),
        True,
    )
    # The second names nobody: nothing is asked, and the run goes on.
    assert texts(sprint) == ["asked"]


def test_send_broadcast_substitutes_the_run_and_leaves_staff_for_each_recipient() -> None:
    a = uid("n")
    data = flow(
        "Alert",
        [
            node(
                a,
                [
                    action(
                        "send_broadcast",
                        text="@contact.name needs help, @staff.name",
                        contacts=[{"uuid": "7", "name": "Teacher"}, {"uuid": "8", "name": "Head"}],
                        attachments=["image:https://example.org/a.png"],
                    ),
                    action("send_broadcast", text="to nobody", contacts=[]),
                ],
            )
        ],
    )
    flows = FlowTable()
    f = flows.add(data)
    sprint = Chat(flows).start(f.uuid)
    (asked,) = sprint.of_type(BroadcastRequested)
    assert (asked.text, asked.contact_ids, asked.attachment) == (
        "Asha needs help, @staff.name",
        (7, 8),
        ("image", "https://example.org/a.png"),
    )
    assert texts(sprint) == []  # nothing to the contact of the run


def test_split_by_expression_and_random_routers() -> None:
    a, b, c, d = uid("n"), uid("n"), uid("n"), uid("n")
    data = flow(
        "Splits",
        [
            router_node(
                a,
                [("Asha", b, "has_only_text", ["asha"])],
                default=("Other", None),
                wait=False,
                operand="@contact.name",
                result_name="who",
            ),
            {
                "uuid": b,
                "actions": [],
                "router": {
                    "type": "random",
                    "categories": [
                        {"uuid": "c1", "name": "Bucket 1", "exit_uuid": "x1"},
                        {"uuid": "c2", "name": "Bucket 2", "exit_uuid": "x2"},
                    ],
                },
                "exits": [
                    {"uuid": "x1", "destination_uuid": c},
                    {"uuid": "x2", "destination_uuid": d},
                ],
            },
            node(c, [send("first bucket")]),
            node(d, [send("second bucket")]),
        ],
    )
    flows = FlowTable()
    f = flows.add(data)
    env, _ = make_env(chance=0.7)
    chat = Chat(flows, env=env)
    assert texts(chat.start(f.uuid)) == ["second bucket"]
    assert chat.session.runs[0].results["who"]["category"] == "Asha"
    env0, _ = make_env(chance=0.1)
    assert texts(Chat(flows, env=env0).start(f.uuid)) == ["first bucket"]


def test_messages_are_translated_for_the_contacts_language() -> None:
    a, b = uid("n"), uid("n")
    hello = send("Hello", attachments=["image:https://x.org/a.jpg"], quick_replies=["Yes"])
    wait = router_node(
        b, [("Yes", None, "has_any_word", ["yes"])], default=("Other", None), result_name="reply"
    )
    yes_case = wait["router"]["cases"][0]
    yes_category = wait["router"]["categories"][0]
    data = flow(
        "Translated",
        [node(a, [hello], to=b), wait],
        localization={
            "hi": {
                hello["uuid"]: {"text": ["नमस्ते"], "quick_replies": ["हाँ"], "attachments": [""]},
                yes_case["uuid"]: {"arguments": ["हाँ"]},
                yes_category["uuid"]: {"name": ["हाँ श्रेणी"]},
            }
        },
    )
    flows = FlowTable()
    f = flows.add(data)
    english = Chat(flows)
    (msg,) = english.start(f.uuid).of_type(MsgCreated)
    assert msg.text == "Hello" and msg.quick_replies == ("Yes",)
    assert msg.attachments == (("image", "https://x.org/a.jpg"),) and msg.type == "image"

    hindi = Chat(flows, contact=make_contact(language_id=HINDI.id))
    (msg,) = hindi.start(f.uuid).of_type(MsgCreated)
    assert msg.text == "नमस्ते" and msg.quick_replies == ("हाँ",)
    assert msg.attachments == (("image", "https://x.org/a.jpg"),)  # empty translation: base
    hindi.say("हाँ")
    assert hindi.session.runs[0].results["reply"]["category"] == "हाँ श्रेणी"


def test_contact_actions_change_the_view_and_emit_events() -> None:
    a = uid("n")
    data = flow(
        "Contact",
        [
            node(
                a,
                [
                    action("set_contact_name", name="Asha Devi"),
                    action("set_contact_language", language="hindi"),
                    action("set_contact_language", language="klingon"),
                    action("set_contact_language", language="en_US"),
                    action(
                        "add_contact_groups",
                        groups=[{"uuid": "5", "name": "Priority"}, {"uuid": "x", "name": "Named"}],
                    ),
                    action("remove_contact_groups", groups=[{"uuid": "3", "name": "Old"}]),
                    action(
                        "set_contact_field", field={"key": "settings", "name": "S"}, value="optout"
                    ),
                    action(
                        "set_contact_field", field={"key": "settings", "name": "S"}, value="optin"
                    ),
                    action(
                        "set_contact_field",
                        field={"key": "settings", "name": "S"},
                        value="Preference1",
                    ),
                    action("set_contact_field", field={"key": "city", "name": ""}, value="ignored"),
                    action("set_contact_field", field={"key": "city"}, value="Pune"),
                    action(
                        "set_run_result",
                        name="video",
                        value="@contact.fields.city",
                        category="@contact.fields.city",
                    ),
                ],
            )
        ],
    )
    flows = FlowTable()
    f = flows.add(data)
    chat = Chat(flows, contact=make_contact(groups=[GroupView(3, "Old")]))
    sprint = chat.start(f.uuid)
    contact = chat.contact
    assert sprint.of_type(ContactNameChanged)[0].name == "Asha Devi" and contact.name == "Asha Devi"
    assert [e.language_id for e in sprint.of_type(ContactLanguageChanged)] == [2, 1]
    assert any("klingon" in e.message for e in sprint.of_type(EngineError))
    assert sprint.of_type(ContactGroupsAdded)[0].groups == (
        GroupRef(5, "Priority"),
        GroupRef(None, "Named"),
    )
    assert sprint.of_type(ContactGroupsRemoved)[0].groups == (GroupRef(3, "Old"),)
    assert [g.id for g in contact.groups] == [5]
    assert len(sprint.of_type(ContactOptedOut)) == 1 and len(sprint.of_type(ContactOptedIn)) == 1
    assert sprint.of_type(ContactPreferencesChanged)[0].preference == "preference1"
    assert contact.settings["preferences"] == {"preference1": True}
    (field,) = sprint.of_type(ContactFieldChanged)
    assert (field.key, field.label, field.value) == ("city", "city", "Pune")
    assert contact.fields["city"]["type"] == "string"
    result = chat.session.runs[0].results["video"]
    assert result["value"] == "Pune" and result["category"] == "Pune"


def test_field_values_are_cut_at_the_limit() -> None:
    a = uid("n")
    data = flow(
        "Long",
        [
            node(
                a,
                [action("set_contact_field", field={"key": "bio", "name": "Bio"}, value="x" * 700)],
            )
        ],
    )
    flows = FlowTable()
    f = flows.add(data)
    chat = Chat(flows)
    sprint = chat.start(f.uuid)
    assert len(chat.contact.fields["bio"]["value"]) == chat.env.limits.max_field_value_length
    assert sprint.of_type(EngineError)


def test_interactive_message_from_the_template_json() -> None:
    a, b = uid("n"), uid("n")
    template = {
        "type": "quick_reply",
        "content": {"type": "text", "header": "Hi", "text": "Pick one, @contact.name"},
        "options": [{"type": "text", "title": "Red"}, {"type": "text", "title": "Blue"}],
    }
    listing = {
        "type": "list",
        "title": "Menu",
        "body": "Choose from the list",
        "globalButtons": [{"type": "text", "title": "Open"}],
        "items": [{"title": "Colors", "options": [{"type": "text", "title": "Green"}]}],
    }
    data = flow(
        "Interactive",
        [
            node(
                a,
                [
                    action(
                        "send_interactive_msg",
                        name="Colors",
                        text=json.dumps(template),
                        labels=[{"uuid": "l", "name": "Menu"}],
                    )
                ],
                to=b,
            ),
            node(b, [action("send_interactive_msg", name="List", text=json.dumps(listing))]),
        ],
    )
    flows = FlowTable()
    f = flows.add(data)
    first, second = Chat(flows).start(f.uuid).of_type(MsgCreated)
    assert first.type == "quick_reply" and first.text == "Pick one, Asha"
    assert first.quick_replies == ("Red", "Blue") and first.labels == ("Menu",)
    assert (
        first.interactive is not None and first.interactive["content"]["text"] == "Pick one, Asha"
    )
    assert second.type == "list" and second.text == "Choose from the list"
    assert second.quick_replies == ("Green",)


def test_a_quick_reply_input_keeps_its_interactive_content_in_the_result() -> None:
    flows = FlowTable()
    f = flows.add(timed())
    chat = Chat(flows)
    chat.start(f.uuid)
    chat.resume(input=Input(text="yes", type="quick_reply", id="node", interactive={"id": "node"}))
    assert chat.session.runs[0].results["answer"]["interactive"] == {"id": "node"}


def test_an_early_timeout_signal_is_ignored() -> None:
    flows = FlowTable()
    f = flows.add(timed())
    env, clock = make_env()
    chat = Chat(flows, env=env)
    chat.start(f.uuid)
    clock.advance(100)
    assert chat.resume(signal="timeout").events == ()
    assert chat.session.runs[0].status == "waiting"


def test_an_empty_flow_cannot_start() -> None:
    flows = FlowTable()
    f = flows.add(flow("Nothing", []))
    chat = Chat(flows)
    sprint = chat.start(f.uuid)
    assert any("empty" in e.message for e in sprint.of_type(EngineError))
    assert [e.status for e in sprint.of_type(RunEnded)] == ["failed"]


def test_a_run_whose_node_was_removed_by_a_new_version_fails() -> None:
    flows = FlowTable()
    data = timed()
    f = flows.add(data)
    chat = Chat(flows)
    chat.start(f.uuid)
    wait_uuid = data["nodes"][1]["uuid"]
    data["nodes"] = [n for n in data["nodes"] if n["uuid"] != wait_uuid]
    data["nodes"][0]["exits"][0]["destination_uuid"] = None
    flows.add(data)
    sprint = chat.say("yes")
    assert sprint.of_type(EngineError)
    assert [e.status for e in sprint.of_type(RunEnded)] == ["failed"]
    assert chat.session.active_run() is None


def test_send_msg_labels_and_removing_every_group() -> None:
    a = uid("n")
    data = flow(
        "Labels",
        [
            node(
                a,
                [
                    send("Hi", labels=[{"uuid": "1", "name": "Age Group 11 to 14"}]),
                    action("remove_contact_groups", groups=[], all_groups=True),
                ],
            )
        ],
    )
    flows = FlowTable()
    f = flows.add(data)
    chat = Chat(flows, contact=make_contact(groups=[GroupView(1, "A"), GroupView(2, "B")]))
    sprint = chat.start(f.uuid)
    assert sprint.of_type(MsgCreated)[0].labels == ("Age Group 11 to 14",)
    assert sprint.of_type(ContactGroupsRemoved)[0].all_groups is True
    assert chat.contact.groups == []


def test_a_form_response_is_stored_with_list_values_joined() -> None:
    a = uid("n")
    data = flow("Form", [router_node(a, [], default=("All Responses", None), result_name="form")])
    flows = FlowTable()
    f = flows.add(data)
    chat = Chat(flows)
    chat.start(f.uuid)
    chat.resume(
        input=Input(
            type="whatsapp_form_response",
            form_response={"screen_0_Choose_one_0": "0_Yes", "many": ["Option_1", "Option_2"]},
        )
    )
    stored = chat.session.runs[0].results["form"]
    assert stored["screen_0_Choose_one_0"] == "0_Yes"
    assert stored["many"] == "Option_1, Option_2"


def test_a_media_reply_is_stored_as_media() -> None:
    flows = FlowTable()
    f = flows.add(timed())
    chat = Chat(flows)
    chat.start(f.uuid)
    chat.resume(input=Input(type="image", media_url="https://x.org/p.jpg", message_id=3))
    stored = chat.session.runs[0].results["answer"]
    assert stored["url"] == "https://x.org/p.jpg" and stored["category"] == "media"


def test_the_contact_groups_operand_routes_with_has_group() -> None:
    a, member, other = uid("n"), uid("n"), uid("n")
    data = flow(
        "Groups",
        [
            router_node(
                a,
                [("Member", member, "has_group", ["5", "Priority"])],
                default=("Other", other),
                wait=False,
                operand="@contact.groups",
            ),
            node(member, [send("member")]),
            node(other, [send("not a member")]),
        ],
    )
    flows = FlowTable()
    f = flows.add(data)
    assert texts(Chat(flows, contact=make_contact(groups=[GroupView(5, "P")])).start(f.uuid)) == [
        "member"
    ]
    assert texts(Chat(flows).start(f.uuid)) == ["not a member"]


def test_an_expression_over_its_budget_is_reported_and_treated_as_empty() -> None:
    a, b = uid("n"), uid("n")
    data = flow(
        "Costly",
        [
            node(
                a,
                [
                    action(
                        "set_contact_field",
                        field={"key": "k", "name": "K"},
                        value="@contact.fields.name @contact.name @contact.phone",
                    )
                ],
                to=b,
            ),
            node(b, [send("still running")]),
        ],
    )
    flows = FlowTable()
    f = flows.add(data)
    env, _ = make_env(limits=Limits(expression_budget=1))
    chat = Chat(flows, env=env)
    sprint = chat.start(f.uuid)
    assert any("costly" in e.message for e in sprint.of_type(EngineError))
    assert chat.contact.fields["k"]["value"] == ""
    assert [e.status for e in sprint.of_type(RunEnded)] == ["completed"]


def test_set_run_result_evaluates_code_and_broken_code_gives_invalid_code() -> None:
    a = uid("n")
    data = flow(
        "Code",
        [
            node(
                a,
                [
                    action(
                        "set_run_result",
                        name="calc",
                        value="<%= rem(13 * 2 + 1, 6) %>",
                        category="c",
                    ),
                    action("set_run_result", name="broken", value="<%= rem(13, %>", category="c"),
                ],
            )
        ],
    )
    flows = FlowTable()
    f = flows.add(data)
    chat = Chat(flows)
    sprint = chat.start(f.uuid)
    results = chat.session.runs[0].results
    assert results["calc"]["value"] == "3"
    assert results["broken"]["value"] == "Invalid Code"
    assert any("invalid expression" in e.message for e in sprint.of_type(EngineError))


def test_a_webhook_answer_that_is_a_list_is_kept_by_position() -> None:
    flows = FlowTable()
    f = flows.add(webhook_flow())
    chat = Chat(flows)
    chat.start(f.uuid)
    chat.resume(signal="webhook_success", response=[{"a": 1}, "b"])
    assert chat.session.runs[0].results["api"]["0"] == {"a": 1}
