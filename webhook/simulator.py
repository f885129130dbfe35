"""Glific's simulator endpoint, `POST /api/v1/simulator/message`: the web UI's chat window
sends exactly the Gupshup inbound payload for one of the organization's simulator contacts,
and it goes the way a real WhatsApp message goes (`resolvers.inbound.receive`).

Unlike Gupshup's webhook it is an API call: the caller's access token (`Authorization`, with
or without `Bearer `) names the user, and the organization is that user's, never one from the
body or the host. Answers, in Glific's error shape `{"error": {"status", "message"}}`:

- 401 without a live token;
- 403 for a user without a role (`none`) or a sender that is not a simulator phone;
- 400 for a body that is not JSON or not a Gupshup message (the message says what is wrong);
- 200 `{}` once the message is stored and the flows have run. The replies reach the UI by
  subscription and are readable as messages.

The body is already buffered (app.BufferedBody); the token check reads in its own short
session, closed before the body is parsed, and `receive` opens what it needs itself, so no
connection is held while anything else happens.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from models import Database
from resolvers import auth, inbound
from resolvers.errors import UNAUTHORIZED, InputErrors
from resolvers.phones import is_simulator_phone
from webhook.gupshup_payload import parse_message
from webhook.payload_fields import PayloadError, decode_json

PROVIDER = "simulator"


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"status": status, "message": message}}, status_code=status)


def _token(request: Request) -> str | None:
    """Glific's clients send the raw token; `Bearer <token>` is accepted too."""
    value = request.headers.get("authorization", "").strip()
    if value[:7].lower() == "bearer ":
        value = value[7:].strip()
    return value or None


def simulator_message(db: Database) -> Callable[[Request], Awaitable[Response]]:
    """The endpoint, bound to the app's database."""

    async def endpoint(request: Request) -> Response:
        token = _token(request)
        if token is None:
            return _error(401, "Invalid token")
        async with db.session(all_organizations=True) as session:
            user = await auth.authenticate(session, token)
        if user is None:
            return _error(401, "Invalid token")
        if not user.has_role("staff"):
            return _error(403, UNAUTHORIZED)
        try:
            message = parse_message(decode_json(await request.body()), provider=PROVIDER)
        except PayloadError as exc:
            return _error(400, exc.message)
        if not is_simulator_phone(message.phone):
            return _error(403, "Only simulator contacts can send messages here")
        try:
            await inbound.receive(db, user.organization_id, message)
        except InputErrors as exc:  # a message the domain refuses (too long, ...)
            return _error(400, str(exc))
        return JSONResponse({})

    return endpoint
