"""The Starlette application and the command line; wires settings, models, resolvers and
schema together.

    python -m app serve                       # what `make run` ends in
    python -m app migrate | seed
    python -m app worker                      # run jobs only (resolvers.jobs)
    python -m app create-user --org SHORTCODE --phone P --password W --role manager
    python -m app org-flag --org SHORTCODE interactive-re-response on
    python -m app chat --phone 919876543210 [--org SHORTCODE] [--name NAME]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import re
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import make_url, text
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from models import Database
from models.errors import DatabaseUnavailable
from models.migrate import upgrade
from resolvers import (
    events,
    flow_runs,  # noqa: F401  (registers the flow timer job)
    media,
    organization_view,
    seed,
)
from resolvers.errors import DomainError, InputErrors
from resolvers.jobs import Runner, import_job_modules
from resolvers.phones import normalize_phone
from resolvers.roles import ROLE_ORDER, Role
from schema import RootSubscriptionType, build_schema
from schema.flow_editor import flow_editor_routes
from schema.sessions import session_routes
from schema.view import GlificGraphQL, GlificSocket
from schema.web_app import web_app_route
from settings import Settings, get_settings
from webhook import provider_cli, senders, terminal_chat
from webhook.gupshup import gupshup_callback
from webhook.maytapi import maytapi_callback
from webhook.meta import meta_notification, meta_verification
from webhook.simulator import simulator_message

log = logging.getLogger("glific")


def _error(code: int, message: str, **headers: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, code, headers=headers)


class BufferedBody:
    """Receive a request's whole body before the application sees the request: at most
    `limit` bytes (413 past that) within `timeout` seconds (408 past that).

    So nothing downstream (a sign-in check, a database connection, a transaction) is ever
    held while a client is still sending, and a client that stalls mid-upload is cut off
    instead of pinning the server's resources."""

    def __init__(self, app: ASGIApp, limit: int, timeout: float) -> None:
        self.app = app
        self.limit = limit
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def too_large(scope: Scope, receive: Receive, send: Send) -> None:
            answer = _error(413, f"Request body is larger than {self.limit} bytes")
            await answer(scope, receive, send)

        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                await too_large(scope, receive, send)
                return
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.timeout):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return  # the client left: nobody to answer
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > self.limit:
                        await too_large(scope, receive, send)
                        return
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        break
        except TimeoutError:
            late = _error(
                408,
                f"The request body did not arrive within {self.timeout:g} seconds",
                connection="close",
            )
            await late(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)


async def _unavailable(_: Request, exc: Exception) -> Response:
    """A database condition a client may retry (models.errors): 503, said plainly."""
    message = exc.message if isinstance(exc, DatabaseUnavailable) else str(exc)
    return _error(503, message, **{"retry-after": "1"})


async def _refresh_statistics(database: Database) -> None:
    """The planner's statistics brought up to date (models.db.Database.optimize)."""
    try:
        analysed = await database.optimize()
    except Exception:
        log.exception("refreshing the database statistics failed")
        return
    if analysed:
        log.info("planner statistics gathered for %s", ", ".join(analysed))


async def _keep_statistics(database: Database, every: float = 3600) -> None:
    while True:
        await asyncio.sleep(every)
        await _refresh_statistics(database)


