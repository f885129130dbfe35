"""Direct reads and writes for the statements run on every request or every message
(`prepared()` marks them: built once and kept, e.g. `by_ids(Profile)`, or a flow step's
INSERT of its reply), on the driver's connection underneath SQLAlchemy's: the embedded SQLite
connection, or psycopg's on PostgreSQL.

SQLAlchemy's execution path (execution context, cursor wrapper, result, rows) costs more
than SQLite itself for a small indexed read, and more than a PostgreSQL round trip on
loopback; through an ORM session a one-row UPDATE cost 200 times what the driver spends on
it (README, Performance, "Flows"). A prepared statement's SQL is rendered once per dialect
and per number of values of its list parameters, with SQLAlchemy's own compiler (so the
organization guard and every filter are exactly those of the statement), and then run by
the driver; each column is converted by the result processor SQLAlchemy would use. The
statement runs on the session's own connection, so it is part of the session's
transaction, if one is open.
"""

from __future__ import annotations

import re
import sqlite3
from decimal import Decimal
from typing import Any

import psycopg
from sqlalchemy.sql import sqltypes

from models.errors import translate
from models.sqlite_inline import InlineConnection

# Where a named parameter appears in SQL rendered for psycopg (`%(name)s`).
_NAMED = re.compile(r"%\((\w+)\)s")

PREPARED = "prepared_statement"

# (id(statement), dialect, sizes of its list parameters) -> (statement, plan); the statement is kept
# so that its id cannot be reused while the plan is cached.
_plans: dict[tuple[int, str, tuple[Any, ...]], tuple[Any, Any]] = {}
_PARAM, _ITEM, _CONST = 0, 1, 2


def prepared(statement: Any) -> Any:
    """Mark a statement that is built once and run many times (see module docstring)."""
    return statement.execution_options(**{PREPARED: True})


def _plan(statement: Any, dialect: Any, params: dict[str, Any]) -> Any:
    expanding = {
        name: len(value) for name, value in params.items() if isinstance(value, (list, tuple))
    }
    key = (id(statement), dialect.name, tuple(sorted(expanding.items())))
    cached = _plans.get(key)
    if cached is not None:
        return cached[1]
    # Render list parameters as one placeholder per value (ids_1, ids_2 ...).
    # (Every parameter needs a value to render; the placeholders of `params` are filled from
    # each call's own values below.)
    if hasattr(statement, "selected_columns"):
        sample = {**params, **{name: [0] * size for name, size in expanding.items()}}
        compiled = statement.params(**sample).compile(
            dialect=dialect, compile_kwargs={"render_postcompile": True}
        )
    elif expanding:
        raise TypeError("a prepared write takes no list parameters")
    else:
        compiled = statement.compile(dialect=dialect)
    defaulted = [c.key for c in (*compiled.insert_prefetch, *compiled.update_prefetch)]
    if defaulted:
        # Column defaults SQLAlchemy computes in Python for each execution (`updated_at`):
        # the driver would never see them. The statement must set them itself.
        raise TypeError(f"a prepared write must set {', '.join(defaulted)} itself")
    # Placeholders in order (SQLite's `?`) or by name (psycopg's `%(name)s`, once each).
    positional = compiled.positiontup is not None
    placeholders = (
        compiled.positiontup if positional else list(dict.fromkeys(_NAMED.findall(compiled.string)))
    )
    # Each placeholder's value: a parameter, an item of a list parameter, or a value the
    # statement holds; with the bind processor SQLAlchemy would apply (dates as text ...).
    sources: list[tuple[int, Any, Any, Any]] = []
    binds = compiled.binds
    for name in placeholders:
        base, _, index = name.rpartition("_")
        listed = index.isdigit() and name not in binds and base in binds
        bind = binds[base] if listed else binds[name]
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if name in params:
            sources.append((_PARAM, name, None, process))
        elif listed and base in expanding:
            sources.append((_ITEM, base, int(index) - 1, process))
        else:
            value = bind.effective_value
            if listed:  # an item of a list the statement holds (`in_([1, 2])`)
                value = value[int(index) - 1]
            sources.append((_CONST, process(value) if process else value, None, None))
    # A SELECT's columns, or those an INSERT/UPDATE/DELETE returns (none without RETURNING).
    columns = list(
        statement.selected_columns
        if hasattr(statement, "selected_columns")
        else statement.exported_columns
    )
    names = tuple(column.key for column in columns)
    converting = [
        (i, process)
        for i, column in enumerate(columns)
        if (process := _result_processor(column.type, dialect))
    ]
    plan = (compiled.string, sources, names, converting, None if positional else placeholders)
    if len(_plans) > 1024:
        _plans.clear()
    _plans[key] = (statement, plan)
    return plan


def _result_processor(type_: Any, dialect: Any) -> Any:
    """SQLAlchemy's conversion of a column's values, as its result would apply it. Its
    PostgreSQL numeric types choose theirs by the result's type code, unknown here: psycopg
    gives float for float columns and Decimal for numeric ones, converted here by value."""
    impl = type_.dialect_impl(dialect)
    if dialect.name == "postgresql" and isinstance(impl, sqltypes.Numeric | sqltypes.Float):
        return _to_decimal if impl.asdecimal else _to_float
    return impl.result_processor(dialect, None)


def _to_float(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


def _to_decimal(value: Any) -> Any:
    return Decimal(str(value)) if isinstance(value, float) else value


async def read(
    connection: Any, statement: Any, params: dict[str, Any]
) -> tuple[Any, list[Any]] | None:
    """(column names, rows as tuples) of a prepared statement (a SELECT, or a write and the
    rows it returns), run through the driver; None when the statement or the connection
    cannot be run directly. On SQLite the
    statement runs within the connection's limits (models.sqlite_inline); what the driver
    raises is translated as SQLAlchemy's path translates it (models.errors)."""
    if not statement.get_execution_options().get(PREPARED):
        return None
    driver = connection.sync_connection.connection.driver_connection
    if not isinstance(driver, InlineConnection | psycopg.AsyncConnection):
        return None
    sql, sources, names, converting, named = _plan(statement, connection.dialect, params)
    values = []
    for kind, ref, index, process in sources:
        value = params[ref] if kind == _PARAM else params[ref][index] if kind == _ITEM else ref
        values.append(process(value) if process is not None and value is not None else value)
    try:
        if isinstance(driver, InlineConnection):
            rows = await driver.read(sql, values)
        else:
            cursor = driver.cursor()
            try:
                await cursor.execute(sql, dict(zip(named, values, strict=True)))
                # (Not `cursor.description`: psycopg builds it afresh, an object per column.)
                rows = await cursor.fetchall() if names else []
            finally:
                await cursor.close()
    except (sqlite3.Error, psycopg.Error) as exc:
        ours = translate(exc, _statement_timeout(driver))
        if ours is None:
            raise
        raise ours from exc
    if not names:
        # A write without RETURNING (PostgreSQL's INSERT returns its new id unasked).
        return names, []
    if converting:
        converted = []
        for row in rows:
            items = list(row)
            for i, process in converting:
                items[i] = process(items[i])
            converted.append(items)
        rows = converted
    return names, rows


def _statement_timeout(driver: Any) -> float | None:
    limits = getattr(driver, "limits", None)
    return None if limits is None else float(limits.statement_timeout)
