"""Meta's WhatsApp Cloud API webhook at `/webhook/whatsapp`.

- `GET`: the verification handshake; the challenge comes back as plain text when the verify
  token is some organization's, 403 otherwise.
- `POST`: a notification of messages and statuses, several per request. The organizations
  are those whose Meta accounts have the notification's phone number ids; the body must be
  signed (`X-Hub-Signature-256`) with each one's app secret, checked over the raw bytes
  before anything is read or stored: a missing or wrong signature gets 401 and nothing is
  stored. Messages are kept as jobs (`resolvers.inbound.accept`), statuses applied at once.
  200 with an empty body once handled; 400 for a signed body that is not a readable
  notification; 404 when it names no phone number id of ours (nothing stored).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from models import Database
from resolvers import inbound, message_status, providers
from resolvers.conversation import InboundMessage
from resolvers.validation import unstorable_text
from webhook.gupshup import error
from webhook.meta_payload import parse_notification, verify_signature
from webhook.payload_fields import PayloadError, decode_json


def phone_number_ids(raw: bytes) -> set[str]:
    """The phone number ids a body names, read leniently (the body is not trusted yet: it is
    only used to find whose secret signs it); an unreadable body names none."""
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        return set()
    found: set[str] = set()
    entries = body.get("entry") if isinstance(body, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        for change in changes if isinstance(changes, list) else []:
            value = change.get("value") if isinstance(change, dict) else None
            metadata = value.get("metadata") if isinstance(value, dict) else None
            number = metadata.get("phone_number_id") if isinstance(metadata, dict) else None
            # (Text no database keeps names no account.)
            if isinstance(number, str) and number and unstorable_text(number) is None:
                found.add(number[:255])
    return found


def meta_verification(db: Database) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        params = request.query_params
        token = params.get("hub.verify_token") or ""
        challenge = params.get("hub.challenge") or ""
        if params.get("hub.mode") != "subscribe" or not challenge:
            return PlainTextResponse("Forbidden", status_code=403)
        async with db.session(all_organizations=True) as session:
            matches = await providers.meta_handshake_matches(session, token)
        if not matches:
            return PlainTextResponse("Forbidden", status_code=403)
        return PlainTextResponse(challenge)

    return endpoint


def meta_notification(db: Database) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        raw = await request.body()
        numbers = phone_number_ids(raw)
        accounts: dict[str, providers.ProviderAccount] = {}
        async with db.session(all_organizations=True) as session:
            for number in sorted(numbers):
                account = await providers.account_for_callback(session, providers.META, number)
                if account is not None:
                    accounts[number] = account
        if not accounts:
            return error(404, "No organization has the phone number id this notification names")
        signature = request.headers.get("x-hub-signature-256")
        secrets = {str(a.credentials.get("app_secret") or "") for a in accounts.values()}
        if not all(verify_signature(raw, signature, s) for s in secrets):
            return error(401, "Invalid or missing X-Hub-Signature-256")
        try:
            notification = parse_notification(decode_json(raw, "a WhatsApp notification"))
        except PayloadError as exc:
            return error(400, exc.message)
        by_org: dict[int, list[InboundMessage]] = defaultdict(list)
        for number, message in notification.messages:
            if number in accounts:
                by_org[accounts[number].organization_id].append(message)
        for org_id, messages in by_org.items():
            await inbound.accept(db, org_id, messages)
        for number, update in notification.statuses:
            if number in accounts:
                await message_status.record_status(db, accounts[number].organization_id, update)
        return Response(status_code=200)

    return endpoint
