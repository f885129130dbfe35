"""The GraphQL HTTP endpoint: Glific's 401 for a missing or bad token, a Context per request,
errors shaped as Glific sends them (crashes masked with its generic message), and request
bodies read strictly (a 400 that says what is wrong: not UTF-8, not JSON, not an object,
nested too deep). And the `/socket` WebSocket (`GlificSocket`): subscriptions over
graphql-transport-ws, signed in by `connection_init`."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import orjson
from cross_web import HTTPException  # what Strawberry's views turn into a plain 4xx
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from models import Database
from resolvers import auth
from resolvers.config import settings_for
from resolvers.limits import RATE_LIMITED, RequestLimits
from schema.context import Context

NOT_AUTHENTICATED = {"error": {"code": 401, "message": "Not authenticated"}}
T = TypeVar("T")


def client_address(request: Request) -> str:
    """The client's address (behind a proxy, the one uvicorn's FORWARDED_ALLOW_IPS trusts)."""
    return request.client.host if request.client else "unknown"


def rate_limited() -> Response:
    """Glific's answer to a rate-limited request (spec §0.6)."""
    return PlainTextResponse(RATE_LIMITED, status_code=429)


def bearer_token(request: Request) -> str | None:
    """Glific sends the raw token; `Bearer <token>` is accepted too."""
    value = request.headers.get("authorization", "").strip()
    if value[:7].lower() == "bearer ":
        value = value[7:].strip()
    return value or None


# Far deeper than any GraphQL request needs (inputs nest a few levels; Json values travel as
# strings), and far below the depth where recursive code (json, graphql-core) gives up.
MAX_JSON_DEPTH = 64


