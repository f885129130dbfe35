"""What Glific's web app reads about an organization beyond its columns: feature flags,
settings, its provider (`resolvers.organization_view` holds the rules)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from schema.scalars import JsonValue


@strawberry.type(name="OrganizationServicesResult")
class OrganizationServicesResult:
    bigquery: bool | None = False
    google_cloud_storage: bool | None = False
    dialogflow: bool | None = False
    fun_with_flags: bool | None = False
    flow_uuid_display: bool | None = False
    roles_and_permission: bool | None = False
    contact_profile_enabled: bool | None = False
    ticketing_enabled: bool | None = False
    auto_translation_enabled: bool | None = False
    whatsapp_group_enabled: bool | None = False
    certificate_enabled: bool | None = False
    ask_glific_enabled: bool | None = False
    whatsapp_forms_enabled: bool | None = False
    ai_evaluations_enabled: bool | None = False
    ai_evaluation_v2_enabled: bool | None = False
    assistant_config_versions_enabled: bool | None = False
    copy_node_enabled: bool | None = False
    superset_enabled: bool | None = False
    prompt_generator_enabled: bool | None = False
    template_v2_enabled: bool | None = False
    template_library_enabled: bool | None = False


@strawberry.type(name="EnabledDay")
class EnabledDay:
    id: int | None
    enabled: bool | None


@strawberry.type(name="OutOfOffice")
class OutOfOffice:
    enabled: bool | None
    start_time: str | None
    end_time: str | None
    enabled_days: list[EnabledDay | None] | None
    flow_id: strawberry.ID | None
    default_flow_id: strawberry.ID | None

    @classmethod
    def of(cls, value: dict[str, Any]) -> OutOfOffice:
        days = [
            EnabledDay(id=d.get("id"), enabled=d.get("enabled"))
            for d in value.get("enabled_days") or []
            if isinstance(d, dict)
        ]
        return cls(
            enabled=value.get("enabled"),
            start_time=value.get("start_time"),
            end_time=value.get("end_time"),
            enabled_days=list(days),
            flow_id=value.get("flow_id"),
            default_flow_id=value.get("default_flow_id"),
        )


@strawberry.type(name="Setting")
class Setting:
    report_frequency: str | None
    run_flow_each_time: bool | None
    low_balance_threshold: str | None
    critical_balance_threshold: str | None
    send_warning_mail: bool | None
    allow_bot_number_update: bool | None


@strawberry.type(name="RegxFlow")
class RegxFlow:
    flow_id: strawberry.ID | None
    regx: str | None
    regx_opt: str | None


@strawberry.type(name="Provider")
class Provider:
    id: strawberry.ID | None
    name: str | None
    shortcode: str | None
    group: str | None
    description: str | None
    keys: JsonValue | None
    secrets: JsonValue | None
    is_required: bool | None
    inserted_at: datetime | None = None
    updated_at: datetime | None = None

    @classmethod
    def of(cls, entry: dict[str, Any]) -> Provider:
        return cls(
            id=entry["id"],
            name=entry["name"],
            shortcode=entry["shortcode"],
            group=entry["group"],
            description=entry["description"],
            keys=JsonValue(entry["keys"]),
            secrets=JsonValue(entry["secrets"]),
            is_required=entry["is_required"],
        )


@strawberry.type(name="QualityRatingResult")
class QualityRatingResult:
    current_limit: str | None = None
    previous_limit: str | None = None
    event: str | None = None