def create_app(settings: Settings | None = None, db: Database | None = None) -> Starlette:
    settings = settings or get_settings()
    database = db or Database(
        settings.database_url,
        settings=settings,
        echo=settings.sql_echo,
        pool_size=settings.db_pool_size,
    )
    if database.settings is None:
        database.settings = settings
    # Job functions named by JOB_MODULES are known even where no runner runs (defer checks
    # the name): a serve process with JOBS_ENABLED=false defers for `python -m app worker`.
    import_job_modules(settings.job_module_list)
    senders.register_all()
    schema = build_schema(settings, subscription=RootSubscriptionType)
    graphiql = settings.environment != "production"
    api = GlificGraphQL(schema, database, graphiql=False)
    sessions = session_routes(database)

    async def health(_: Request) -> JSONResponse:
        try:
            async with database.session(all_organizations=True) as session:
                await session.execute(text("SELECT 1"))
        except Exception:
            log.exception("health check failed")
            return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    async def stored_media(request: Request) -> Response:
        found = media.stored_file(
            settings.media_dir, request.path_params["org"], request.path_params["name"]
        )
        if found is None:
            return JSONResponse({"error": {"status": 404, "message": "Not found"}}, 404)
        return FileResponse(found)

    routes = [
        Route("/health", health, methods=["GET"]),
        Route("/media/{org}/{name}", stored_media, methods=["GET", "HEAD"]),
        Route("/api", api, methods=["GET", "POST"]),
        Route("/api/v1/session", sessions["create"], methods=["POST"]),
        Route("/api/v1/session", sessions["delete"], methods=["DELETE"]),
        Route("/api/v1/session/renew", sessions["renew"], methods=["POST"]),
        Route("/api/v1/session/name", sessions["name"], methods=["POST", "GET"]),
        Route("/api/v1/session/tracker", sessions["tracker"], methods=["POST"]),
        *flow_editor_routes(database),
        Route("/api/v1/simulator/message", simulator_message(database), methods=["POST"]),
        Route("/gupshup", gupshup_callback(database), methods=["POST"]),
        Route("/maytapi", maytapi_callback(database), methods=["POST"]),
        Route("/webhook/whatsapp", meta_verification(database), methods=["GET"]),
        Route("/webhook/whatsapp", meta_notification(database), methods=["POST"]),
        WebSocketRoute(
            "/socket",
            GlificSocket(schema, database, allowed_origins=settings.cors_origin_list),
        ),
    ]
    if graphiql:
        routes.append(
            Route(
                "/graphiql", GlificGraphQL(schema, database, graphiql=True), methods=["GET", "POST"]
            )
        )
    if settings.frontend_dir:
        routes.append(web_app_route(settings.frontend_dir))  # last: the API's paths go first

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        # Everything built so far (schema, caches, modules) lives as long as the process:
        # keep it out of the garbage collector's scans, which otherwise grow with it.
        gc.collect()
        gc.freeze()
        # A request allocates thousands of short-lived containers, nearly all freed by
        # reference counting: at the default threshold (700) the young generation was
        # collected several times per request, for nothing. Measured with bench/graphql_read.py:
        # about 10% more requests per second, for every query alike.
        gc.set_threshold(20_000, 50, 100)
        await _refresh_statistics(database)
        statistics = asyncio.create_task(_keep_statistics(database))
        runner = Runner()
        if settings.jobs_enabled:
            await runner.start(database)
        try:
            yield
        finally:
            await runner.stop()
            statistics.cancel()
            await events.stop(database)
        if db is None:
            await database.dispose()

    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={DatabaseUnavailable: _unavailable},
        middleware=[
            Middleware(
                BufferedBody, limit=settings.max_body_bytes, timeout=settings.body_timeout_seconds
            ),
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origin_list,
                allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
                allow_headers=["authorization", "content-type"],
                allow_credentials=True,
            ),
        ],
    )
    app.state.db = database
    app.state.settings = settings
    return app


# --- command line --------------------------------------------------------------------------


async def _migrate(settings: Settings) -> None:
    await upgrade(settings.database_url)


async def _seed(settings: Settings) -> seed.SeedResult:
    db = Database(settings.database_url, settings=settings)
    try:
        async with db.transaction(all_organizations=True) as session:
            return await seed.seed_defaults(session, settings)
    finally:
        await db.dispose()


SHORTCODE = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")


async def _org_flag(settings: Settings, args: argparse.Namespace) -> str:
    db = Database(settings.database_url, settings=settings)
    try:
        async with db.transaction(all_organizations=True) as session:
            return await organization_view.set_operator_flag(
                session, args.org, args.flag, args.state == "on"
            )
    finally:
        await db.dispose()


async def _create_user(settings: Settings, args: argparse.Namespace) -> str:
    if not SHORTCODE.fullmatch(args.org):
        raise DomainError(
            f"--org {args.org!r}: a shortcode is lower-case letters, digits, '-' or '_'"
        )
    # Checked before anything is written, and the organization's contact gets the stored form.
    phone = normalize_phone(args.phone, default_region=settings.default_phone_region)
    db = Database(settings.database_url, settings=settings)
    try:
        async with db.transaction(all_organizations=True) as session:
            org = await seed.ensure_organization(
                session, args.org, name=args.org_name or args.org, contact_phone=phone
            )
            user, created = await seed.ensure_user(
                session,
                org,
                phone=phone,
                password=args.password,
                name=args.name or args.phone,
                roles=[args.role],
            )
            verb = "created" if created else "already exists:"
            return f"user {verb} phone {user.phone}, role {args.role}, organization {org.shortcode}"
    finally:
        await db.dispose()


async def _chat(settings: Settings, args: argparse.Namespace) -> int:
    if args.org is not None and not SHORTCODE.fullmatch(args.org):
        raise DomainError(
            f"--org {args.org!r}: a shortcode is lower-case letters, digits, '-' or '_'"
        )
    return await terminal_chat.chat(
        settings,
        phone=args.phone,
        org=args.org,
        name=args.name,
        lines=terminal_chat.stdin_lines(),
        out=sys.stdout,
    )


def _check_sqlite_directory(settings: Settings) -> None:
    """SQLite creates its file but not the folders above it: say so before connecting."""
    if not settings.is_sqlite:
        return
    database = make_url(settings.database_url).database
    if database and database != ":memory:" and not Path(database).parent.is_dir():
        raise DomainError(f"the folder of the SQLite database {database!r} does not exist")


