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

from strawberry.types import Info
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField
from strawberry.utils.str_converters import to_camel_case

from schema.context import Context
from schema.loaders import BATCHES, PRUNABLE
from schema.records import plain
from schema.types.common import RELATED
from schema.types.contact import Contact as ContactType
from schema.types.profile import Profile as ProfileType

Selection = dict[str, list[Any]]


@dataclass(frozen=True)
class Relation:
    loader: str
    key: Callable[[Any], Any]
    target: str | None  # the GraphQL type of the related rows, for nested prefetching
    many: bool


# What a root field prefetches when its selection asks for it: {type: {field: target type}}.
# `profiles` comes first: it also primes `profile`, which `activeProfile` then reuses.
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


def _merge(selections: Iterable[Any], into: Selection) -> Selection:
    for item in selections:
        if isinstance(item, SelectedField):
            into.setdefault(item.name, []).extend(item.selections)
        elif isinstance(item, (FragmentSpread, InlineFragment)):
            _merge(item.selections, into)
    return into


def selection(info: Info, *path: str) -> Selection:
    """Fields selected under the current root field, or under `path` inside it."""
    current = _merge(info.selected_fields[0].selections if info.selected_fields else [], {})
    for name in path:
        current = _merge(current.get(name, []), {})
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
            if relation.loader in PRUNABLE:
                found = plain(await ctx.read(batch, keys, needs.get(PRUNABLE[relation.loader])))
            else:
                found = plain(await ctx.read(batch, keys))
            values = {k: found.get(k, default() if default else None) for k in keys}
            ctx.prime(relation.loader, values)
            if relation.loader == "profiles_of_contact":
                ctx.prime("profile", {p.id: p for ps in values.values() for p in ps})
        if relation.target is not None:
            cache = ctx.primed.get(relation.loader, {})
            related = [cache.get(relation.key(r)) for r in rows]
            flat = [x for v in related if v for x in (v if relation.many else [v])]
            await prefetch(ctx, relation.target, flat, _merge(selected[name], {}), needs)
