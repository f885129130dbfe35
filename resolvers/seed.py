"""What a fresh install needs: languages, the default organization, an admin user.

Idempotent: running it again changes nothing that exists (a second `make run` reuses all)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Language, Organization, User, saved_id
from resolvers import organizations, providers, users
from resolvers.phones import normalize_phone
from resolvers.roles import Role
from settings import Settings

LANGUAGES = (
    ("English", "English", "en"),
    ("Hindi", "हिंदी", "hi"),
    ("Marathi", "मराठी", "mr"),
    ("Tamil", "தமிழ்", "ta"),
    ("Telugu", "తెలుగు", "te"),
    ("Kannada", "ಕನ್ನಡ", "kn"),
    ("Bengali", "বাংলা", "bn"),
    ("Gujarati", "ગુજરાતી", "gu"),
    ("Punjabi", "ਪੰਜਾਬੀ", "pa"),
    ("Urdu", "اردو", "ur"),
)


@dataclass(frozen=True)
class SeedResult:
    organization: Organization
    admin_phone: str
    admin_created: bool


# The languages the web app's own interface is translated into (Glific seeds them
# `localized`; My Account offers only these).
INTERFACE_LOCALES = ("en", "hi")


async def seed_languages(session: AsyncSession) -> dict[str, Language]:
    existing = {(lang.label, lang.locale): lang for lang in await session.scalars(select(Language))}
    for label, label_locale, locale in LANGUAGES:
        if (label, locale) not in existing:
            lang = Language(
                label=label,
                label_locale=label_locale,
                locale=locale,
                is_reserved=locale in ("en", "hi"),
                localized=locale in INTERFACE_LOCALES,
            )
            session.add(lang)
            existing[(label, locale)] = lang
    if not any(lang.localized for lang in existing.values()):
        # A database seeded before languages were marked: as a fresh one.
        for lang in existing.values():
            lang.localized = lang.locale in INTERFACE_LOCALES
    await session.flush()
    return {lang.locale: lang for lang in existing.values()}


async def ensure_organization(
    session: AsyncSession, shortcode: str, *, name: str, contact_phone: str
) -> Organization:
    org = await organizations.organization_by_shortcode(session, shortcode)
    if org is not None:
        return org
    languages = await seed_languages(session)
    return await organizations.create_organization(
        session,
        name=name,
        shortcode=shortcode,
        contact_phone=contact_phone,
        default_language=languages["en"],
    )


async def ensure_user(
    session: AsyncSession,
    org: Organization,
    *,
    phone: str,
    password: str,
    name: str,
    roles: list[str],
) -> tuple[User, bool]:
    """The user with this phone in `org`, created if missing (an existing one is left as is)."""
    stored = normalize_phone(phone)
    user = await session.scalar(
        select(User).where(col(User.phone) == stored, col(User.organization_id) == org.id)
    )
    if user is not None:
        return user, False
    user = await users.create_user(
        session, org, phone=stored, password=password, name=name, roles=roles
    )
    return user, True


async def seed_defaults(session: AsyncSession, settings: Settings) -> SeedResult:
    """Run on a session opened with `all_organizations=True`."""
    await seed_languages(session)
    admin_phone = normalize_phone(settings.admin_phone)
    org = await ensure_organization(
        session,
        settings.default_org_shortcode,
        name=settings.default_org_name,
        contact_phone=admin_phone,
    )
    _, created = await ensure_user(
        session,
        org,
        phone=admin_phone,
        password=settings.admin_password,
        name=settings.admin_name,
        roles=[Role.GLIFIC_ADMIN.value],
    )
    await providers.apply_environment(session, saved_id(org), settings)
    return SeedResult(organization=org, admin_phone=admin_phone, admin_created=created)
