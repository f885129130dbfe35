"""A build of Glific's web app served by this server (`FRONTEND_DIR`): its files, its own
routes answered with index.html, the API's paths untouched, nothing outside the folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from app import create_app
from settings import Settings
from tests.utils.server import LiveServer, start_server


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("build")
    (folder / "index.html").write_text("<html>glific app</html>")
    (folder / "static" / "js").mkdir(parents=True)
    (folder / "static" / "js" / "main.chunk.js").write_text("console.log('editor')")
    (folder.parent / "secret.txt").write_text("not for the browser")
    return folder


@pytest.fixture(scope="module")
def web(database_url: str, build: Path) -> Iterator[LiveServer]:
    live = start_server(database_url, frontend_dir=str(build))
    try:
        yield live
    finally:
        live.stop()


def test_the_app_its_files_and_its_routes_are_served(web: LiveServer) -> None:
    with httpx2.Client(base_url=web.base_url) as client:
        for path in ("/", "/chat", "/flow/configure/4b7b6a1e", "/login"):
            page = client.get(path)
            assert (page.status_code, page.text) == (200, "<html>glific app</html>"), path
        script = client.get("/static/js/main.chunk.js")
        assert script.text == "console.log('editor')"
        assert "javascript" in script.headers["content-type"]
        # Nothing outside the folder, however the path is spelled.
        for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/static/../../secret.txt"):
            assert "not for the browser" not in client.get(path).text, path


def test_the_api_keeps_its_paths(web: LiveServer) -> None:
    with httpx2.Client(base_url=web.base_url) as client:
        assert client.get("/health").json() == {"status": "ok"}
        assert client.get("/api/v1/nothing-here").status_code == 404
        assert client.get("/flow-editor/nothing-here").status_code in (401, 404)
        # The GraphQL endpoint still answers as the API (here: no token).
        answer = client.post("/api", json={"query": "{ __typename }"})
        assert answer.json() == {"error": {"code": 401, "message": "Not authenticated"}}


def test_a_folder_without_a_build_is_refused_at_start(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
        environment="test",
        frontend_dir=str(tmp_path),
    )
    with pytest.raises(ValueError, match=r"holds no index\.html"):
        create_app(settings)
