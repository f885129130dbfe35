"""The fast path for plain leaf fields (schema/executor.py) answers exactly as graphql-core
does: same data, and the same errors when a value is missing, null or unserialisable."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from enum import Enum
from types import SimpleNamespace
from typing import Any

import pytest
import strawberry
from strawberry.extensions import SchemaExtension

from models import Database
from resolvers.auth import AuthUser
from schema.builders import COMPUTED, CONTEXTUAL
from schema.builders import NESTED as NESTED_KIND
from schema.context import Context
from schema.executor import FastLeafExecutionContext, field_plan
from schema.loaders import Loader
from schema.types.common import contextual, related


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
    when: datetime | None

    @strawberry.field
    def shout(self) -> str | None:
        """Computed from the object alone: the executor calls it itself."""
        row: Any = self
        return None if row.name is None else str(row.name).upper()

    @strawberry.field
    def hue(self) -> Colour:
        row: Any = self
        return Colour(row.colour) if isinstance(row.colour, str) else row.colour

    @strawberry.field
    def seen_by(self, info: strawberry.Info) -> str:
        """Takes the request's info: left to graphql-core."""
        return "someone"


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
        box: Any = SimpleNamespace(label="box", items=ROWS, first=ROWS[0] if ROWS else None)
        return [box]


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
    SimpleNamespace(id=7, name="g", nick=None, colour=None, size=2**31),  # past 32 bits
    SimpleNamespace(id=8, name="h", nick=None, colour=None, size=-(2**31)),  # the least Int
    SimpleNamespace(id=9, name="i", nick=None, colour=None, size=True),  # a bool for an Int
]


@pytest.mark.parametrize("row", CASES, ids=[str(c.id) for c in CASES])
def test_fast_path_matches_graphql_core(row: Any) -> None:
    ROWS[:] = [row]
    query = "{ items { id name nick colour size } }"
    assert _run(FastLeafExecutionContext, query) == _run(None, query)


