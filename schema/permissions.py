"""Role checks per root field (Glific's Authorize middleware): a refusal is the top-level
GraphQL error "Unauthorized"."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission
from strawberry.types import Info

from resolvers.errors import UNAUTHORIZED


class _RoleAtLeast(BasePermission):
    role = "staff"
    message = UNAUTHORIZED

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.user.has_role(self.role)


class Staff(_RoleAtLeast):
    role = "staff"


class Manager(_RoleAtLeast):
    role = "manager"


class Admin(_RoleAtLeast):
    role = "admin"


class GlificAdmin(_RoleAtLeast):
    role = "glific_admin"
