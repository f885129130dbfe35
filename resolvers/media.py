"""Media the chat screen uploads (Glific's `uploadMedia` / `uploadBlob`): stored under
`MEDIA_DIR/<organization id>/<random name>.<extension>` and served at `/media/...`, a URL
WhatsApp fetches without a token (Glific keeps them in a public bucket): the random name is
the only protection, as a bucket's is. Only the kinds of file WhatsApp carries are taken."""

from __future__ import annotations

import base64
import binascii
import secrets
from pathlib import Path

from resolvers.errors import ClientError

# What WhatsApp accepts as image, audio, video, sticker or document.
EXTENSIONS = frozenset(
    [
        "jpg",
        "jpeg",
        "png",
        "webp",
        "gif",
        "mp4",
        "3gp",
        "mp3",
        "ogg",
        "opus",
        "aac",
        "amr",
        "m4a",
        "pdf",
        "doc",
        "docx",
        "xls",
        "xlsx",
        "ppt",
        "pptx",
        "txt",
        "csv",
    ]
)
URL_PREFIX = "/media"


def _extension(raw: str) -> str:
    extension = raw.strip().lstrip(".").lower()
    if extension not in EXTENSIONS:
        allowed = ", ".join(sorted(EXTENSIONS))
        raise ClientError(f"Files of type '{raw}' cannot be sent on WhatsApp; use one of {allowed}")
    return extension


def store(folder: str, org_id: int, data: bytes, extension: str) -> str:
    """Keep `data`; the path of its URL (`/media/<org>/<name>.<ext>`)."""
    extension = _extension(extension)
    if not data:
        raise ClientError("The file is empty")
    name = f"{secrets.token_urlsafe(24)}.{extension}"
    target = Path(folder) / str(org_id)
    target.mkdir(parents=True, exist_ok=True)
    (target / name).write_bytes(data)
    return f"{URL_PREFIX}/{org_id}/{name}"


# What providers say a file is, as the extension it is kept under.
_BY_MIME = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/gif": "gif",
    "video/mp4": "mp4",
    "video/3gpp": "3gp",
    "audio/ogg": "ogg",
    "audio/opus": "opus",
    "audio/mpeg": "mp3",
    "audio/aac": "aac",
    "audio/amr": "amr",
    "audio/mp4": "m4a",
    "application/pdf": "pdf",
    "text/plain": "txt",
    "text/csv": "csv",
}


def extension_of(mime: str) -> str | None:
    """The extension a file of `mime` is kept under, or None for a kind not kept."""
    return _BY_MIME.get(mime.lower())


def decode_blob(media: str) -> bytes:
    """`uploadBlob`'s media: base64, with or without a `data:...;base64,` prefix."""
    payload = media.split(",", 1)[1] if media.startswith("data:") else media
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ClientError("media: is not base64-encoded data") from None


def stored_file(folder: str, org_part: str, name: str) -> Path | None:
    """The stored file a `/media/<org>/<name>` URL names, or None (never outside the folder)."""
    root = Path(folder).resolve()
    found = (root / org_part / name).resolve()
    if not org_part.isdigit() or not found.is_relative_to(root) or not found.is_file():
        return None
    return found
