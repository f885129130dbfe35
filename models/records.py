"""Read-only records: the rows the API's reads return, built by `records()` statements and
turned into named tuples by `models.db.read_rows`.

Most reads never look at a row's JSON columns (`fields`, `settings`): a list of 25 contacts
with their profiles decoded 125 JSON documents only to drop them, a sixth of its time. A
record statement therefore selects JSON columns as their stored text, and the record decodes
a column when (and each time) it is read, to the same value SQLAlchemy's JSON type gives.
"""

from __future__ import annotations

import json
from collections import namedtuple
from functools import cache, partial
from typing import Any

from sqlalchemy import JSON, Select, Text, cast, select

# Execution option of a record statement: the names of its JSON columns, selected as text.
JSON_TEXT = "record_json_text"


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
    return select(*columns).execution_options(**{JSON_TEXT: frozenset(json_names)})


@cache
def record_type(names: tuple[str, ...], json_names: frozenset[str]) -> Any:
    """A named tuple of `names` whose `json_names` hold JSON text, decoded when read."""
    base = namedtuple("Record", names)  # type: ignore[misc]
    lazy = {name: i for i, name in enumerate(names) if name in json_names}
    if not lazy:
        return base
    namespace: dict[str, Any] = {"__slots__": ()}
    for name, index in lazy.items():
        namespace[name] = property(lambda self, i=index: _decode(tuple.__getitem__(self, i)))
    return type("Record", (base,), namespace)


def as_records(rows: list[Any], json_names: frozenset[str], names: Any = None) -> list[Any]:
    """Rows (SQLAlchemy rows, or tuples whose column `names` are given) as records."""
    if not rows:
        return []
    cls = record_type(tuple(names or rows[0]._fields), json_names)
    # tuple.__new__ straight from map: the same object as cls._make(row), without a Python
    # call per row.
    return list(map(partial(tuple.__new__, cls), rows))
