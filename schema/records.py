"""Rows handed to GraphQL as plain named tuples.

graphql-core asks every value whether it is awaitable (`hasattr(value, "__await__")`); on a
SQLAlchemy Row that miss goes through Python-level fallbacks and an exception, several
microseconds per row and per field. A named tuple answers in C. Converting costs less than
one such miss."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Row

from models.records import record_type

_NO_JSON: frozenset[str] = frozenset()


def plain(value: Any) -> Any:
    """A Row (or a list of them, or a dict of either) as named tuples; anything else as is."""
    return _plain(value, {})


def _plain(value: Any, makers: dict[int, Callable[[Any], Any]]) -> Any:
    if isinstance(value, Row):
        # Rows of one result share their metadata: look the record type up once per result.
        parent = value._parent
        make = makers.get(id(parent))
        if make is None:
            make = makers[id(parent)] = record_type(tuple(value._fields), _NO_JSON)._make
        return make(value)
    # What a read returns holds rows of one kind: when the first one found is not a Row
    # (records from models.read_rows already are named tuples), nothing needs converting.
    if isinstance(value, (list, dict)) and not isinstance(_first_row(value), Row):
        return value
    if isinstance(value, list):
        return [_plain(v, makers) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v, makers) for k, v in value.items()}
    return value


def _first_row(value: Any) -> Any:
    """The first value in `value` that is neither None nor a list or dict (None if none)."""
    items = value.values() if isinstance(value, dict) else value
    for item in items:
        if isinstance(item, (list, dict)):
            item = _first_row(item)
        if item is not None:
            return item
    return None
