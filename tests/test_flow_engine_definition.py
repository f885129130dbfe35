"""parse_flow and validate: the start node, the editor's wrapper, and every problem the
publish step reports (each must be able to fail)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from resolvers.flow_engine import FlowInvalid, Problem, parse_flow, validate
from resolvers.flow_engine import definition as definition_module
from tests.utils.flow_engine import action, flow, node, router_node, send, uid


def critical(problems: list[Problem]) -> list[str]:
    return [p.message for p in problems if p.category == "Critical"]


def simple() -> dict[str, Any]:
    a, b = uid("n"), uid("n")
    return flow(
        "Simple",
        [node(a, [send("hi")], to=b), router_node(b, [("Yes", None, "has_any_word", ["yes"])])],
    )


def test_start_node_is_topmost_then_leftmost_not_first() -> None:
    a, b, c = uid("n"), uid("n"), uid("n")
    data = flow("Pos", [node(a, [send("a")]), node(b, [send("b")]), node(c, [send("c")])])
    data["_ui"]["nodes"] = {
        a: {"position": {"top": 300, "left": 0}},
        b: {"position": {"top": 10, "left": 500}},
        c: {"position": {"top": 10, "left": 100}},
    }
    assert parse_flow(data).start_node_uuid == c


def test_start_node_without_ui_is_the_first_node() -> None:
    data = simple()
    del data["_ui"]
    assert parse_flow(data).start_node_uuid == data["nodes"][0]["uuid"]


def test_parses_a_json_string_and_the_editor_wrapper_and_keeps_the_version() -> None:
    data = simple()
    parsed = parse_flow(json.dumps({"definition": data}), version=3)
    assert parsed.uuid == data["uuid"]
    assert parsed.version == 3
    assert parsed.name == "Simple"
    assert parsed.node(data["nodes"][1]["uuid"]) is not None
    assert parsed.node("nope") is None


def test_broken_json_is_critical() -> None:
    problems = validate("{not json", flow_exists=lambda _: True)
    assert critical(problems) and "JSON" in critical(problems)[0]
    with pytest.raises(FlowInvalid) as info:
        parse_flow("{not json")
    assert info.value.problems


@pytest.mark.parametrize(
    ("kind", "fields", "missing"),
    [
        ("send_msg", {}, "text"),
        ("set_contact_field", {"value": "x"}, "field"),
        ("set_contact_profile", {"value": "1"}, "profile_type"),
        ("call_webhook", {"url": "http://x", "method": "GET", "result_name": "r"}, "headers"),
        ("enter_flow", {}, "flow"),
        ("wait_for_time", {}, "delay"),
        ("set_contact_language", {}, "language"),
        ("set_contact_name", {}, "name"),
        ("set_run_result", {"name": "r", "value": "v"}, "category"),
    ],
)
def test_missing_required_action_keys_are_critical(
    kind: str, fields: dict[str, Any], missing: str
) -> None:
    a = uid("n")
    data = flow("Bad", [node(a, [action(kind, **fields)])])
    messages = critical(validate(data, flow_exists=lambda _: True))
    assert any(missing in m for m in messages), messages
    with pytest.raises(FlowInvalid):
        parse_flow(data)


def test_unknown_action_type_is_critical_and_glific_only_types_warn() -> None:
    a, b = uid("n"), uid("n")
    data = flow(
        "Types", [node(a, [action("teleport")], to=b), node(b, [action("open_ticket", body="x")])]
    )
    problems = validate(data, flow_exists=lambda _: True)
    assert any("teleport" in m for m in critical(problems))
    assert any("open_ticket" in p.message and p.category == "Warning" for p in problems)


def test_dangling_references_are_critical() -> None:
    a, b = uid("n"), uid("n")
    wait = router_node(b, [("Yes", None, "has_any_word", ["yes"])])
    wait["router"]["default_category_uuid"] = "nothing"
    wait["router"]["cases"][0]["category_uuid"] = "nothing-either"
    wait["router"]["categories"][0]["exit_uuid"] = "no-exit"
    data = flow("Dangling", [node(a, [send("x")], to="no-such-node"), wait])
    messages = critical(validate(data, flow_exists=lambda _: True))
    assert any("missing node" in m for m in messages)
    assert any("default category" in m for m in messages)
    assert any("case's category" in m for m in messages)
    assert any("exit names no exit" in m for m in messages)
    with pytest.raises(FlowInvalid):
        parse_flow(data)


def test_unknown_case_type_is_critical() -> None:
    a = uid("n")
    data = flow("Cases", [router_node(a, [("X", None, "has_telepathy", ["x"])])])
    assert any("has_telepathy" in m for m in critical(validate(data, flow_exists=lambda _: True)))


def test_enter_flow_to_a_flow_that_does_not_exist_is_critical() -> None:
    a = uid("n")
    target = uid("f")
    enter = action("enter_flow", flow={"uuid": target, "name": "Child"})
    data = flow("Parent", [node(a, [enter])])
    assert any(target in m for m in critical(validate(data, flow_exists=lambda u: False)))
    assert not critical(validate(data, flow_exists=lambda u: u == target))


def test_start_session_of_a_flow_that_does_not_exist_is_critical() -> None:
    a = uid("n")
    target = uid("f")
    start = action(
        "start_session", flow={"uuid": target, "name": "Check in"}, contacts=[{"uuid": "7"}]
    )
    data = flow("Notify", [node(a, [start])])
    assert any(target in m for m in critical(validate(data, flow_exists=lambda u: False)))
    assert not critical(validate(data, flow_exists=lambda u: u == target))


def test_a_loop_with_no_wait_is_critical_but_a_loop_through_a_wait_is_not() -> None:
    a, b, c = uid("n"), uid("n"), uid("n")
    looping = flow("Loop", [node(a, [send("a")], to=b), node(b, [send("b")], to=a)])
    assert any("loop" in m for m in critical(validate(looping, flow_exists=lambda _: True)))
    # Loaded all the same: Glific stored such flows, and the run-time limits stop them.
    parse_flow(looping)
    waiting = flow(
        "Ok",
        [
            node(a, [send("a")], to=c),
            router_node(c, [("Yes", None, "has_any_word", ["y"])], default=("Other", a)),
        ],
    )
    assert not critical(validate(waiting, flow_exists=lambda _: True))


def test_a_self_loop_is_critical() -> None:
    a = uid("n")
    data = flow("Self", [node(a, [send("a")], to=a)])
    assert any("loop" in m for m in critical(validate(data, flow_exists=lambda _: True)))


def test_bad_expressions_are_reported_through_check_expression(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[str] = []

    def check(text: str) -> list[str]:
        seen.append(text)
        return ["has unsupported expression"] if "BAD" in text else []

    monkeypatch.setattr(definition_module, "check_expression", check)
    a, b = uid("n"), uid("n")
    data = flow(
        "Expr",
        [
            node(a, [action("set_run_result", name="r", value="<%= BAD %>", category="c")], to=b),
            router_node(
                b, [("One", None, "has_any_word", ["1"])], wait=False, operand="@contact.BAD"
            ),
        ],
    )
    problems = validate(data, flow_exists=lambda _: True)
    assert len(critical(problems)) == 2
    assert "<%= BAD %>" in seen and "@contact.BAD" in seen


def test_node_without_actions_or_router_is_critical() -> None:
    data = flow("Empty node", [{"uuid": uid("n"), "actions": [], "exits": [{"uuid": uid("e")}]}])
    assert any("no actions" in m for m in critical(validate(data, flow_exists=lambda _: True)))


def test_an_empty_flow_parses_and_warns() -> None:
    data = flow("Nothing", [])
    assert parse_flow(data).start_node_uuid is None
    problems = validate(data, flow_exists=lambda _: True)
    assert not critical(problems)
    assert any("empty" in p.message for p in problems)


def test_missing_top_level_keys_are_critical() -> None:
    assert critical(validate({"name": "x"}, flow_exists=lambda _: True))
    with pytest.raises(FlowInvalid):
        parse_flow({"uuid": "x"})


def test_deprecated_bhasini_webhooks_are_critical() -> None:
    a = uid("n")
    hook = action(
        "call_webhook",
        url="speech_to_text_with_bhasini",
        method="FUNCTION",
        headers={},
        result_name="r",
    )
    data = flow("Old", [node(a, [hook])])
    assert any("deprecated" in m for m in critical(validate(data, flow_exists=lambda _: True)))
    hook["url"] = "speech_to_text"
    assert not critical(validate(data, flow_exists=lambda _: True))
