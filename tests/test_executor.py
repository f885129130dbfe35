"""The fast path for plain leaf fields (schema/executor.py) answers exactly as graphql-core
does: same data, and the same errors when a value is missing, null or unserialisable."""

from __future__ import annotations

import asyncio
from enum import Enum
from types import SimpleNamespace
from typing import Any

import pytest
import strawberry

from schema.executor import FastLeafExecutionContext


@strawberry.enum
class Colour(Enum):
    RED = "red"


@strawberry.type
class Item:
    id: strawberry.ID
    name: str
    nick: str | None
    colour: Colour | None
    size: int | None


ROWS: list[Any] = []


@strawberry.type
class Box:
    label: str
    items: list[Item]
    first: Item | None


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item]:
        return ROWS

    @strawberry.field
    def boxes(self) -> list[Box]:
        return [SimpleNamespace(label="box", items=ROWS, first=ROWS[0] if ROWS else None)]


def _run(execution_context_class: Any, query: str) -> Any:
    schema = strawberry.Schema(Query, execution_context_class=execution_context_class)
    result = asyncio.run(schema.execute(query))
    return result.data, [(e.message, e.path) for e in result.errors or []]


CASES = [
    SimpleNamespace(id=1, name="a", nick=None, colour="red", size=3),  # all fine
    SimpleNamespace(id="2", name="b", nick="bee", colour=Colour.RED, size=None),
    SimpleNamespace(id=3, name=None, nick=None, colour=None, size=None),  # null in String!
    SimpleNamespace(id=4, name="d", nick=None, colour="blue", size=None),  # not an enum value
    SimpleNamespace(id=5, name="e", nick=None, colour=None, size="many"),  # not an Int
    SimpleNamespace(id=6, nick=None, colour=None, size=None),  # no `name` attribute at all
]


@pytest.mark.parametrize("row", CASES, ids=[str(c.id) for c in CASES])
def test_fast_path_matches_graphql_core(row: Any) -> None:
    ROWS[:] = [row]
    query = "{ items { id name nick colour size } }"
    assert _run(FastLeafExecutionContext, query) == _run(None, query)


NESTED = [
    "{ items { id name nick colour size } }",
    "{ items { __typename id name } }",
    "{ items { n: name name id } }",
    "{ items { ... on Item { id name } nick } }",
    "{ items { id @skip(if: true) name } }",
    "{ boxes { label items { id name } first { id nick colour } } }",
]


@pytest.mark.parametrize("query", NESTED)
def test_whole_objects_of_plain_fields_match_graphql_core(query: str) -> None:
    ROWS[:] = CASES
    assert _run(FastLeafExecutionContext, query) == _run(None, query)
