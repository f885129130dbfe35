"""The router case tests (spec §1.6) and the acceptance scenarios 48-59 of spec §7, plus
keyword cleaning. Pure: no database, no server."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from resolvers.flow_engine import cases
from resolvers.flow_engine.cases import KNOWN_CASES, CaseMatch, UnknownCase
from resolvers.flow_engine.state import Input, InputType
from resolvers.flow_engine.text import clean_keyword


def matches(
    case_type: str,
    arguments: Sequence[str],
    text: str,
    kind: InputType = "text",
    groups: Sequence[int] = (),
) -> bool:
    message = Input(text=text, type=kind)
    return cases.test_case(case_type, arguments, message, contact_groups=groups) is not None


# --- scenarios 48-59 ------------------------------------------------------------------------


def test_48_has_any_word() -> None:
    args = ["first second third"]
    assert matches("has_any_word", args, "First")
    assert matches("has_any_word", args, "second ")
    assert not matches("has_any_word", args, "fourth")


def test_49_has_phrase_and_emoji() -> None:
    args = ["This is a green"]
    assert matches("has_phrase", args, "Yes. This is a green apple")
    assert not matches("has_phrase", args, "red apple")
    assert matches("has_phrase", ["👍"], "👍")
    assert matches("has_any_word", ["👍"], "👍")
    assert not matches("has_any_word", ["👍"], "👎")


def test_50_has_multiple_selects_words() -> None:
    args = ["first second third"]
    found = cases.test_case("has_multiple", args, Input(text="second third"))
    assert found == CaseMatch({"selected": ["second", "third"]})
    assert not matches("has_multiple", args, "first third fourth")
    assert matches("has_any_word", args, "fifth first")


def test_51_has_number_eq_compares_the_first_argument_as_text() -> None:
    args = ["1", "2"]
    assert matches("has_number_eq", args, "1")
    assert matches("has_number_eq", args, " 1 ")
    for text in ("4", "second", "", "01", "2"):
        assert not matches("has_number_eq", args, text), text


def test_52_has_number() -> None:
    assert matches("has_number", [], "1221")
    assert matches("has_number", [], "4")
    assert matches("has_number", [], "I am 4")
    assert not matches("has_number", [], "second")
    assert not matches("has_number", [], "")


def test_53_has_all_words() -> None:
    args = ["one, two"]
    assert matches("has_all_words", args, "two one")
    assert matches("has_all_words", args, "one two three")
    assert not matches("has_all_words", args, "one")
    assert not matches("has_all_words", args, "one1")


def test_54_has_beginning_and_text_only_types() -> None:
    assert matches("has_beginning", ["one"], "one thi")
    assert matches("has_beginning", ["one"], "One thi")
    assert not matches("has_beginning", ["one"], "this one is")
    assert not matches("has_beginning", ["one"], "one thi", "audio")
    assert matches("has_beginning", ["one"], "one", "quick_reply")
    assert matches("has_beginning", ["one"], "one", "list")


def test_55_has_pattern() -> None:
    args = ["^[[:alnum:]]+$"]
    assert matches("has_pattern", args, "sentence123")
    assert not matches("has_pattern", args, "senTence 123 !@#")
    assert not matches("has_pattern", ["[a-"], "anything")
    assert not matches("has_pattern", ["(unclosed"], "anything")


def test_55_has_pattern_matches_case_insensitively_and_keeps_escapes() -> None:
    assert matches("has_pattern", ["^HELLO"], "hello there")
    # Glific lowercases the regex, which would turn \D into \d; we keep its meaning.
    assert matches("has_pattern", [r"^\D+$"], "abc")
    assert not matches("has_pattern", [r"^\D+$"], "123")


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("image", {"has_media", "has_image"}),
        ("audio", {"has_media", "has_audio"}),
        ("video", {"has_media", "has_video"}),
        ("document", {"has_media", "has_file"}),
        ("location", {"has_location"}),
        ("sticker", set()),
        ("text", set()),
    ],
)
def test_56_type_cases(kind: InputType, expected: set[str]) -> None:
    type_cases = {"has_media", "has_image", "has_audio", "has_video", "has_file", "has_location"}
    found = {c for c in type_cases if matches(c, [], "", kind)}
    assert found == expected


def test_57_has_phone_and_has_email() -> None:
    assert matches("has_phone", [], "919417443994")
    assert matches("has_phone", [], "+91 94174 43994")
    assert not matches("has_phone", [], "917443994")
    assert not matches("has_phone", [], "call me")
    assert matches("has_email", [], "abc@glific.com")
    assert matches("has_email", [], " abc@glific.com ")
    assert not matches("has_email", [], "abc@")
    assert not matches("has_email", [], "abc glific.com")


def test_58_has_number_between() -> None:
    args = ["1", "10"]
    for text in ("1", "2.5", "10", " 7 "):
        assert matches("has_number_between", args, text), text
    for text in ("2@", "23", "-42", "", "abc", "0.99"):
        assert not matches("has_number_between", args, text), text
    assert not matches("has_number_between", ["x", "10"], "5")


def test_59_only_phrase_group_and_unknown() -> None:
    for case in ("has_only_phrase", "has_only_text"):
        assert matches(case, ["Success"], "success")
        assert matches(case, ["Success"], " Success ")
        assert not matches(case, ["Success"], "Success!")
        assert not matches(case, ["Success"], "Success is here")
    assert matches("has_group", ["3", "Parents"], "", groups=[1, 3])
    assert not matches("has_group", ["4", "Teachers"], "", groups=[1, 3])
    assert not matches("has_group", ["x", "Bad"], "", groups=[1, 3])
    with pytest.raises(UnknownCase):
        cases.test_case("has_anything_else", [], Input(text="x"))


# --- the rest of the table ------------------------------------------------------------------


def test_has_category_always_and_has_text() -> None:
    assert matches("has_category", [], "", "image")
    assert matches("has_text", [], "hi")
    assert not matches("has_text", [], "   ")
    assert not matches("has_text", [], "hi", "image")


def test_rapidpro_number_comparisons() -> None:
    assert matches("has_number_lt", ["10"], "9")
    assert not matches("has_number_lt", ["10"], "10")
    assert matches("has_number_lte", ["10"], "I am 10.")
    assert matches("has_number_gt", ["10"], "age 11 years")
    assert not matches("has_number_gt", ["10"], "abc11")
    assert matches("has_number_gte", ["2.5"], "2.5")
    assert not matches("has_number_gte", ["x"], "2.5")


def test_intents_never_match() -> None:
    assert not matches("has_intent", ["greeting", "0.9"], "hello")
    assert "has_intent" in KNOWN_CASES


def test_has_multiple_ignores_an_empty_message() -> None:
    assert not matches("has_multiple", ["a b"], "")
    found = cases.test_case("has_multiple", ["a b c"], Input(text="C, a; c"))
    assert found == CaseMatch({"selected": ["c", "a"]})


def test_catastrophic_patterns_are_refused_quickly() -> None:
    evil = "a" * 40 + "!"
    for pattern in ("(a+)+$", "(a|aa)*$", "(a*)*b", r"(\w+\s?)+$", r"(a)\1"):
        assert not matches("has_pattern", [pattern], evil), pattern
    assert cases.regex_risk("(a+)+")[0]
    assert not cases.regex_risk("^[a-z]+[0-9]{2,3}$")[0]
    # Many unbounded repetitions are allowed only on short inputs.
    assert matches("has_pattern", [".*a.*b.*c"], "xaybzc")
    assert not matches("has_pattern", [".*a.*b.*c.*d"], "x" * 500)


def test_every_known_case_answers_without_raising() -> None:
    for case in KNOWN_CASES:
        for kind in ("text", "image", "location"):
            cases.test_case(case, ["1", "2"], Input(text="1", type=kind))
            cases.test_case(case, [], Input(text="", type=kind))


@settings(max_examples=200, deadline=None)
@given(
    case=st.sampled_from(sorted(KNOWN_CASES)),
    arguments=st.lists(st.text(max_size=30), max_size=3),
    text=st.text(max_size=60),
)
def test_cases_never_raise(case: str, arguments: list[str], text: str) -> None:
    found = cases.test_case(case, arguments, Input(text=text))
    assert found is None or isinstance(found, CaseMatch)


# --- keyword cleaning -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cleaned"),
    [
        ("Help!", "help"),
        ("h e l p", "help"),
        ("👍", ""),
        ("👍🏽", ""),
        ("  OptIn\n", "optin"),
        ("न म स्ते", "नमस्ते"),
        ("draft:help", "drafthelp"),
        ("a\u200db", "ab"),
    ],
)
def test_clean_keyword(text: str, cleaned: str) -> None:
    assert clean_keyword(text) == cleaned


@given(st.text(max_size=50))
def test_clean_keyword_is_idempotent(text: str) -> None:
    once = clean_keyword(text)
    assert clean_keyword(once) == once
    assert " " not in once
