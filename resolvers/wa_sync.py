"""Bringing an organization's WhatsApp groups in line with Maytapi (Glific's "sync WA
groups"): its managed phones (`listPhones`), each active phone's groups (`getGroups`), their
members as contacts and the memberships (`is_admin`). A membership Maytapi no longer lists is
removed.

The HTTP calls are made outside any transaction; each group is written with its members in a
short transaction of its own, so a sync that fails part way keeps what it wrote before
(running it again finishes the job: every write is an upsert).
"""

from __future__ import annotations

import logging

import httpx2
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import ContactWaGroup, Database, saved_id
from resolvers import providers
from resolvers.config import settings_for
from resolvers.delivery import GroupInfo, GroupSyncError, MaytapiCredentials, group_listers_for
from resolvers.errors import InputErrors
from resolvers.wa_messages import (
    NOT_ACTIVE,
    add_member,
    upsert_contact,
    upsert_group,
    upsert_managed_phone,
)

log = logging.getLogger(__name__)

ACTIVE = "active"


async def _account(db: Database, org_id: int) -> providers.ProviderAccount:
    async with db.session(org_id) as session:
        accounts = await providers.accounts_of(session, org_id)
    account = next((a for a in accounts if a.provider == providers.MAYTAPI), None)
    if account is None:
        raise InputErrors([("maytapi", NOT_ACTIVE)])
    return account


async def sync_groups(db: Database, org_id: int) -> int:
    """Sync the organization's phones, groups and members from Maytapi; the number of groups
    Maytapi listed. InputErrors when there is no Maytapi account or Maytapi refuses."""
    account = await _account(db, org_id)
    listers = group_listers_for(providers.MAYTAPI)
    if listers is None:
        raise InputErrors([("maytapi", "No Maytapi client is registered")])
    list_phones, list_groups = listers
    credentials = account.maytapi_credentials()
    total = 0
    timeout = max(settings_for(db).send_timeout_seconds, 30.0)
    async with httpx2.AsyncClient(timeout=timeout) as client:
        try:
            phones = await list_phones(client, credentials)
        except GroupSyncError as exc:
            raise InputErrors([("maytapi", str(exc))]) from exc
        async with db.transaction(org_id) as session:
            for phone in phones:
                await upsert_managed_phone(
                    session,
                    org_id,
                    phone.phone_id,
                    phone.number,
                    credentials.product_id,
                    label=phone.name,
                    status=phone.status,
                )
        for phone in phones:
            if phone.status != ACTIVE:
                continue  # Maytapi lists no groups for a phone that is not connected
            try:
                groups = await list_groups(client, credentials, phone.phone_id)
            except GroupSyncError as exc:
                raise InputErrors([("maytapi", str(exc))]) from exc
            await _write_groups(db, org_id, phone.phone_id, phone.number, credentials, groups)
            total += len(groups)
    return total


async def _write_groups(
    db: Database,
    org_id: int,
    phone_id: int,
    number: str,
    credentials: MaytapiCredentials,
    groups: list[GroupInfo],
) -> None:
    """Each group with its members in a transaction of its own: a phone in hundreds of
    large groups never holds the database's writer for long (on SQLite, every other write,
    a webhook's acknowledgement too, waits for it)."""
    async with db.transaction(org_id) as session:
        managed_id = saved_id(
            await upsert_managed_phone(session, org_id, phone_id, number, credentials.product_id)
        )
    for info in groups:
        async with db.transaction(org_id) as session:
            await _write_group(session, org_id, managed_id, info)


async def _write_group(
    session: AsyncSession, org_id: int, managed_id: int, info: GroupInfo
) -> None:
    group_id = saved_id(await upsert_group(session, org_id, info.bsp_id, info.name, managed_id))
    admins = set(info.admins)
    kept: set[int] = set()
    for member in dict.fromkeys(info.participants):
        try:
            # Maytapi lists numbers only: the member gets no name (as in Glific).
            contact_id = await upsert_contact(session, org_id, member, "")
        except InputErrors:
            log.info("group %s member %s is no phone number", info.bsp_id, member)
            continue
        await add_member(session, org_id, contact_id, group_id, member in admins)
        kept.add(contact_id)
    await session.execute(
        delete(ContactWaGroup).where(
            col(ContactWaGroup.organization_id) == org_id,
            col(ContactWaGroup.wa_group_id) == group_id,
            col(ContactWaGroup.contact_id).not_in(kept),
        )
    )
