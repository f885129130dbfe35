"""The case tests a `switch` router tries in order (spec §1.6, Glific's `case.ex`), plus the
RapidPro number comparisons (`has_number_lt` ...) that the flow editor offers.

`test_case(type, arguments, input, contact_groups=...)` returns a `CaseMatch` when the case
matches (its `extra` goes into the stored result, e.g. `{"selected": [...]}` for
`has_multiple`), None when it does not, and raises `UnknownCase` for a type it does not know.
Text cases only match messages of type text, quick_reply or list. "strip" below is trim and
lowercase; words are split on whitespace, "," and ";".

Where we differ from Glific, deliberately:
- `has_pattern` matches case-insensitively instead of lowercasing the regex (which turns
  `\\D` into `\\d`), understands POSIX classes such as `[[:alnum:]]` (Python's `re` does
  not), and refuses (no match) patterns that could backtrack catastrophically: nested
  unbounded repetition, backreferences, too many unbounded repetitions for the input's
  length, and over-long patterns or inputs.
- `has_multiple` does not match an empty message.
- `has_intent` / `has_top_intent` never match (no NLP classifier here).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import phonenumbers

from resolvers.flow_engine.state import Input
from resolvers.flow_engine.text import clean_keyword, strip, words

__test__ = False  # `test_case` is not a pytest test.

TEXT_TYPES = frozenset({"text", "quick_reply", "list"})
MEDIA_TYPES = frozenset({"audio", "document", "image", "video"})
PHONE_REGION = "IN"
MAX_PATTERN = 300
MAX_PATTERN_INPUT = 4096


@dataclass(frozen=True)
class CaseMatch:
    """A matching case; `extra` is merged into the stored result."""

    extra: dict[str, Any] = field(default_factory=dict)


class UnknownCase(Exception):
    """A router uses a case type the engine does not implement."""


def test_case(
    case_type: str,
    arguments: Sequence[str],
    input: Input,
    *,
    contact_groups: Sequence[int] = (),
) -> CaseMatch | None:
    """Whether `input` matches the case (module docstring)."""
    if case_type in _TEXT_CASES:
        if input.type not in TEXT_TYPES:
            return None
        return _TEXT_CASES[case_type](list(arguments), input.text or "")
    if case_type in _TYPE_CASES:
        return _MATCH if input.type in _TYPE_CASES[case_type] else None
    if case_type == "has_category":
        return _MATCH
    if case_type == "has_group":
        return _has_group(arguments, contact_groups)
    if case_type in ("has_intent", "has_top_intent"):
        return None
    raise UnknownCase(f"unknown case type {case_type!r}")


_MATCH = CaseMatch()


def _yes(flag: bool) -> CaseMatch | None:
    return _MATCH if flag else None


def _first(args: list[str]) -> str:
    return args[0] if args else ""


# --- words and phrases ----------------------------------------------------------------------


def _has_any_word(args: list[str], body: str) -> CaseMatch | None:
    wanted = set(words(" ".join(args)))
    return _yes(bool(wanted) and not wanted.isdisjoint(words(body)))


def _has_all_words(args: list[str], body: str) -> CaseMatch | None:
    wanted = set(words(" ".join(args)))
    return _yes(bool(wanted) and wanted <= set(words(body)))


def _has_multiple(args: list[str], body: str) -> CaseMatch | None:
    given = words(body)
    allowed = set(words(" ".join(args)))
    if not given or not set(given) <= allowed:
        return None
    return CaseMatch({"selected": list(dict.fromkeys(given))})


def _has_phrase(args: list[str], body: str) -> CaseMatch | None:
    return _yes(strip(_first(args)) in strip(body))


def _has_only_phrase(args: list[str], body: str) -> CaseMatch | None:
    return _yes(strip(body) == strip(_first(args)))


def _has_beginning(args: list[str], body: str) -> CaseMatch | None:
    return _yes(strip(body).startswith(strip(_first(args))))


def _has_text(args: list[str], body: str) -> CaseMatch | None:
    return _yes(bool(body.strip()))


# --- numbers --------------------------------------------------------------------------------

_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d{1,4})?")
_NUMBER_TOKEN = re.compile(r"[^\s,;:!?()\[\]{}\"'/]+")


def _decimal(text: str) -> Decimal | None:
    text = text.strip()
    if len(text) > 64 or not _NUMBER.fullmatch(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the regex admits only valid numbers
        return None


def _has_number(args: list[str], body: str) -> CaseMatch | None:
    return _yes(any(ch.isdecimal() for ch in clean_keyword(body)))


def _has_number_eq(args: list[str], body: str) -> CaseMatch | None:
    # Glific compares the stripped strings: "01" is not "1".
    return _yes(bool(args) and strip(body) == strip(args[0]))


def _has_number_between(args: list[str], body: str) -> CaseMatch | None:
    if len(args) < 2:
        return None
    low, high, n = _decimal(args[0]), _decimal(args[1]), _decimal(body)
    return _yes(None not in (low, high, n) and low <= n <= high)  # type: ignore[operator]


def _numbers_in(body: str) -> list[Decimal]:
    found: list[Decimal] = []
    for token in _NUMBER_TOKEN.findall(body[:MAX_PATTERN_INPUT]):
        n = _decimal(token.rstrip("."))
        if n is not None:
            found.append(n)
    return found


def _compare(test: Callable[[Decimal, Decimal], bool]) -> Callable[[list[str], str], Any]:
    """RapidPro's has_number_lt & co.: some number word of the message satisfies the test."""

    def case(args: list[str], body: str) -> CaseMatch | None:
        bound = _decimal(_first(args))
        if bound is None:
            return None
        return _yes(any(test(n, bound) for n in _numbers_in(body)))

    return case


