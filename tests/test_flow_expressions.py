"""The flow expression language: `@variable` substitution (stage 1), `<%= %>` blocks
(stage 2), the binding map, publish-time checks and the cost budget (spec §2, scenarios 62,
77). Pure: no database, no server."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from resolvers.flow_engine.expressions import (
    INVALID,
    Budget,
    BudgetExceeded,
    bindings,
    check_expression,
    evaluate,
    substitute,
    substitute_value,
)
from resolvers.flow_engine.state import (
    ContactView,
    GroupView,
    LanguageView,
    OrgView,
    ProfileView,
    Run,
    Session,
)

ENGLISH = LanguageView(1, "English", "en")
HINDI = LanguageView(2, "Hindi", "hi")
ORG = OrgView(id=1, languages=(ENGLISH, HINDI), default_language_id=1, timezone="Asia/Kolkata")
NOW = datetime(2026, 3, 4, 20, 0, tzinfo=UTC)  # 5 March 01:30 in Kolkata


def field(value: Any) -> dict[str, Any]:
    return {"value": value, "type": "string", "label": "x", "inserted_at": "2026-01-01"}


def plain_contact(**changes: Any) -> ContactView:
    values: dict[str, Any] = {
        "id": 7,
        "name": "Asha",
        "phone": "919800000001",
        "language_id": 1,
        "fields": {"age": field("12"), "school-name": field("GHS")},
        "groups": [GroupView(3, "Parents"), GroupView(7, "Kids")],
    }
    values.update(changes)
    return ContactView(**values)


def family_contact(active: int = 1) -> ContactView:
    """A contact with a default profile, a second one and an inactive third; `active` is
    the index (into `profiles`) of the active one."""
    profiles = [
        ProfileView(10, "Asha", "parent", 1, {"role": field("parent")}, is_default=True),
        ProfileView(11, "Ravi", "student", 2, {"role": field("student")}),
        ProfileView(12, "Gone", "student", 1, {}, is_active=False),
    ]
    return ContactView(
        id=7,
        name="Asha",
        phone="919800000001",
        language_id=profiles[active].language_id,
        fields=dict(profiles[active].fields),
        profiles=profiles,
        active_profile=active,
    )


def make_ctx(
    contact: ContactView | None = None,
    results: dict[str, Any] | None = None,
    parent_results: dict[str, Any] | None = None,
) -> dict[str, Any]:
    run = Run(uuid="run-2", flow_uuid="flow-2", flow_version=1, node_uuid=None)
    runs = [run]
    if parent_results is not None:
        parent = Run("run-1", "flow-1", 1, None, results=parent_results)
        run.parent_uuid = parent.uuid
        runs.insert(0, parent)
    run.results = results or {}
    return bindings(
        org=ORG,
        contact=contact or plain_contact(),
        session=Session(runs),
        run=run,
        flow_name="Registration",
        flow_uuid="flow-2",
        now=NOW,
    )


def sub(template: str, ctx: dict[str, Any] | None = None, steps: int = 10_000) -> str:
    return substitute(template, make_ctx() if ctx is None else ctx, Budget(steps))


def ev(template: str, ctx: dict[str, Any] | None = None, steps: int = 10_000) -> str:
    return evaluate(template, {} if ctx is None else ctx, Budget(steps))


# --- stage 1: substitution (scenario 77) ----------------------------------------------------


def test_contact_tokens() -> None:
    assert sub("Hi @contact.name") == "Hi Asha"
    assert sub("Hi @contact.name.") == "Hi Asha."
    assert sub("@contact.phone @contact.id") == "919800000001 7"
    assert sub("Age @contact.fields.age") == "Age 12"
    assert sub("@contact.fields.school-name!") == "GHS!"


def test_fields_name_falls_back_to_the_contact_name() -> None:
    assert sub("@contact.fields.name") == "Asha"
    contact = plain_contact(fields={"name": field("Asha Devi")})
    assert sub("@contact.fields.name", make_ctx(contact)) == "Asha Devi"
    # A longer path that does not resolve keeps its tail as text.
    assert sub("@contact.fields.name.category", make_ctx(contact)) == "Asha Devi.category"


def test_unknown_tokens_stay_literal() -> None:
    text = "Mail abc@glific.com or @contact.nothing or @nothing.at.all or @contact"
    assert sub(text) == text


def test_language_groups_and_flow() -> None:
    assert sub("Language: @contact.language") == "Language: English"
    assert sub("@contact.fields.language.label") == "English"
    assert sub("@contact.groups and @contact.in_groups") == "[3, 7] and [3, 7]"
    assert sub("@contact.groups", make_ctx(plain_contact(groups=[]))) == "[]"
    assert sub("@flow.name @flow.uuid") == "Registration flow-2"


def test_a_non_map_language_stays_literal() -> None:
    ctx = {"contact": {"language": "English", "name": "A"}}
    assert sub("@contact.language @contact.name", ctx) == "@contact.language A"


def test_results() -> None:
    results = {
        "name": {"input": "Ravi", "category": "All Responses", "inserted_at": "2026-03-04"},
        "name_full": {"input": "Ravi Kumar", "category": "Other"},
        "video_code": {"value": "shyness", "category": "shyness", "input": "x"},
        "foo": "just_a_string",
        "when": {"input": "now", "inserted_at": datetime(2026, 3, 4, 10, 0, tzinfo=UTC)},
        "child": {"score": {"input": "9", "category": "High"}},
    }
    ctx = make_ctx(results=results, parent_results={"age": {"input": "12", "category": "Kid"}})
    assert sub("@results.name / @results.name_full", ctx) == "Ravi / Ravi Kumar"
    assert sub("@results.name.category @results.name.input", ctx) == "All Responses Ravi"
    assert sub("@results.name.inserted_at", ctx) == "2026-03-04"
    assert sub("@results.when.inserted_at", ctx) == "2026-03-04T10:00:00+00:00"
    assert sub("@results.video_code @results.video_code.value", ctx) == "shyness shyness"
    assert sub("@results.foo.bar", ctx) == "just_a_string.bar"
    assert sub("@results.parent.age @results.parent.age.category", ctx) == "12 Kid"
    assert sub("@parent.age.category", ctx) == "Kid"
    assert sub("@results.child.score @results.child.score.category", ctx) == "9 High"
    assert sub("@results.missing", ctx) == "@results.missing"
    assert sub("@results.Name", ctx) == "Ravi"


def test_the_odd_profile_router_operand_does_not_crash() -> None:
    ctx = make_ctx(results={"name": {"input": "Ravi", "category": "Success"}})
    assert sub("@results.@results.name.category", ctx) == "@results.Success"
    assert sub("@results.@results.other.category", ctx) == "@results.@results.other.category"


def test_input_text_when_the_runner_adds_it() -> None:
    ctx = make_ctx()
    assert sub("@input.text", ctx) == "@input.text"
    ctx["input"] = {"text": "hello"}
    assert sub("You said @input.text", ctx) == "You said hello"


def test_values_are_not_substituted_again() -> None:
    ctx = make_ctx(results={"name": {"input": "@contact.phone <%= 1 + 1 %>"}})
    assert sub("@results.name", ctx) == "@contact.phone <%= 1 + 1 %>"
    assert ev("Hi @results.name", ctx) == "Hi @contact.phone <%= 1 + 1 %>"


def test_nested_values_are_substituted() -> None:
    value = {
        "content": {"text": "Hi @contact.name", "header": "@flow.name"},
        "options": [{"title": "@contact.fields.age"}, 3, None],
        "@contact.name": True,
    }
    assert substitute_value(value, make_ctx(), Budget(1_000)) == {
        "content": {"text": "Hi Asha", "header": "Registration"},
        "options": [{"title": "12"}, 3, None],
        "@contact.name": True,
    }


def test_fields_shortcut() -> None:
    assert sub("@fields.age") == "12"


def test_five_segments_at_most() -> None:
    ctx = {"a": {"b": {"c": {"d": {"e": {"f": "deep"}, "x": "five"}}}}}
    assert sub("@a.b.c.d.x", ctx) == "five"
    assert sub("@a.b.c.d.e.f", ctx) == "@a.b.c.d.e.f"


def test_calendar_in_the_org_timezone() -> None:
    text = "@calendar.current_date @calendar.yesterday @calendar.tomorrow"
    assert sub(text) == "5/03/2026 4/03/2026 6/03/2026"
    assert sub("@calendar.current_day @calendar.current_year") == "thursday 2026"
    utc = OrgView(id=1, languages=(ENGLISH,), default_language_id=1, timezone="UTC")
    ctx = bindings(
        org=utc,
        contact=plain_contact(),
        session=Session([]),
        run=Run("r", "f", 1, None),
        flow_name="F",
        flow_uuid="f",
        now=NOW,
    )
    assert sub("@calendar.current_date", ctx) == "4/03/2026"


# --- profiles in the binding map ------------------------------------------------------------


def test_profile_extras_only_while_a_profile_is_active() -> None:
    ctx = make_ctx(plain_contact())
    for token in ("@contact.list_profiles", "@contact.profiles.count"):
        assert sub(token, ctx) == token
    assert "has_multiple_profile" not in ctx["contact"]


def test_profile_extras() -> None:
    ctx = make_ctx(family_contact(active=1))
    assert sub("@contact.list_profiles", ctx) == " 1. Asha \n 2. Ravi \n"
    assert sub("@contact.active_profile_name", ctx) == "Ravi"
    assert sub("@contact.profiles.count", ctx) == "2"
    assert sub("@contact.profiles.profile_2.name @contact.profiles.profile_2.id", ctx) == (
        "Ravi 11"
    )
    assert sub("@contact.has_multiple_profile", ctx) == "true"
    # Fields and language are the active profile's.
    assert sub("@contact.fields.role @contact.language", ctx) == "student Hindi"
    assert ctx["contact"]["language"] == {"id": 2, "label": "Hindi", "locale": "hi"}


# --- budget and limits ----------------------------------------------------------------------


def test_substitute_spends_its_budget() -> None:
    with pytest.raises(BudgetExceeded):
        sub("@contact.name " * 50, steps=20)
    budget = Budget(10_000)
    substitute("@contact.name", make_ctx(), budget)
    assert budget.remaining < 10_000


def test_substitute_output_limit() -> None:
    ctx = make_ctx(results={"big": {"input": "x" * 6000}})
    assert len(sub("@results.big", ctx)) == 6000
    with pytest.raises(BudgetExceeded):
        sub("@results.big @results.big", ctx)


def test_budget() -> None:
    budget = Budget(3)
    budget.spend(2)
    budget.spend()
    with pytest.raises(BudgetExceeded):
        budget.spend()


# --- stage 2: <%= %> blocks (scenario 62) ---------------------------------------------------


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("<%= 5 * 60 %>", "300"),
        ("<%= rem(13 * 2 + 1, 6) %>", "3"),
        ("<%= rem(5, 2) %>", "1"),
        ("<%= rem(-7, 3) %> <%= div(-7, 2) %> <%= div(7, 2) %>", "-1 -3 3"),
        ("<%= 10 / 4 %> <%= 10 / 2 %>", "2.5 5.0"),
        ("<%= 1 + 2 * 3 - 4 %>", "3"),
        ("<%= (1 + 2) * 3 %>", "9"),
        ("<%= -2 * 3 %>", "-6"),
        ("<%= 0.1 + 0.2 > 0.3 %>", "true"),
        ('<%= "a" <> "b" <> "c" %>', "abc"),
        ("<%= 1 == 1.0 %> <%= 1 === 1.0 %> <%= 1 != 2 %>", "true false true"),
        ('<%= "1" == 1 %> <%= true == 1 %>', "false false"),
        ('<%= 1 < "a" %> <%= nil > 1 %>', "true true"),
        ("<%= true and false %> <%= true or false %> <%= not true %>", "false true false"),
        ("<%= true and 1 %> <%= false or nil %>", "1 "),
        ("<%= nil || 3 %> <%= 0 && 4 %> <%= !nil %>", "3 4 true"),
        ('<%= if 3 > 2, do: "big", else: "small" %>', "big"),
        ('<%= if(3 < 2, do: "big", else: "small") %>', "small"),
        ('<%= if (3 < 2) or true, do: "y" %>', "y"),
        ('<%= if 3 < 2, do: "big" %>', ""),
        ('<%= unless 3 < 2, do: "no" %>', "no"),
        ('<%= if 1 > 0 do "a" else "b" end %>', "a"),
        ('<%= cond do\n  1 > 2 -> "a"\n  true -> "b"\nend %>', "b"),
        ('<%= String.upcase("abc") %> <%= String.downcase("ABC") %>', "ABC abc"),
        ('<%= String.trim("  x ") %>|<%= String.length("héllo") %>', "x|5"),
        ('<%= String.contains?("hello", "ell") %>', "true"),
        ('<%= String.contains?("hello", ["x", "y"]) %>', "false"),
        ('<%= "abc" |> String.upcase() |> String.reverse() %>', "CBA"),
        ('<%= "a b" |> String.split() |> Enum.join("-") %>', "a-b"),
        ('<%= String.to_integer("41") + 1 %>', "42"),
        ('<%= 3 in [1, 2, 3] %> <%= "x" not in ["x"] %>', "true false"),
        ("<%= Enum.member?([1, 2], 2) %> <%= Enum.count([1, 2]) %>", "true 2"),
        ("<%= round(2.5) %> <%= round(-2.5) %> <%= trunc(2.7) %>", "3 -3 2"),
        ("<%= Float.round(2.345, 2) %> <%= abs(-3) %> <%= max(2, 5) %>", "2.35 3 5"),
        ("<%= nil %>|<%= true %>", "|true"),
        ("<%= 1_000 * 2 %>", "2000"),
        ("<%= 1 # a comment\n + 1 %>", "2"),
        ("Text <%= 1 + 1 %> more", "Text 2 more"),
        ("no tags at all", "no tags at all"),
    ],
)
def test_blocks(template: str, expected: str) -> None:
    assert ev(template) == expected


@pytest.mark.parametrize(
    "template",
    [
        "<%= 1 / 0 %>",
        "<%= rem(1, 0) %>",
        "<%= rem(5.0, 2) %>",
        '<%= "a" + 1 %>',
        "<%= x %>",
        "<%= Enum.random([1, 2]) %>",
        '<%= System.cmd("ls", []) %>',
        '<%= File.read!("/etc/passwd") %>',
        '<%= :os.cmd(~c"ls") %>',
        "<%= [1, 2] %>",
        "<%= 1 + %>",
        "<%= %>",
        "<%= 1 + 1",
        "<% 1 + 1 %>",
        '<%= "#{1}" %>',
        "<%= %{a: 1} %>",
        "<%= fn -> 1 end %>",
        "<%= x = 1 %>",
        "<%= rem(1) %>",
        "<%= not 1 %>",
        "<%= 1 and true %>",
        "<%= " + " * ".join(["99999999999999999999"] * 100) + " %>",
        '<%= String.duplicate("x", 100000) %>',
        "<%= @results.missing.input + 1 %>",
        '<%= cond do\n 1 > 2 -> "a"\n end %>',
        "ok <%= 1 + 1 %> then <%= bad %>",
    ],
)
def test_invalid_blocks(template: str) -> None:
    assert ev(template) == INVALID


def test_blocks_see_substituted_values() -> None:
    ctx = make_ctx(results={"age": {"input": "12"}, "name": {"input": "Ravi"}})
    assert ev("<%= @results.age.input + 1 %>", ctx) == "13"
    assert ev('<%= if "@results.name" == "Ravi", do: "hi", else: "who" %>', ctx) == "hi"
    assert ev('<%= String.upcase("@results.name") %> @contact.name', ctx) == "RAVI Asha"
    # A value pasted bare into code that does not parse makes the block invalid, not unsafe.
    ctx = make_ctx(results={"name": {"input": "Ravi Kumar"}})
    assert ev("<%= @results.name %>", ctx) == INVALID


@pytest.mark.parametrize(
    "answer",
    [
        'He said "hi"',
        '") <> System.cmd("ls") <> ("',
        'x" == "x" or "',
        "back\\slash \\",
        "#{1 + 1}",
        "%> <%= 1 + 1",
        "@contact.phone",
    ],
)
def test_values_pasted_into_string_literals_stay_strings(answer: str) -> None:
    ctx = make_ctx(results={"name": {"input": answer}})
    assert ev('<%= "@results.name" %>', ctx) == answer
    assert ev('<%= String.upcase("[@results.name]") %>', ctx) == f"[{answer.upper()}]"
    assert ev('<%= if "@results.name" == "x", do: "same", else: "other" %>', ctx) == "other"


def test_limits() -> None:
    # 300 AST nodes at most.
    assert ev("<%= " + " + ".join(["1"] * 150) + " %>") == "150"
    assert ev("<%= " + " + ".join(["1"] * 151) + " %>") == INVALID
    # Nesting depth.
    assert ev("<%= " + "(" * 20 + "1" + ")" * 20 + " %>") == "1"
    assert ev("<%= " + "(" * 200 + "1" + ")" * 200 + " %>") == INVALID
    # Output length.
    big = '"' + "x" * 6000 + '"'
    assert len(ev(f"<%= {big} %>")) == 6000
    assert ev(f"<%= {big} <> {big} %>") == INVALID
    assert ev(f"<%= {big} %><%= {big} %>") == INVALID
    # Budget.
    assert ev("<%= " + " + ".join(["1"] * 100) + " %>", steps=50) == INVALID


# --- publish-time checks --------------------------------------------------------------------


def test_check_expression() -> None:
    assert check_expression("plain @contact.name text") == []
    assert check_expression("<%= rem(5, 2) %>") == []
    assert check_expression('<%= if "@results.x" == "1", do: "a", else: "b" %>') == []
    assert check_expression("<%= @results.age.input + 1 %>") == []
    problems = check_expression('<%= System.cmd("ls", []) %>')
    assert len(problems) == 1
    assert "unsupported expression" in problems[0]
    assert "System.cmd" in problems[0]
    assert check_expression("<%= Enum.random([1, 2]) %>")
    assert check_expression("<%= 1 + %>")
    assert check_expression("<%= 1 + 1")
    assert check_expression("<% x %>")
    assert len(check_expression("<%= a %> and <%= b %>")) == 2


# --- properties -----------------------------------------------------------------------------

_CODE_ALPHABET = st.sampled_from(
    [
        *"0123456789+-*/()<>=!&|,.\"' \n",
        "if ",
        "do:",
        "else:",
        "rem(",
        "div(",
        "String.upcase(",
        "and ",
        "or ",
        "not ",
        "<>",
        "@results.a",
        "@contact.name",
        "[",
        "]",
        "cond do\n",
        "->",
        " end",
        "true",
        "nil",
        "|>",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_CODE_ALPHABET, max_size=40).map("".join))
def test_evaluate_never_raises_and_respects_its_budget(code: str) -> None:
    ctx = make_ctx(results={"a": {"input": "7"}})
    budget = Budget(500)
    out = evaluate("<%= " + code + " %>", ctx, budget)
    assert isinstance(out, str)
    assert len(out) <= 10_000
    assert 0 <= budget.remaining <= 500
    check_expression("<%= " + code + " %>")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_evaluate_never_raises_on_arbitrary_text(text: str) -> None:
    budget = Budget(200)
    out = evaluate(text, make_ctx(), budget)
    assert isinstance(out, str)
    assert budget.remaining >= 0
    assert isinstance(check_expression(text), list)


@given(st.text(alphabet=st.characters(exclude_characters="@<"), max_size=200))
def test_text_without_tokens_or_tags_is_unchanged(text: str) -> None:
    assert sub(text) == text
    assert ev(text, make_ctx()) == text


@given(st.integers(-(10**12), 10**12), st.integers(-(10**12), 10**12))
def test_arithmetic_matches_elixir(a: int, b: int) -> None:
    assert ev(f"<%= {a} + {b} %>") == str(a + b)
    assert ev(f"<%= {a} * {b} %>") == str(a * b)
    if b:
        q = abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)
        assert ev(f"<%= div({a}, {b}) %>") == str(q)
        assert ev(f"<%= rem({a}, {b}) %>") == str(a - b * q)
