"""Root fields for message templates (Glific's session templates; staff, as Glific)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from resolvers import templates
from schema.enums import MessageTypeEnum, TemplateButtonTypeEnum
from schema.fields.common import ctx_of, lookup, payload, read
from schema.inputs import Opts, to_opts, to_params
from schema.permissions import Staff
from schema.scalars import JsonValue
from schema.types.template import SessionTemplate, SessionTemplateResult


@strawberry.input(name="SessionTemplateFilter")
class SessionTemplateFilter:
    term: str | None = strawberry.UNSET
    label: str | None = strawberry.UNSET
    body: str | None = strawberry.UNSET
    shortcode: str | None = strawberry.UNSET
    is_hsm: bool | None = strawberry.UNSET
    language: str | None = strawberry.UNSET
    language_id: int | None = strawberry.UNSET
    is_active: bool | None = strawberry.UNSET
    is_reserved: bool | None = strawberry.UNSET
    status: str | None = strawberry.UNSET


@strawberry.input(name="SessionTemplateInput")
class SessionTemplateInput:
    label: str | None = strawberry.UNSET
    body: str | None = strawberry.UNSET
    type: MessageTypeEnum | None = strawberry.UNSET
    shortcode: str | None = strawberry.UNSET
    is_hsm: bool | None = strawberry.UNSET
    number_parameters: int | None = strawberry.UNSET
    is_active: bool | None = strawberry.UNSET
    is_source: bool | None = strawberry.UNSET
    language_id: strawberry.ID | None = strawberry.UNSET
    translations: JsonValue | None = strawberry.UNSET
    category: str | None = strawberry.UNSET
    example: str | None = strawberry.UNSET
    uuid: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="The provider's id of the approved HSM template (Gupshup's template "
        "id); an HSM template with one is approved here.",
    )
    footer: str | None = strawberry.UNSET
    has_buttons: bool | None = strawberry.UNSET
    button_type: TemplateButtonTypeEnum | None = strawberry.UNSET
    buttons: JsonValue | None = strawberry.UNSET
    tag_id: strawberry.ID | None = strawberry.UNSET
    message_media_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description=f"Only null: {templates.MEDIA_NOT_KEPT}."
    )


@strawberry.type
class TemplateQuery:
    @strawberry.field(permission_classes=[Staff])
    async def session_templates(
        self, info: Info, filter: SessionTemplateFilter | None = None, opts: Opts | None = None
    ) -> list[SessionTemplate | None] | None:
        ctx = ctx_of(info)
        flt = to_params(filter) or {}
        return await read(
            info, lambda s: templates.list_templates(s, ctx.org_id, flt, to_opts(opts))
        )

    @strawberry.field(permission_classes=[Staff])
    async def count_session_templates(
        self, info: Info, filter: SessionTemplateFilter | None = None
    ) -> int | None:
        ctx = ctx_of(info)
        flt = to_params(filter) or {}
        return await read(info, lambda s: templates.count_templates(s, ctx.org_id, flt))

    @strawberry.field(permission_classes=[Staff])
    def whatsapp_hsm_categories(self) -> list[str | None] | None:
        return list(templates.HSM_CATEGORIES)

    @strawberry.field(permission_classes=[Staff])
    async def session_template(self, info: Info, id: strawberry.ID) -> SessionTemplateResult | None:
        ctx = ctx_of(info)
        found, errors = await lookup(info, lambda s: templates.get_template(s, ctx.org_id, id))
        return SessionTemplateResult(session_template=found, errors=errors)


@strawberry.type
class TemplateMutation:
    @strawberry.mutation(permission_classes=[Staff])
    async def create_session_template(
        self, info: Info, input: SessionTemplateInput
    ) -> SessionTemplateResult | None:
        ctx = ctx_of(info)
        params = to_params(input) or {}
        made, errors = await payload(
            info, lambda s: templates.create_template(s, ctx.org_id, params)
        )
        return SessionTemplateResult(session_template=made, errors=errors)

    @strawberry.mutation(permission_classes=[Staff])
    async def update_session_template(
        self, info: Info, id: strawberry.ID, input: SessionTemplateInput | None = None
    ) -> SessionTemplateResult | None:
        ctx = ctx_of(info)
        params = to_params(input) or {}
        changed, errors = await payload(
            info, lambda s: templates.update_template(s, ctx.org_id, id, params)
        )
        return SessionTemplateResult(session_template=changed, errors=errors)

    @strawberry.mutation(permission_classes=[Staff])
    async def delete_session_template(
        self, info: Info, id: strawberry.ID
    ) -> SessionTemplateResult | None:
        ctx = ctx_of(info)
        _, errors = await payload(info, lambda s: templates.delete_template(s, ctx.org_id, id))
        return SessionTemplateResult(session_template=None, errors=errors)
