"""`/flow-editor/*`: the REST calls of the flow editor Glific's web app embeds (spec §5.2),
with or without a trailing slash and with any query string. Thin: the path picks an
endpoint, the token and role are checked, a resolver (resolvers.flow_editor) answers.

- Path unknown: 404; method not offered there: 405 (before any sign-in check, as Phoenix's
  router answers).
- `authorization: <access token>` (or `Bearer <token>`): missing, unknown or expired gives
  401 `{"error": {"status": 401, "message": "Invalid token"}}`. Reads need the staff role,
  writes (POST) the manager role: 403 `{"error": {"status": 403, "message": "Unauthorized"}}`.
- Bad input: 4xx with `{"error": {"status", "message"}}` and the same message as
  `description`, which the editor shows when a save fails. A bug: 500 with Glific's generic
  message, logged.

Reads keep the connection that checked the token (narrowed to the user's organization);
a write closes it and parses the (already buffered) body before its transaction opens.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from models import Database
from models.errors import DatabaseUnavailable
from resolvers import auth
from resolvers import flow_editor as fe
from resolvers.config import settings_for
from resolvers.contacts import viewer_for
from resolvers.errors import GENERIC_ERROR, UNAUTHORIZED, InputErrors
from resolvers.validation import unstorable_text
from schema.view import bearer_token, load_json

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Call:
    """What an endpoint gets: the signed-in user, the path segments after its name, the
    query string and (for a write) the decoded body."""

    user: auth.AuthUser
    args: list[str]
    query: dict[str, str]
    body: Any = None
    phone_region: str = ""

    @property
    def org_id(self) -> int:
        return self.user.organization_id


Handler = Callable[[AsyncSession, Call], Awaitable[Any]]


@dataclass(frozen=True)
class Endpoint:
    handler: Handler
    most_args: int = 0  # path segments allowed after the name
    least_args: int = 0
    write: bool = False


def _unstorable(value: Any) -> str | None:
    """Why a value sent to be stored cannot be: text PostgreSQL refuses (NUL, lone
    surrogates) or a number JSON cannot hold (NaN, infinities). None when it can."""
    reason = unstorable_text(value)
    if reason is not None:
        return reason
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, float) and not math.isfinite(item):
            return "numbers must be finite (no NaN or Infinity)"
    return None


def _error(status: int, message: str) -> JSONResponse:
    body = {"error": {"status": status, "message": message}, "description": message}
    return JSONResponse(body, status_code=status)


async def _nothing(_: AsyncSession, __: Call) -> Any:
    return fe.empty_results()


async def _none(_: AsyncSession, __: Call) -> Any:
    return []


async def _completion(_: AsyncSession, __: Call) -> Any:
    return fe.completion()


async def _validate_media(_: AsyncSession, call: Call) -> Any:
    return fe.validate_media(call.query.get("url"))


async def _languages(s: AsyncSession, call: Call) -> Any:
    return await fe.languages(s, call.org_id)


async def _environment(s: AsyncSession, call: Call) -> Any:
    return await fe.environment(s, call.org_id)


async def _channels(s: AsyncSession, call: Call) -> Any:
    return await fe.channels(s, call.org_id)


async def _fields(s: AsyncSession, call: Call) -> Any:
    return await fe.fields(s, call.org_id, call.query.get("scope") or None)


async def _create_field(s: AsyncSession, call: Call) -> Any:
    return await fe.create_field(s, call.org_id, call.body)


async def _groups(s: AsyncSession, call: Call) -> Any:
    return await fe.group_list(s, call.org_id, viewer_for(call.user, call.phone_region))


async def _create_group(s: AsyncSession, call: Call) -> Any:
    return await fe.create_group(s, call.org_id, call.body)


async def _labels(s: AsyncSession, call: Call) -> Any:
    return await fe.labels(s, call.org_id)


async def _create_label(s: AsyncSession, call: Call) -> Any:
    return await fe.create_label(s, call.org_id, call.body)


async def _users(s: AsyncSession, call: Call) -> Any:
    return await fe.users(s, call.org_id)


async def _recipients(s: AsyncSession, call: Call) -> Any:
    return await fe.recipients(s, call.org_id, viewer_for(call.user, call.phone_region))


async def _flows(s: AsyncSession, call: Call) -> Any:
    if call.args:
        return await fe.flow_entry(s, call.org_id, call.args[0])
    return await fe.flow_list(s, call.org_id)


async def _revisions(s: AsyncSession, call: Call) -> Any:
    if len(call.args) == 2:
        return await fe.revision(s, call.org_id, call.args[0], call.args[1])
    return await fe.revisions(s, call.org_id, call.args[0])


async def _save_revision(s: AsyncSession, call: Call) -> Any:
    return await fe.save_revision(s, call.org_id, call.user.id, call.args[0], call.body)


async def _activity(s: AsyncSession, call: Call) -> Any:
    flow = call.query.get("flow")
    if not flow:
        raise fe.EditorError(400, "Which flow? Send ?flow=<flow uuid>")
    return await fe.activity(s, call.org_id, flow)


GET: dict[str, Endpoint] = {
    "completion": Endpoint(_completion),
    "globals": Endpoint(_nothing),
    "languages": Endpoint(_languages),
    "fields": Endpoint(_fields),
    "groups": Endpoint(_groups),
    "labels": Endpoint(_labels),
    "classifiers": Endpoint(_nothing),
    "resthooks": Endpoint(_nothing),
    "ticketers": Endpoint(_nothing),
    "templates": Endpoint(_nothing),
    "interactive-templates": Endpoint(_nothing, most_args=1),
    "sheets": Endpoint(_nothing),
    "recents": Endpoint(_none, most_args=3),
    "validate-media": Endpoint(_validate_media),
    "channels": Endpoint(_channels),
    "environment": Endpoint(_environment),
    "users": Endpoint(_users),
    "recipients": Endpoint(_recipients),
    "flows": Endpoint(_flows, most_args=1),
    "revisions": Endpoint(_revisions, least_args=1, most_args=2),
    "activity": Endpoint(_activity),
}
POST: dict[str, Endpoint] = {
    "fields": Endpoint(_create_field, write=True),
    "groups": Endpoint(_create_group, write=True),
    "labels": Endpoint(_create_label, write=True),
    "revisions": Endpoint(_save_revision, least_args=1, most_args=1, write=True),
}


def _route(method: str, path: str) -> tuple[Endpoint | None, list[str], Response | None]:
    """The endpoint for `/flow-editor/<path>` and the segments after its name; or the 404
    or 405 to answer."""
    segments = [part for part in path.split("/") if part]
    if not segments:
        return None, [], _error(404, "Not found")
    name, args = segments[0], segments[1:]
    table = {"GET": GET, "POST": POST}.get(method, {})
    endpoint = table.get(name)
    if endpoint is None:
        if name in GET or name in POST:
            return None, [], _error(405, "Method not allowed")
        return None, [], _error(404, f"No flow-editor resource {name!r}")
    if not endpoint.least_args <= len(args) <= endpoint.most_args:
        return None, [], _error(404, f"Not found: /flow-editor/{path.strip('/')}")
    return endpoint, args, None


def flow_editor_endpoint(db: Database) -> Callable[[Request], Awaitable[Response]]:
    """The handler of `/flow-editor/{path:path}`, bound to the app's database."""
    region = settings_for(db).default_phone_region

    async def endpoint(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        found, args, refusal = _route(method, request.path_params.get("path", ""))
        if found is None:
            assert refusal is not None
            return refusal
        token = bearer_token(request)
        if token is None:
            return _error(401, "Invalid token")
        session = db.session(all_organizations=True)
        try:
            user = await auth.authenticate(session, token)
            if user is None:
                return _error(401, "Invalid token")
            if not user.has_role("manager" if found.write else "staff"):
                return _error(403, UNAUTHORIZED)
            call = Call(user, args, dict(request.query_params), phone_region=region)
            if not found.write:
                return JSONResponse(
                    await found.handler(db.narrow(session, user.organization_id), call)
                )
            await session.close()
            try:
                body = load_json(await request.body())
            except ValueError as exc:
                return _error(400, str(exc))
            reason = _unstorable(body)
            if reason is not None:
                return _error(400, f"The request body cannot be stored: {reason}")
            call = Call(user, args, call.query, body, region)
            async with db.transaction(user.organization_id) as tx:
                result = await found.handler(tx, call)
            return JSONResponse(result)
        except fe.EditorError as exc:
            return _error(exc.status, exc.message)
        except InputErrors as exc:
            return _error(400, "; ".join(message for _, message in exc.errors))
        except DatabaseUnavailable:
            raise  # the app's 503
        except Exception:
            log.exception("flow editor: %s %s failed", request.method, request.url.path)
            return _error(500, GENERIC_ERROR)
        finally:
            await session.close()

    return endpoint


_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def flow_editor_routes(db: Database) -> list[Route]:
    """`/flow-editor/<anything>` (and the bare prefix, a 404), every method: one the
    path does not offer is a JSON 405 here, not Starlette's plain-text one."""
    endpoint = flow_editor_endpoint(db)
    return [
        Route("/flow-editor", endpoint, methods=_METHODS),
        Route("/flow-editor/{path:path}", endpoint, methods=_METHODS),
    ]
