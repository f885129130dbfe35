"""Sign-in, API tokens and roles.

Tokens are random strings handed to the client once; only a keyed SHA-256 of each is stored,
so any app process can check or revoke them and a database dump cannot be replayed. An access
token lives 30 minutes, its renewal token 30 days; one sign-in is one `session_id` pairing the
two, so renewing or signing out drops both.

Passwords are hashed and checked (argon2, a fifth of a second of CPU) in a few threads of
their own, never on the event loop, and with no database connection held meanwhile. A phone
that is no user's is checked against a dummy hash, so refusing it costs the same time as
refusing a wrong password: the time of an answer does not tell which phones have accounts.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from pwdlib import PasswordHash
from sqlalchemy import bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Database, Organization, User, UserToken, prepared, read_rows, saved_id, utcnow
from resolvers.config import settings_for, settings_of
from resolvers.errors import InputErrors
from resolvers.phones import normalize_phone
from resolvers.roles import ROLE_ORDER
from settings import Settings, get_settings

ACCESS, RENEWAL = "access", "renewal"

_hasher = PasswordHash.recommended()
T = TypeVar("T")


def hash_password(password: str) -> str:
    """CPU-heavy: from async code, use `make_password_hash`."""
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    """CPU-heavy: runs in the password threads (see `login`)."""
    try:
        return _hasher.verify(password, password_hash)
    except Exception:  # a malformed stored hash is a failed sign-in, not a crash
        return False


@functools.cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def _matching(password: str, hashes: list[str | None]) -> list[int]:
    """Indexes of the hashes `password` matches; a None (no such user) is checked against a
    dummy hash, so it costs what a real check costs and never matches."""
    found = []
    for i, password_hash in enumerate(hashes):
        if password_hash is None:
            verify_password(password, _dummy_hash())
        elif verify_password(password, password_hash):
            found.append(i)
    return found


_pools: dict[int, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


async def _in_password_threads(settings: Settings, work: Callable[..., T], *args: object) -> T:
    """Run `work` in this process's password threads (PASSWORD_HASH_THREADS of them; work
    beyond that waits its turn) and await it without blocking the event loop."""
    size = settings.password_hash_threads
    with _pools_lock:
        pool = _pools.get(size)
        if pool is None:
            pool = _pools[size] = ThreadPoolExecutor(size, thread_name_prefix="password")
    return await asyncio.get_running_loop().run_in_executor(pool, work, *args)


async def make_password_hash(password: str, settings: Settings | None = None) -> str:
    return await _in_password_threads(settings or get_settings(), hash_password, password)


def has_role(roles: list[str] | tuple[str, ...], required: str) -> bool:
    """Glific's Authorize: holding `required` or any role above it. `none` grants nothing."""
    needed = ROLE_ORDER.index(required)
    return any(r in ROLE_ORDER and r != "none" and ROLE_ORDER.index(r) >= needed for r in roles)


@dataclass(frozen=True)
class AuthUser:
    """The signed-in user as every request sees it (a snapshot, not an ORM object)."""

    id: int
    organization_id: int
    name: str
    phone: str
    roles: tuple[str, ...]
    is_restricted: bool
    contact_id: int | None
    language_id: int | None
    session_id: str

    def has_role(self, required: str) -> bool:
        return has_role(self.roles, required)


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    renewal_token: str
    token_expiry_time: datetime
    last_login_time: datetime | None


def _digest(session: AsyncSession, token: str) -> str:
    key = settings_of(session).secret_key.encode()
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()


async def issue_tokens(
    session: AsyncSession, user: User, session_id: str | None = None
) -> TokenPair:
    settings = settings_of(session)
    now = utcnow()
    access, renewal = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    sid = session_id or secrets.token_hex(16)
    expiry = now + timedelta(minutes=settings.access_token_minutes)
    lifetimes = (
        (ACCESS, access, expiry),
        (RENEWAL, renewal, now + timedelta(days=settings.renewal_token_days)),
    )
    session.add_all(
        UserToken(
            user_id=saved_id(user),
            organization_id=user.organization_id,
            kind=kind,
            token_hash=_digest(session, token),
            session_id=sid,
            expires_at=expires_at,
        )
        for kind, token, expires_at in lifetimes
    )
    # Expired tokens of this user are garbage; drop them while we are here.
    await session.execute(
        delete(UserToken).where(col(UserToken.user_id) == user.id, col(UserToken.expires_at) < now)
    )
    await session.flush()
    return TokenPair(access, renewal, expiry, user.last_login_at)