# --- phone, email, pattern ------------------------------------------------------------------


def _has_phone(args: list[str], body: str) -> CaseMatch | None:
    text = body.strip()
    if not text or len(text) > 40:
        return None
    try:
        number = phonenumbers.parse(text, PHONE_REGION)
    except phonenumbers.NumberParseException:
        return None
    return _yes(phonenumbers.is_valid_number(number))


_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+"
)


def _has_email(args: list[str], body: str) -> CaseMatch | None:
    text = body.strip()
    return _yes(len(text) <= 254 and _EMAIL.fullmatch(text) is not None)


_POSIX = {
    "alnum": "a-zA-Z0-9",
    "alpha": "a-zA-Z",
    "digit": "0-9",
    "lower": "a-z",
    "upper": "A-Z",
    "space": r" \t\n\r\f\v",
    "blank": r" \t",
    "punct": r"!-/:-@\[-`{-~",
    "xdigit": "0-9A-Fa-f",
    "word": r"\w",
    "cntrl": r"\x00-\x1f\x7f",
    "print": r"\x20-\x7e",
    "graph": r"\x21-\x7e",
}
_POSIX_CLASS = re.compile(r"\[:(\^?)([a-z]+):\]")


def _translate_posix(pattern: str) -> str:
    def sub(m: re.Match[str]) -> str:
        name = m.group(2)
        if name not in _POSIX or m.group(1):
            raise ValueError(f"unsupported POSIX class {m.group(0)}")
        return _POSIX[name]

    return _POSIX_CLASS.sub(sub, pattern)


_BRACES = re.compile(r"\{(\d*)(,?)(\d*)\}")


def _repetition(pattern: str, i: int) -> tuple[bool, int]:
    """(repeats more than once, end) for the quantifier at `i`; a `{` that is not a
    quantifier is a literal."""
    if pattern[i] != "{":
        return True, i + 1
    m = _BRACES.match(pattern, i)
    if m is None or not (m.group(1) or m.group(3)):
        return False, i + 1
    low = int(m.group(1) or 0)
    if m.group(2) and not m.group(3):
        return True, m.end()
    high = int(m.group(3)) if m.group(3) else low
    return high > 1, m.end()


