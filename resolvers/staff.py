"""Managing an organization's users (Glific's staff management screen and My Account):
listing, counting, changing and deleting them, and a user changing their own account.

The rule against privilege escalation (Glific's 2026 fix, #5565): nobody grants a role
above their own highest role, and nobody changes or deletes a user who holds a role above
theirs. A user cannot delete themselves (the organization could lose its last admin)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import AccessRole, Group, User, UserGroup, utcnow
from resolvers import users
from resolvers import validation as v
from resolvers.auth import AuthUser
from resolvers.errors import InputErrors, not_found
from resolvers.querying import ListOpts, apply_opts, ilike, int_ids, to_int_id
from resolvers.roles import ROLE_ORDER, role_labels

_COLUMNS = {
    "id": User.id,
    "name": User.name,
    "phone": User.phone,
    "inserted_at": User.inserted_at,
    "updated_at": User.updated_at,
}


def rank(roles: list[str] | tuple[str, ...]) -> int:
    """The position of the highest of `roles` in Glific's order (-1 for none known)."""
    return max((ROLE_ORDER.index(r) for r in roles if r in ROLE_ORDER), default=-1)


def _filtered(stmt: Any, org_id: int, flt: dict[str, Any]) -> Any:
    stmt = stmt.where(col(User.organization_id) == org_id)
    for key in ("name", "phone"):
        if flt.get(key):
            stmt = stmt.where(ilike(getattr(User, key), str(flt[key])))
    return stmt


async def list_users(
    session: AsyncSession, org_id: int, flt: dict[str, Any], opts: ListOpts
) -> list[User]:
    stmt = apply_opts(
        _filtered(select(User), org_id, flt),
        opts,
        columns=_COLUMNS,
        default_field="name",
        tiebreak=User.id,
    )
    return list((await session.scalars(stmt)).all())


async def count_users(session: AsyncSession, org_id: int, flt: dict[str, Any]) -> int:
    stmt = _filtered(select(func.count()).select_from(User), org_id, flt)
    return int((await session.execute(stmt)).scalar_one())


async def get_user(session: AsyncSession, org_id: int, user_id: Any, *, lock: bool = False) -> User:
    found = await users.get_user(session, org_id, to_int_id(user_id), lock=lock)
    if found is None:
        raise not_found("Users.User")
    return found


def _may_manage(actor: AuthUser, target: User) -> None:
    if rank(list(target.roles or [])) > rank(actor.roles):
        raise InputErrors.raw("roles", "You cannot change a user whose role is above yours")


async def _roles_from(
    session: AsyncSession, org_id: int, user: User, params: dict[str, Any]
) -> list[str] | None:
    """The user's new roles: `roles` (role values, parsed from Glific's labels), or the
    current ones with `add_role_ids` / `delete_role_ids` (access role rows) applied; None
    when neither is given."""
    if params.get("roles") is not None:
        return list(dict.fromkeys(r for r in params["roles"] if r))
    adding, removing = params.get("add_role_ids"), params.get("delete_role_ids")
    if adding is None and removing is None:
        return None
    ids = int_ids([*(adding or []), *(removing or [])])
    rows = {
        r.id: r
        for r in await session.scalars(
            select(AccessRole).where(
                col(AccessRole.organization_id) == org_id, col(AccessRole.id).in_(ids)
            )
        )
    }
    by_label = dict(zip(role_labels(ROLE_ORDER), ROLE_ORDER, strict=True))

    def roles_of(raw: list[Any] | None) -> list[str]:
        found = []
        for rid in int_ids(raw or []):
            row = rows.get(rid)
            if row is None or row.label not in by_label:
                raise InputErrors.field("add_role_ids", "does not exist")
            found.append(by_label[row.label])
        return found

    current = [r for r in (user.roles or []) if r not in roles_of(removing)]
    return list(dict.fromkeys([*current, *roles_of(adding)]))


async def _groups(session: AsyncSession, org_id: int, user: User, raw: list[Any]) -> None:
    """Replace the user's groups with `raw` (ids of this organization's groups)."""
    ids = int_ids(raw)
    found: set[int] = set(
        await session.scalars(
            select(col(Group.id)).where(
                col(Group.organization_id) == org_id, col(Group.id).in_(ids)
            )
        )
    )
    if len(found) != len(set(ids)):
        raise InputErrors.field("group_ids", "does not exist")
    await session.execute(delete(UserGroup).where(col(UserGroup.user_id) == user.id))
    for group_id in sorted(found):
        session.add(UserGroup(organization_id=org_id, user_id=user.id or 0, group_id=group_id))


async def update_user(
    session: AsyncSession, org_id: int, actor: AuthUser, user_id: Any, params: dict[str, Any]
) -> User:
    user = await get_user(session, org_id, user_id, lock=True)
    _may_manage(actor, user)
    roles = await _roles_from(session, org_id, user, params)
    if roles is not None:
        if not roles:
            raise InputErrors.field("roles", "can't be blank")
        if rank(roles) > rank(actor.roles):
            raise InputErrors.raw("roles", "You cannot grant a role above your own")
        user.roles = roles
    name = v.text(params, "name")
    if name is not None:
        if not name:
            raise InputErrors.field("name", "can't be blank")
        user.name = name
    if "email" in params:
        user.email = v.text(params, "email") or None
    restricted = v.boolean(params, "is_restricted")
    if restricted is not None:
        user.is_restricted = restricted
    if params.get("language_id") is not None:
        user.language_id = await v.language_id(session, params)
    if params.get("group_ids") is not None:
        await _groups(session, org_id, user, params["group_ids"])
    user.updated_at = utcnow()
    await session.flush()
    return user


async def delete_user(session: AsyncSession, org_id: int, actor: AuthUser, user_id: Any) -> User:
    user = await get_user(session, org_id, user_id, lock=True)
    if user.id == actor.id:
        raise InputErrors.raw("id", "You cannot delete your own account")
    _may_manage(actor, user)
    await session.delete(user)
    await session.flush()
    return user


async def update_current_user(
    session: AsyncSession, org_id: int, actor: AuthUser, params: dict[str, Any]
) -> User:
    """My Account: a user's own name, email and language. A new password needs the OTP
    Glific sends over WhatsApp, which this server does not send: it is refused with that
    reason."""
    if params.get("password") is not None or params.get("otp") is not None:
        raise InputErrors.raw(
            "password",
            "Changing the password needs a one-time code, which this server does not send;"
            " ask an administrator",
        )
    own: dict[str, Any] = {k: params[k] for k in ("name", "email", "language_id") if k in params}
    return await update_user(session, org_id, actor, actor.id, own)
