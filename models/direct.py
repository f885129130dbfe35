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
the driver; each column is converted by the result processor SQLAlchemy would use.
Statements built afresh for each request (a list with a name filter) share the rendered SQL
of their shape, found by SQLAlchemy's cache key, each binding its own values. The
statement runs on the session's own connection, so it is part of the session's
transaction, if one is open.
"""

from __future__ import annotations

import re
import sqlite3
from decimal import Decimal
from typing import Any

import psycopg
from sqlalchemy import bindparam
from sqlalchemy.sql import sqltypes

from models.errors import translate
from models.sqlite_inline import InlineConnection

# Where a named parameter appears in SQL rendered for psycopg (`%(name)s`).
_NAMED = re.compile(r"%\((\w+)\)s")

PREPARED = "prepared_statement"

# (id(statement), dialect, sizes of its list parameters) -> (statement, plan, the values it
# binds); the statement is kept so that its id cannot be reused while the plan is cached.
_plans: dict[tuple[int, str, tuple[Any, ...]], tuple[Any, Any, Any]] = {}
# (SQLAlchemy's cache key, dialect, sizes of list parameters and of lists the statement holds)
# -> plan: statements built afresh for each request (a list's filters) share the plan of
# their shape, each with its own values, as SQLAlchemy's compiled cache shares SQL.
_shaped: dict[tuple[Any, ...], Any] = {}
_PARAM, _ITEM, _CONST, _KEYED = 0, 1, 2, 3
_MAX_PLANS = 1024


def prepared(statement: Any) -> Any:
    """Mark a statement that is built once and run many times (see module docstring)."""
    return statement.execution_options(**{PREPARED: True})


def bound(columns: Any) -> dict[str, Any]:
    """Each of `columns` set from the parameter of its name (`insert(...).values(bound(...))`):
    a prepared write's values, given when it runs."""
    return {name: bindparam(name) for name in columns}


def _plan(statement: Any, dialect: Any, params: dict[str, Any]) -> tuple[Any, Any]:
    """(plan, the statement's bound values in its cache key's order, or None when the plan
    holds the values itself)."""
    # A list given to a SELECT fills an IN (one placeholder per item); a write's list is a
    # value (a JSON column's).
    expanding = (
        {name: len(value) for name, value in params.items() if isinstance(value, (list, tuple))}
        if hasattr(statement, "selected_columns")
        else {}
    )
    sizes = tuple(sorted(expanding.items()))
    key = (id(statement), dialect.name, sizes)
    cached = _plans.get(key)
    if cached is not None:
        return cached[1], cached[2]
    cache_key = statement._generate_cache_key()
    shape = None
    if cache_key is not None:
        held = tuple(
            len(bind.effective_value or ())
            for bind in cache_key.bindparams
            if bind.expanding and bind.key not in params
        )
        shape = (cache_key.key, dialect.name, sizes, held)
        plan = _shaped.get(shape)
        if plan is not None:
            _remember(_plans, key, (statement, plan, cache_key.bindparams))
            return plan, cache_key.bindparams
    plan, keyed = _build_plan(statement, dialect, params, expanding, by_position=shape is not None)
    bound = None
    if keyed:
        _remember(_shaped, shape, plan)
        bound = cache_key.bindparams
    _remember(_plans, key, (statement, plan, bound))
    return plan, bound


def _remember(cache: dict[Any, Any], key: Any, value: Any) -> None:
    if len(cache) >= _MAX_PLANS:
        cache.clear()
    cache[key] = value


def _build_plan(
    statement: Any,
    dialect: Any,
    params: dict[str, Any],
    expanding: dict[str, int],
    by_position: bool = True,
) -> tuple[Any, bool]:
    """The statement's SQL and where each placeholder's value comes from; the second item
    says whether the values the statement holds are taken by their position among its cache
    key's bound values (so that the plan serves every statement of the same shape) rather
    than kept in the plan."""
    # Render list parameters as one placeholder per value (ids_1, ids_2 ...).
    # (Every parameter needs a value to render; the placeholders of `params` are filled from
    # each call's own values below.)
    if hasattr(statement, "selected_columns"):
        sample = {**params, **{name: [0] * size for name, size in expanding.items()}}
        statement_rendered = statement.params(**sample)
        compiled = statement_rendered.compile(
            dialect=dialect, compile_kwargs={"render_postcompile": True}
        )
    else:
        statement_rendered = statement
        compiled = statement.compile(dialect=dialect)
        if "POSTCOMPILE" in compiled.string:
            raise TypeError("a prepared write takes no list parameters (IN)")
    defaulted = [c.key for c in (*compiled.insert_prefetch, *compiled.update_prefetch)]
    if defaulted:
        # Column defaults SQLAlchemy computes in Python for each execution (`updated_at`):
        # the driver would never see them. The statement must set them itself.
        raise TypeError(f"a prepared write must set {', '.join(defaulted)} itself")
    # A bound value's position among the cache key's, found by its key as SQLAlchemy's
    # compiled cache finds it (the compiler may work on annotated copies). A bind the cache
    # key does not carry is the compiler's own (`OFFSET 0`): the shape decides its value.
    positions: dict[str, int] = {}
    keyed = False
    if by_position and not compiled.literal_execute_params:
        rendered_key = statement_rendered._generate_cache_key()
        if rendered_key is not None:
            keyed = True
            positions = {bind.key: i for i, bind in enumerate(rendered_key.bindparams)}
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
        elif bind.key in positions:
            item = int(index) - 1 if listed else None
            sources.append((_KEYED, positions[bind.key], item, process))
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
    return plan, keyed


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
    (sql, sources, names, converting, named), bound = _plan(statement, connection.dialect, params)
    values = []
    for kind, ref, index, process in sources:
        if kind == _PARAM:
            value = params[ref]
        elif kind == _ITEM:
            value = params[ref][index]
        elif kind == _CONST:
            value = ref
        else:
            value = bound[ref].effective_value
            if index is not None:
                value = value[index]
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
