"""List options shared by every list query: Glific's `Opts` (order, orderWith, limit, offset),
the small filter helpers (case-insensitive substring, id lists), the hot statements by id,
and the shapes a read's rows are handed back in (models.Read)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import BigInteger, Boolean, Select, String, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.type_api import TypeDecorator
from sqlalchemy.sql.visitors import InternalTraversal

from models import guarded, prepared, records
from resolvers.errors import ClientError, InputErrors, not_found


class Order(StrEnum):
    ASC = "asc"
    DESC = "desc"


@dataclass(frozen=True)
class ListOpts:
    """`order` is an Order's value. `present` is False when the client sent no `opts` at all."""

    order: str = Order.ASC.value
    order_with: str | None = None
    limit: int | None = None
    offset: int = 0
    present: bool = True


NO_OPTS = ListOpts(present=False)


# The API's hot reads by id, built once per model (see models.guarded and models.records);
# whoever runs one may narrow it to some columns (models.Read).
@cache
def by_id(model: Any) -> Any:
    """Bind `id` and `org`."""
    statement = records(model).where(
        model.id == bindparam("id"), model.organization_id == bindparam("org")
    )
    return prepared(guarded(statement))


@cache
def by_ids(model: Any) -> Any:
    """Bind `ids`, a list."""
    statement = records(model).where(model.id.in_(bindparam("ids", expanding=True)))
    return prepared(guarded(statement))


# --- shapes of a read's result (models.Read) -------------------------------------------------


def as_list(rows: list[Any]) -> list[Any]:
    return rows


def keyed_by_id(rows: list[Any]) -> dict[Any, Any]:
    return {row.id: row for row in rows}


def grouped_by(attribute: str, keys: list[Any]) -> Callable[[list[Any]], dict[Any, list[Any]]]:
    """Rows grouped by `getattr(row, attribute)`, in their order; every key of `keys` present."""

    def shape(rows: list[Any]) -> dict[Any, list[Any]]:
        out: dict[Any, list[Any]] = {key: [] for key in keys}
        for row in rows:
            out[getattr(row, attribute)].append(row)
        return out

    return shape


def one_or(missing: Callable[[], Exception]) -> Callable[[list[Any]], Any]:
    """The first row; no row raises `missing()`."""

    def shape(rows: list[Any]) -> Any:
        if not rows:
            raise missing()
        return rows[0]

    return shape


class StatementCache:
    """Statements built for the same inputs, reused: a statement is immutable, and running
    the same object again also spares SQLAlchemy working out its cache key. Keys must hold
    everything the statement depends on; the cache empties itself when it is full."""

    def __init__(self, size: int = 512) -> None:
        self._size = size
        self._statements: dict[Any, Any] = {}

    def get(self, key: Any, build: Callable[[], Any]) -> Any:
        statement = self._statements.get(key)
        if statement is None:
            statement = prepared(build())  # may raise (bad options): nothing is cached then
            if len(self._statements) >= self._size:
                self._statements.clear()
            self._statements[key] = statement
        return statement


def like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def ilike(column: Any, term: str) -> Any:
    return column.ilike(like_pattern(term), escape="\\")


def _parse_id(value: Any) -> int | None:
    """A database id from `6` or `"6"`; None for anything else ("1_000", "٣", "-1", 2**63)."""
    if isinstance(value, bool):
        return None
    text = str(value).strip() if isinstance(value, (int, str)) else ""
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 0 < number <= 2**63 - 1 else None


def to_int_id(value: Any, key: str = "id") -> int:
    """IDs arrive as strings (`"6"`) or ints; anything else is a clear input error."""
    number = _parse_id(value)
    if number is None:
        raise InputErrors.field(key, "is invalid")
    return number


def lookup_id(value: Any) -> int:
    """An id to look up a row by: a value that cannot be an id gives 0, which names no
    row, so the lookup answers its "not found" rather than an input error."""
    return _parse_id(value) or 0


def int_ids(values: list[Any] | None) -> list[int]:
    """Parse a list of IDs for a filter; ids that cannot exist simply match nothing."""
    return [n for v in values or [] if (n := _parse_id(v)) is not None]