def regex_risk(pattern: str) -> tuple[bool, int]:
    """(refused, unbounded repetitions) for a regex: refused when it nests unbounded
    repetition (`(a+)+`, `(a|ab)*`) or uses backreferences, which can take exponential time
    in a backtracking engine such as Python's `re`."""
    stack: list[list[bool]] = []  # per open group: [has_repetition, has_alternation]
    unbounded = 0
    i, n = 0, len(pattern)
    last_group: list[bool] | None = None
    while i < n:
        ch = pattern[i]
        closed: list[bool] | None = None
        if ch == "\\":
            nxt = pattern[i + 1 : i + 2]
            if (nxt.isdigit() and nxt != "0") or nxt in ("g", "k"):
                return True, unbounded
            i += 2
        elif ch == "[":
            i += 1
            if pattern[i : i + 1] == "^":
                i += 1
            if pattern[i : i + 1] == "]":
                i += 1
            while i < n and pattern[i] != "]":
                i += 2 if pattern[i] == "\\" else 1
            i += 1
        elif ch == "(":
            if pattern.startswith("(?P=", i):
                return True, unbounded
            stack.append([False, False])
            i += 1
        elif ch == ")":
            closed = stack.pop() if stack else None
            i += 1
        elif ch == "|":
            if stack:
                stack[-1][1] = True
            i += 1
        elif ch in "*+{":
            repeats, end = _repetition(pattern, i)
            if repeats:
                unbounded += 1
                if last_group is not None and (last_group[0] or last_group[1]):
                    return True, unbounded
                for group in stack:
                    group[0] = True
            i = end
        else:
            i += 1
        last_group = closed
    return False, unbounded


def _has_pattern(args: list[str], body: str) -> CaseMatch | None:
    pattern = _first(args).strip()
    text = strip(body)
    if not pattern or len(pattern) > MAX_PATTERN or len(text) > MAX_PATTERN_INPUT:
        return None
    try:
        translated = _translate_posix(pattern)
        refused, repetitions = regex_risk(translated)
        if refused:
            return None
        # Polynomial backtracking: n ** (repetitions + 1) steps at worst; keep it ~1e7.
        if repetitions and len(text) ** (repetitions + 1) > 10_000_000:
            return None
        compiled = re.compile(translated, re.IGNORECASE)
    except (re.error, ValueError, OverflowError, RecursionError):
        return None
    return _yes(compiled.search(text) is not None)


# --- groups ---------------------------------------------------------------------------------


def _has_group(arguments: Sequence[str], contact_groups: Sequence[int]) -> CaseMatch | None:
    if not arguments:
        return None
    try:
        group_id = int(str(arguments[0]).strip())
    except ValueError:
        return None
    return _yes(group_id in contact_groups)


_TEXT_CASES: dict[str, Callable[[list[str], str], CaseMatch | None]] = {
    "has_any_word": _has_any_word,
    "has_all_words": _has_all_words,
    "has_phrase": _has_phrase,
    "has_only_phrase": _has_only_phrase,
    "has_only_text": _has_only_phrase,
    "has_beginning": _has_beginning,
    "has_text": _has_text,
    "has_number": _has_number,
    "has_number_eq": _has_number_eq,
    "has_number_between": _has_number_between,
    "has_number_lt": _compare(lambda n, b: n < b),
    "has_number_lte": _compare(lambda n, b: n <= b),
    "has_number_gt": _compare(lambda n, b: n > b),
    "has_number_gte": _compare(lambda n, b: n >= b),
    "has_multiple": _has_multiple,
    "has_phone": _has_phone,
    "has_email": _has_email,
    "has_pattern": _has_pattern,
}

_TYPE_CASES: dict[str, frozenset[str]] = {
    "has_location": frozenset({"location"}),
    "has_media": MEDIA_TYPES,
    "has_image": frozenset({"image"}),
    "has_audio": frozenset({"audio"}),
    "has_video": frozenset({"video"}),
    "has_file": frozenset({"document"}),
}

KNOWN_CASES: frozenset[str] = frozenset(
    {*_TEXT_CASES, *_TYPE_CASES, "has_category", "has_group", "has_intent", "has_top_intent"}
)