def _too_deep(value: Any) -> bool:
    stack = [(value, 1)] if isinstance(value, (dict, list)) else []
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def load_json(data: str | bytes, what: str = "request body") -> Any:
    """JSON sent by a client; a ValueError says what is wrong with it (not UTF-8, not JSON,
    nested too deep)."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError(f"The {what} is not UTF-8 text") from None
    try:
        value = json.loads(data)
        too_deep = _too_deep(value)
    except RecursionError:  # the decoder's own limit, near a thousand levels
        too_deep = True
    except ValueError as exc:
        raise ValueError(f"Unable to parse the {what} as JSON: {exc}") from None
    if too_deep:
        raise ValueError(f"The {what} is nested deeper than {MAX_JSON_DEPTH} levels")
    return value


def _format(error: GraphQLError) -> dict[str, Any]:
    # A crash's details were masked already (the schema's MaskErrors).
    formatted = dict(error.formatted)
    formatted.pop("extensions", None)
    return formatted


class GlificGraphQL(GraphQL[Context, None]):
    def __init__(self, schema: Any, db: Database, *, graphiql: bool) -> None:
        # Multipart bodies carry `uploadMedia`'s file. No cookie signs a request in (the
        # token is a header a cross-site form cannot set), so they open no CSRF hole.
        super().__init__(
            schema, graphql_ide="graphiql" if graphiql else None, multipart_uploads_enabled=True
        )
        self.db = db
        self.graphiql = graphiql
        self.limits = RequestLimits(settings_for(db))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        if self.graphiql and request.method == "GET" and self.should_render_graphql_ide(request):
            # The IDE page needs no user (it sends the token the developer enters with each
            # request); Strawberry would build a context first, so render it here.
            await (await self.render_graphql_ide(request))(scope, receive, send)
            return
        token = bearer_token(request)
        # The session that checks the token goes on to serve the request's reads.
        session = self.db.session(all_organizations=True)
        try:
            user = await auth.authenticate(session, token) if token else None
        except BaseException:
            await session.close()
            raise
        if user is None:
            await session.close()
            await self.refuse(request)(scope, receive, send)
            return
        context = Context(self.db, user, request, session=session)
        scope.setdefault("state", {})["glific_context"] = context
        try:
            await super().__call__(scope, receive, send)
        finally:
            await context.close()

    def refuse(self, request: Request) -> Response:
        """Glific's 401 for a missing or bad token; 429 once an address has sent more of
        those in a minute than UNAUTHENTICATED_REQUESTS_PER_MINUTE (GET and POST alike)."""
        if self.limits.allow_address(client_address(request), request.url.path):
            return JSONResponse(NOT_AUTHENTICATED, status_code=401)
        return rate_limited()

    def encode_json(self, data: object) -> str | bytes:
        # orjson writes the same compact JSON several times faster than json.dumps, which
        # was a twentieth of a 25-contact list; anything it cannot write goes the old way.
        try:
            return orjson.dumps(data)
        except (TypeError, orjson.JSONEncodeError):
            return super().encode_json(data)

    def parse_json(self, data: str | bytes) -> Any:
        # The POST body. A list goes on to Strawberry, which refuses batches.
        try:
            value = load_json(data)
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from None
        if not isinstance(value, (dict, list)):
            raise HTTPException(
                400, 'The request body must be a JSON object: {"query": "...", "variables": {}}'
            )
        return value

    def parse_query_params(self, params: Mapping[str, str | None]) -> dict[str, Any]:
        # A GET: `variables` and `extensions` are JSON (Strawberry checks what they hold).
        parsed: dict[str, Any] = dict(params)
        for name in ("variables", "extensions"):
            if parsed.get(name):
                try:
                    parsed[name] = load_json(parsed[name], f"`{name}` parameter")
                except ValueError as exc:
                    raise HTTPException(400, str(exc)) from None
        return parsed

    def should_render_graphql_ide(self, request: Any) -> bool:
        accept = request.headers.get("accept", "")
        return "text/html" in accept and "query" not in request.query_params

    async def get_context(self, request: Any, response: Response | Any) -> Context:
        return request.state.glific_context

    async def parse_multipart(self, request: Any) -> dict[str, Any]:
        """Glific's web app sends uploads as Absinthe does (apollo-absinthe-upload-link):
        form fields `query`, `variables` and `operationName`, a variable's value naming the
        form part that holds its file. The GraphQL multipart spec's `operations` + `map`
        form works too."""
        form = await request.get_form_data()
        if "operations" in form.form:
            return await super().parse_multipart(request)
        variables = self.parse_json(form.form.get("variables") or "{}")
        if not isinstance(variables, dict):
            raise HTTPException(400, "The multipart `variables` field must be a JSON object")
        for key, value in list(variables.items()):
            if isinstance(value, str) and value in form.files:
                variables[key] = form.files[value]
        return {
            "query": form.form.get("query"),
            "variables": variables,
            "operationName": form.form.get("operationName"),
        }

    async def process_result(self, request: Any, result: ExecutionResult) -> GraphQLHTTPResponse:
        # Execution is over: give the connection back before the response goes out (a slow
        # reader of a large response must not hold it).
        await request.state.glific_context.close()
        data: GraphQLHTTPResponse = {"data": result.data}
        if result.errors:
            data["errors"] = [_format(e) for e in result.errors]
        return data


class SocketContext(Context):
    """One WebSocket connection's context: signed in by its `connection_init`, then shared by
    every operation on the socket. A socket lives for hours, so each read takes a pooled
    connection for that statement only (none is held between events)."""

    def __init__(self, db: Database, request: WebSocket) -> None:  # signed in later
        self.db = db
        self.request = request
        self.connection_params: dict[str, Any] = {}

    def sign_in(self, user: auth.AuthUser) -> None:
        Context.__init__(self, self.db, user, self.request)

    async def read(self, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        async with self._lock, self.db.session(self.org_id) as session:
            return await fn(session, *args, **kwargs)


class GlificSocket(GraphQL[Context, None]):
    """`/socket`: Glific's WebSocket, the graphql-transport-ws protocol (Strawberry's).

    `connection_init` carries `{"authToken": "<access token>"}` (with or without `Bearer `;
    the web app also sends its `userId`, which is not needed): a missing, unknown or expired
    token closes the socket with 4403 Forbidden. An open socket is not closed when its token
    expires later (the web app never signs a socket in again). A browser may connect from
    the API's own origin or one of CORS_ORIGINS; other origins get a 403 handshake, and
    clients that send no Origin (not browsers) are let in."""

    def __init__(self, schema: Any, db: Database, *, allowed_origins: list[str]) -> None:
        super().__init__(
            schema,
            graphql_ide=None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            allowed_origins=allowed_origins,
        )
        self.db = db

    async def get_context(self, request: Any, response: Any) -> Context:
        return SocketContext(self.db, request)

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        assert isinstance(context, SocketContext)
        token = context.connection_params.get("authToken")
        if isinstance(token, str) and token[:7].lower() == "bearer ":
            token = token[7:]
        if not isinstance(token, str) or not token.strip():
            raise ConnectionRejectionError
        async with self.db.session(all_organizations=True) as session:
            user = await auth.authenticate(session, token.strip())
        if user is None:
            raise ConnectionRejectionError
        context.sign_in(user)
        return UNSET
