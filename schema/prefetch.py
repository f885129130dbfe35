"""Look-ahead: a root field that returns rows fetches, in one query per relation, the related
rows its selection will ask for, and primes them into the request context. Relation fields
then resolve synchronously instead of each awaiting a DataLoader (which is the slow path in
graphql-core). Whatever is not prefetched still goes through the DataLoaders."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from operator import attrgetter
from typing import Any

from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode
from strawberry.types import Info
from strawberry.utils.str_converters import to_camel_case

from schema.context import Context
from schema.loaders import BATCHES, PRUNABLE
from schema.records import plain
from schema.types.common import RELATED
from schema.types.contact import Contact as ContactType
from schema.types.profile import Profile as ProfileType

Selection = dict[str, Any]  # {field name: Selection}


@dataclass(frozen=True)
class Relation:
    loader: str
    key: Callable[[Any], Any]
    target: str | None  # the GraphQL type of the related rows, for nested prefetching
    many: bool


# What a root field prefetches when its selection asks for it: {type: {field: target type}}.
# `profiles` comes first: prefetching into its rows primes them as `profile` rows
# (SELF_LOADERS), which `activeProfile` then reuses without a query.
PREFETCHED: dict[str, dict[str, str | None]] = {
    "Contact": {
        "profiles": "Profile",
        "activeProfile": "Profile",
        "language": None,
        "groups": None,
    },
    "Profile": {"language": None, "contact": "Contact"},
}
_TYPES = {"Contact": ContactType, "Profile": ProfileType}


@cache
def relations(type_name: str) -> dict[str, Relation]:
    """The prefetched relations of a type, read off its `related` fields: the loader and key
    are the ones the field itself resolves with."""
    fields = {
        f.graphql_name or to_camel_case(f.python_name): f
        for f in _TYPES[type_name].__strawberry_definition__.fields  # type: ignore[attr-defined]
    }
    out = {}
    for name, target in PREFETCHED[type_name].items():
        loader, key = fields[name].metadata[RELATED]
        out[name] = Relation(loader, attrgetter(key), target, BATCHES[loader][1] is list)
    return out


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


# Rows of these types are themselves what a loader returns: a nested field that points back
# at one of them (profile.contact) needs no query.
SELF_LOADERS = {"Contact": "contact", "Profile": "profile"}


async def prefetch(
    ctx: Context,
    type_name: str,
    rows: list[Any],
    selected: Selection,
    needs: dict[str, frozenset[str] | None],
) -> None:
    """Prime the relations `selected` asks for on `rows`; `needs` (schema.columns) says
    which columns the operation reads of each type, so related rows carry only those."""
    if type_name in SELF_LOADERS and rows:
        ctx.prime(SELF_LOADERS[type_name], {r.id: r for r in rows})
    if type_name not in PREFETCHED or not rows:
        return
    for name, relation in relations(type_name).items():
        if name not in selected:
            continue
        primed = ctx.primed.get(relation.loader, {})
        keys = list({k for r in rows if (k := relation.key(r)) is not None and k not in primed})
        if keys:
            batch, default = BATCHES[relation.loader]
            # Batches over prunable tables select only the columns the operation reads.
            only = PRUNABLE.get(relation.loader)
            extra = (needs.get(only),) if only is not None else ()
            found = plain(await ctx.read(batch, keys, *extra))
            values = {k: found.get(k, default() if default else None) for k in keys}
            ctx.prime(relation.loader, values)
        if relation.target is not None:
            cache = ctx.primed.get(relation.loader, {})
            related = [cache.get(relation.key(r)) for r in rows]
            flat = [x for v in related if v for x in (v if relation.many else [v])]
            await prefetch(ctx, relation.target, flat, selected[name], needs)
