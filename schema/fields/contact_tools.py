"""Root fields for the contact tools: CSV import and move, the upload report, and leasing a
simulator contact."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from resolvers import imports, simulator
from resolvers.errors import InputErrors
from schema.enums import ImportContactsTypeEnum
from schema.fields.common import ahead, ctx_of, payload, read
from schema.permissions import Manager, Staff
from schema.types.common import input_errors
from schema.types.contact import Contact, ContactUploadReport, ImportResult


async def _import(
    info: Info, kind: str, source: ImportContactsTypeEnum | None, data: str, label: str | None
) -> ImportResult | None:
    ctx = ctx_of(info)
    # Downloading happens before the transaction opens: a slow URL must not hold the write lock.
    try:
        text = await imports.load_source(
            source.value if source else None,
            data,
            allow_private=ctx.settings.import_url_allow_private,
        )
    except InputErrors as exc:
        return ImportResult(status=None, errors=input_errors(exc))
    # The import writes in short transactions of its own (resolvers.imports).
    try:
        outcome = await imports.import_csv(
            ctx.db, ctx.org_id, ctx.user.id, text, kind=kind, group_label=label
        )
    except InputErrors as exc:
        return ImportResult(status=None, errors=input_errors(exc))
    return ImportResult(
        status=outcome.status, errors=None, user_job_id=strawberry.ID(str(outcome.job_id))
    )


@strawberry.type
class ContactToolsQuery:
    @strawberry.field(permission_classes=[Staff])
    async def simulator_get(self, info: Info) -> Contact | None:
        ctx = ctx_of(info)
        found, _ = await payload(
            info, lambda s: simulator.simulator_get(s, ctx.org_id, ctx.user.id)
        )
        return await ahead(info, found)

    @strawberry.field(permission_classes=[Staff])
    async def simulator_release(self, info: Info) -> Contact | None:
        ctx = ctx_of(info)
        await payload(info, lambda s: simulator.simulator_release(s, ctx.org_id, ctx.user.id))
        return None


@strawberry.type
class ContactToolsMutation:
    @strawberry.mutation(permission_classes=[Manager])
    async def import_contacts(
        self,
        info: Info,
        type: ImportContactsTypeEnum | None = None,
        group_label: str | None = None,
        *,
        data: str,
    ) -> ImportResult | None:
        return await _import(info, "import", type, data, group_label)

    @strawberry.mutation(permission_classes=[Manager])
    async def move_contacts(
        self, info: Info, type: ImportContactsTypeEnum | None = None, *, data: str
    ) -> ImportResult | None:
        return await _import(info, "move", type, data, None)

    @strawberry.mutation(permission_classes=[Staff])
    async def get_contact_upload_report(
        self, info: Info, user_job_id: strawberry.ID | None = None
    ) -> ContactUploadReport | None:
        ctx = ctx_of(info)
        csv_rows, error = await read(
            info, lambda s: imports.upload_report(s, ctx.org_id, user_job_id, ctx.viewer)
        )
        return ContactUploadReport(csv_rows=csv_rows, error=error)
