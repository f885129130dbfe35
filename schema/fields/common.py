"""How a root field reads and writes, as Glific's clients expect it.

`payload` runs a mutation in one transaction and turns `InputErrors` into the result's
`errors` (the transaction is rolled back, so nothing is half-written); `lookup` does the same
for single-object queries. `ClientError` propagates and becomes a top-level error.

The read path: `query_rows`/`query_row` run a resolver's `models.Read` selecting only the
columns the operation reads of its rows' type (schema.columns), and `ahead` prefetches the
relations the selection asks for on a field's rows (schema.prefetch). The type of the rows is
the field's own return type, or the type of the field that `path` names inside it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from models import Read
from resolvers.errors import InputErrors
from schema.columns import columns_read
from schema.context import Context
from schema.prefetch import prefetch, row_type, selection
from schema.records import plain
from schema.relations import relations
from schema.types.common import InputError, input_errors

T = TypeVar("T")
Work = Callable[[AsyncSession], Awaitable[Any]]


def ctx_of(info: Info) -> Context:
    return info.context


async def payload(info: Info, work: Work, *path: str) -> tuple[Any, list[InputError | None] | None]:
    """Run `work` in one write transaction; with a `path` (`contact` in a ContactResult) the
    relations the result's selection asks for are then prefetched on the row it returned."""
    ctx = ctx_of(info)
    try:
        async with ctx.write() as session:
            result = await work(session)
    except InputErrors as exc:
        await ctx.reset_reads()
        return None, input_errors(exc)
    if path:
        await ahead(info, result, *path)
    return result, None


async def lookup(info: Info, work: Work) -> tuple[Any, list[InputError | None] | None]:
    try:
        return plain(await ctx_of(info).read(work)), None
    except InputErrors as exc:
        return None, input_errors(exc)


async def read(info: Info, work: Work) -> Any:
    return plain(await ctx_of(info).read(work))


async def query_rows(info: Info, read: Read[Any], *path: str) -> Any:
    """Run a resolver's read with the columns this operation reads of its rows, then
    prefetch what the selection asks for on them."""
    type_name = row_type(info, path)
    columns = columns_read(info).get(type_name)
    found = await ctx_of(info).read(read.project, columns)
    return await _ahead(info, type_name, found, path)


async def query_row(
    info: Info, make: Callable[[], Read[Any]], *path: str
) -> tuple[Any, list[InputError | None] | None]:
    """`query_rows` for a single-object query: `InputErrors` from the resolver become `errors`."""
    type_name = row_type(info, path)
    columns = columns_read(info).get(type_name)
    try:
        found = await ctx_of(info).read(make().project, columns)
    except InputErrors as exc:
        return None, input_errors(exc)
    return await _ahead(info, type_name, found, path), None


async def ahead(info: Info, found: Any, *path: str) -> Any:
    """Prefetch the relations the selection asks for on `found` (a row, a list or None)."""
    return await _ahead(info, row_type(info, path), found, path)


async def _ahead(info: Info, type_name: str, found: Any, path: tuple[str, ...]) -> Any:
    if found:
        graph = relations(info._raw_info.schema)
        found_rows = found if isinstance(found, list) else [found]
        selected, needs = selection(info, *path), columns_read(info)
        await prefetch(ctx_of(info), graph, type_name, found_rows, selected, needs)
    return found
