"""An ORM object read and written through the driver (`models.direct`): the contact a flow
step locks at its start and updates at its end. Through the ORM, loading it and flushing its
changed counters cost a third of an inbound message's time; the resolvers the step calls
still get an ordinary persistent object of the session.

`load` turns the row of a prepared `records(model)` statement into a persistent object, as
if the ORM had loaded it; `save` writes the object's changed columns with one prepared
UPDATE by id and marks them saved, so the ORM's flush has nothing left to write for it.
"""

from __future__ import annotations

from functools import cache
from typing import Any, TypeVar

from sqlalchemy import bindparam, inspect, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from models.db import guarded, read_rows, write_rows
from models.direct import prepared
from models.records import complete

T = TypeVar("T")


async def load(
    session: AsyncSession, model: type[T], statement: Any, params: dict[str, Any]
) -> T | None:
    """The first row of `statement` (a prepared `records(model)` read of every column) as a
    persistent `model` object of `session`. An object the session already holds for that
    row is refreshed from it instead (as `populate_existing` does)."""
    rows = complete(await read_rows(session, statement, params))
    if not rows:
        return None
    row = rows[0]
    mapper = inspect(model)
    key = mapper.identity_key_from_primary_key((row.id,))
    held = session.identity_map.get(key)
    obj = held if held is not None else mapper.class_manager.new_instance()
    for name, value in zip(row._fields, row, strict=True):
        set_committed_value(obj, name, value)
    if held is None:
        make_transient_to_detached(obj)
        session.add(obj)
    return obj  # type: ignore[no-any-return]


@cache
def _update(model: Any, keys: frozenset[str]) -> Any:
    table = model.__table__
    return prepared(
        guarded(
            update(model)
            .where(table.c.id == bindparam("row_id"))
            .values({key: bindparam(key) for key in sorted(keys)})
        )
    )


@cache
def _columns(model: Any) -> tuple[frozenset[str], tuple[Any, ...]]:
    table = model.__table__
    return (
        frozenset(c.key for c in table.columns),
        tuple(c for c in table.columns if c.onupdate is not None),
    )


async def save(session: AsyncSession, obj: Any) -> None:
    """Write `obj`'s changed columns now, with one prepared UPDATE (the ORM's flush then
    skips it). Columns with an update default (`updated_at`) get it, as a flush gives it.
    An object with changes beyond its own columns is left to the flush."""
    state = inspect(obj)
    if not state.persistent or not state.committed_state:
        return
    model: Any = type(obj)
    columns, defaulted = _columns(model)
    for column in defaulted:
        if column.key not in state.committed_state:
            setattr(obj, column.key, column.onupdate.arg(None))
    keys = frozenset(state.committed_state)
    if not keys <= columns:
        return
    values = {key: getattr(obj, key) for key in keys}
    await write_rows(session, _update(model, keys), {**values, "row_id": obj.id})
    # What the ORM's flush does once it has written an object: its state is the stored one
    # (and the session no longer counts it as modified, so the commit's flush is skipped).
    state._commit_all(state.dict, session.sync_session.identity_map)
