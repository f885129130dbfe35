"""Glific's REST session endpoints under /api/v1: sign in, renew, sign out (same JSON)."""

from __future__ import annotations

import importlib.util
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from models import Database
from resolvers import auth, organizations
from resolvers.config import settings_for
from resolvers.limits import RequestLimits
from schema.view import bearer_token, client_address, load_json, rate_limited


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="microseconds") + "Z"


def _org_shortcode(request: Request) -> str | None:
    """`myngo.example.org` or `api.myngo.example.org` -> `myngo` (Glific's tenant host)."""
    host = request.headers.get("host", "").split(":")[0].lower()
    labels = host.split(".")
    if labels and labels[0] == "api":
        labels = labels[1:]
    if len(labels) < 3 or all(p.isdigit() for p in labels):
        return None
    return labels[0]


def _unauthorized(message: str) -> JSONResponse:
    return JSONResponse({"error": {"status": 401, "message": message}}, status_code=401)


async def _form(request: Request, content_type: str) -> dict[str, Any] | None:
    """`user[phone]` / `user[password]` from a form body, or None when it cannot be read."""
    if "multipart/form-data" in content_type:
        if importlib.util.find_spec("multipart") is None:  # python-multipart is optional
            return None
        try:
            form = await request.form()
        except Exception:  # a broken multipart body is a failed sign-in, not a crash
            return None
        return {k: v for k, v in form.items() if isinstance(v, str)}
    try:
        text = (await request.body()).decode()
    except UnicodeDecodeError:
        return None
    # The stdlib parser: urlencoded forms need no extra dependency.
    return dict(parse_qsl(text, keep_blank_values=True))


async def _credentials(request: Request) -> tuple[str, str] | None:
    content_type = request.headers.get("content-type", "").lower()
    body: Any
    if "application/x-www-form-urlencoded" in content_type or "multipart/form-data" in content_type:
        form = await _form(request, content_type)
        if form is None:
            return None
        body = {"user": {"phone": form.get("user[phone]"), "password": form.get("user[password]")}}
    else:
        try:
            body = load_json(await request.body() or b"{}")
        except ValueError:  # not UTF-8, not JSON, nested too deep: a failed sign-in
            return None
    user = body.get("user") if isinstance(body, dict) else None
    if not isinstance(user, dict):
        return None
    phone, password = user.get("phone"), user.get("password")
    if not isinstance(phone, str) or not isinstance(password, str):
        return None
    return phone, password


def _tokens(pair: auth.TokenPair) -> dict[str, Any]:
    return {
        "access_token": pair.access_token,
        "token_expiry_time": _iso(pair.token_expiry_time),
        "renewal_token": pair.renewal_token,
    }


def session_routes(db: Database) -> dict[str, Any]:
    # Glific's limits on these unauthenticated routes: per client address and route, and per
    # phone on sign-in (resolvers.limits).
    limits = RequestLimits(settings_for(db))

    def refused(request: Request) -> bool:
        route = f"{request.method} {request.url.path}"
        return not limits.allow_address(client_address(request), route)

    async def create(request: Request) -> Response:
        if refused(request):
            return rate_limited()
        creds = await _credentials(request)
        if creds is None:
            return _unauthorized("Invalid phone or password")
        if not limits.allow_sign_in(creds[0]):
            return rate_limited()
        pair = await auth.login(db, *creds, org_shortcode=_org_shortcode(request))
        if pair is None:
            return _unauthorized("Invalid phone or password")
        data = _tokens(pair) | {
            "last_login_time": _iso(pair.last_login_time),
            "is_trial": False,
            "trial_expiration_date": None,
        }
        return JSONResponse({"data": data})

    async def renew(request: Request) -> Response:
        if refused(request):
            return rate_limited()
        token = bearer_token(request)
        pair = None
        if token:
            async with db.transaction(all_organizations=True) as session:
                pair = await auth.renew(session, token)
        if pair is None:
            return _unauthorized("Invalid token")
        return JSONResponse({"data": _tokens(pair)})

    async def delete(request: Request) -> Response:
        if refused(request):
            return rate_limited()
        token = bearer_token(request)
        if token:
            async with db.transaction(all_organizations=True) as session:
                await auth.logout(session, token)
        return JSONResponse({"data": {}})

    async def name(request: Request) -> Response:
        """The sign-in page's heading: the organization's name and status, no auth."""
        if refused(request):
            return rate_limited()
        async with db.session(all_organizations=True) as session:
            org = await organizations.organization_for_sign_in(session, _org_shortcode(request))
        if org is None:
            return JSONResponse({"data": {"name": None, "status": None}})
        return JSONResponse({"data": {"name": org.name, "status": org.status}})

    async def tracker(request: Request) -> Response:
        """The web app's usage events (`{"event": "View contact"}`), sent without auth:
        acknowledged and not kept (Glific counts them for its own analytics)."""
        if refused(request):
            return rate_limited()
        return JSONResponse({"data": {}})

    return {
        "create": create,
        "renew": renew,
        "delete": delete,
        "name": name,
        "tracker": tracker,
    }
