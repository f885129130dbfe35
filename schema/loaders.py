"""DataLoaders: every relation is one query per batch, declared once here as a `Loader` and
named by the fields that use it (`related(LOADER, "key_attr")` on a type, or a resolver field
calling `ctx.fetch(LOADER.name, key)`). The schema checks the declarations when it is built
(schema/relations.py); the request context builds each DataLoader on first use (`Loaders`).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from strawberry.dataloader import DataLoader

from resolvers import (
    contacts,
    flows,
    group_sends,
    groups,
    history,
    languages,
    organizations,
    profiles,
    tags,
    users,
    wa_groups,
)
from schema.context import Context
from schema.records import plain

# Every Loader declared, by name: the request context asks for loaders by name.
LOADERS: dict[str, Loader] = {}


class Loader:
    """How to fetch, in one query, the rows related to a batch of keys.

    `fetch` is a resolver function: an async batch `(session, keys) -> {key: value}`, or, for a
    `prunable` loader, `(keys) -> models.Read`, which the read path runs selecting only the
    columns the operation reads of the rows' type. `many`: each key has a list of rows (a
    key the batch did not return gets []), else one row (or None). `by_id`: the keys are the
    ids of the rows returned, so rows of that type fetched any other way can be primed into
    it. `row_keyed`: the keys are rows (the batch needs more than an id); the cache keys them
    by id.

    The type of the rows is not declared: it is the type of the fields that use the loader."""

    __slots__ = ("by_id", "fetch", "many", "name", "prunable", "row_keyed")

    def __init__(
        self,
        name: str,
        fetch: Callable[..., Any],
        *,
        many: bool = False,
        by_id: bool = False,
        prunable: bool = False,
        row_keyed: bool = False,
    ) -> None:
        if name in LOADERS:
            raise ValueError(f"a loader named {name!r} is declared twice")
        self.name = name
        self.fetch = fetch
        self.many = many
        self.by_id = by_id
        self.prunable = prunable
        self.row_keyed = row_keyed
        LOADERS[name] = self

    def __repr__(self) -> str:
        return f"Loader({self.name!r})"

    async def batch(
        self, session: Any, keys: list[Any], columns: frozenset[str] | None = None
    ) -> dict[Any, Any]:
        """{key: value} for `keys`; a prunable loader's rows carry `id` and `columns` only
        (None: every column)."""
        if self.prunable:
            return await self.fetch(keys).project(session, columns)
        return await self.fetch(session, keys)


LANGUAGE = Loader("language", languages.languages_by_ids, by_id=True)
PROFILE = Loader("profile", profiles.profiles_by_ids_read, by_id=True, prunable=True)
PROFILES_OF_CONTACT = Loader(
    "profiles_of_contact", profiles.profiles_of_contacts_read, many=True, prunable=True
)
CONTACT = Loader("contact", contacts.contacts_by_ids_read, by_id=True, prunable=True)
ORGANIZATION = Loader("organization", organizations.organizations_by_ids, by_id=True)
USER = Loader("user", users.users_by_ids, by_id=True)
GROUP = Loader("group", groups.groups_by_ids, by_id=True)
GROUPS_OF_CONTACT = Loader("groups_of_contact", groups.groups_for_contacts, many=True)
GROUPS_OF_USER = Loader("groups_of_user", groups.groups_for_users, many=True)
USERS_OF_GROUP = Loader("users_of_group", groups.users_for_groups, many=True)
CONTACTS_OF_GROUP = Loader("contacts_of_group", groups.contacts_for_groups, many=True)
MESSAGES_OF_GROUP = Loader("messages_of_group", group_sends.group_messages, many=True)
HISTORY_OF_CONTACT = Loader("history_of_contact", history.history_for_contacts, many=True)
WA_GROUPS_OF_CONTACT = Loader("wa_groups_of_contact", wa_groups.wa_groups_of_contacts, many=True)
WA_GROUPS_SEEN_BY = Loader("wa_groups_seen_by", wa_groups.wa_groups_seen_by, many=True)
WA_GROUPS_OF_GROUP = Loader("wa_groups_of_group", wa_groups.wa_groups_of_collections, many=True)
TAG = Loader("tag", tags.tags_by_ids, by_id=True)
FLOW = Loader("flow", flows.flows_by_ids_read, by_id=True, prunable=True)
# {flow id: (last published at, last changed at)}, for Flow.lastPublishedAt/lastChangedAt.
FLOW_REVISION_DATES = Loader("flow_revision_dates", flows.revision_dates)
ACCESS_ROLES_OF_USER = Loader(
    "access_roles_of_user", users.access_roles_for_users, many=True, row_keyed=True
)


class Loaders:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._made: dict[str, DataLoader[Any, Any]] = {}

    def get(self, name: str) -> DataLoader[Any, Any]:
        loader = self._made.get(name)
        if loader is None:
            loader = self._made[name] = self._make(LOADERS[name])
        return loader

    def _make(self, loader: Loader) -> DataLoader[Any, Any]:
        ctx = self._ctx
        row_keyed, many = loader.row_keyed, loader.many

        async def load(keys: list[Hashable]) -> list[Any]:
            found = plain(await ctx.read(loader.batch, list(keys)))
            ids = [getattr(k, "id", k) for k in keys] if row_keyed else keys
            if many:  # a fresh list for each key the batch did not return
                return [found.get(k, []) for k in ids]
            return [found.get(k) for k in ids]

        return DataLoader(load_fn=load, cache_key_fn=(lambda r: r.id) if row_keyed else None)
