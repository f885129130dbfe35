"""Organizations' WhatsApp provider accounts: setting them (the CLI, the default organization
from the environment), finding the organization a callback belongs to, and the credentials
the outbox sends with. Credentials never leave the server through the API."""

from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import WhatsappProvider, guarded, prepared, read_rows, records, utcnow
from models.records import complete
from resolvers.delivery import (
    Credentials,
    GupshupCredentials,
    MaytapiCredentials,
    MetaCredentials,
)
from resolvers.errors import InputErrors
from resolvers.querying import ListOpts
from settings import Settings

GUPSHUP = "gupshup"
META = "meta"
# WhatsApp groups only (resolvers.wa_messages): never the provider of 1:1 replies.
MAYTAPI = "maytapi"
PROVIDERS = (GUPSHUP, META, MAYTAPI)
# What each provider's account needs, besides its app key (Gupshup's app name, Meta's phone
# number id); the rest of `credentials` is optional.
REQUIRED: dict[str, tuple[str, ...]] = {
    GUPSHUP: ("api_key", "source_number"),
    META: ("access_token", "app_secret", "verify_token"),
    MAYTAPI: ("token",),
}
OPTIONAL: dict[str, tuple[str, ...]] = {
    GUPSHUP: ("api_url",),
    META: ("api_url", "api_version"),
    MAYTAPI: ("api_url",),
}


@dataclass(frozen=True)
class ProviderAccount:
    """One organization's account with one provider, as the webhooks and the outbox use it."""

    organization_id: int
    provider: str
    app_key: str
    credentials: dict[str, Any]
    allowed_sources: tuple[str, ...]
    sends_replies: bool
    rate_limit: int

    def sending_credentials(self) -> Credentials:
        c = self.credentials
        if self.provider == GUPSHUP:
            return GupshupCredentials(
                app_name=self.app_key,
                api_key=str(c.get("api_key", "")),
                source_number=str(c.get("source_number", "")),
                **({"api_url": str(c["api_url"])} if c.get("api_url") else {}),
            )
        if self.provider == MAYTAPI:
            return self.maytapi_credentials()
        return MetaCredentials(
            access_token=str(c.get("access_token", "")),
            phone_number_id=self.app_key,
            **({"api_url": str(c["api_url"])} if c.get("api_url") else {}),
            **({"api_version": str(c["api_version"])} if c.get("api_version") else {}),
        )

    def maytapi_credentials(self) -> MaytapiCredentials:
        api_url = str(self.credentials.get("api_url") or "")
        return MaytapiCredentials(
            product_id=self.app_key,
            token=str(self.credentials.get("token", "")),
            **({"api_url": api_url} if api_url else {}),
        )

    def admits(self, address: str | None) -> bool:
        """Whether a callback from `address` may be taken (no allow-list: any address)."""
        if not self.allowed_sources:
            return True
        if not address:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in ipaddress.ip_network(s, strict=False) for s in self.allowed_sources)


def _account(row: Any) -> ProviderAccount:
    """From a WhatsappProvider row or record."""
    return ProviderAccount(
        organization_id=row.organization_id,
        provider=row.provider,
        app_key=row.app_key,
        credentials=dict(row.credentials or {}),
        allowed_sources=tuple(row.allowed_sources or ()),
        sends_replies=row.sends_replies,
        rate_limit=row.rate_limit,
    )


def _check(
    provider: str,
    app_key: str,
    credentials: dict[str, Any],
    allowed_sources: list[str],
    rate_limit: int,
    sends_replies: bool = False,
) -> None:
    errors: list[tuple[str, str]] = []
    if provider not in PROVIDERS:
        errors.append(("provider", f"must be one of {', '.join(PROVIDERS)}, not {provider!r}"))
        raise InputErrors(errors)
    if not app_key.strip():
        name = {GUPSHUP: "app name", MAYTAPI: "product id"}.get(provider, "phone number id")
        errors.append(("app_key", f"the {name} is required"))
    for key in REQUIRED[provider]:
        if not str(credentials.get(key) or "").strip():
            errors.append((key, f"{key} is required for {provider}"))
    unknown = set(credentials) - set(REQUIRED[provider]) - set(OPTIONAL[provider])
    errors.extend((key, f"{key} is not a {provider} setting") for key in sorted(unknown))
    for source in allowed_sources:
        try:
            ipaddress.ip_network(source, strict=False)
        except ValueError:
            errors.append(("allowed_sources", f"{source!r} is not an IP address or range"))
    if provider == MAYTAPI and sends_replies:
        errors.append(
            (
                "sends_replies",
                "Maytapi carries WhatsApp group messages only; it cannot send 1:1 replies",
            )
        )
    if not 1 <= rate_limit <= 10_000:
        errors.append(("rate_limit", "must be between 1 and 10000 messages per second"))
    if errors:
        raise InputErrors(errors)


