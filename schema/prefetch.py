"""Look-ahead: a root field that returns rows fetches, in one query per relation, the related
rows its selection will ask for, and primes them into the request context. Relation fields
then resolve synchronously instead of each awaiting a DataLoader (which is the slow path in
graphql-core). Whatever is not prefetched still goes through the DataLoaders."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from strawberry.types import Info
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField

from schema.context import Context
from schema.loaders import BATCHES
from schema.records import plain

Selection = dict[str, list[Any]]


@dataclass(frozen=True)
class Relation:
    loader: str
    key: Callable[[Any], Any]
    target: str | None  # the GraphQL type of the related rows, for nested prefetching
    many: bool = False


RELATIONS: dict[str, dict[str, Relation]] = {
    "Contact": {
        # `profiles` first: it also primes `profile`, which `activeProfile` then reuses.
        "profiles": Relation("profiles_of_contact", lambda r: r.id, "Profile", many=True),
        "activeProfile": Relation("profile", lambda r: r.active_profile_id, "Profile"),
        "language": Relation("language", lambda r: r.language_id, None),
        "groups": Relation("groups_of_contact", lambda r: r.id, None, many=True),
    },
    "Profile": {
        "language": Relation("language", lambda r: r.language_id, None),
        "contact": Relation("contact", lambda r: r.contact_id, "Contact"),
    },
}


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


async def prefetch(ctx: Context, type_name: str, rows: list[Any], selected: Selection) -> None:
    if type_name in SELF_LOADERS and rows:
        ctx.prime(SELF_LOADERS[type_name], {r.id: r for r in rows})
    relations = RELATIONS.get(type_name, {})
    for name, relation in relations.items():
        if name not in selected or not rows:
            continue
        primed = ctx.primed.get(relation.loader, {})
        keys = list({k for r in rows if (k := relation.key(r)) is not None and k not in primed})
        if keys:
            batch, default = BATCHES[relation.loader]
            found = plain(await ctx.read(batch, keys))
            values = {k: found.get(k, default() if default else None) for k in keys}
            ctx.prime(relation.loader, values)
            if relation.loader == "profiles_of_contact":
                ctx.prime("profile", {p.id: p for ps in values.values() for p in ps})
        if relation.target is not None:
            cache = ctx.primed.get(relation.loader, {})
            related = [cache.get(relation.key(r)) for r in rows]
            flat = [x for v in related if v for x in (v if relation.many else [v])]
            await prefetch(ctx, relation.target, flat, _merge(selected[name], {}))
