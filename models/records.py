"""Read-only records: the rows the API's reads return, built by `records()` statements and
turned into named tuples by `models.db.read_rows`.

Most reads never look at a row's JSON columns (`fields`, `settings`): a list of 25 contacts
with their profiles decoded 125 JSON documents only to drop them, a sixth of its time. A
record statement therefore selects JSON columns as their stored text, and the record decodes
a column when (and each time) it is read, to the same value SQLAlchemy's JSON type gives.
Such a record suits a reader that hands values on (the API's read path); `complete()` makes
records whose JSON is decoded once, into values the caller owns.

`projected()` narrows a records() statement to some columns, keeping everything else about
it (filters, guard, order, limit): who chooses the rows and who chooses the columns need
not be the same code (models.reads).
"""

from __future__ import annotations

import json
from collections import namedtuple
from functools import cache, partial
from typing import Any

from sqlalchemy import JSON, Select, Text, cast, select

from models.direct import PREPARED

# Execution options of a record statement: the names of its JSON columns, selected as text;
# the model it reads.
JSON_TEXT = "record_json_text"
RECORD_MODEL = "record_model"


def _decode(text: Any) -> Any:
    # PostgreSQL returns the cast text, SQLite the stored text; NULL stays None.
    return json.loads(text) if isinstance(text, str) else text


@cache
def records(model: type, only: frozenset[str] | None = None) -> Select[Any]:
    """SELECT the columns of `model` (all, or `id` and those named in `only`) as records
    (attribute access, read-only).

    Reads that only feed the API use records instead of ORM objects: building ORM instances
    was a third of the time of list queries. The statement stays ORM-enabled, so the
    organization filter still applies. Writes load ORM objects. Statements are immutable,
    so each SELECT is built once. Run it with `read_rows`. A name in `only` that is not a
    column selects every column."""
    columns, json_names = _record_columns(model, only)
    return select(*columns).execution_options(**{JSON_TEXT: json_names, RECORD_MODEL: model})


@cache
def _record_columns(
    model: type, only: frozenset[str] | None
) -> tuple[tuple[Any, ...], frozenset[str]]:
    table_columns = model.__table__.columns  # type: ignore[attr-defined]
    if only is not None and not only <= {c.key for c in table_columns}:
        only = None
    columns, json_names = [], []
    for column in table_columns:
        if only is not None and column.key != "id" and column.key not in only:
            continue
        attribute = getattr(model, column.key)
        if isinstance(column.type, JSON) or isinstance(getattr(column.type, "impl", None), JSON):
            json_names.append(column.key)
            attribute = cast(attribute, Text).label(column.key)
        columns.append(attribute)
    return tuple(columns), frozenset(json_names)


# (id(statement), columns) -> (statement, its projection); the statement is kept so that its
# id cannot be reused while the entry lives.
_projections: dict[tuple[int, frozenset[str]], tuple[Any, Any]] = {}


def projected(statement: Any, only: frozenset[str]) -> Any:
    """The records() statement `statement` (filters, guard, order and limit included)
    selecting only `id` and the columns in `only` (all of them if one is not a column).
    Projections of statements built once and run many times (`prepared`) are kept, so their
    SQL is rendered once too."""
    hit = _projections.get((id(statement), only))
    if hit is not None:
        return hit[1]
    options = statement.get_execution_options()
    keep = options.get(PREPARED, False)
    columns, json_names = _record_columns(options[RECORD_MODEL], only)
    narrowed = statement.with_only_columns(*columns).execution_options(**{JSON_TEXT: json_names})
    if keep:
        if len(_projections) > 1024:
            _projections.clear()
        _projections[(id(statement), only)] = (statement, narrowed)
    return narrowed


@cache
def record_type(names: tuple[str, ...], json_names: frozenset[str]) -> Any:
    """A named tuple of `names` whose `json_names` hold JSON text, decoded when read."""
    base = namedtuple("Record", names)  # type: ignore[misc]  # names known only at run time
    lazy = {name: i for i, name in enumerate(names) if name in json_names}
    if not lazy:
        return base
    namespace: dict[str, Any] = {"__slots__": (), "_json_indexes": tuple(lazy.values())}
    for name, index in lazy.items():

        def read(self: tuple[Any, ...], i: int = index) -> Any:
            return _decode(tuple.__getitem__(self, i))

        namespace[name] = property(read)
    return type("Record", (base,), namespace)


def as_records(rows: list[Any], json_names: frozenset[str], names: Any = None) -> list[Any]:
    """Rows (SQLAlchemy rows, or tuples whose column `names` are given) as records."""
    if not rows:
        return []
    cls = record_type(tuple(names or rows[0]._fields), json_names)
    # tuple.__new__ straight from map: the same object as cls._make(row), without a Python
    # call per row.
    return list(map(partial(tuple.__new__, cls), rows))


def complete(rows: list[Any]) -> list[Any]:
    """Records (from `read_rows`) with their JSON columns decoded once: a record that decodes
    on every read would silently drop a caller's edit to its `fields`."""
    if not rows:
        return rows
    indexes = getattr(type(rows[0]), "_json_indexes", ())
    if not indexes:
        return rows
    cls = record_type(tuple(rows[0]._fields), frozenset())
    out = []
    for row in rows:
        values = list(row)  # iterating a record gives the stored JSON text
        for i in indexes:
            values[i] = _decode(values[i])
        out.append(tuple.__new__(cls, values))
    return out
