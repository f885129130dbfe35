"""`python -m app provider ...`: set, list and remove an organization's WhatsApp provider
accounts (secrets are written, never printed).

    python -m app provider set gupshup --org glific --app-name myapp --api-key KEY \\
        --source-number 919999999999 [--allowed-sources 1.2.3.0/24,5.6.7.8] --sends-replies
    python -m app provider set meta --org glific --phone-number-id 1234 --access-token T \\
        --app-secret S --verify-token V --sends-replies
    python -m app provider set maytapi --org glific --product-id PRODUCT --token T
    python -m app provider list [--org glific]
    python -m app provider remove meta --org glific
"""

from __future__ import annotations

import argparse
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from models import Database, Organization, saved_id
from resolvers import providers
from resolvers.errors import DomainError
from settings import Settings


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("provider", help="an organization's WhatsApp provider accounts")
    actions = parser.add_subparsers(dest="action", required=True)
    put = actions.add_parser("set", help="create or replace an account")
    put.add_argument("provider", choices=providers.PROVIDERS)
    put.add_argument("--org", help="organization shortcode (default: the seeded organization)")
    put.add_argument("--app-name", help="Gupshup: the app name its callbacks carry")
    put.add_argument("--api-key", help="Gupshup: the API key")
    put.add_argument("--source-number", help="Gupshup: the business number")
    put.add_argument("--phone-number-id", help="Meta: the business number's id")
    put.add_argument("--access-token", help="Meta: the access token")
    put.add_argument("--app-secret", help="Meta: the app secret (signs callbacks)")
    put.add_argument("--verify-token", help="Meta: the webhook verify token")
    put.add_argument("--product-id", help="Maytapi: the product id (WhatsApp groups)")
    put.add_argument("--token", help="Maytapi: the API token")
    put.add_argument("--api-url", help="the provider's API base URL")
    put.add_argument("--api-version", help="Meta: the Graph API version (v21.0)")
    put.add_argument("--allowed-sources", help="Gupshup: comma-separated IPs or CIDR ranges")
    put.add_argument("--rate-limit", type=int, default=30, help="messages per second")
    put.add_argument(
        "--sends-replies", action="store_true", help="the organization's replies go through it"
    )
    show = actions.add_parser("list", help="list accounts (without secrets)")
    show.add_argument("--org", help="organization shortcode (default: every organization)")
    drop = actions.add_parser("remove", help="remove an account")
    drop.add_argument("provider", choices=providers.PROVIDERS)
    drop.add_argument("--org", help="organization shortcode (default: the seeded organization)")


async def _org_id(db: Database, shortcode: str) -> int:
    async with db.session(all_organizations=True) as session:
        org = await session.scalar(
            select(Organization).where(col(Organization.shortcode) == shortcode)
        )
    if org is None:
        raise DomainError(f"no organization has the shortcode {shortcode!r}")
    return saved_id(org)


def _credentials(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    if args.provider == providers.GUPSHUP:
        keys = {"api_key": args.api_key, "source_number": args.source_number}
        keys["api_url"] = args.api_url
        return args.app_name or "", keys
    if args.provider == providers.MAYTAPI:
        return args.product_id or "", {"token": args.token, "api_url": args.api_url}
    keys = {
        "access_token": args.access_token,
        "app_secret": args.app_secret,
        "verify_token": args.verify_token,
        "api_url": args.api_url,
        "api_version": args.api_version,
    }
    return args.phone_number_id or "", keys


def _line(shortcode: str, account: providers.ProviderAccount) -> str:
    sends = "sends replies" if account.sends_replies else "inbound only"
    sources = ",".join(account.allowed_sources) or "any address"
    return (
        f"{shortcode}  {account.provider}  {account.app_key}  {sends}  "
        f"{account.rate_limit}/s  from {sources}"
    )


async def run(settings: Settings, args: argparse.Namespace) -> str:
    db = Database(settings.database_url, settings=settings)
    try:
        if args.action == "list":
            return await _list(db, args.org)
        org_id = await _org_id(db, args.org or settings.default_org_shortcode)
        async with db.transaction(org_id) as session:
            if args.action == "remove":
                removed = await providers.remove_provider(session, org_id, args.provider)
                return f"{args.provider} account removed" if removed else "no such account"
            app_key, credentials = _credentials(args)
            account = await providers.set_provider(
                session,
                org_id,
                args.provider,
                app_key,
                credentials,
                allowed_sources=(args.allowed_sources or "").split(","),
                sends_replies=args.sends_replies,
                rate_limit=args.rate_limit,
            )
            return "saved: " + _line(args.org or settings.default_org_shortcode, account)
    finally:
        await db.dispose()


async def _list(db: Database, shortcode: str | None) -> str:
    async with db.session(all_organizations=True) as session:
        stmt = select(Organization).order_by(col(Organization.id))
        if shortcode:
            stmt = stmt.where(col(Organization.shortcode) == shortcode)
        orgs = list(await session.scalars(stmt))
        lines = [
            _line(org.shortcode, account)
            for org in orgs
            for account in await providers.accounts_of(session, saved_id(org))
        ]
    return "\n".join(lines) or "no provider accounts"
