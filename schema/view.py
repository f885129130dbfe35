"""The GraphQL HTTP endpoint: Glific's 401 for a missing or bad token, a Context per request,
and errors shaped as Glific sends them (crashes masked with its generic message)."""

from __future__ import annotations

from typing import Any

import orjson
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from models import Database
from resolvers import auth
from resolvers.errors import GENERIC_ERROR
from schema import is_unexpected
from schema.context import Context

NOT_AUTHENTICATED = {"error": {"code": 401, "message": "Not authenticated"}}


def bearer_token(request: Request) -> str | None:
    """Glific sends the raw token; `Bearer <token>` is accepted too."""
    value = request.headers.get("authorization", "").strip()
    if value[:7].lower() == "bearer ":
        value = value[7:].strip()
    return value or None


def _format(error: GraphQLError) -> dict[str, Any]:
    if is_unexpected(error):
        error = GraphQLError(GENERIC_ERROR, nodes=error.nodes, path=error.path)
    formatted = dict(error.formatted)
    formatted.pop("extensions", None)
    return formatted


class GlificGraphQL(GraphQL):
    def __init__(self, schema: Any, db: Database, *, graphiql: bool) -> None:
        super().__init__(schema, graphql_ide="graphiql" if graphiql else None)
        self.db = db
        self.graphiql = graphiql

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
            await JSONResponse(NOT_AUTHENTICATED, status_code=401)(scope, receive, send)
            return
        context = Context(self.db, user, request, session=session)
        scope.setdefault("state", {})["glific_context"] = context
        try:
            await super().__call__(scope, receive, send)
        finally:
            await context.close()

    def encode_json(self, data: object) -> str | bytes:
        # orjson writes the same compact JSON several times faster than json.dumps, which
        # was a twentieth of a 25-contact list; anything it cannot write goes the old way.
        try:
            return orjson.dumps(data)
        except (TypeError, orjson.JSONEncodeError):
            return super().encode_json(data)

    def should_render_graphql_ide(self, request: Any) -> bool:
        accept = request.headers.get("accept", "")
        return "text/html" in accept and "query" not in request.query_params

    async def get_context(self, request: Any, response: Response | Any) -> Context:
        return request.state.glific_context  # type: ignore[no-any-return]

    async def process_result(self, request: Any, result: ExecutionResult) -> GraphQLHTTPResponse:
        # Execution is over: give the connection back before the response goes out (a slow
        # reader of a large response must not hold it).
        await request.state.glific_context.close()
        data: GraphQLHTTPResponse = {"data": result.data}
        if result.errors:
            data["errors"] = [_format(e) for e in result.errors]
        return data
