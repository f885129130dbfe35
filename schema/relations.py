"""The relations between the schema's types, read off their `related(LOADER, "key")` fields
when the schema is built, and checked then, so that a type declares each relation once and
the rest follows: which relations a root field's rows can prefetch (schema/prefetch.py), the
type of each loader's rows (whose columns a prunable loader selects), and each type's
self-loader (the to-one loader keyed by the `id` of rows of that type, into which rows of
the type fetched any other way are primed).

A declaration the read path could not serve fails `check` with a message naming the field.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter
from typing import Any
from weakref import WeakKeyDictionary

from graphql import (
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
)
from strawberry.schema.schema_converter import GraphQLCoreConverter

from models import Read
from schema.loaders import LOADERS, Loader
from schema.types.common import RELATED


class RelationError(TypeError):
    """A `related(...)` declaration or a Loader the read path cannot serve."""


@dataclass(frozen=True)
class Relation:
    field: str  # its GraphQL name
    loader: Loader
    key: Callable[[Any], Any]  # the key of a source row
    target: str  # the object type of the related rows
    many: bool


@dataclass(frozen=True)
class Relations:
    # {type: its relations}, in prefetch order: relations through the target's self-loader
    # come last, so that rows the others fetched are primed into it first
    # (`Contact.profiles` before `Contact.activeProfile`).
    of_type: dict[str, tuple[Relation, ...]]
    self_loaders: dict[str, Loader]  # {type: its self-loader}
    row_types: dict[str, str]  # {loader name: the type of its rows}


_found: WeakKeyDictionary[GraphQLSchema, Relations] = WeakKeyDictionary()


def relations(schema: GraphQLSchema) -> Relations:
    """The schema's relations, worked out (and checked) on first use."""
    found = _found.get(schema)
    if found is None:
        found = _found[schema] = check(schema)
    return found


def check(schema: GraphQLSchema) -> Relations:
    """Read the relations off the schema's `related` fields; RelationError for the first
    declaration that cannot work."""
    of_type: dict[str, list[Relation]] = {}
    row_types: dict[str, str] = {}
    used_by: dict[str, str] = {}  # loader name -> the first field using it
    for type_name, graphql_type in schema.type_map.items():
        if type_name.startswith("__") or not isinstance(graphql_type, GraphQLObjectType):
            continue
        for field_name, field in graphql_type.fields.items():
            definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
            declared = (getattr(definition, "metadata", None) or {}).get(RELATED)
            if declared is None:
                continue
            where = f"{type_name}.{field_name}"
            loader, key = declared
            relation = _relation(where, field_name, field.type, loader, key)
            previous = row_types.setdefault(loader.name, relation.target)
            if previous != relation.target:
                raise RelationError(
                    f"{where}: {loader} gives rows of {previous} ({used_by[loader.name]}), "
                    f"not {relation.target}"
                )
            used_by.setdefault(loader.name, where)
            of_type.setdefault(type_name, []).append(relation)
    self_loaders: dict[str, Loader] = {}
    for name, target in row_types.items():
        loader = LOADERS[name]
        _check_fetch(loader, used_by[name])
        if not loader.by_id:
            continue
        other = self_loaders.setdefault(target, loader)
        if other is not loader:
            raise RelationError(
                f"{used_by[name]}: {other} and {loader} are both keyed by the id of {target} "
                "rows; one type has one self-loader"
            )
    ordered = {
        type_name: tuple(
            sorted(found, key=lambda r: self_loaders.get(r.target) is r.loader)  # stable
        )
        for type_name, found in of_type.items()
    }
    return Relations(ordered, self_loaders, row_types)


def _relation(where: str, field_name: str, output: Any, loader: Any, key: Any) -> Relation:
    if not isinstance(loader, Loader) or LOADERS.get(loader.name) is not loader:
        raise RelationError(
            f"{where}: related() names {loader!r}, which is not a Loader declared in "
            "schema/loaders.py"
        )
    if not isinstance(key, str) or not key.isidentifier():
        raise RelationError(f"{where}: the key of a related field is an attribute name")
    if loader.row_keyed:
        raise RelationError(
            f"{where}: {loader} is keyed by whole rows; related() looks up an attribute's value"
        )
    if isinstance(output, GraphQLNonNull):
        output = output.of_type
    many = isinstance(output, GraphQLList)
    if many != loader.many:
        shape = "a list" if many else "one object"
        per_key = "a list of rows" if loader.many else "one row"
        raise RelationError(f"{where} returns {shape}, but {loader} gives {per_key} per key")
    target = get_named_type(output)
    if not isinstance(target, GraphQLObjectType):
        raise RelationError(
            f"{where}: related rows are objects of one type; {target.name} is "
            f"{type(target).__name__.removeprefix('GraphQL').removesuffix('Type').lower()}"
        )
    return Relation(field_name, loader, attrgetter(key), target.name, many)


def _check_fetch(loader: Loader, where: str) -> None:
    fetch = loader.fetch
    label = f"{getattr(fetch, '__module__', '?')}.{getattr(fetch, '__qualname__', fetch)}"
    if loader.prunable:
        try:
            returned = typing.get_type_hints(fetch).get("return")
        except Exception:  # unresolvable annotations: not known to return a Read
            returned = None
        if (typing.get_origin(returned) or returned) is not Read:
            raise RelationError(
                f"{where}: {loader} is prunable, but {label} does not return a models.Read, "
                "so it cannot select only the columns an operation reads"
            )
    elif not inspect.iscoroutinefunction(fetch):
        raise RelationError(
            f"{where}: {loader} fetches with {label}, which is not an async batch "
            "(session, keys) -> {key: value}"
        )
