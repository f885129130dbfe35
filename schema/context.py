"""Per-request context: the signed-in user, one lazily opened read session, the DataLoaders.

An AsyncSession must not run two statements at once, but GraphQL resolves sibling fields and
DataLoader batches concurrently; every read therefore goes through `read()`, which serialises
them on one session (and one connection) per request.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from models import Database
from resolvers.auth import AuthUser
from resolvers.contacts import Viewer, viewer_for
from settings import Settings, get_settings

T = TypeVar("T")


class Context:
    def __init__(
        self,
        db: Database,
        user: AuthUser,
        request: Any = None,
        session: AsyncSession | None = None,
    ) -> None:
        self.db = db
        self.user = user
        self.request = request
        self.org_id = user.organization_id
        # The session that checked the sign-in token may be handed over for the reads.
        self._session = db.narrow(session, self.org_id) if session is not None else None
        self._lock = asyncio.Lock()
        self._loaders: Any = None
        # Rows fetched ahead of the fields that will ask for them (schema.prefetch), so those
        # fields resolve without an awaitable: {loader name: {key: value}}.
        self.primed: dict[str, dict[Any, Any]] = {}

    @property
    def settings(self) -> Settings:
        return self.db.settings if isinstance(self.db.settings, Settings) else get_settings()

    @property
    def viewer(self) -> Viewer:
        return viewer_for(self.user, self.settings.default_phone_region)

    @property
    def is_staff(self) -> bool:
        """Glific hides phone numbers from anyone holding the staff role."""
        return "staff" in self.user.roles

    @property
    def loaders(self) -> Any:
        if self._loaders is None:
            from schema.loaders import Loaders

            self._loaders = Loaders(self)
        return self._loaders

    def prime(self, loader: str, values: dict[Any, Any]) -> None:
        self.primed.setdefault(loader, {}).update(values)

    def lookup(self, loader: str, key: Any) -> Any:
        """The value for `key`: at once if it was prefetched, else an awaitable from the
        DataLoader (which batches it with its siblings)."""
        primed = self.primed.get(loader)
        if primed is not None and key in primed:
            return primed[key]
        return self.loaders.get(loader).load(key)

    async def fetch(self, loader: str, key: Any) -> Any:
        value = self.lookup(loader, key)
        return await value if inspect.isawaitable(value) else value

    async def read(self, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """Run `fn(session, *args)` on the request's read session, one statement at a time."""
        async with self._lock:
            if self._session is None:
                self._session = self.db.session(self.org_id)
            return await fn(self._session, *args, **kwargs)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """One transaction for one mutation. The read session gives its connection back
        first: a request holds one connection at a time, never one while it waits for the
        writer. Afterwards reads start afresh, so the mutation's result is read as committed
        and no loader serves a value cached before it."""
        await self.reset_reads()
        async with self.db.transaction(self.org_id) as session:
            yield session
        await self.reset_reads()

    async def reset_reads(self) -> None:
        async with self._lock:
            if self._session is not None:
                await self._session.close()
                self._session = None
            self._loaders = None
            self.primed = {}

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
