"""Root fields for flows (Glific's, with its roles: staff read flows and start or end a
contact's flows; managers do the rest), flow labels, and our per-profile `flowResults`."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from resolvers import (
    broadcasts,
    flow_labels,
    flow_localization,
    flow_results,
    flow_runs,
    flows,
    group_sends,
    wa_group_flows,
)
from resolvers.errors import InputErrors
from schema.fields.common import ctx_of, lookup, payload, query_row, query_rows, read
from schema.inputs import Opts, to_opts, to_params
from schema.permissions import Manager, Staff
from schema.scalars import UUID4, JsonValue
from schema.types.flow import (
    CommonFlowResult,
    ExportFlow,
    ExportFlowLocalization,
    Flow,
    FlowFilter,
    FlowInput,
    FlowLabel,
    FlowLabelFilter,
    FlowResult,
    FlowRunResult,
    FlowRunResultFilter,
    ImportFlowResult,
    ImportFlowStatus,
    PublishFlowError,
    PublishFlowResult,
)


def _results(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InputErrors.field("default_results", "should be a JSON object")
    return value


@strawberry.type
class FlowQuery:
    @strawberry.field(permission_classes=[Staff])
    async def flow(self, info: Info, id: strawberry.ID) -> FlowResult | None:
        org_id = ctx_of(info).org_id
        found, errors = await query_row(info, lambda: flows.flow_read(org_id, id), "flow")
        return FlowResult(flow=found, errors=errors)

    @strawberry.field(permission_classes=[Staff])
    async def flows(
        self, info: Info, filter: FlowFilter | None = None, opts: Opts | None = None
    ) -> list[Flow | None] | None:
        org_id = ctx_of(info).org_id
        return await query_rows(
            info, flows.flows_read(org_id, to_params(filter) or {}, to_opts(opts))
        )

    @strawberry.field(permission_classes=[Manager])
    async def count_flows(self, info: Info, filter: FlowFilter | None = None) -> int | None:
        org_id = ctx_of(info).org_id
        return await read(info, lambda s: flows.count_flows(s, org_id, to_params(filter) or {}))

    @strawberry.field(permission_classes=[Manager])
    async def export_flow(self, info: Info, id: strawberry.ID) -> ExportFlow | None:
        org_id = ctx_of(info).org_id
        data, errors = await lookup(info, lambda s: flows.export_flow(s, org_id, id))
        return ExportFlow(export_data=data, errors=errors)

    @strawberry.field(
        permission_classes=[Manager],
        description="A collection send's figures: members reached (success), reached "
        "without their copy or flow (failed), not yet reached (pending), and msg_categories "
        "(each member's message by delivery status).",
    )
    async def broadcast_stats(
        self, info: Info, message_broadcast_id: strawberry.ID
    ) -> JsonValue | None:
        org_id = ctx_of(info).org_id
        found = await read(info, lambda s: broadcasts.stats(s, org_id, message_broadcast_id))
        return JsonValue(found)

    @strawberry.field(
        permission_classes=[Manager],
        description="The flow's messages and their translations as a CSV, one column per "
        "language (resolvers.flow_localization). addTranslation would fill blanks by "
        "machine translation; none is configured, so they stay blank.",
    )
    async def export_flow_localization(
        self, info: Info, id: strawberry.ID, add_translation: bool | None = None
    ) -> ExportFlowLocalization | None:
        org_id = ctx_of(info).org_id
        data = await read(info, lambda s: flow_localization.export_localization(s, org_id, id))
        return ExportFlowLocalization(export_data=data)

    @strawberry.field(
        permission_classes=[Manager],
        description="Open a flow in the editor: the user holds it for a while; another user "
        "gets an error naming them unless isForced.",
    )
    async def flow_get(
        self, info: Info, id: strawberry.ID, is_forced: bool | None = None
    ) -> FlowResult | None:
        ctx = ctx_of(info)
        found, errors = await payload(
            info,
            lambda s: flows.flow_get(s, ctx.org_id, ctx.user.id, id, forced=bool(is_forced)),
            "flow",
        )
        return FlowResult(flow=found, errors=errors)

    @strawberry.field(permission_classes=[Manager], description="Give up the flow you hold.")
    async def flow_release(self, info: Info) -> Flow | None:
        ctx = ctx_of(info)
        await payload(info, lambda s: flows.flow_release(s, ctx.org_id, ctx.user.id))
        return None

    @strawberry.field(permission_classes=[Staff])
    async def flow_labels(
        self, info: Info, filter: FlowLabelFilter | None = None, opts: Opts | None = None
    ) -> list[FlowLabel | None] | None:
        org_id = ctx_of(info).org_id
        return await query_rows(
            info, flow_labels.flow_labels_read(org_id, to_params(filter) or {}, to_opts(opts))
        )

    @strawberry.field(permission_classes=[Staff])
    async def count_flow_labels(
        self, info: Info, filter: FlowLabelFilter | None = None
    ) -> int | None:
        org_id = ctx_of(info).org_id
        return await read(
            info, lambda s: flow_labels.count_flow_labels(s, org_id, to_params(filter) or {})
        )

    @strawberry.field(
        permission_classes=[Staff],
        description="What each profile answered in each run: one row per run and profile.",
    )
    async def flow_results(
        self, info: Info, filter: FlowRunResultFilter | None = None, opts: Opts | None = None
    ) -> list[FlowRunResult | None] | None:
        org_id = ctx_of(info).org_id
        return await query_rows(
            info,
            flow_results.flow_results_read(org_id, to_params(filter) or {}, to_opts(opts)),
        )

    @strawberry.field(permission_classes=[Staff])
    async def count_flow_results(
        self, info: Info, filter: FlowRunResultFilter | None = None
    ) -> int | None:
        org_id = ctx_of(info).org_id
        return await read(
            info, lambda s: flow_results.count_flow_results(s, org_id, to_params(filter) or {})
        )


@strawberry.type
class FlowMutation:
    @strawberry.mutation(permission_classes=[Manager])
    async def create_flow(self, info: Info, input: FlowInput) -> FlowResult | None:
        ctx = ctx_of(info)
        created, errors = await payload(
            info,
            lambda s: flows.create_flow(s, ctx.org_id, to_params(input), user_id=ctx.user.id),
            "flow",
        )
        return FlowResult(flow=created, errors=errors)

    @strawberry.mutation(permission_classes=[Manager])
    async def update_flow(
        self, info: Info, id: strawberry.ID, input: FlowInput | None = None
    ) -> FlowResult | None:
        org_id = ctx_of(info).org_id
        updated, errors = await payload(
            info, lambda s: flows.update_flow(s, org_id, id, to_params(input) or {}), "flow"
        )
        return FlowResult(flow=updated, errors=errors)

    @strawberry.mutation(permission_classes=[Manager])
    async def delete_flow(self, info: Info, id: strawberry.ID) -> FlowResult | None:
        org_id = ctx_of(info).org_id
        _, errors = await payload(info, lambda s: flows.delete_flow(s, org_id, id))
        return FlowResult(flow=None, errors=errors)

    @strawberry.mutation(
        permission_classes=[Manager],
        description="A new flow (new uuid) holding a copy of the flow's newest definition.",
    )
    async def copy_flow(
        self, info: Info, id: strawberry.ID, input: FlowInput | None = None
    ) -> FlowResult | None:
        ctx = ctx_of(info)
        copied, errors = await payload(
            info,
            lambda s: flows.copy_flow(
                s, ctx.org_id, id, to_params(input) or {}, user_id=ctx.user.id
            ),
            "flow",
        )
        return FlowResult(flow=copied, errors=errors)

    @strawberry.mutation(
        permission_classes=[Manager],
        description="Publish the newest revision. A Critical problem refuses it (success "
        "false, nothing changes); warnings are returned with success true.",
    )
    async def publish_flow(self, info: Info, uuid: UUID4) -> PublishFlowResult | None:
        org_id = ctx_of(info).org_id
        problems, errors = await payload(info, lambda s: flows.publish(s, org_id, uuid))
        if errors is not None:
            return PublishFlowResult(
                success=False,
                errors=[
                    PublishFlowError(key=e.key, message=e.message, category=flows.CRITICAL)
                    for e in errors
                    if e is not None
                ],
            )
        return PublishFlowResult(
            success=not any(p.category == flows.CRITICAL for p in problems),
            errors=[
                PublishFlowError(key=p.key, message=p.message, category=p.category)
                for p in problems
            ],
        )

    @strawberry.mutation(
        permission_classes=[Manager],
        description="Import a Glific flow export. All or nothing: when any flow has a "
        "problem nothing is stored and each flow's status says why.",
    )
    async def import_flow(self, info: Info, flow: JsonValue | None = None) -> ImportFlowResult:
        org_id = ctx_of(info).org_id
        if flow is None:
            return ImportFlowResult(
                status=[ImportFlowStatus(flow_name="flow", status="Not imported: no flow given")]
            )
        done, errors = await payload(info, lambda s: flows.import_flows(s, org_id, flow))
        pairs = [(e.key, e.message) for e in errors or [] if e is not None] or done
        return ImportFlowResult(
            status=[ImportFlowStatus(flow_name=name, status=status) for name, status in pairs]
        )

    @strawberry.mutation(
        permission_classes=[Manager],
        description="Glific resets the flow's node counts; this backend keeps none.",
    )
    async def reset_flow_count(self, info: Info, flow_id: strawberry.ID) -> CommonFlowResult:
        org_id = ctx_of(info).org_id
        _, errors = await lookup(info, lambda s: flows.fetch_flow(s, org_id, flow_id))
        return CommonFlowResult(success=errors is None, errors=errors)

    @strawberry.mutation(permission_classes=[Staff])
    async def start_contact_flow(
        self,
        info: Info,
        flow_id: strawberry.ID,
        contact_id: strawberry.ID,
        default_results: JsonValue | None = None,
    ) -> CommonFlowResult:
        org_id = ctx_of(info).org_id
        return await _done(
            info,
            lambda s: flow_runs.start_contact_flow(
                s, org_id, flow_id, contact_id, _results(default_results)
            ),
        )

    @strawberry.mutation(
        permission_classes=[Manager],
        description="Start a published flow for every valid contact of a collection (in "
        "chunks, by a job: resolvers.group_sends).",
    )
    async def start_group_flow(
        self,
        info: Info,
        flow_id: strawberry.ID,
        group_id: strawberry.ID,
        default_results: JsonValue | None = None,
    ) -> CommonFlowResult:
        ctx = ctx_of(info)
        return await _done(
            info,
            lambda s: group_sends.start_group_flow(
                s, ctx.org_id, ctx.user, flow_id, group_id, _results(default_results)
            ),
        )

    @strawberry.mutation(
        permission_classes=[Staff],
        description="Start a published flow for a WhatsApp group now, ending the flow it is "
        "in (resolvers.wa_group_flows).",
    )
    async def start_wa_group_flow(
        self, info: Info, flow_id: strawberry.ID, wa_group_id: strawberry.ID
    ) -> CommonFlowResult:
        org_id = ctx_of(info).org_id
        return await _done(
            info, lambda s: wa_group_flows.start_wa_group_flow(s, org_id, flow_id, wa_group_id)
        )

    @strawberry.mutation(
        permission_classes=[Manager],
        description="Start a published flow for every WhatsApp group of a collection (by a "
        "job, each group in a transaction of its own).",
    )
    async def start_wa_group_collection_flow(
        self, info: Info, flow_id: strawberry.ID, group_id: strawberry.ID
    ) -> CommonFlowResult:
        org_id = ctx_of(info).org_id
        return await _done(
            info,
            lambda s: wa_group_flows.start_wa_group_collection_flow(s, org_id, flow_id, group_id),
        )

    @strawberry.mutation(
        permission_classes=[Manager],
        description="An outside service answers the contact's run of this flow that awaits "
        "a result (a wait_for_result node or a webhook call): each entry of `result` "
        "becomes a result of the run, and the run goes on.",
    )
    async def resume_contact_flow(
        self,
        info: Info,
        flow_id: strawberry.ID,
        contact_id: strawberry.ID,
        result: JsonValue | None = None,
    ) -> CommonFlowResult:
        org_id = ctx_of(info).org_id
        return await _done(
            info,
            lambda s: flow_runs.resume_contact_flow(s, org_id, flow_id, contact_id, result),
        )

    @strawberry.mutation(
        permission_classes=[Manager],
        description="Write a translated localization CSV (as exportFlowLocalization gives) "
        "into the flow as a new draft. All or nothing.",
    )
    async def import_flow_localization(
        self, info: Info, id: strawberry.ID, localization: str | None = None
    ) -> CommonFlowResult:
        ctx = ctx_of(info)
        return await _done(
            info,
            lambda s: flow_localization.import_localization(
                s, ctx.org_id, id, localization, ctx.user.id
            ),
        )

    @strawberry.mutation(
        permission_classes=[Manager],
        description="Glific machine-translates the missing texts; with no translation "
        "service configured this succeeds only when nothing is missing.",
    )
    async def inline_flow_localization(self, info: Info, id: strawberry.ID) -> CommonFlowResult:
        org_id = ctx_of(info).org_id
        return await _done(info, lambda s: flow_localization.inline_localization(s, org_id, id))

    @strawberry.mutation(permission_classes=[Staff])
    async def terminate_contact_flows(
        self, info: Info, contact_id: strawberry.ID
    ) -> CommonFlowResult:
        org_id = ctx_of(info).org_id
        return await _done(info, lambda s: flow_runs.terminate_contact_flows(s, org_id, contact_id))


async def _done(info: Info, work: Any) -> CommonFlowResult:
    """Run `work` in one write transaction; Glific's {success, errors} answer."""
    _, errors = await payload(info, work)
    return CommonFlowResult(success=errors is None, errors=errors)
