"""Engine and session factory, SQLite tuning, and the automatic organization filter.

Every ORM statement run by a session opened for an organization is filtered to that
organization (`with_loader_criteria` on `OrgScoped` tables), on top of the explicit filters
in resolvers: a forgotten `WHERE organization_id = ...` cannot leak another tenant's rows.
A session opened without an organization refuses to touch organization-scoped tables unless
it was opened with `all_organizations=True` (seeding, sign-in, maintenance).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache
from typing import Any

from sqlalchemy import bindparam, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.util import find_tables
from sqlalchemy.sql.visitors import InternalTraversal

from models import direct, sqlite_search_index, sqlite_statistics
from models.base import OrgScoped
from models.errors import translate
from models.records import JSON_TEXT, as_records
from models.sqlite_inline import InlineConnection, Limits, inline_creator

ORG_KEY = "organization_id"
SETTINGS_KEY = "settings"
ALL_ORGS_KEY = "all_organizations"


_GUARD_PARAM = "guard_organization_id"
_PREGUARDED = "organization_guard_built_in"
_UNSCOPED = "organization_unscoped"
_CONNECTION_KEY = "read_connection"


class _GuardColumn(ColumnElement[Any]):
    """The organization column as the guard compares it. PostgreSQL gets the plain column:
    beside a resolver's own `organization_id = :org` its planner sees one condition and
    estimates rows right (an expression such as `organization_id + 0` made it expect 0.5% of
    the rows and pick a scan and a sort). SQLite gets `+organization_id`, which keeps the
    guard out of index selection: resolvers filter by organization explicitly where that is
    the access path, and SQLite's planner would otherwise prefer the organization index
    over a primary key or contact_id lookup."""

    inherit_cache = True

    def __init__(self, column: Any) -> None:
        self.column = column
        self.type = column.type

    def get_children(self, **kw: Any) -> Any:
        return (self.column,)

    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]


@compiles(_GuardColumn)
def _guard_column(element: _GuardColumn, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column, **kw)


@compiles(_GuardColumn, "sqlite")
def _guard_column_sqlite(element: _GuardColumn, compiler: SQLCompiler, **kw: Any) -> str:
    return "+" + compiler.process(element.column, **kw)


@cache
def _guard() -> Any:
    return with_loader_criteria(
        OrgScoped,
        lambda cls: _GuardColumn(cls.organization_id) == bindparam("guard_organization_id"),
        include_aliases=True,
        track_closure_variables=False,
    )


def guarded(statement: Any) -> Any:
    """A statement built once (at import) with the organization guard already attached; each
    execution then only binds the session's organization. For hot read paths: attaching the
    guard per execution rebuilds the statement and its cache key every time."""
    return statement.options(_guard()).execution_options(**{_PREGUARDED: True})


class OrganizationScopeError(RuntimeError):
    """A session without an organization touched organization-scoped tables."""


async def read_rows(session: AsyncSession, statement: Any, params: dict[str, Any]) -> list[Any]:
    """Run a statement built with `guarded()` or `unscoped()` (or, on a session opened for
    all organizations, any statement) on the session's connection,
    past the ORM's result machinery (half the cost of a small read), and return its rows as
    records (models.records). A guarded statement gets the session's organization here, and
    cannot run without one."""
    options = statement.get_execution_options()
    if options.get(_PREGUARDED):
        org_id = session.info.get(ORG_KEY)
        if org_id is None:
            raise OrganizationScopeError(
                "a guarded read needs a session opened for an organization"
            )
        params = {**params, _GUARD_PARAM: org_id}
    elif not options.get(_UNSCOPED) and not (
        session.info.get(ALL_ORGS_KEY) and session.info.get(ORG_KEY) is None
    ):
        # (A session opened for all organizations reads as the ORM lets it: unfiltered.)
        raise ValueError(
            "read_rows takes only statements built with guarded() or unscoped(), or any"
            " statement on a session opened for all organizations"
        )
    connection = await _connection(session)
    json_names = options.get(JSON_TEXT, frozenset())
    found = await direct.read(connection, statement, params)
    if found is not None:
        names, rows = found
        return as_records(rows, json_names, names)
    rows = (await connection.execute(statement, params)).all()
    return as_records(rows, json_names)


async def write_rows(session: AsyncSession, statement: Any, params: dict[str, Any]) -> list[Any]:
    """Run a prepared INSERT, UPDATE or DELETE (`models.direct`) on the session's
    connection, past the ORM's unit of work, and return the rows it returns (RETURNING) as
    records. For the writes made on every message (a flow step's reply, its run, its
    results): through an ORM session each cost as much as the rest of the step.

    The organization rule holds here too: an UPDATE or DELETE of an organization's table
    must be built with `guarded()` (it then binds the session's organization), and an
    INSERT into one must carry the session's organization. The ORM's identity map does not
    see these writes: use them for rows the session has not loaded as objects."""
    org_id = session.info.get(ORG_KEY)
    options = statement.get_execution_options()
    tenant = _writes_tenant_tables(statement)
    if options.get(_PREGUARDED):
        if org_id is None:
            raise OrganizationScopeError(
                "a guarded write needs a session opened for an organization"
            )
        params = {**params, _GUARD_PARAM: org_id}
    elif tenant and getattr(statement, "is_insert", False):
        if org_id is not None and params.get(ORG_KEY) != org_id:
            raise OrganizationScopeError("an INSERT carries another organization's id")
        if org_id is None and not session.info.get(ALL_ORGS_KEY):
            raise OrganizationScopeError(
                "organization-scoped write on a session opened without an organization"
            )
    elif tenant:
        raise ValueError("an UPDATE or DELETE of an organization's table must be guarded()")
    connection = await _connection(session)
    found = await direct.read(connection, statement, params)
    if found is not None:
        names, rows = found
        return as_records(rows, frozenset(), names)
    result = await connection.execute(statement, params)
    return as_records(result.all(), frozenset()) if result.returns_rows else []


async def _connection(session: AsyncSession) -> Any:
    """The session's connection, looked up once per session transaction: each lookup is a
    round trip through SQLAlchemy's greenlet bridge, and a transaction keeps its connection
    until it ends (a new transaction looks it up again)."""
    transaction = session.sync_session.get_transaction()
    cached = session.info.get(_CONNECTION_KEY)
    if cached is not None and transaction is not None and cached[0] is transaction:
        return cached[1]
    connection = await session.connection()
    session.info[_CONNECTION_KEY] = (session.sync_session.get_transaction(), connection)
    return connection


def unscoped(statement: Any) -> Any:
    """Mark a statement over global tables only (languages): the guard has nothing to do.
    A statement that reads an organization's table is refused: it would escape the guard."""
    tenant = sorted(
        t.name for t in find_tables(statement, check_columns=True) if t in _tenant_tables()
    )
    if tenant:
        raise OrganizationScopeError(
            f"unscoped() is for global tables only; this statement reads {', '.join(tenant)}"
        )
    return statement.execution_options(**{_UNSCOPED: True})


@cache
def _tenant_tables() -> frozenset[Any]:
    return frozenset(m.__table__ for m in OrgScoped.__subclasses__() if hasattr(m, "__table__"))


def _touches_tenant_tables(statement: Any) -> bool:
    return any(t in _tenant_tables() for t in find_tables(statement, check_columns=True))


# id(prepared statement) -> (the statement, whether it touches an organization's table).
_TENANT_WRITES: dict[int, tuple[Any, bool]] = {}


def _writes_tenant_tables(statement: Any) -> bool:
    """`_touches_tenant_tables` of a prepared write, worked out once per statement."""
    known = _TENANT_WRITES.get(id(statement))
    if known is None:
        known = (statement, _touches_tenant_tables(statement))
        if len(_TENANT_WRITES) > 1024:
            _TENANT_WRITES.clear()
        _TENANT_WRITES[id(statement)] = known
    return known[1]


@event.listens_for(Session, "do_orm_execute")
def _filter_by_organization(state: ORMExecuteState) -> Any:
    if not (state.is_select or state.is_update or state.is_delete):
        return None
    options = state.execution_options
    if options.get(JSON_TEXT):
        raise TypeError("a records() statement selects JSON as text: run it with read_rows()")
    if options.get(_UNSCOPED):
        return None
    info = state.session.info
    org_id = info.get(ORG_KEY)
    preguarded = options.get(_PREGUARDED, False)
    if org_id is None:
        if info.get(ALL_ORGS_KEY) and not preguarded:
            return None
        if preguarded or _touches_tenant_tables(state.statement):
            raise OrganizationScopeError(
                "organization-scoped query on a session opened without an organization"
            )
        return None
    params = state.parameters if state.parameters is not None else {}
    if isinstance(params, dict):
        # One option object for every statement; the organization is a bound parameter.
        if not preguarded:
            state.statement = state.statement.options(_guard())
        state.parameters = {**params, _GUARD_PARAM: org_id}
        return None
    # executemany-style parameter lists: fall back to criteria with the value inlined.
    state.statement = state.statement.options(
        with_loader_criteria(
            OrgScoped, lambda cls: _GuardColumn(cls.organization_id) == org_id, include_aliases=True
        )
    )
    return None


def _tune_sqlite(engine: AsyncEngine) -> None:
    sync_engine: Engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide where transactions begin (see _on_begin).
        # No busy timeout here: models.sqlite_inline waits for locks off the event loop.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the write lock up front: a deferred transaction that later tries to
        # write can fail with SQLITE_BUSY even with a busy timeout. Readers run each
        # statement in autocommit (WAL gives each one a consistent snapshot).
        if conn.get_execution_options().get("writer"):
            driver = conn.connection.driver_connection
            if isinstance(driver, InlineConnection) and driver.try_begin_immediate():
                return
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def _limits(settings: Any) -> Limits:
    if settings is None:
        return Limits()
    return Limits(
        inline_budget=settings.sqlite_inline_budget_ms / 1000,
        statement_timeout=settings.statement_timeout_seconds,
        busy_timeout=settings.db_busy_timeout_seconds,
    )


def _postgresql_options(limits: Limits) -> dict[str, Any]:
    """Server-side limits for every PostgreSQL connection: a lock wait (a row another
    transaction holds) as long as SQLite's busy wait, and the statement timeout on top of
    it (PostgreSQL counts the wait as part of the statement; SQLite does not)."""
    statement_ms = int((limits.statement_timeout + limits.busy_timeout) * 1000)
    lock_ms = int(limits.busy_timeout * 1000)
    return {"options": f"-c statement_timeout={statement_ms} -c lock_timeout={lock_ms}"}


class WriterTurns:
    """This process's SQLite writers take turns (one writer at a time), first come first
    served, except that an urgent writer (a webhook acknowledging a message) goes before the
    waiting background ones (jobs, imports): its wait is then at most the transaction in
    progress, however many background transactions are queued."""

    def __init__(self) -> None:
        self._held = False
        self._waiting: tuple[deque[asyncio.Future[None]], deque[asyncio.Future[None]]] = (
            deque(),
            deque(),
        )

    @asynccontextmanager
    async def turn(self, *, urgent: bool = False) -> AsyncIterator[None]:
        if self._held or any(self._waiting):
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            queue = self._waiting[0 if urgent else 1]
            queue.append(future)
            try:
                await future
            except asyncio.CancelledError:
                if future.done() and not future.cancelled():
                    self._next()  # handed the turn as it was cancelled: pass it on
                elif future in queue:
                    # (Not there when the turn was being passed on as it was cancelled:
                    # `_next` skipped it.)
                    queue.remove(future)
                raise
        else:
            self._held = True
        try:
            yield
        finally:
            self._next()

    def _next(self) -> None:
        for queue in self._waiting:
            while queue:
                future = queue.popleft()
                if not future.done():
                    future.set_result(None)  # the turn passes on; still held
                    return
        self._held = False


class Database:
    """One engine per process; sessions are cheap and short-lived.

    The pool holds `db_pool_size` connections and never more: a request holds at most one
    at a time, so past that many requests wait for one (up to `db_pool_timeout_seconds`)
    instead of opening and closing connections under load."""

    def __init__(
        self,
        url: str,
        *,
        settings: Any = None,
        echo: bool = False,
        pool_size: int | None = None,
    ) -> None:
        self.url = url
        # Handed to every session (resolvers.config.settings_of).
        self.settings = settings
        self.is_sqlite = url.startswith("sqlite")
        self.limits = _limits(settings)
        size = pool_size or (settings.db_pool_size if settings is not None else 20)
        kwargs: dict[str, Any] = {
            "echo": echo,
            "pool_size": size,
            "max_overflow": 0,
            "pool_timeout": settings.db_pool_timeout_seconds if settings is not None else 30,
        }
        if self.is_sqlite:
            path = make_url(url).database or ":memory:"
            kwargs["async_creator"] = inline_creator(path, self.limits)
        else:
            kwargs["connect_args"] = _postgresql_options(self.limits)
            # A connection that died (a server restart) is replaced after one failed use.
            kwargs["pool_recycle"] = 3600
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        # See models.sqlite_inline: this process's SQLite writers take turns.
        self._write_turns = WriterTurns() if self.is_sqlite else None
        if self.is_sqlite:
            _tune_sqlite(self.engine)
        statement_timeout = self.limits.statement_timeout

        @event.listens_for(self.engine.sync_engine, "handle_error")
        def _translate(context: Any) -> Exception | None:
            return translate(context.original_exception, statement_timeout)

        # Readers run each statement on its own, as SQLite's do (models.sqlite_inline): on
        # PostgreSQL that spares every request a BEGIN and a ROLLBACK round trip.
        reads = (
            self.engine
            if self.is_sqlite
            else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        self._reader = async_sessionmaker(reads, expire_on_commit=False, autoflush=False)
        self._writer = async_sessionmaker(
            self.engine.execution_options(writer=True), expire_on_commit=False, autoflush=False
        )

    def session(
        self,
        organization_id: int | None = None,
        *,
        all_organizations: bool = False,
        write: bool = False,
    ) -> AsyncSession:
        """A session scoped to one organization (or, explicitly, to all of them)."""
        factory = self._writer if write else self._reader
        session = factory()
        if self.settings is not None:
            session.info[SETTINGS_KEY] = self.settings
        if organization_id is not None:
            session.info[ORG_KEY] = organization_id
        elif all_organizations:
            session.info[ALL_ORGS_KEY] = True
        return session

    @staticmethod
    def narrow(session: AsyncSession, organization_id: int) -> AsyncSession:
        """Re-scope a read session opened for all organizations (e.g. to check a sign-in
        token) to one organization, so the request can keep using its connection."""
        session.info.pop(ALL_ORGS_KEY, None)
        session.info[ORG_KEY] = organization_id
        return session

    @asynccontextmanager
    async def transaction(
        self,
        organization_id: int | None = None,
        *,
        all_organizations: bool = False,
        urgent: bool = False,
    ) -> AsyncIterator[AsyncSession]:
        """One write transaction: committed when the block ends, rolled back if it raises.
        Whoever opens one must hold no other connection of this database meanwhile (a
        request's read session is closed first: schema.context). `urgent`: a short write a
        caller is waiting on (a webhook's acknowledgement) goes before queued background
        writes on SQLite (WriterTurns)."""
        async with contextlib.AsyncExitStack() as stack:
            if self._write_turns is not None:
                await stack.enter_async_context(self._write_turns.turn(urgent=urgent))
            session = await stack.enter_async_context(
                self.session(organization_id, all_organizations=all_organizations, write=True)
            )
            await stack.enter_async_context(session.begin())
            yield session

    async def optimize(self) -> list[str]:
        """Keep SQLite's planner statistics current (models.sqlite_statistics) and its
        contact search index merged (models.sqlite_search_index); the server runs this at
        start and then hourly. Returns the tables analysed afresh. PostgreSQL's autovacuum
        does this itself."""
        path = make_url(self.url).database if self.is_sqlite else None
        if not path or path == ":memory:":
            return []
        # The maintenance connection may wait for this process's writers: it is in a thread.
        wait = max(self.limits.busy_timeout, 30.0)
        analysed = await asyncio.to_thread(sqlite_statistics.refresh, path, wait)
        await asyncio.to_thread(sqlite_search_index.merge, path, wait)
        return analysed

    async def dispose(self) -> None:
        await self.engine.dispose()
