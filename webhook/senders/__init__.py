"""Outbound transports, one per WhatsApp provider, registered with `resolvers.delivery` under
the provider's name. `register_all()` is what the app calls at start-up; calling it again
changes nothing."""

from __future__ import annotations

from resolvers.delivery import (
    register_balance_reader,
    register_group_listers,
    register_group_transport,
    register_media_fetcher,
    register_transport,
)
from webhook.senders import gupshup, maytapi, meta


def register_all() -> None:
    register_group_transport("maytapi", maytapi.send)
    register_group_listers("maytapi", maytapi.list_phones, maytapi.list_groups)
    register_transport("gupshup", gupshup.send)
    register_transport("meta", meta.send)
    register_balance_reader("gupshup", gupshup.wallet_balance)
    register_media_fetcher("meta", meta.fetch_media)
