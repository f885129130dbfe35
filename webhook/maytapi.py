"""`POST /maytapi`: every Maytapi callback (WhatsApp groups) on one URL. The organization is
the one whose Maytapi account has the payload's `product_id` (or `productId`); when that
account has an allow-list, only those addresses may post.

- `message`: stored with its sender, managed phone, group and membership
  (`resolvers.wa_messages.receive`: in the request, one short transaction; see there why);
  one with no sender phone is acknowledged and dropped, as Glific does;
- `ack`: the named messages' provider status moves forward;
- `error`: the named message failed;
- `status`: a managed phone's status;
- anything else: acknowledged, nothing stored.

Answers: 200 with an empty body once handled (a redelivery too); 400 for a body that is not
a readable callback (the message says what is wrong); 403 from an address the allow-list
does not hold; 404 for a product no organization has; 413 (app.BufferedBody) past
MAX_BODY_BYTES.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from models import Database
from resolvers import providers, wa_messages
from resolvers.errors import InputErrors
from webhook.gupshup import callback_account, error
from webhook.maytapi_payload import (
    callback_kind,
    parse_acks,
    parse_error,
    parse_message,
    parse_phone_status,
    product_id,
)
from webhook.payload_fields import PayloadError, body_object, decode_json

log = logging.getLogger(__name__)


def maytapi_callback(db: Database) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            body = body_object(decode_json(await request.body(), "a Maytapi callback"))
            key = product_id(body)
        except PayloadError as exc:
            return error(400, exc.message)
        account = await callback_account(
            db, request, providers.MAYTAPI, key, "product_id", "Maytapi product"
        )
        if isinstance(account, Response):
            return account
        org_id = account.organization_id
        try:
            kind = callback_kind(body)
            if kind == "message":
                await wa_messages.receive(db, org_id, parse_message(body))
            elif kind == "ack":
                await wa_messages.record_acks(db, org_id, parse_acks(body))
            elif kind == "error":
                await wa_messages.record_error(db, org_id, parse_error(body))
            elif kind == "status":
                phone_id, status = parse_phone_status(body)
                await wa_messages.record_phone_status(db, org_id, phone_id, status)
        except PayloadError as exc:
            return error(400, exc.message)
        except InputErrors as exc:
            # A sender whose phone is no phone number: nobody to attribute it to. Answered
            # 200 all the same, or Maytapi would post it again and again.
            log.warning("Maytapi callback for organization %s dropped: %s", org_id, exc)
        return Response(status_code=200)

    return endpoint
