"""`POST /gupshup`: every Gupshup v2 callback on one URL. The organization is the one whose
Gupshup account has the payload's `app`; when that account has an allow-list, only those
addresses may post (Gupshup signs nothing). Work done before answering is O(1):

- `message` (and a WhatsApp Flows form reply): kept as a job (`resolvers.inbound.accept`);
  the contact, the flow step and the replies come after the answer;
- `message-event`: the message's status moves forward (`resolvers.message_status`);
- `user-event`: the contact opts in or out;
- anything else (template and billing events, kinds we do not read): ignored.

Answers: 200 with an empty body once handled (a redelivery too); 400 for a body that is not
a readable callback (the message says what is wrong); 403 from an address the allow-list
does not hold; 404 for an app no organization has.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from models import Database
from resolvers import inbound, message_status, providers
from resolvers.config import settings_for
from webhook.gupshup_payload import (
    app_name,
    callback_kind,
    parse_form_response,
    parse_message,
    parse_status,
    parse_user_event,
)
from webhook.payload_fields import PayloadError, decode_json


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"status": status, "message": message}}, status_code=status)


def client_address(request: Request, trust_forwarded_for: bool) -> str | None:
    """The caller's address: the socket's peer, or X-Forwarded-For's first entry behind a
    proxy the settings trust."""
    if trust_forwarded_for:
        forwarded = request.headers.get("x-forwarded-for", "").split(",")[0].strip()
        if forwarded:
            return forwarded
    return request.client.host if request.client else None


async def callback_account(
    db: Database, request: Request, provider: str, key: str | None, key_name: str, thing: str
) -> providers.ProviderAccount | Response:
    """The account an unsigned callback (Gupshup's, Maytapi's) is for, found by `key` (the
    payload's `key_name`, naming `thing`: "Gupshup app"), or the error answer: 400 without a
    key, 404 for one no organization has, 403 from an address the account's allow-list does
    not hold."""
    if not key:
        return error(400, f"{key_name} is missing: the {thing} the callback is for")
    async with db.session(all_organizations=True) as session:
        account = await providers.account_for_callback(session, provider, key)
    if account is None:
        return error(404, f"No organization has the {thing} {key[:100]!r}")
    if not account.admits(client_address(request, settings_for(db).trust_forwarded_for)):
        return error(403, f"This address may not post {thing.split()[0]} callbacks")
    return account


def gupshup_callback(db: Database) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            body = decode_json(await request.body(), "a Gupshup callback")
            key = app_name(body)
        except PayloadError as exc:
            return error(400, exc.message)
        account = await callback_account(db, request, providers.GUPSHUP, key, "app", "Gupshup app")
        if isinstance(account, Response):
            return account
        org_id = account.organization_id
        try:
            kind = callback_kind(body)
            if kind == "message":
                await inbound.accept(db, org_id, [parse_message(body)])
            elif kind == "form-response":
                await inbound.accept(db, org_id, [parse_form_response(body)])
            elif kind == "message-event":
                await message_status.record_status(db, org_id, parse_status(body))
            elif kind == "user-event":
                await message_status.record_opt(db, org_id, parse_user_event(body))
        except PayloadError as exc:
            return error(400, exc.message)
        return Response(status_code=200)

    return endpoint
