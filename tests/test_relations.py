"""Relations are declared once, on the type (`related(LOADER, "key")`), and the schema derives
the rest when it is built (schema/relations.py): what a root field's rows prefetch and in
which order, each loader's row type, each type's self-loader. A declaration the read path
could not serve stops `build_schema` with a message naming the field."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
import strawberry

from models import Read
from schema import build_schema
from schema.loaders import CONTACT, LANGUAGE, PROFILE, PROFILES_OF_CONTACT, Loader
from schema.relations import RelationError, relations
from schema.types.common import related
from tests.utils.server import test_settings as settings_for


async def _batch(session: Any, keys: list[Any]) -> dict[Any, Any]:
    return {}


def _not_a_read(keys: list[Any]) -> dict[Any, Any]:
    return {}


def _a_read(keys: list[Any]) -> Read[dict[Any, Any]]:
    raise AssertionError("not run: only its declaration is checked")


# A new domain, declared the way Flow, Message or FlowResult will be: loaders here, each
# relation once on its type, nothing else.
SHELF = Loader("t_shelf", _batch, by_id=True)
BOOKS_OF_SHELF = Loader("t_books_of_shelf", _a_read, many=True, prunable=True)
BOOK = Loader("t_book", _a_read, by_id=True, prunable=True)


@strawberry.type(name="TShelf")
class Shelf:
    id: strawberry.ID
    favourite: Annotated[Book, strawberry.lazy("tests.test_relations")] | None = related(
        BOOK, "favourite_id"
    )
    books: list[Annotated[Book, strawberry.lazy("tests.test_relations")]] = related(
        BOOKS_OF_SHELF, "id"
    )


@strawberry.type(name="TBook")
class Book:
    id: strawberry.ID
    title: str
    shelf: Shelf | None = related(SHELF, "shelf_id")


@strawberry.type(name="TOther")
class Other:
    id: strawberry.ID


def _build(*fields: tuple[str, Any]) -> Any:
    """build_schema with one root query type holding `fields` ({name: type})."""
    namespace: dict[str, Any] = {"__annotations__": {}}
    for name, annotation in fields:
        namespace["__annotations__"][name] = annotation
        namespace[name] = strawberry.field(resolver=lambda: None)
    query = strawberry.type(type("TQuery", (), namespace))
    return build_schema(settings_for("sqlite://"), query=query, mutation=None)


def test_a_new_type_needs_only_its_declarations() -> None:
    found = relations(_build(("shelves", list[Shelf]))._schema)
    assert [(r.field, r.loader, r.target, r.many) for r in found.of_type["TShelf"]] == [
        ("books", BOOKS_OF_SHELF, "TBook", True),
        ("favourite", BOOK, "TBook", False),  # after `books`, whose rows it may find primed
    ]
    assert [(r.field, r.loader) for r in found.of_type["TBook"]] == [("shelf", SHELF)]
    assert found.self_loaders == {"TShelf": SHELF, "TBook": BOOK}
    assert found.row_types == {
        "t_books_of_shelf": "TBook",
        "t_book": "TBook",
        "t_shelf": "TShelf",
    }


def test_the_api_schema_prefetches_profiles_before_the_active_profile() -> None:
    from schema.root import RootQueryType

    schema = build_schema(settings_for("sqlite://"), query=RootQueryType, mutation=None)
    found = relations(schema._schema)
    contact = [r.field for r in found.of_type["Contact"]]
    assert contact.index("profiles") < contact.index("activeProfile")
    assert found.self_loaders["Contact"] is CONTACT
    assert found.self_loaders["Profile"] is PROFILE
    assert found.self_loaders["Language"] is LANGUAGE
    assert found.row_types[PROFILES_OF_CONTACT.name] == "Profile"


def _refused(annotation: Any, match: str) -> None:
    with pytest.raises(RelationError, match=match):
        _build(("items", annotation))


def test_a_relation_through_an_unknown_loader_is_refused() -> None:
    @strawberry.type(name="TUnknown")
    class Unknown:
        id: strawberry.ID
        # A loader's name where the Loader itself belongs: the mistake under test.
        book: Book | None = related("t_book", "book_id")  # type: ignore[arg-type]

    _refused(Unknown, r"TUnknown\.book: related\(\) names 't_book', which is not a Loader")


def test_related_rows_must_be_objects() -> None:
    NAMES = Loader("t_names", _batch, many=True)

    @strawberry.type(name="TScalarTarget")
    class ScalarTarget:
        id: strawberry.ID
        names: list[str] = related(NAMES, "id")

    _refused(ScalarTarget, r"TScalarTarget\.names: related rows are objects of one type; String")

    EITHER = Loader("t_either", _batch)

    @strawberry.type(name="TUnionTarget")
    class UnionTarget:
        id: strawberry.ID
        either: Annotated[Book | Other, strawberry.union("TEither")] | None = related(
            EITHER, "either_id"
        )

    _refused(UnionTarget, r"TUnionTarget\.either: .* TEither is union")


def test_a_prunable_loader_must_return_a_read() -> None:
    LOOSE = Loader("t_loose", _not_a_read, by_id=True, prunable=True)

    @strawberry.type(name="TLoose")
    class Loose:
        id: strawberry.ID
        book: Book | None = related(LOOSE, "book_id")

    _refused(Loose, r"TLoose\.book: Loader\('t_loose'\) is prunable, but .*_not_a_read does not")


def test_a_loader_that_is_not_prunable_must_be_an_async_batch() -> None:
    SYNC = Loader("t_sync", _not_a_read)

    @strawberry.type(name="TSync")
    class Sync:
        id: strawberry.ID
        book: Book | None = related(SYNC, "book_id")

    _refused(Sync, r"TSync\.book: Loader\('t_sync'\) fetches with .*_not_a_read, which is not")


def test_one_row_or_a_list_as_the_loader_gives() -> None:
    @strawberry.type(name="TOneForMany")
    class OneForMany:
        id: strawberry.ID
        book: Book | None = related(BOOKS_OF_SHELF, "id")

    _refused(OneForMany, r"TOneForMany\.book returns one object, but .* gives a list of rows")

    @strawberry.type(name="TManyForOne")
    class ManyForOne:
        id: strawberry.ID
        books: list[Book] = related(BOOK, "book_id")

    _refused(ManyForOne, r"TManyForOne\.books returns a list, but Loader\('t_book'\) gives one")


def test_a_loader_gives_rows_of_one_type() -> None:
    @strawberry.type(name="TConfused")
    class Confused:
        id: strawberry.ID
        shelf: Shelf | None = related(BOOK, "book_id")

    mixed = r"Loader\('t_book'\) gives rows of (TBook|TShelf) \(.*\), not (TShelf|TBook)"
    with pytest.raises(RelationError, match=mixed):
        _build(("items", Confused), ("shelves", Shelf))


def test_a_type_has_one_self_loader() -> None:
    SECOND = Loader("t_second_shelf", _batch, by_id=True)

    @strawberry.type(name="TTwoWays")
    class TwoWays:
        id: strawberry.ID
        shelf: Shelf | None = related(SECOND, "shelf_id")

    with pytest.raises(RelationError, match=r"are both keyed by the id of TShelf rows"):
        _build(("items", TwoWays), ("books", Book))


def test_a_loader_keyed_by_rows_cannot_back_a_related_field() -> None:
    BY_ROW = Loader("t_by_row", _batch, many=True, row_keyed=True)

    @strawberry.type(name="TByRow")
    class ByRow:
        id: strawberry.ID
        books: list[Book] = related(BY_ROW, "id")

    _refused(ByRow, r"TByRow\.books: Loader\('t_by_row'\) is keyed by whole rows")


def test_a_loader_name_is_declared_once() -> None:
    with pytest.raises(ValueError, match="a loader named 't_book' is declared twice"):
        Loader("t_book", _batch)
