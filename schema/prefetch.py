"""Look-ahead: a root field that returns rows fetches, in one query per relation, the related
rows its selection will ask for, and primes them into the request context. Relation fields
then resolve synchronously instead of each awaiting a DataLoader (which is the slow path in
graphql-core). Whatever is not prefetched still goes through the DataLoaders."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    InlineFragmentNode,
    get_named_type,
)
from strawberry.types import Info

from schema.context import Context
from schema.records import plain
from schema.relations import Relations

Selection = dict[str, Any]  # {field name: Selection}


def _tree(selection_sets: Iterable[Any], fragments: dict[str, Any]) -> Selection:
    """{field name: what is selected under it}, fragments merged in, aliases ignored."""
    merged: dict[str, list[Any]] = {}

    def add(selection_set: Any) -> None:
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                subs = merged.setdefault(node.name.value, [])
                if node.selection_set is not None:
                    subs.append(node.selection_set)
            elif isinstance(node, InlineFragmentNode):
                add(node.selection_set)
            elif isinstance(node, FragmentSpreadNode) and node.name.value in fragments:
                add(fragments[node.name.value].selection_set)

    for selection_set in selection_sets:
        if selection_set is not None:
            add(selection_set)
    return {name: _tree(subs, fragments) for name, subs in merged.items()}


# id(root field node) -> (the node, its selection tree): documents are parsed once and
# cached (schema.extensions.documents), so the tree is worked out once per document.
_trees: dict[int, tuple[Any, Selection]] = {}


def selection(info: Info, *path: str) -> Selection:
    """Fields selected under the current root field, or under `path` inside it."""
    raw = info._raw_info
    node = raw.field_nodes[0]
    cached = _trees.get(id(node))
    if cached is None or cached[0] is not node:
        if len(_trees) > 1024:
            _trees.clear()
        tree = _tree([n.selection_set for n in raw.field_nodes], raw.fragments)
        cached = _trees[id(node)] = (node, tree)
    current = cached[1]
    for name in path:
        current = current.get(name, {})
    return current


def row_type(info: Info, path: tuple[str, ...]) -> str:
    """The object type of the rows the current field returns, or of the field `path` leads to
    inside its result (`contact` in a ContactResult)."""
    output = get_named_type(info._raw_info.return_type)
    for name in path:
        if not isinstance(output, GraphQLObjectType):
            raise TypeError(f"{output.name} is not an object type: it has no field {name!r}")
        output = get_named_type(output.fields[name].type)
    return output.name


async def prefetch(
    ctx: Context,
    graph: Relations,
    type_name: str,
    rows: list[Any],
    selected: Selection,
    needs: dict[str, frozenset[str] | None],
) -> None:
    """Prime the relations `selected` asks for on `rows` (schema.relations says which a type
    has); `needs` (schema.columns) says which columns the operation reads of each type, so
    related rows of prunable loaders carry only those."""
    if not rows:
        return
    self_loader = graph.self_loaders.get(type_name)
    if self_loader is not None:
        # Rows of this type are what its self-loader returns: a nested field that points back
        # at one of them (profile.contact) needs no query.
        ctx.prime(self_loader.name, {r.id: r for r in rows})
    for relation in graph.of_type.get(type_name, ()):
        if relation.field not in selected:
            continue
        loader = relation.loader
        primed = ctx.primed.get(loader.name, {})
        keys = list({k for r in rows if (k := relation.key(r)) is not None and k not in primed})
        if keys:
            columns = needs.get(graph.row_types[loader.name]) if loader.prunable else None
            found = plain(await ctx.read(loader.batch, keys, columns))
            if loader.many:  # a fresh list for each key the batch did not return
                ctx.prime(loader.name, {k: found.get(k, []) for k in keys})
            else:
                ctx.prime(loader.name, {k: found.get(k) for k in keys})
        cache = ctx.primed.get(loader.name, {})
        related = [cache.get(relation.key(r)) for r in rows]
        flat = [x for v in related if v for x in (v if relation.many else [v])]
        await prefetch(ctx, graph, relation.target, flat, selected[relation.field], needs)