class _IdSet(TypeDecorator[frozenset[int]]):
    """A set of ids bound as ONE parameter: a BIGINT[] on PostgreSQL, a JSON array on SQLite.
    (A set, not a list: the direct SQLite reads expand list parameters item by item.)"""

    impl = String
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(ARRAY(BigInteger()))
        return dialect.type_descriptor(String())

    def process_bind_param(self, value: frozenset[int] | None, dialect: Any) -> Any:
        ids = sorted(value or ())
        return ids if dialect.name == "postgresql" else json.dumps(ids)


class _InIdSet(ColumnElement[bool]):
    __visit_name__ = "in_id_set"
    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True  # a condition itself: no `= 1` after it on SQLite
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("ids", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: Any, ids: Any) -> None:
        self.column = column
        self.ids = ids


@compiles(_InIdSet)
def _in_json_array(element: _InIdSet, compiler: Any, **kw: Any) -> str:
    column, ids = compiler.process(element.column, **kw), compiler.process(element.ids, **kw)
    return f"{column} IN (SELECT value FROM json_each({ids}))"


@compiles(_InIdSet, "postgresql")
def _equals_any(element: _InIdSet, compiler: Any, **kw: Any) -> str:
    column, ids = compiler.process(element.column, **kw), compiler.process(element.ids, **kw)
    return f"{column} = ANY({ids})"


def in_ids(column: Any, values: list[Any] | None) -> Any:
    """`column IN (ids a client sent)`, for lists of any length: `IN (1, 2, ...)` takes one
    parameter per id, and PostgreSQL refuses a statement with more than 65,535 of them.
    Ids that cannot exist are dropped (they would match nothing)."""
    return _InIdSet(column, bindparam(None, frozenset(int_ids(values)), type_=_IdSet()))


def in_ids_param(column: Any, name: str) -> Any:
    """`column IN` the ids given as parameter `name` when the statement runs (a frozenset
    of ints, bound as one value as in `in_ids`): a statement built once for any ids."""
    return _InIdSet(column, bindparam(name, type_=_IdSet()))


def apply_opts(
    stmt: Select[Any],
    opts: ListOpts,
    *,
    columns: dict[str, Any],
    default_field: str,
    default_limit: int | None = None,
    max_limit: int | None = None,
    tiebreak: Any = None,
) -> Select[Any]:
    """Glific's ordering rule: with opts, order by lower(default field) (or the raw column for
    ids and timestamps) unless `orderWith` names a column; without opts, no client ordering
    (we still order by the tiebreak so pages are stable)."""
    if opts.present:
        field = opts.order_with or default_field
        column = columns.get(field)
        if column is None:
            raise ClientError(f"orderWith: cannot order by '{field}'")
        if opts.order_with is None and field not in ("id", "inserted_at", "updated_at"):
            key = func.lower(column)
        else:
            key = column
        stmt = stmt.order_by(key.desc() if opts.order == Order.DESC else key.asc())
    if tiebreak is not None:
        stmt = stmt.order_by(tiebreak)
    limit = opts.limit if opts.limit is not None else default_limit
    if limit is not None:
        if limit < 0:
            raise ClientError("limit: must not be negative")
        if max_limit is not None:
            limit = min(limit, max_limit)
        stmt = stmt.limit(limit)
    if opts.offset:
        if opts.offset < 0:
            raise ClientError("offset: must not be negative")
        stmt = stmt.offset(opts.offset)
    return stmt


_Row = TypeVar("_Row")


async def fetch_for_write(
    session: AsyncSession,
    model: type[_Row],
    org_id: int,
    raw_id: Any,
    entity: str,
    *,
    lock: bool = False,
) -> _Row:
    """The ORM row `raw_id` of `model` in the organization, loaded to be changed; a miss (or
    an id that cannot exist) is Glific's `Elixir.Glific.<entity>` / `Resource not found`.
    With `lock`, the row stays locked until the transaction ends (`SELECT ... FOR UPDATE` on
    PostgreSQL; SQLite has one writer at a time anyway), for writes that depend on what
    they read."""
    try:
        row_id = to_int_id(raw_id)
    except InputErrors:
        raise not_found(entity) from None
    table: Any = model  # any table with `id` and `organization_id`
    statement = select(model).where(table.id == row_id, table.organization_id == org_id)
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    row = await session.scalar(statement)
    if row is None:
        raise not_found(entity)
    return row
