"""Organizations (tenants): creating one with everything a fresh tenant needs."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import (
    SIMULATOR_PHONE_PREFIX,
    AccessRole,
    Contact,
    Language,
    Organization,
    saved_id,
    utcnow,
)
from resolvers import searches
from resolvers import validation as v
from resolvers.errors import InputErrors
from resolvers.roles import Role, role_labels

SIMULATOR_NAMES = ("One", "Two", "Three", "Four", "Five")


class OrganizationStatus(StrEnum):
    """Glific's organization statuses (a new organization is active)."""

    INACTIVE = "inactive"
    APPROVED = "approved"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    READY_TO_DELETE = "ready_to_delete"
    FORCED_SUSPENSION = "forced_suspension"


# Glific's reserved access roles, one per role, labelled as its RoleLabel shows the role
# (resolvers.users matches a user's roles to them by label).
_RESERVED_DESCRIPTIONS = {
    Role.ADMIN: "Default Admin Role",
    Role.GLIFIC_ADMIN: "Default Glific Admin Role",
    Role.MANAGER: "Default Manager Role",
    Role.STAFF: "Default Staff Role",
    Role.NONE: "Default Role with no access",
}
RESERVED_ROLES = tuple(
    zip(role_labels(tuple(_RESERVED_DESCRIPTIONS)), _RESERVED_DESCRIPTIONS.values(), strict=True)
)


async def organization_by_shortcode(session: AsyncSession, shortcode: str) -> Organization | None:
    return await session.scalar(
        select(Organization).where(col(Organization.shortcode) == shortcode)
    )


async def organization_for_sign_in(
    session: AsyncSession, shortcode: str | None
) -> Organization | None:
    """The organization a sign-in page belongs to: the one the host names, else the first
    one (a single-organization server answers on any host)."""
    if shortcode:
        found = await organization_by_shortcode(session, shortcode)
        if found is not None:
            return found
    return await session.scalar(select(Organization).order_by(col(Organization.id)).limit(1))


async def organizations_by_ids(session: AsyncSession, ids: list[int]) -> dict[int, Organization]:
    rows = await session.scalars(select(Organization).where(col(Organization.id).in_(ids)))
    return {saved_id(row): row for row in rows}


async def create_organization(
    session: AsyncSession,
    *,
    name: str,
    shortcode: str,
    contact_phone: str,
    default_language: Language,
    email: str | None = None,
) -> Organization:
    """A new tenant with its chatbot contact ("NGO Main Account"), five simulator contacts,
    the reserved access roles and the reserved saved searches."""
    if not shortcode.strip():
        raise InputErrors.field("shortcode", "can't be blank")
    await v.refuse_taken(
        session,
        "shortcode",
        select(col(Organization.id)).where(col(Organization.shortcode) == shortcode),
    )
    language_id = saved_id(default_language)
    org = Organization(
        name=name,
        shortcode=shortcode,
        email=email,
        default_language_id=language_id,
    )
    session.add(org)
    await v.flush_unique(session, "shortcode")
    org_id = saved_id(org)
    now = utcnow()
    root = Contact(
        organization_id=org_id,
        name="NGO Main Account",
        phone=contact_phone,
        language_id=language_id,
        status="valid",
        bsp_status="session_and_hsm",
        optin_time=now.replace(microsecond=0),
        optin_status=True,
        optin_method="BSP",
        last_communication_at=now,
    )
    session.add(root)
    for i, word in enumerate(SIMULATOR_NAMES, start=1):
        session.add(
            Contact(
                organization_id=org_id,
                name=f"Glific Simulator {word}",
                phone=f"{SIMULATOR_PHONE_PREFIX}_{i}",
                language_id=language_id,
                bsp_status="session_and_hsm",
                optin_time=now.replace(microsecond=0),
                optin_status=True,
                optin_method="BSP",
                last_message_at=now,
                last_communication_at=now,
            )
        )
    for label, description in RESERVED_ROLES:
        session.add(
            AccessRole(
                organization_id=org_id,
                label=label,
                description=description,
                is_reserved=True,
            )
        )
    await session.flush()
    org.contact_id = root.id
    await searches.seed_reserved(session, org_id)
    await session.flush()
    return org
