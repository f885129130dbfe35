"""The two ways a root field ends, as Glific's clients expect them.

`payload` runs a mutation in one transaction and turns `InputErrors` into the result's
`errors` (the transaction is rolled back, so nothing is half-written); `lookup` does the same
for single-object queries. `ClientError` propagates and becomes a top-level error."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from resolvers.errors import InputErrors
from schema.columns import columns_read
from schema.context import Context
from schema.prefetch import prefetch, selection
from schema.records import plain
from schema.types.common import InputError, input_errors

T = TypeVar("T")
Work = Callable[[AsyncSession], Awaitable[Any]]


def ctx_of(info: Info) -> Context:
    return info.context  # type: ignore[no-any-return]


async def payload(info: Info, work: Work) -> tuple[Any, list[InputError] | None]:
    ctx = ctx_of(info)
    try:
        async with ctx.write() as session:
            result = await work(session)
    except InputErrors as exc:
        await ctx.reset_reads()
        return None, input_errors(exc)
    return result, None


async def lookup(info: Info, work: Work) -> tuple[Any, list[InputError] | None]:
    try:
        return plain(await ctx_of(info).read(work)), None
    except InputErrors as exc:
        return None, input_errors(exc)


async def read(info: Info, work: Work) -> Any:
    return plain(await ctx_of(info).read(work))


async def ahead(info: Info, type_name: str, found: Any, *path: str) -> Any:
    """Prefetch the relations the selection asks for on `found` (a row, a list or None)."""
    if found:
        rows = found if isinstance(found, list) else [found]
        await prefetch(ctx_of(info), type_name, rows, selection(info, *path), columns_read(info))
    return found