def signin_phone(raw: str, default_region: str = "") -> str | None:
    """The stored form of a phone typed at sign-in; None when it cannot be any user's phone
    (users' phones are always stored normalised, so there is nothing to look up)."""
    try:
        return normalize_phone(raw, default_region=default_region)
    except InputErrors:
        return None


async def login(
    db: Database, phone: str, password: str, org_shortcode: str | None = None
) -> TokenPair | None:
    """Check a phone and password. Users are per organization; when the same phone is a user
    in several, the request's host (`<shortcode>.example.org`) picks the organization.
    Three steps, so no connection (nor SQLite's write lock) is held while passwords are
    checked: read the candidates, check the password off the loop, write the new tokens."""
    settings = settings_for(db)
    stored = signin_phone(phone, settings.default_phone_region)
    candidates: list[tuple[int, str, str]] = []
    if stored is not None:
        stmt = (
            select(col(User.id), col(User.password_hash), col(Organization.shortcode))
            .join(Organization, col(Organization.id) == User.organization_id)
            .where(col(User.phone) == stored, col(Organization.is_active).is_(True))
        )
        async with db.session(all_organizations=True) as session:
            rows = (await session.execute(stmt)).all()
        candidates = [(row.id, row.password_hash, row.shortcode) for row in rows]
    if org_shortcode and len(candidates) > 1:
        candidates = [c for c in candidates if c[2] == org_shortcode]
    hashes: list[str | None] = [c[1] for c in candidates] or [None]
    matching = await _in_password_threads(settings, _matching, password, hashes)
    if len(matching) != 1:
        return None
    async with db.transaction(all_organizations=True) as session:
        user = await session.get(User, candidates[matching[0]][0])
        if user is None:  # deleted meanwhile
            return None
        pair = await issue_tokens(session, user)
        user.last_login_at = utcnow()
        await session.flush()
    return pair


async def renew(session: AsyncSession, renewal_token: str) -> TokenPair | None:
    """Swap a renewal token for a new pair; the old access and renewal tokens stop working."""
    row = await session.scalar(
        select(UserToken).where(
            col(UserToken.token_hash) == _digest(session, renewal_token),
            col(UserToken.kind) == RENEWAL,
            col(UserToken.expires_at) > utcnow(),
        )
    )
    if row is None:
        return None
    user = await session.get(User, row.user_id)
    if user is None:
        return None
    await session.execute(delete(UserToken).where(col(UserToken.session_id) == row.session_id))
    return await issue_tokens(session, user, row.session_id)


async def logout(session: AsyncSession, token: str) -> bool:
    """Drop both tokens of the sign-in that `token` belongs to: its access token or its
    renewal token (Glific ends the whole session either way)."""
    row = await session.scalar(
        select(UserToken).where(col(UserToken.token_hash) == _digest(session, token))
    )
    if row is None:
        return False
    await session.execute(delete(UserToken).where(col(UserToken.session_id) == row.session_id))
    return True


# Every API request runs this: built once, with the token and the time as parameters,
# and run through the driver (models.direct) on the request's all-organizations session.
_SIGNED_IN = prepared(
    select(
        col(User.id),
        col(User.organization_id),
        col(User.name),
        col(User.phone),
        col(User.roles),
        col(User.is_restricted),
        col(User.contact_id),
        col(User.language_id),
        col(UserToken.session_id),
    )
    .join(UserToken, col(UserToken.user_id) == User.id)
    .join(Organization, col(Organization.id) == User.organization_id)
    .where(
        col(UserToken.token_hash) == bindparam("token_hash"),
        col(UserToken.kind) == ACCESS,
        col(UserToken.expires_at) > bindparam("now"),
        col(Organization.is_active).is_(True),
    )
)


async def authenticate(session: AsyncSession, access_token: str) -> AuthUser | None:
    """The user behind a live access token, in one query; None if unknown or expired."""
    params = {"token_hash": _digest(session, access_token), "now": utcnow()}
    found = await read_rows(session, _SIGNED_IN, params)
    if not found:
        return None
    row = found[0]
    return AuthUser(
        id=row.id,
        organization_id=row.organization_id,
        name=row.name,
        phone=row.phone,
        roles=tuple(row.roles or ()),
        is_restricted=row.is_restricted,
        contact_id=row.contact_id,
        language_id=row.language_id,
        session_id=row.session_id,
    )
