"""`Flow` and its payloads (`FlowResult`, `PublishFlowResult`, `ExportFlow`,
`ImportFlowResult`, `CommonFlowResult`), `FlowLabel`, our `FlowRunResult`, and their inputs
and filters."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info
from strawberry.types.unset import UNSET

from schema.enums import FlowTypeEnum
from schema.loaders import CONTACT, FLOW, FLOW_REVISION_DATES, PROFILE, TAG
from schema.scalars import UUID4, JsonValue
from schema.types.common import COLUMNS, InputError, related
from schema.types.language import Language
from schema.types.profile import Profile
from schema.types.user import AccessRole

if TYPE_CHECKING:
    from schema.types.contact import Contact


@strawberry.type(name="Tag", description="A label on flows, which the flow list filters by.")
class Tag:
    id: strawberry.ID | None
    label: str | None
    shortcode: str | None
    description: str | None
    color_code: str | None
    is_active: bool | None
    is_reserved: bool | None
    keywords: list[str | None] | None
    inserted_at: datetime | None
    updated_at: datetime | None

    @strawberry.field(metadata={COLUMNS: ()}, description="Always null: tags are not nested.")
    def parent(self) -> Tag | None:
        return None

    @strawberry.field(metadata={COLUMNS: ()}, description="Always null: tags have no language.")
    def language(self) -> Language | None:
        return None


@strawberry.type(name="TagResult")
class TagResult:
    tag: Tag | None = None
    errors: list[InputError | None] | None = None


async def _revision_dates(root: Any, info: Info) -> tuple[datetime | None, datetime | None]:
    found = await info.context.fetch(FLOW_REVISION_DATES.name, root.id)
    return found or (None, None)


@strawberry.type(name="Flow")
class Flow:
    id: strawberry.ID | None
    uuid: UUID4 | None
    name: str | None
    keywords: list[str | None] | None
    ignore_keywords: bool | None
    is_active: bool | None
    is_template: bool | None
    skip_validation: bool | None
    version_number: str | None
    flow_type: FlowTypeEnum | None
    inserted_at: datetime | None
    updated_at: datetime | None
    is_background: bool | None
    description: str | None
    is_pinned: bool | None

    @strawberry.field(
        metadata={COLUMNS: ()}, description="When the published revision was published."
    )
    async def last_published_at(self, info: Info) -> datetime | None:
        return (await _revision_dates(self, info))[0]

    @strawberry.field(metadata={COLUMNS: ()}, description="When the newest revision was saved.")
    async def last_changed_at(self, info: Info) -> datetime | None:
        return (await _revision_dates(self, info))[1]

    @strawberry.field(
        metadata={COLUMNS: ()},
        description="Access roles of the flow; this backend has none (always empty).",
    )
    def roles(self) -> list[AccessRole | None] | None:
        return []

    tag: Tag | None = related(TAG, "tag_id")


@strawberry.type(name="FlowResult")
class FlowResult:
    flow: Flow | None = None
    errors: list[InputError | None] | None = None


@strawberry.type(name="CommonFlowResult")
class CommonFlowResult:
    success: bool | None = None
    errors: list[InputError | None] | None = None


@strawberry.type(name="PublishFlowError")
class PublishFlowError:
    key: str
    message: str
    category: str


@strawberry.type(name="PublishFlowResult")
class PublishFlowResult:
    success: bool | None = None
    errors: list[PublishFlowError | None] | None = None


@strawberry.type(name="ExportFlow")
class ExportFlow:
    export_data: JsonValue | None = None
    errors: list[InputError | None] | None = None


@strawberry.type(name="ExportFlowLocalization")
class ExportFlowLocalization:
    export_data: str | None = None


@strawberry.type(name="ImportFlowStatus")
class ImportFlowStatus:
    flow_name: str
    status: str
    assistant_node_uuids: list[str | None] | None = strawberry.field(default_factory=list)
    invalid_sheet_node_uuids: list[str | None] | None = strawberry.field(default_factory=list)


@strawberry.type(name="ImportFlowResult")
class ImportFlowResult:
    status: list[ImportFlowStatus | None] | None = None


@strawberry.type(name="FlowLabel")
class FlowLabel:
    id: strawberry.ID | None
    uuid: UUID4 | None
    name: str | None
    inserted_at: datetime | None
    updated_at: datetime | None


@strawberry.type(
    name="FlowRunResult",
    description="What one profile answered in one run of a flow (a run whose active profile "
    "changed has a row per profile).",
)
class FlowRunResult:
    id: strawberry.ID | None
    results: JsonValue | None
    flow_version: int | None
    inserted_at: datetime | None
    updated_at: datetime | None

    flow: Flow | None = related(FLOW, "flow_id")
    contact: Annotated[Contact, strawberry.lazy("schema.types.contact")] | None = related(
        CONTACT, "contact_id"
    )
    profile: Profile | None = related(PROFILE, "profile_id")


# --- inputs -----------------------------------------------------------------------------------


@strawberry.input(name="FlowInput")
class FlowInput:
    name: str | None = UNSET
    keywords: list[str | None] | None = UNSET
    tag_id: strawberry.ID | None = UNSET
    ignore_keywords: bool | None = UNSET
    is_active: bool | None = UNSET
    is_background: bool | None = UNSET
    add_role_ids: list[strawberry.ID | None] | None = UNSET
    delete_role_ids: list[strawberry.ID | None] | None = UNSET
    is_pinned: bool | None = UNSET
    is_template: bool | None = UNSET
    skip_validation: bool | None = UNSET
    description: str | None = UNSET


@strawberry.input(name="FlowFilter")
class FlowFilter:
    name: str | None = UNSET
    name_or_keyword_or_tags: str | None = UNSET
    tag_ids: list[int | None] | None = UNSET
    keyword: str | None = UNSET
    uuid: UUID4 | None = UNSET
    status: str | None = UNSET
    is_active: bool | None = UNSET
    is_template: bool | None = UNSET
    is_background: bool | None = UNSET
    is_pinned: bool | None = UNSET


@strawberry.input(name="FlowLabelFilter")
class FlowLabelFilter:
    name: str | None = UNSET


@strawberry.input(name="FlowRunResultFilter")
class FlowRunResultFilter:
    flow_id: strawberry.ID | None = UNSET
    contact_id: strawberry.ID | None = UNSET
    profile_id: strawberry.ID | None = UNSET
