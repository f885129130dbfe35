"""Media a contact sends that arrives as a provider's media id instead of a URL (Meta's Cloud
API): fetched with the organization's credentials and kept (resolvers.media) before the
flows see the message, so the chat screen and `@input` have a URL that lasts (Meta's own
URL needs the token and expires within minutes). A file that cannot be fetched leaves the
message as it came (its media id stays in `interactive_content`), and it is logged."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

import httpx2
from sqlalchemy import select
from sqlmodel import col

from models import Database, Message
from resolvers import media, providers
from resolvers.config import settings_for
from resolvers.conversation import InboundMessage
from resolvers.delivery import media_fetcher_for

log = logging.getLogger(__name__)


async def with_kept_media(db: Database, org_id: int, message: InboundMessage) -> InboundMessage:
    media_id = (message.input.interactive or {}).get("media_id")
    fetcher = media_fetcher_for(message.provider)
    if message.input.media_url or not media_id or fetcher is None:
        return message
    async with db.session(org_id) as session:
        if await session.scalar(
            select(col(Message.id)).where(
                col(Message.bsp_message_id) == message.provider_message_id,
                col(Message.organization_id) == org_id,
            )
        ):
            return message  # a redelivery: the first one kept the file
        accounts = await providers.accounts_of(session, org_id)
    account = next((a for a in accounts if a.provider == message.provider), None)
    if account is None:
        return message
    settings = settings_for(db)
    try:
        async with httpx2.AsyncClient(timeout=settings.send_timeout_seconds) as client:
            data, mime = await fetcher(client, account.sending_credentials(), str(media_id))
        extension = media.extension_of(mime)
        if extension is None:
            log.warning(
                "media %s of message %s: %s is not kept",
                media_id,
                message.provider_message_id,
                mime,
            )
            return message
        path = await asyncio.to_thread(media.store, settings.media_dir, org_id, data, extension)
    except Exception as exc:  # the provider's refusal, a timeout, a full disk ...
        log.warning(
            "media %s of message %s not fetched: %s", media_id, message.provider_message_id, exc
        )
        return message
    url = settings.public_url.rstrip("/") + path
    return replace(message, input=replace(message.input, media_url=url))
