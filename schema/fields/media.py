"""`uploadMedia` (a file, sent as multipart) and `uploadBlob` (base64): staff attach media to
a message from the chat screen; the answer is the URL to send (resolvers.media)."""

from __future__ import annotations

import asyncio

import strawberry
from strawberry.file_uploads import Upload
from strawberry.types import Info

from resolvers import media as media_files
from schema.fields.common import ctx_of
from schema.permissions import Staff


def _absolute(info: Info, path: str) -> str:
    ctx = ctx_of(info)
    base = ctx.settings.public_url.rstrip("/") or str(ctx.request.base_url).rstrip("/")
    return base + path


async def _keep(info: Info, data: bytes, extension: str) -> str:
    ctx = ctx_of(info)
    path = await asyncio.to_thread(
        media_files.store, ctx.settings.media_dir, ctx.org_id, data, extension
    )
    return _absolute(info, path)


@strawberry.type
class MediaMutation:
    @strawberry.mutation(permission_classes=[Staff])
    async def upload_media(self, info: Info, media: Upload, extension: str) -> str | None:
        data = await media.read()  # type: ignore[attr-defined]  # Starlette's UploadFile
        return await _keep(info, data, extension)

    @strawberry.mutation(permission_classes=[Staff])
    async def upload_blob(self, info: Info, media: str, extension: str) -> str | None:
        return await _keep(info, media_files.decode_blob(media), extension)
