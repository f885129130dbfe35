"""Root fields of the web app's shell: the organization, its feature flags, its provider's
wallet balance and quality rating, the provider catalog and the access roles."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from resolvers import organization_view, providers, users
from schema.enums import OrganizationStatusEnum
from schema.fields.common import ctx_of, lookup, payload, read
from schema.inputs import Opts, to_opts, to_params
from schema.permissions import Admin, Staff
from schema.scalars import JsonValue
from schema.types.organization import (
    OrganizationServicesResult,
    Provider,
    QualityRatingResult,
)
from schema.types.user import AccessRole, OrganizationResult


@strawberry.input(name="ProviderFilter")
class ProviderFilter:
    name: str | None = strawberry.UNSET
    shortcode: str | None = strawberry.UNSET


@strawberry.input(name="AccessRoleFilter")
class AccessRoleFilter:
    label: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    is_reserved: bool | None = strawberry.UNSET


@strawberry.input(name="EnabledDayInput")
class EnabledDayInput:
    id: int
    enabled: bool


@strawberry.input(name="OutOfOfficeInput")
class OutOfOfficeInput:
    enabled: bool | None = strawberry.UNSET
    start_time: str | None = strawberry.UNSET
    end_time: str | None = strawberry.UNSET
    enabled_days: list[EnabledDayInput | None] | None = strawberry.UNSET
    flow_id: strawberry.ID | None = strawberry.UNSET
    default_flow_id: strawberry.ID | None = strawberry.UNSET


@strawberry.input(name="SettingInput")
class SettingInput:
    report_frequency: str | None = strawberry.UNSET
    run_flow_each_time: bool | None = strawberry.UNSET
    low_balance_threshold: str | None = strawberry.UNSET
    critical_balance_threshold: str | None = strawberry.UNSET
    send_warning_mail: bool | None = strawberry.UNSET
    allow_bot_number_update: bool | None = strawberry.UNSET


@strawberry.input(name="RegxFlowInput")
class RegxFlowInput:
    flow_id: strawberry.ID | None = strawberry.UNSET
    regx: str | None = strawberry.UNSET
    regx_opt: str | None = strawberry.UNSET


@strawberry.input(name="OrganizationInput")
class OrganizationInput:
    name: str | None = strawberry.UNSET
    shortcode: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    default_language_id: strawberry.ID | None = strawberry.UNSET
    out_of_office: OutOfOfficeInput | None = strawberry.UNSET
    setting: SettingInput | None = strawberry.UNSET
    regx_flow: RegxFlowInput | None = strawberry.UNSET
    newcontact_flow_id: strawberry.ID | None = strawberry.UNSET
    optin_flow_id: strawberry.ID | None = strawberry.UNSET
    status: OrganizationStatusEnum | None = strawberry.UNSET
    timezone: str | None = strawberry.UNSET
    active_language_ids: list[strawberry.ID | None] | None = strawberry.UNSET
    signature_phrase: str | None = strawberry.UNSET


@strawberry.type
class OrganizationMutation:
    @strawberry.mutation(permission_classes=[Admin])
    async def update_organization(
        self, info: Info, id: strawberry.ID, input: OrganizationInput | None = None
    ) -> OrganizationResult | None:
        ctx = ctx_of(info)
        admin = ctx.user.has_role("glific_admin")
        params = to_params(input) or {}
        changed, errors = await payload(
            info,
            lambda s: organization_view.update_organization(
                s, ctx.org_id, id, params, glific_admin=admin
            ),
        )
        return OrganizationResult(organization=changed, errors=errors)


@strawberry.type
class OrganizationQuery:
    @strawberry.field(permission_classes=[Staff])
    async def organization(
        self, info: Info, id: strawberry.ID | None = None
    ) -> OrganizationResult | None:
        ctx = ctx_of(info)
        admin = ctx.user.has_role("glific_admin")
        found, errors = await lookup(
            info,
            lambda s: organization_view.get_organization(s, ctx.org_id, id, glific_admin=admin),
        )
        return OrganizationResult(organization=found, errors=errors)

    @strawberry.field(permission_classes=[Staff])
    async def organization_services(self, info: Info) -> OrganizationServicesResult | None:
        ctx = ctx_of(info)
        org = await read(
            info,
            lambda s: organization_view.get_organization(s, ctx.org_id, None, glific_admin=False),
        )
        return OrganizationServicesResult(**organization_view.services(org))

    @strawberry.field(
        permission_classes=[Staff],
        description='The sending provider\'s wallet, e.g. "{\\"balance\\": 12.5}"; the balance '
        "is null when the provider keeps no wallet (Meta, the log provider).",
    )
    async def bspbalance(self, info: Info) -> JsonValue | None:
        ctx = ctx_of(info)
        seconds = ctx.settings.send_timeout_seconds
        balance = await read(
            info, lambda s: organization_view.wallet_balance(s, ctx.org_id, seconds)
        )
        return JsonValue(balance)

    @strawberry.field(
        permission_classes=[Staff],
        description="Meta's messaging limit tier; not tracked here (every field is null).",
    )
    def quality_rating(self) -> QualityRatingResult | None:
        return QualityRatingResult()

    @strawberry.field(
        permission_classes=[Staff],
        description="Whether the chat screen may attach files: uploads are kept (MEDIA_DIR).",
    )
    def attachments_enabled(self) -> bool | None:
        return True

    @strawberry.field(permission_classes=[Staff])
    def providers(
        self, filter: ProviderFilter | None = None, opts: Opts | None = None
    ) -> list[Provider | None] | None:
        entries = providers.list_catalog(to_params(filter) or {}, to_opts(opts))
        return [Provider.of(entry) for entry in entries]

    @strawberry.field(permission_classes=[Staff])
    async def access_roles(
        self, info: Info, filter: AccessRoleFilter | None = None, opts: Opts | None = None
    ) -> list[AccessRole | None] | None:
        ctx = ctx_of(info)
        return await read(
            info,
            lambda s: users.list_access_roles(
                s, ctx.org_id, to_params(filter) or {}, to_opts(opts)
            ),
        )