def _serve(settings: Settings, workers: int = 1) -> None:
    import uvicorn

    asyncio.run(_migrate(settings))
    result = asyncio.run(_seed(settings))
    base = f"http://{settings.host}:{settings.port}"
    print(f"GraphQL API:  {base}/api   (GraphiQL: {base}/graphiql)")
    print(f"Sign in:      POST {base}/api/v1/session")
    print(f"Admin phone:  {result.admin_phone}")
    if result.admin_created:
        print(f"Admin password: {settings.admin_password}  (set ADMIN_PASSWORD to choose another)")
    else:
        print("Admin password: unchanged (the admin user already existed)")
    sys.stdout.flush()
    if workers > 1:
        # Each process builds its own app from the environment; they share only the database
        # (on PostgreSQL, events and jobs travel through it).
        uvicorn.run(
            "app:create_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=workers,
            log_level="info",
        )
        return
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info")


async def _work(settings: Settings) -> None:
    """Run jobs until SIGINT or SIGTERM (the jobs of every process deferring into this
    database: serve processes may then run with JOBS_ENABLED=false)."""
    db = Database(settings.database_url, settings=settings)
    senders.register_all()
    runner = Runner()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await runner.start(db)
        print("job worker running; stop with Ctrl-C", flush=True)
        await stop.wait()
    finally:
        await runner.stop()
        await events.stop(db)
        await db.dispose()


def _settings_problems(exc: ValidationError) -> str:
    """Pydantic's report on one line: `PORT: Input should be ...; SECRET_KEY must be ...`."""
    problems = []
    for error in exc.errors():
        message = str(error["msg"]).removeprefix("Value error, ")
        where = ".".join(str(part) for part in error["loc"]).upper()
        problems.append(f"{where}: {message}" if where else message)
    return "; ".join(problems)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sv = sub.add_parser("serve", help="migrate, seed, then serve the API")
    sv.add_argument("--workers", type=int, default=1, help="HTTP processes (PostgreSQL; default 1)")
    sub.add_parser("migrate", help="apply database migrations")
    sub.add_parser("seed", help="create languages, the default organization and the admin")
    sub.add_parser("worker", help="migrate, then run jobs only (no API)")
    cu = sub.add_parser("create-user", help="create a user (and its organization if new)")
    cu.add_argument("--org", required=True, help="organization shortcode")
    cu.add_argument("--org-name", help="name for a new organization (default: the shortcode)")
    cu.add_argument("--phone", required=True)
    cu.add_argument("--password", required=True)
    cu.add_argument("--name")
    cu.add_argument("--role", default=Role.MANAGER.value, choices=ROLE_ORDER)
    ch = sub.add_parser("chat", help="talk to the flows from this terminal as a phone")
    ch.add_argument("--phone", required=True, help="the phone you chat as")
    ch.add_argument("--org", help="organization shortcode (default: the seeded organization)")
    ch.add_argument("--name", help="your WhatsApp name (a new contact's name)")
    of = sub.add_parser("org-flag", help="switch an organization's feature flag")
    of.add_argument("--org", required=True, help="organization shortcode")
    of.add_argument("flag", choices=sorted(organization_view.OPERATOR_FLAGS))
    of.add_argument("state", choices=["on", "off"])
    provider_cli.add_parser(sub)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = get_settings()
    except ValidationError as exc:
        print(f"error: {_settings_problems(exc)}", file=sys.stderr)
        return 2
    try:
        _check_sqlite_directory(settings)
        if args.command == "serve":
            if args.workers < 1:
                raise DomainError("--workers must be at least 1")
            _serve(settings, args.workers)
        elif args.command == "migrate":
            asyncio.run(_migrate(settings))
            print("migrations applied")
        elif args.command == "seed":
            result = asyncio.run(_seed(settings))
            print(
                f"seeded organization {result.organization.shortcode}, admin {result.admin_phone}"
            )
        elif args.command == "worker":
            asyncio.run(_migrate(settings))
            asyncio.run(_work(settings))
        elif args.command == "create-user":
            asyncio.run(_migrate(settings))
            print(asyncio.run(_create_user(settings, args)))
        elif args.command == "org-flag":
            asyncio.run(_migrate(settings))
            print(asyncio.run(_org_flag(settings, args)))
        elif args.command == "provider":
            asyncio.run(_migrate(settings))
            print(asyncio.run(provider_cli.run(settings, args)))
        elif args.command == "chat":
            logging.getLogger().setLevel(logging.WARNING)  # the conversation, not a server log
            asyncio.run(_migrate(settings))
            return asyncio.run(_chat(settings, args))
    except InputErrors as exc:
        print("error: " + "; ".join(m for _, m in exc.errors), file=sys.stderr)
        return 2
    except DomainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (OSError, SQLAlchemyError) as exc:
        # An unreachable or unwritable database: say so in one line, not a traceback.
        reason = getattr(exc, "orig", None) or exc
        print(
            f"error: cannot use the database {settings.database_url!r}: {reason}", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