@pytest.mark.parametrize(
    "when",
    [
        datetime(2026, 11, 30, 4, 5, 6, 789),
        datetime(2026, 11, 30, 4, 5, 6, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        "2026-11-30",  # not a datetime: the scalar's own serialise decides
    ],
)
def test_dates_match_graphql_core(when: Any) -> None:
    ROWS[:] = [SimpleNamespace(id=1, name="a", when=when)]
    query = "{ items { id when } }"
    assert _run(FastLeafExecutionContext, query) == _run(None, query)


def test_fields_computed_from_the_object_alone_match_graphql_core() -> None:
    """`shout` and `hue` take only the object: the fast path calls them (a missing
    attribute, a null in a non-null field or a refused value is left to graphql-core, as
    for plain fields); `seenBy` takes the request's info and stays graphql-core's."""
    schema = strawberry.Schema(Query, execution_context_class=FastLeafExecutionContext)
    plan = field_plan(schema._schema)
    assert plan[("Item", "shout")][0] == plan[("Item", "hue")][0] == COMPUTED
    assert ("Item", "seenBy") not in plan
    for row in CASES:
        ROWS[:] = [row]
        query = "{ items { id shout hue seenBy } }"
        assert _run(FastLeafExecutionContext, query) == _run(None, query), row
    ROWS[:] = CASES
    for query in ("{ items { id shout hue } }", "{ boxes { items { shout } first { hue } } }"):
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


BOXES: list[Any] = [
    SimpleNamespace(label="full", items=CASES[:2], first=CASES[0]),
    SimpleNamespace(label="empty", items=[], first=None),
    SimpleNamespace(label="null in a non-null list", items=[CASES[0], None], first=None),
    SimpleNamespace(label="bad item", items=[CASES[2]], first=CASES[3]),
    SimpleNamespace(label="not a list", items=CASES[0], first=None),
    SimpleNamespace(label="no items attribute", first=CASES[1]),
]


@strawberry.type
class BoxQuery:
    @strawberry.field
    def boxes(self) -> list[Box]:
        return list(BOXES)


def test_objects_held_in_plain_attributes_match_graphql_core(monkeypatch: Any) -> None:
    """`Box.items` and `Box.first` hold objects: the fast path builds them (graphql-core
    resolves the root field alone), and any surprise under them is graphql-core's to report."""
    from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

    schema = strawberry.Schema(BoxQuery, execution_context_class=FastLeafExecutionContext)
    plan = field_plan(schema._schema)
    assert plan[("Box", "items")][0] == plan[("Box", "first")][0] == NESTED_KIND
    reference = strawberry.Schema(BoxQuery)
    query = "{ boxes { label items { id name colour } first { id nick } } }"
    for box in BOXES:
        BOXES[:] = [box]
        fast, slow = asyncio.run(schema.execute(query)), asyncio.run(reference.execute(query))
        assert fast.data == slow.data, box.label
        assert sorted(str(e) for e in fast.errors or []) == sorted(
            str(e) for e in slow.errors or []
        )
    BOXES[:] = [SimpleNamespace(label="full", items=CASES[:2], first=CASES[0])]
    resolved: list[str] = []
    original = StrawberryGraphQLCoreExecutionContext.execute_field

    def counting(self: Any, parent_type: Any, *args: Any, **kwargs: Any) -> Any:
        resolved.append(parent_type.name)
        return original(self, parent_type, *args, **kwargs)

    monkeypatch.setattr(StrawberryGraphQLCoreExecutionContext, "execute_field", counting)
    assert asyncio.run(schema.execute(query)).errors is None
    assert resolved == ["BoxQuery"]


def _who_sees(row: Any, context: Any) -> str:
    return f"{row.name} for {context['viewer']}"


@strawberry.type
class Tagged:
    name: str
    seen: str = contextual(_who_sees, columns=("name",))


@strawberry.type
class TaggedQuery:
    @strawberry.field
    def tagged(self) -> list[Tagged]:
        return list(TAGGED)


TAGGED: list[Any] = []


def test_contextual_fields_are_computed_from_the_row_and_the_context() -> None:
    """A `contextual` leaf (Contact.phone) is called by the fast path with the request's
    context; one that fails or answers null where it must not is graphql-core's to report."""
    schema = strawberry.Schema(TaggedQuery, execution_context_class=FastLeafExecutionContext)
    assert field_plan(schema._schema)[("Tagged", "seen")][0] == CONTEXTUAL
    reference = strawberry.Schema(TaggedQuery)
    query = "{ tagged { name seen } }"
    for rows in ([SimpleNamespace(name="Asha")], [SimpleNamespace(name="Ravi"), object()]):
        TAGGED[:] = rows
        fast = asyncio.run(schema.execute(query, context_value={"viewer": "staff"}))
        slow = asyncio.run(reference.execute(query, context_value={"viewer": "staff"}))
        assert fast.data == slow.data
        assert [str(e) for e in fast.errors or []] == [str(e) for e in slow.errors or []]
    TAGGED[:] = [SimpleNamespace(name="Asha")]
    fast = asyncio.run(schema.execute(query, context_value={"viewer": "an admin"}))
    assert fast.data == {"tagged": [{"name": "Asha", "seen": "Asha for an admin"}]}


# --- `related` fields: prefetched rows are completed by the executor, the rest by the field ---


@strawberry.type
class Pet:
    name: str
    nick: str | None

    @strawberry.field
    def shout(self) -> str:  # a resolver: objects selecting it go through graphql-core
        return str(getattr(self, "name", "")).upper()


async def _unused(session: Any, keys: list[Any]) -> dict[Any, Any]:
    raise AssertionError("the fake context answers every lookup")


PET = Loader("pet", _unused, by_id=True)
PETS_OF_OWNER = Loader("pets_of_owner", _unused, many=True)


@strawberry.type
class Owner:
    id: strawberry.ID
    best: Pet | None = related(PET, "best_id")
    sure: Pet = related(PET, "best_id")
    pets: list[Pet | None] | None = related(PETS_OF_OWNER, "id")
    strict_pets: list[Pet] | None = related(PETS_OF_OWNER, "id")


class FakeContext:
    """The request context's contract: `primed` rows, and `lookup` for anything else."""

    def __init__(self, primed: dict[str, dict[Any, Any]], loaded: dict[str, dict[Any, Any]]):
        self.primed = primed
        self.loaded = loaded

    def lookup(self, loader: str, key: Any) -> Any:
        if key in self.primed.get(loader, {}):
            return self.primed[loader][key]
        return self.loaded[loader].get(key)


OWNERS: list[Any] = []


@strawberry.type
class OwnerQuery:
    @strawberry.field
    def owners(self) -> list[Owner]:
        return OWNERS


REX, TOM = SimpleNamespace(name="Rex", nick=None), SimpleNamespace(name="Tom", nick="t")
NAMELESS = SimpleNamespace(nick="?")  # a row without `name`: String! cannot be completed
Loaded = dict[str, dict[Any, Any]]  # {loader name: {key: value}}
OWNER_CASES: dict[str, tuple[Any, Loaded, Loaded]] = {
    "primed": (
        SimpleNamespace(id=1, best_id=10),
        {"pet": {10: REX}, "pets_of_owner": {1: [REX, TOM]}},
        {},
    ),
    "null key": (SimpleNamespace(id=2, best_id=None), {"pets_of_owner": {2: []}}, {}),
    "not primed": (
        SimpleNamespace(id=3, best_id=11),
        {},
        {"pet": {11: TOM}, "pets_of_owner": {3: [TOM]}},
    ),
    "null in list": (
        SimpleNamespace(id=4, best_id=10),
        {"pet": {10: REX}, "pets_of_owner": {4: [None, REX]}},
        {},
    ),
    "primed null": (
        SimpleNamespace(id=5, best_id=12),
        {"pet": {12: None}, "pets_of_owner": {5: None}},
        {},
    ),
    "bad row": (
        SimpleNamespace(id=6, best_id=13),
        {"pet": {13: NAMELESS}, "pets_of_owner": {6: [NAMELESS]}},
        {},
    ),
}
OWNER_QUERIES = [
    "{ owners { id best { name nick } pets { name } } }",
    "{ owners { id pets { name } strictPets { name } } }",
    "{ owners { id sure { name } } }",
    "{ owners { best { name shout } pets { nick } } }",
    "{ owners { a: best { n: name } b: best { nick } ... on Owner { pets { name } } } }",
    "{ owners { best @include(if: false) { name } pets @skip(if: false) { name } } }",
]


def _run_with(execution_context_class: Any, query: str, ctx: Any) -> Any:
    schema = strawberry.Schema(OwnerQuery, execution_context_class=execution_context_class)
    result = asyncio.run(schema.execute(query, context_value=ctx))
    return result.data, sorted((e.message, tuple(e.path or ())) for e in result.errors or [])


@pytest.mark.parametrize("query", OWNER_QUERIES)
@pytest.mark.parametrize("case", OWNER_CASES, ids=list(OWNER_CASES))
def test_related_fields_match_their_resolvers(case: str, query: str) -> None:
    owner, primed, loaded = OWNER_CASES[case]
    OWNERS[:] = [owner]
    fast = _run_with(FastLeafExecutionContext, query, FakeContext(primed, loaded))
    assert fast == _run_with(None, query, FakeContext(primed, loaded))


def test_prefetched_related_fields_do_not_call_their_resolvers() -> None:
    owner, primed, _ = OWNER_CASES["primed"]
    OWNERS[:] = [owner]
    calls: list[Any] = []

    class Counting(FakeContext):
        def lookup(self, loader: str, key: Any) -> Any:
            calls.append((loader, key))
            return super().lookup(loader, key)

    query = "{ owners { id best { name } pets { name nick } } }"
    data, errors = _run_with(FastLeafExecutionContext, query, Counting(primed, {}))
    assert errors == [] and data["owners"][0]["pets"] == [
        {"name": "Rex", "nick": None},
        {"name": "Tom", "nick": "t"},
    ]
    assert calls == []
    _run_with(None, query, Counting(primed, {}))
    assert len(calls) == 2  # graphql-core calls both resolvers


# --- what the fast path must not skip: resolve hooks, and a write's fresh reads ---------------


class CountResolves(SchemaExtension):
    """A resolve hook: sees every field graphql-core resolves."""

    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        RESOLVED.append(tuple(info.path.as_list()))
        return _next(root, info, *args, **kwargs)


RESOLVED: list[tuple[Any, ...]] = []


@pytest.mark.parametrize("query", [*OWNER_QUERIES, "{ owners { id } }"])
def test_resolve_hooks_see_every_field_with_the_fast_path(query: str) -> None:
    owner, primed, loaded = OWNER_CASES["primed"]
    OWNERS[:] = [owner]
    seen = []
    for execution_context_class in (FastLeafExecutionContext, None):
        schema = strawberry.Schema(
            OwnerQuery, extensions=[CountResolves], execution_context_class=execution_context_class
        )
        RESOLVED.clear()
        result = asyncio.run(schema.execute(query, context_value=FakeContext(primed, loaded)))
        seen.append((result.data, sorted(RESOLVED, key=repr)))
    assert seen[0] == seen[1]
    assert len(seen[0][1]) > 1


@strawberry.type
class Rename:
    """Two writes in one operation, as `payload` runs them: each write replaces the request's
    primed rows (Context.reset_reads) and primes what its result will show."""

    @strawberry.mutation
    async def first(self, info: strawberry.Info) -> Owner:
        info.context.prime("pet", {10: REX})
        owner: Any = SimpleNamespace(id=1, best_id=10)
        return owner

    @strawberry.mutation
    async def second(self, info: strawberry.Info) -> Owner:
        await info.context.reset_reads()
        info.context.prime("pet", {10: TOM})
        owner: Any = SimpleNamespace(id=1, best_id=10)
        return owner


def test_results_read_the_rows_primed_after_the_last_write(tmp_path: Any) -> None:
    async def go() -> Any:
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}")
        user = AuthUser(1, 1, "u", "1", ("staff",), False, None, None, "s")
        schema = strawberry.Schema(
            OwnerQuery, mutation=Rename, execution_context_class=FastLeafExecutionContext
        )
        try:
            return await schema.execute(
                "mutation { first { best { name } } second { best { name } } }",
                context_value=Context(db, user),
            )
        finally:
            await db.dispose()

    result = asyncio.run(go())
    assert result.errors is None
    assert result.data == {"first": {"best": {"name": "Rex"}}, "second": {"best": {"name": "Tom"}}}
