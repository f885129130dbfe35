"""WhatsApp groups' types, as Glific names them: `WaManagedPhone`, `WaGroup`, `WaMessage`,
`ContactWaGroup`, `WaGroupsCollection`, the WA chat screen's `WaConversation` and
`WaSearchCup`, the result wrappers, and the filters and inputs of the WA group fields; and
the loaders behind their relations."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types.unset import UNSET

from resolvers import wa_groups
from schema.enums import MessageFlowEnum
from schema.inputs import DateRangeInput
from schema.loaders import CONTACT, GROUP, ORGANIZATION, Loader
from schema.scalars import Gid, JsonValue
from schema.types.common import COLUMNS, InputError, contextual, related
from schema.types.message import MessageKinds, MessageMedia
from schema.types.user import Group, Organization

if TYPE_CHECKING:
    from schema.types.contact import Contact

ContactRef = Annotated["Contact", strawberry.lazy("schema.types.contact")]

# The WA groups' relations (schema/loaders.py explains Loader); declared with the types that
# use them.
WA_GROUP = Loader("wa_group", wa_groups.wa_groups_by_ids, by_id=True)
WA_MANAGED_PHONE = Loader("wa_managed_phone", wa_groups.wa_phones_by_ids, by_id=True)
CONTACTS_OF_WA_GROUP = Loader("contacts_of_wa_group", wa_groups.contacts_of_wa_groups, many=True)
GROUPS_OF_WA_GROUP = Loader("groups_of_wa_group", wa_groups.groups_of_wa_groups, many=True)
# {collection id: how many WA groups it holds}: `Group.waGroupsCount`.
WA_GROUPS_COUNT = Loader("wa_groups_count_of_group", wa_groups.wa_groups_counts)


@strawberry.type(name="WaManagedPhone")
class WaManagedPhone:
    id: strawberry.ID | None
    phone: str | None
    phone_id: int | None
    label: str | None
    status: str | None
    last_status_checked_at: datetime | None
    inserted_at: datetime | None
    updated_at: datetime | None

    contact: ContactRef | None = related(CONTACT, "contact_id")
    organization: Organization | None = related(ORGANIZATION, "organization_id")


@strawberry.type(name="WaGroup")
class WaGroup:
    id: strawberry.ID | None
    label: str | None
    bsp_id: str | None
    last_communication_at: datetime | None
    fields: JsonValue | None

    primary_phone: WaManagedPhone | None = related(
        WA_MANAGED_PHONE,
        "wa_managed_phone_id",
        description="The managed phone the group is reached through (one per group here).",
    )
    contacts: list[ContactRef | None] | None = related(CONTACTS_OF_WA_GROUP, "id")
    groups: list[Group | None] | None = related(
        GROUPS_OF_WA_GROUP, "id", description="The collections holding the group."
    )


def _bsp_id_seen_by(row: Any, context: Any) -> str | None:
    """Maytapi's message id ends with the sender's number (`..._<phone>@c.us`), which a
    staff user is never shown."""
    return None if context.is_staff else row.bsp_id


@strawberry.type(name="WaMessage")
class WaMessage(MessageKinds):
    id: strawberry.ID | None
    body: str | None
    flow: MessageFlowEnum | None
    message_number: int | None
    bsp_id: str | None = contextual(_bsp_id_seen_by, columns=("bsp_id",))
    send_at: datetime | None
    status: str | None
    errors: JsonValue | None
    is_dm: bool | None
    inserted_at: datetime | None
    updated_at: datetime | None
    group_id: int | None = strawberry.field(
        description="The collection the message was sent to as a whole."
    )
    context_id: str | None

    @strawberry.field(metadata={COLUMNS: ()}, description="Polls are not kept here: null.")
    def poll_content(self) -> JsonValue | None:
        return None

    @strawberry.field(
        metadata={COLUMNS: ("media_url", "caption")},
        description="The attachment's address and caption; null for a text message.",
    )
    def media(self) -> MessageMedia | None:
        row: Any = self
        if not row.media_url:
            return None
        return MessageMedia(url=row.media_url, source_url=row.media_url, caption=row.caption)

    @strawberry.field(
        metadata={COLUMNS: ()}, description="Replies are not linked here: always null."
    )
    def context_message(self) -> WaMessage | None:
        return None

    contact: ContactRef | None = related(CONTACT, "contact_id")
    wa_managed_phone: WaManagedPhone | None = related(WA_MANAGED_PHONE, "wa_managed_phone_id")
    wa_group: WaGroup | None = related(WA_GROUP, "wa_group_id")


@strawberry.type(name="WaConversation")
class WaConversation:
    id: strawberry.ID | None
    group: Group | None
    wa_group: WaGroup | None
    wa_messages: list[WaMessage | None] | None


@strawberry.type(name="WaSearchCup")
class WaSearchCup:
    wa_groups: list[WaGroup | None] | None
    wa_messages: list[WaMessage | None] | None


@strawberry.type(name="WaGroupResult")
class WaGroupResult:
    wa_group: WaGroup | None = None
    errors: list[InputError | None] | None = None


@strawberry.type(name="ContactWaGroup")
class ContactWaGroup:
    id: strawberry.ID | None
    is_admin: bool | None
    contact: ContactRef | None = related(CONTACT, "contact_id")
    wa_group: WaGroup | None = related(WA_GROUP, "wa_group_id")


@strawberry.type(name="WaGroupsCollection")
class WaGroupsCollection:
    id: strawberry.ID | None
    group: Group | None = related(GROUP, "group_id")
    wa_group: WaGroup | None = related(WA_GROUP, "wa_group_id")


@strawberry.type(name="WaGroupsCollectionResult")
class WaGroupsCollectionResult:
    wa_groups_collection: WaGroupsCollection | None = None
    errors: list[InputError | None] | None = None


@strawberry.type(name="CollectionWaGroupResult")
class CollectionWaGroupResult:
    wa_groups_deleted: int | None = 0
    collection_wa_groups: list[WaGroupsCollection | None] | None = None


@strawberry.input(name="WaSearchFilter")
class WaSearchFilter:
    id: Gid | None = UNSET
    ids: list[Gid | None] | None = UNSET
    wa_phone_ids: list[Gid | None] | None = UNSET
    term: str | None = UNSET
    search_group: bool | None = strawberry.field(
        default=UNSET,
        description="The collections holding WA groups instead, with the messages sent to each "
        "collection.",
    )
    group_label: str | None = UNSET


@strawberry.input(name="WaGroupFilter")
class WaGroupFilter:
    include_groups: list[strawberry.ID | None] | None = UNSET
    exclude_groups: list[strawberry.ID | None] | None = UNSET
    term: str | None = UNSET
    label: str | None = UNSET


@strawberry.input(name="WaManagedPhoneFilter")
class WaManagedPhoneFilter:
    label: str | None = UNSET
    phone: str | None = UNSET


@strawberry.input(name="ContactWaGroupFilter")
class ContactWaGroupFilter:
    wa_group_id: strawberry.ID | None = UNSET
    date_range: DateRangeInput | None = UNSET


@strawberry.input(name="WaGroupsCollectionInput")
class WaGroupsCollectionInput:
    group_id: strawberry.ID | None = UNSET
    wa_group_id: strawberry.ID | None = UNSET


@strawberry.input(name="UpdateCollectionWaGroupInput")
class UpdateCollectionWaGroupInput:
    group_id: strawberry.ID
    add_wa_group_ids: list[strawberry.ID | None]
    delete_wa_group_ids: list[strawberry.ID | None]


@strawberry.input(name="UpdateWaGroupsCollectionInput")
class UpdateWaGroupsCollectionInput:
    wa_group_id: strawberry.ID
    add_group_ids: list[strawberry.ID | None]
    delete_group_ids: list[strawberry.ID | None]
