"""Small checks shared by the resolvers: strings, JSON maps, booleans, foreign keys,
values that must be unique ("has already been taken"), and regular expressions safe to run
on a person's text."""

from __future__ import annotations

import importlib
import re
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Language
from resolvers.errors import InputErrors
from resolvers.querying import to_int_id


def text(params: dict[str, Any], key: str, *, required: bool = False, max_len: int = 255) -> Any:
    """The stripped string at `key`, None, or an input error. Absent keys stay absent."""
    value = params.get(key)
    if value is None:
        if required:
            raise InputErrors.field(key, "can't be blank")
        return None
    if not isinstance(value, str):
        raise InputErrors.field(key, "is invalid")
    value = value.strip()
    if required and not value:
        raise InputErrors.field(key, "can't be blank")
    if len(value) > max_len:
        raise InputErrors.field(key, f"should be at most {max_len} character(s)")
    return value


def json_map(params: dict[str, Any], key: str, *, values_are_maps: bool = False) -> dict[str, Any]:
    """A JSON object (already decoded from the `Json` string); `fields` values must be maps."""
    value = params.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InputErrors.field(key, "should be a JSON object")
    if values_are_maps and any(not isinstance(v, dict) for v in value.values()):
        raise InputErrors.field(key, "value should be a map")
    return value


def boolean(params: dict[str, Any], key: str) -> bool | None:
    value = params.get(key)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise InputErrors.field(key, "is invalid")
    return value


async def language_id(
    session: AsyncSession, params: dict[str, Any], key: str = "language_id"
) -> int:
    """The id of an existing language, or `Language_id: does not exist`."""
    value = params.get(key)
    if value is None:
        raise InputErrors.field(key, "can't be blank")
    lid = to_int_id(value, key)
    found = await session.scalar(select(col(Language.id)).where(col(Language.id) == lid))
    if found is None:
        raise InputErrors.field(key, "does not exist")
    return lid


def taken(key: str) -> InputErrors:
    """Glific's uniqueness error: `Phone: has already been taken`."""
    return InputErrors.field(key, "has already been taken")


async def refuse_taken(session: AsyncSession, key: str, clash: Select[Any]) -> None:
    """`taken(key)` when `clash` (a SELECT of the rows already holding the value) finds one."""
    if await session.scalar(clash.limit(1)) is not None:
        raise taken(key)


async def flush_unique(session: AsyncSession, key: str) -> None:
    """Flush; a unique index refusing the rows (a concurrent writer took the value between
    `refuse_taken` and now) is `taken(key)` too."""
    try:
        await session.flush()
    except IntegrityError:
        raise taken(key) from None


# Python's `re` backtracks and cannot be stopped part way, so an organization's pattern
# runs on a person's text only if its worst case stays small on a short text (the caller
# matches at most `REGEX_TEXT_LIMIT` characters): at most two open-ended repetitions, none
# inside another repetition, none over alternatives, and no back-references.
REGEX_TEXT_LIMIT = 200
MAX_OPEN_REPEATS = 2
BOUNDED_REPEAT = 10  # a repetition of at most this many counts as bounded (`\d{6}`)
# (CPython's own regular-expression parser; no type stubs.)
_RE_PARSER: Any = importlib.import_module("re._parser")
_RE: Any = importlib.import_module("re._constants")


def regex_problem(pattern: str) -> str | None:
    """Why the pattern may not run on a person's text (see above), or None."""
    try:
        re.compile(pattern)
        parsed = _RE_PARSER.parse(pattern)
    except (re.error, RecursionError, OverflowError) as exc:
        return f"is not a valid regular expression ({exc})"
    problems: list[str] = []
    open_repeats = _walk(parsed, outer=None, problems=problems)
    if not problems and open_repeats > MAX_OPEN_REPEATS:
        problems.append(f"has more than {MAX_OPEN_REPEATS} open-ended repetitions (+, *, {{n,}})")
    if problems:
        return f"{problems[0]}, which could take too long to match"
    return None


def _walk(items: Any, *, outer: Any, problems: list[str]) -> int:
    """The open-ended repetitions in `items`; what makes the pattern slow goes in
    `problems`. `outer` is the (low, high) of the repetition `items` sit in."""
    count = 0
    for op, value in items:
        if op in (_RE.MAX_REPEAT, _RE.MIN_REPEAT, _RE.POSSESSIVE_REPEAT):
            _, high, body = value
            unbounded = high == _RE.MAXREPEAT or high > BOUNDED_REPEAT
            if outer is not None and high > 1 and (unbounded or outer[1] > BOUNDED_REPEAT):
                problems.append("repeats a repetition (like (a+)+)")
            if unbounded and any(op == _RE.BRANCH for op, _ in _flatten(body)):
                problems.append("repeats alternatives (like (a|aa)+)")
            count += unbounded + _walk(
                body, outer=(0, high) if high > 1 else outer, problems=problems
            )
        elif op in (_RE.GROUPREF, _RE.GROUPREF_EXISTS):
            problems.append("refers back to a group")
        else:
            for child in _children(op, value):
                count += _walk(child, outer=outer, problems=problems)
    return count


def _flatten(items: Any) -> list[tuple[Any, Any]]:
    found = []
    for op, value in items:
        found.append((op, value))
        for child in _children(op, value):
            found.extend(_flatten(child))
        if op in (_RE.MAX_REPEAT, _RE.MIN_REPEAT, _RE.POSSESSIVE_REPEAT):
            found.extend(_flatten(value[2]))
    return found


def _children(op: Any, value: Any) -> list[Any]:
    """The sub-patterns of a group, an alternation or a look-around."""
    if op == _RE.SUBPATTERN:
        return [value[-1]]
    if op == _RE.ATOMIC_GROUP:
        return [value]
    if op == _RE.BRANCH:
        return list(value[1])
    if op in (_RE.ASSERT, _RE.ASSERT_NOT):
        return [value[1]]
    return []


# --- text a database can store -------------------------------------------------------------

NUL_ERROR = "String values cannot contain the NUL character (\\u0000)"
SURROGATE_ERROR = "String values cannot contain unpaired UTF-16 surrogates (\\ud800-\\udfff)"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable_text(value: Any) -> str | None:
    """Why a string, or any string inside lists and maps, cannot be stored as text: NUL
    (PostgreSQL refuses it in text and jsonb) or a lone surrogate (not encodable as UTF-8).
    None when everything can be stored."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str):
            found = _UNSTORABLE.search(item)
            if found is not None:
                return NUL_ERROR if found.group() == "\x00" else SURROGATE_ERROR
    return None
