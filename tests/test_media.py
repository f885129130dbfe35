"""Media the chat screen uploads: `uploadMedia` (a file, as Glific's web app sends it with
apollo-absinthe-upload-link, or per the GraphQL multipart spec) and `uploadBlob` (base64),
kept and served at a URL WhatsApp can fetch."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.utils.server import LiveServer, start_server
from tests.utils.tenants import Tenant, create_tenant

UPLOAD = (
    "mutation uploadMedia($media: Upload!, $extension: String!) {"
    " uploadMedia(media: $media, extension: $extension) }"
)
BLOB = (
    "mutation($media: String!, $extension: String!) {"
    " uploadBlob(media: $media, extension: $extension) }"
)
PICTURE = b"\xff\xd8\xff\xe0 a child's drawing \xff\xd9"


@pytest.fixture(scope="module")
def media_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    live = start_server(database_url, media_dir=str(tmp_path_factory.mktemp("media")))
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture
def org(media_server: LiveServer) -> Tenant:
    return create_tenant(media_server)


def absinthe_upload(tenant: Tenant, data: bytes, extension: str, role: str = "staff") -> Any:
    """As apollo-absinthe-upload-link sends it: the variable names the form part."""
    return tenant.client.post(
        "/api",
        data={
            "query": UPLOAD,
            "variables": json.dumps({"media": "media_file", "extension": extension}),
            "operationName": "uploadMedia",
        },
        files={"media_file": ("drawing.jpg", data, "image/jpeg")},
        headers={"authorization": tenant.token(role)},
    )


def fetch(url: str) -> httpx2.Response:
    with httpx2.Client() as client:  # no token: WhatsApp fetches it so
        return client.get(url)


def test_an_uploaded_file_is_kept_and_served_to_anyone_with_its_url(org: Tenant) -> None:
    answer = absinthe_upload(org, PICTURE, "jpg")
    assert answer.status_code == 200, answer.text
    url = answer.json()["data"]["uploadMedia"]
    assert url.startswith(org.server.base_url + f"/media/{org.org_id}/") and url.endswith(".jpg")
    served = fetch(url)
    assert (served.status_code, served.content) == (200, PICTURE)
    assert served.headers["content-type"] == "image/jpeg"
    # Two uploads never share a URL.
    assert absinthe_upload(org, PICTURE, "jpg").json()["data"]["uploadMedia"] != url


def test_the_graphql_multipart_spec_works_too(org: Tenant) -> None:
    answer = org.client.post(
        "/api",
        data={
            "operations": json.dumps(
                {"query": UPLOAD, "variables": {"media": None, "extension": "pdf"}}
            ),
            "map": json.dumps({"0": ["variables.media"]}),
        },
        files={"0": ("worksheet.pdf", b"%PDF-1.4 worksheet", "application/pdf")},
        headers={"authorization": org.token("staff")},
    )
    url = answer.json()["data"]["uploadMedia"]
    assert fetch(url).content == b"%PDF-1.4 worksheet"


def test_a_base64_blob_is_kept_like_a_file(org: Tenant) -> None:
    encoded = "data:audio/ogg;base64," + base64.b64encode(b"OggS voice note").decode()
    url = org.data(BLOB, {"media": encoded, "extension": "ogg"}, role="staff")["uploadBlob"]
    assert fetch(url).content == b"OggS voice note"


def test_bad_uploads_get_clear_errors_and_keep_nothing(org: Tenant, tmp_path: Path) -> None:
    def errors(body: dict[str, Any]) -> list[str]:
        return [e["message"] for e in body["errors"]]

    wrong = absinthe_upload(org, PICTURE, "exe").json()
    assert errors(wrong)[0].startswith("Files of type 'exe' cannot be sent on WhatsApp")
    assert errors(absinthe_upload(org, b"", "jpg").json()) == ["The file is empty"]
    blob = org.gql(BLOB, {"media": "not base64 at all!", "extension": "jpg"}, role="staff")
    assert errors(blob) == ["media: is not base64-encoded data"]
    nobody = absinthe_upload(org, PICTURE, "jpg", role="none").json()
    assert errors(nobody) == ["Unauthorized"]
    anonymous = org.client.post("/api", data={"query": UPLOAD}, files={"x": ("a", b"b")})
    assert anonymous.status_code == 401
    # Only stored files are served, never anything else on the disk.
    for path in ("/media/1/nothing.jpg", "/media/..%2F..%2Fetc/passwd", "/media/x/y.jpg"):
        assert fetch(org.server.base_url + path).status_code == 404, path