async def set_provider(
    session: AsyncSession,
    org_id: int,
    provider: str,
    app_key: str,
    credentials: dict[str, Any],
    *,
    allowed_sources: list[str] | None = None,
    sends_replies: bool = False,
    rate_limit: int = 30,
) -> ProviderAccount:
    """Create or replace the organization's account with `provider`. With `sends_replies`,
    it becomes the one the organization's replies go through (any other stops)."""
    sources = [s.strip() for s in allowed_sources or [] if s.strip()]
    creds = {k: v for k, v in credentials.items() if v not in (None, "")}
    _check(provider, app_key, creds, sources, rate_limit, sends_replies)
    taken = await session.scalar(
        select(col(WhatsappProvider.organization_id)).where(
            col(WhatsappProvider.provider) == provider,
            col(WhatsappProvider.app_key) == app_key.strip(),
            col(WhatsappProvider.organization_id) != org_id,
        )
    )
    if taken is not None:
        message = f"{app_key!r} is another organization's {provider} account"
        raise InputErrors([("app_key", message)])
    rows = {
        r.provider: r
        for r in await session.scalars(
            select(WhatsappProvider).where(col(WhatsappProvider.organization_id) == org_id)
        )
    }
    row = rows.get(provider) or WhatsappProvider(
        organization_id=org_id, provider=provider, app_key=""
    )
    row.app_key = app_key.strip()
    row.credentials = creds
    row.allowed_sources = sources
    row.sends_replies = sends_replies
    row.rate_limit = rate_limit
    row.updated_at = utcnow()
    session.add(row)
    if sends_replies:
        for other in rows.values():
            if other.provider != provider:
                other.sends_replies = False
    await session.flush()
    return _account(row)


async def remove_provider(session: AsyncSession, org_id: int, provider: str) -> bool:
    row = await session.scalar(
        select(WhatsappProvider).where(
            col(WhatsappProvider.organization_id) == org_id,
            col(WhatsappProvider.provider) == provider,
        )
    )
    if row is None:
        return False
    await session.delete(row)
    await session.flush()
    return True


async def accounts_of(session: AsyncSession, org_id: int) -> list[ProviderAccount]:
    rows = await session.scalars(
        select(WhatsappProvider)
        .where(col(WhatsappProvider.organization_id) == org_id)
        .order_by(col(WhatsappProvider.provider))
    )
    return [_account(r) for r in rows]


# Read on every message a flow answers: built once, run through the driver.
_SENDER = prepared(
    guarded(
        records(WhatsappProvider).where(
            col(WhatsappProvider.organization_id) == bindparam("org"),
            col(WhatsappProvider.sends_replies).is_(True),
        )
    )
)


async def sender_of(session: AsyncSession, org_id: int) -> ProviderAccount | None:
    """The account the organization's replies go through; None: provider `log`."""
    row = next(iter(complete(await read_rows(session, _SENDER, {"org": org_id}))), None)
    return None if row is None else _account(row)


async def account_for_callback(
    session: AsyncSession, provider: str, app_key: str
) -> ProviderAccount | None:
    """The account a callback names (Gupshup's `app`, Meta's phone number id), in any
    organization: run on a session opened with `all_organizations=True`."""
    found = complete(await read_rows(session, _BY_APP, {"provider": provider, "app": app_key}))
    return _account(found[0]) if found else None


# Read on every callback (before its organization is known): built once, run through the
# driver on the callback's all-organizations session.
_BY_APP = prepared(
    records(WhatsappProvider).where(
        col(WhatsappProvider.provider) == bindparam("provider"),
        col(WhatsappProvider.app_key) == bindparam("app"),
    )
)


async def meta_handshake_matches(session: AsyncSession, token: str) -> bool:
    """Whether `token` is some organization's Meta verify token (constant-time compare)."""
    if not token:
        return False
    rows = await session.scalars(
        select(col(WhatsappProvider.credentials)).where(col(WhatsappProvider.provider) == META)
    )
    found = False
    for credentials in rows:
        expected = str((credentials or {}).get("verify_token") or "")
        if expected and hmac.compare_digest(expected.encode(), token.encode()):
            found = True
    return found


