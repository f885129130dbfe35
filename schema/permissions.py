"""Role checks per root field (Glific's Authorize middleware): a refusal is the top-level
GraphQL error "Unauthorized"."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission
from strawberry.types import Info

from resolvers.errors import UNAUTHORIZED
from resolvers.roles import Role


class _RoleAtLeast(BasePermission):
    role: Role = Role.STAFF
    message = UNAUTHORIZED

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.user.has_role(self.role)


class Staff(_RoleAtLeast):
    role = Role.STAFF


class Manager(_RoleAtLeast):
    role = Role.MANAGER


class Admin(_RoleAtLeast):
    role = Role.ADMIN


class GlificAdmin(_RoleAtLeast):
    role = Role.GLIFIC_ADMIN
