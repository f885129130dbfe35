"""DataLoaders, built per request on first use: every relation is one query per batch.

Each entry maps a loader name to the resolver batch function behind it and the value for a
key the batch did not return (None, or an empty list for to-many relations)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from strawberry.dataloader import DataLoader

from resolvers import contacts, groups, history, languages, organizations, profiles, users
from schema.context import Context
from schema.records import plain

Batch = Callable[..., Awaitable[dict[Any, Any]]]

BATCHES: dict[str, tuple[Batch, Callable[[], Any] | None]] = {
    "language": (languages.languages_by_ids, None),
    "profile": (profiles.profiles_by_ids, None),
    "profiles_of_contact": (profiles.profiles_for_contacts, list),
    "contact": (contacts.contacts_by_ids, None),
    "organization": (organizations.organizations_by_ids, None),
    "user": (users.users_by_ids, None),
    "groups_of_contact": (groups.groups_for_contacts, list),
    "groups_of_user": (groups.groups_for_users, list),
    "users_of_group": (groups.users_for_groups, list),
    "contacts_of_group": (groups.contacts_for_groups, list),
    "history_of_contact": (history.history_for_contacts, list),
    "access_roles_of_user": (users.access_roles_for_users, list),
}
# Loaders whose batch can select only some columns (`only=`), and the type of their rows.
PRUNABLE = {"profile": "Profile", "profiles_of_contact": "Profile", "contact": "Contact"}
# Loaders whose keys are rows rather than ids (the batch needs more than the id).
ROW_KEYED = {"access_roles_of_user"}


class Loaders:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._made: dict[str, DataLoader[Any, Any]] = {}

    def get(self, name: str) -> DataLoader[Any, Any]:
        loader = self._made.get(name)
        if loader is None:
            loader = self._made[name] = self._make(name)
        return loader

    def _make(self, name: str) -> DataLoader[Any, Any]:
        batch, default = BATCHES[name]
        ctx = self._ctx
        row_keyed = name in ROW_KEYED

        async def load(keys: list[Hashable]) -> list[Any]:
            found = plain(await ctx.read(batch, list(keys)))
            return [
                found.get(getattr(k, "id", k) if row_keyed else k, default() if default else None)
                for k in keys
            ]

        return DataLoader(load_fn=load, cache_key_fn=(lambda r: r.id) if row_keyed else None)