async def apply_environment(session: AsyncSession, org_id: int, settings: Settings) -> None:
    """The default organization's accounts from the environment (GUPSHUP_*, META_*), and
    WHATSAPP_PROVIDER's choice of which sends replies, when it is set. What the environment
    does not name is left as the CLI set it."""
    known = {a.provider: a for a in await accounts_of(session, org_id)}
    explicit = "whatsapp_provider" in settings.model_fields_set

    def sends(provider: str) -> bool:
        if explicit:
            return settings.whatsapp_provider == provider
        return provider in known and known[provider].sends_replies

    wanted: dict[str, tuple[str, dict[str, Any], list[str]]] = {}
    if settings.gupshup_app_name:
        wanted[GUPSHUP] = (
            settings.gupshup_app_name,
            {
                "api_key": settings.gupshup_api_key,
                "source_number": settings.gupshup_source_number,
                "api_url": settings.gupshup_api_url,
            },
            settings.gupshup_allowed_sources.split(","),
        )
    if settings.meta_phone_number_id:
        wanted[META] = (
            settings.meta_phone_number_id,
            {
                "access_token": settings.meta_access_token,
                "app_secret": settings.meta_app_secret,
                "verify_token": settings.meta_verify_token,
                "api_url": settings.meta_api_url,
                "api_version": settings.meta_api_version,
            },
            [],
        )
    if settings.maytapi_product_id:
        wanted[MAYTAPI] = (
            settings.maytapi_product_id,
            {"token": settings.maytapi_token, "api_url": settings.maytapi_api_url},
            [],
        )
    for account in known.values():
        if (
            account.provider not in wanted
            and explicit
            and account.sends_replies != sends(account.provider)
        ):
            wanted[account.provider] = (
                account.app_key,
                account.credentials,
                list(account.allowed_sources),
            )
    for provider, (app_key, credentials, sources) in wanted.items():
        rate = known[provider].rate_limit if provider in known else 30
        await set_provider(
            session,
            org_id,
            provider,
            app_key,
            credentials,
            allowed_sources=sources,
            sends_replies=sends(provider),
            rate_limit=rate,
        )


def _form_field(
    label: str, default: str | None = None, *, view_only: bool = False
) -> dict[str, Any]:
    return {"type": "string", "label": label, "default": default, "view_only": view_only}


# The providers as Glific's `providers` query lists them: `keys` and `secrets` describe the
# fields of the settings form (what `python -m app provider set` takes).
CATALOG: dict[str, dict[str, Any]] = {
    GUPSHUP: {
        "id": "1",
        "name": "Gupshup",
        "shortcode": GUPSHUP,
        "group": "bsp",
        "description": "WhatsApp through Gupshup's API",
        "is_required": True,
        "keys": {
            "url": _form_field("BSP Home Page", "https://gupshup.io/", view_only=True),
            "api_end_point": _form_field("API End Point", "https://api.gupshup.io"),
        },
        "secrets": {
            "app_name": _form_field("App Name"),
            "api_key": _form_field("API Key"),
            "source_number": _form_field("Source number"),
        },
    },
    META: {
        "id": "2",
        "name": "Meta WhatsApp Cloud API",
        "shortcode": META,
        "group": "bsp",
        "description": "WhatsApp through Meta's Cloud API",
        "is_required": True,
        "keys": {"api_end_point": _form_field("API End Point", "https://graph.facebook.com")},
        "secrets": {
            "phone_number_id": _form_field("Phone number id"),
            "access_token": _form_field("Access token"),
            "app_secret": _form_field("App secret"),
            "verify_token": _form_field("Verify token"),
        },
    },
    "log": {
        "id": "3",
        "name": "Log (no provider)",
        "shortcode": "log",
        "group": "bsp",
        "description": "Replies are stored and logged, not sent (the embedded default)",
        "is_required": False,
        "keys": {},
        "secrets": {},
    },
}


def catalog_entry(name: str) -> dict[str, Any]:
    return dict(CATALOG.get(name, CATALOG["log"]))


def list_catalog(filters: dict[str, Any], opts: ListOpts) -> list[dict[str, Any]]:
    """Glific's `providers(filter: {name, shortcode}, opts)`: case-insensitive substring
    matches, in the catalog's order, paged by `opts`."""
    wanted = [(key, str(value).lower()) for key, value in filters.items() if value]
    found = [
        dict(entry)
        for entry in CATALOG.values()
        if all(word in str(entry.get(key, "")).lower() for key, word in wanted)
    ]
    end = None if opts.limit is None else opts.offset + opts.limit
    return found[opts.offset : end]
