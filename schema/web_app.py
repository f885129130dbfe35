"""Serving a build of Glific's web app (its `build/` folder) from this server, so the app and
the API share one origin (no CORS, and the flow editor's scripts load from `/static/`).
`FRONTEND_DIR` names the folder; unset, nothing is served. A path that names a file in the
folder gets the file; any other GET (the app's own routes: `/chat`, `/flow/configure/…`)
gets `index.html`, which routes in the browser. The API's own paths come first."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

# The API's prefixes: an unknown path under them is the API's 404, never the app's page.
_API_PREFIXES = (
    "api/",
    "flow-editor/",
    "media/",
    "gupshup",
    "webhook/",
    "socket",
    "health",
    "graphiql",
)


def web_app_route(folder: str) -> Route:
    root = Path(folder).resolve()
    index = root / "index.html"
    if not index.is_file():
        raise ValueError(f"FRONTEND_DIR {folder!r} holds no index.html (a build of the web app)")

    async def serve(request: Request) -> Response:
        path = request.path_params["path"]
        if path.startswith(_API_PREFIXES):
            return JSONResponse({"error": {"status": 404, "message": "Not found"}}, 404)
        wanted = (root / path).resolve()
        # Only files inside the folder; `..` or a symlink out of it gets the app's page.
        if path and wanted.is_file() and wanted.is_relative_to(root):
            return FileResponse(wanted)
        return FileResponse(index, headers={"cache-control": "no-cache"})

    return Route("/{path:path}", serve, methods=["GET", "HEAD"])
