"""The roles a user may hold, lowest first: Glific's `none < staff < manager < admin <
glific_admin`. Holding a role grants what every role below it grants; `none` grants nothing
(resolvers.auth.has_role). The API's permissions and the command line name roles from here."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    NONE = "none"
    STAFF = "staff"
    MANAGER = "manager"
    ADMIN = "admin"
    GLIFIC_ADMIN = "glific_admin"


ROLE_ORDER: tuple[str, ...] = tuple(role.value for role in Role)


def role_labels(roles: list[str] | tuple[str, ...]) -> list[str]:
    """Glific's RoleLabel scalar (and its reserved access roles' labels): `none` -> "No access",
    others capitalised."""
    return ["No access" if r == Role.NONE else r[:1].upper() + r[1:] for r in roles]


def role_of_label(text: str) -> str | None:
    """The role a label (or the role's own name) names, in any case; None if none."""
    wanted = text.strip().lower()
    for role, label in zip(ROLE_ORDER, role_labels(ROLE_ORDER), strict=True):
        if wanted in (role, label.lower()):
            return role
    return None
