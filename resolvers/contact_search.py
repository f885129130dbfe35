"""Substring search on contacts' name and phone, answered from an index (migration 0007).

The condition is always Glific's case-insensitive substring match (`querying.ilike`), so
results are exactly a scan's. On SQLite it is preceded by a lookup in the FTS5 trigram table
`contacts_search`: `contacts.id IN (SELECT rowid ... MATCH '"term"')`. The trigram
tokenizer folds case for all of Unicode while SQLite's `lower()` and `LIKE` fold ASCII only,
so the lookup finds a superset of the rows the condition keeps: it narrows, the condition
decides. Terms shorter than three characters have no trigram to look up and are scanned.
On PostgreSQL the condition is unchanged: pg_trgm's GIN indexes serve `ILIKE '%x%'`.

An unfiltered count reads SQLite's per-organization counts (`counted_contacts`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Boolean, String, bindparam, column, func, or_, select, table
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlmodel import col

from models import Contact
from models.contact import CONTACT_COUNTS_TABLE, CONTACT_SEARCH_TABLE
from resolvers.querying import like_pattern

# The trigram tokenizer indexes runs of three characters: a shorter term matches nothing.
MIN_INDEXED_LENGTH = 3

_search = table(CONTACT_SEARCH_TABLE, column("rowid"), column(CONTACT_SEARCH_TABLE))
_counts = table(
    CONTACT_COUNTS_TABLE, column("organization_id"), column("status"), column("contacts")
)
_COLUMNS = {"name": col(Contact.name), "phone": col(Contact.phone)}


class _Narrowed(ColumnElement[bool]):
    """`condition`, preceded on SQLite by `candidates` (a superset of the rows it keeps)."""

    __visit_name__ = "contact_search_narrowed"
    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True  # a condition itself: no `= 1` after it on SQLite
    _traverse_internals = [
        ("candidates", InternalTraversal.dp_clauseelement),
        ("condition", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, candidates: Any, condition: Any) -> None:
        self.candidates = candidates
        self.condition = condition


@compiles(_Narrowed)
def _condition_only(element: _Narrowed, compiler: Any, **kw: Any) -> str:
    return f"({compiler.process(element.condition, **kw)})"


@compiles(_Narrowed, "sqlite")
def _index_then_condition(element: _Narrowed, compiler: Any, **kw: Any) -> str:
    candidates = compiler.process(element.candidates, **kw)
    return f"({candidates} AND ({compiler.process(element.condition, **kw)}))"


def fts_query(term: str, columns: Sequence[str] = ()) -> str:
    """An FTS5 query matching `term` as one literal string: a phrase in double quotes (a
    quote inside doubled), so quotes, `*`, `-`, `:`, `^`, NEAR, AND, OR or NOT typed by a
    user are text, never query syntax; optionally limited to `columns`."""
    phrase = '"' + term.replace('"', '""') + '"'
    return "{" + " ".join(columns) + "} : " + phrase if columns else phrase


def indexable(term: str) -> bool:
    # LIKE ends a pattern at a NUL character where FTS5 would not: scanning keeps the
    # scan's answer.
    return len(term) >= MIN_INDEXED_LENGTH and "\x00" not in term


def contains(key: str, term: str, *names: str) -> Any:
    """Contacts whose `names` columns ("name", "phone"), any of them, contain `term`,
    case-insensitively (`querying.ilike`), from the index where it can answer; the term is
    bound as parameters named after `key` (their values: `contains_values`). The condition
    is the same for every term the index can answer (and for every one it cannot:
    `term_shape`), so a statement holding it is built once for all of them."""
    like = bindparam(f"{key}_like", type_=String())
    condition = or_(*(_COLUMNS[name].ilike(like, escape="\\") for name in names))
    if not indexable(term):
        return condition
    match = _search.c[CONTACT_SEARCH_TABLE].match(bindparam(f"{key}_match", type_=String()))
    candidates = col(Contact.id).in_(select(_search.c.rowid).where(match))
    return _Narrowed(candidates, condition)


def contains_values(key: str, term: str, *names: str) -> dict[str, Any]:
    """The parameters of `contains(key, term, *names)`."""
    values: dict[str, Any] = {f"{key}_like": like_pattern(term)}
    if indexable(term):
        # The FTS table has exactly these two columns: both named means no column filter.
        limit = () if set(names) == set(_COLUMNS) else names
        values[f"{key}_match"] = fts_query(term, limit)
    return values


def term_shape(term: str) -> str:
    """What `contains` builds for `term` depends on this alone."""
    return "indexed" if indexable(term) else "scanned"


async def counted_contacts(session: AsyncSession, org_id: int, status: str | None) -> int | None:
    """The organization's contacts with `status` (None: all but blocked ones, as the lists
    show), from the counts SQLite's triggers keep; None where there are none (PostgreSQL)."""
    if session.get_bind().dialect.name != "sqlite":
        return None
    by_status = _counts.c.status == status if status else _counts.c.status != "blocked"
    total = select(func.coalesce(func.sum(_counts.c.contacts), 0)).where(
        _counts.c.organization_id == org_id, by_status
    )
    return int((await session.execute(total)).scalar_one())
