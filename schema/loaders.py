"""DataLoaders, built per request: every relation is fetched in one query per batch."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from strawberry.dataloader import DataLoader

from resolvers import contacts, groups, history, languages, organizations, profiles, users
from schema.context import Context

Batch = Callable[..., Awaitable[dict[Any, Any]]]


def _loader(ctx: Context, batch: Batch, default: Any = None) -> DataLoader[Any, Any]:
    async def load(keys: list[Hashable]) -> list[Any]:
        found = await ctx.read(batch, list(keys))
        return [found.get(k, default() if callable(default) else default) for k in keys]

    return DataLoader(load_fn=load)


class Loaders:
    def __init__(self, ctx: Context) -> None:
        self.language = _loader(ctx, languages.languages_by_ids)
        self.profile = _loader(ctx, profiles.profiles_by_ids)
        self.profiles_of_contact = _loader(ctx, profiles.profiles_for_contacts, list)
        self.contact = _loader(ctx, contacts.contacts_by_ids)
        self.organization = _loader(ctx, organizations.organizations_by_ids)
        self.user = _loader(ctx, users.users_by_ids)
        self.groups_of_contact = _loader(ctx, groups.groups_for_contacts, list)
        self.groups_of_user = _loader(ctx, groups.groups_for_users, list)
        self.users_of_group = _loader(ctx, groups.users_for_groups, list)
        self.contacts_of_group = _loader(ctx, groups.contacts_for_groups, list)
        self.history_of_contact = _loader(ctx, history.history_for_contacts, list)

        async def roles_of(user_rows: list[Any]) -> list[Any]:
            found = await ctx.read(users.access_roles_for_users, list(user_rows))
            return [found.get(u.id, []) for u in user_rows]

        self.access_roles_of_user = DataLoader(load_fn=roles_of, cache_key_fn=lambda u: u.id)
