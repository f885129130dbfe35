"""`Message` (with its media and location), `MessageResult`, `MessageInput` and
`MessageFilter`."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info
from strawberry.types.unset import UNSET

from resolvers import messages
from schema.enums import MessageFlowEnum, MessageStatusEnum, MessageTypeEnum
from schema.inputs import DateRangeInput
from schema.loaders import CONTACT, FLOW, PROFILE, USER
from schema.scalars import JsonValue
from schema.types.common import COLUMNS, InputError, related
from schema.types.profile import Profile
from schema.types.user import User

if TYPE_CHECKING:
    from schema.types.contact import Contact
    from schema.types.flow import Tag

ContactRef = Annotated["Contact", strawberry.lazy("schema.types.contact")]


@strawberry.type(name="MessageMedia")
class MessageMedia:
    id: strawberry.ID | None = None
    url: str | None = None
    source_url: str | None = None
    thumbnail: str | None = None
    gcs_url: str | None = None
    caption: str | None = None
    is_template_media: bool | None = None


@strawberry.type(name="Locations")
class Locations:
    id: strawberry.ID | None
    longitude: float | None
    latitude: float | None


@strawberry.type(
    name="WhatsappFormResponse", description="WhatsApp forms are not kept here: always null."
)
class WhatsappFormResponse:
    id: strawberry.ID | None
    contact_id: strawberry.ID | None
    raw_response: JsonValue | None
    whatsapp_form_id: strawberry.ID | None
    submitted_at: str | None
    inserted_at: datetime | None
    updated_at: datetime | None


@strawberry.type
class MessageKinds:
    """A message's `type` and `bspStatus` as Glific's enums (`Message`, `WaMessage`)."""

    @strawberry.field(metadata={COLUMNS: ("type",)})
    def type(self) -> MessageTypeEnum | None:
        row: Any = self
        return messages.type_of(row.type)

    @strawberry.field(metadata={COLUMNS: ("bsp_status",)})
    def bsp_status(self) -> MessageStatusEnum | None:
        row: Any = self
        return messages.bsp_status_of(row.bsp_status)


@strawberry.type(name="Message")
class Message(MessageKinds):
    id: strawberry.ID | None
    body: str | None
    uuid: str | None
    flow: MessageFlowEnum | None
    flow_label: str | None
    bsp_message_id: str | None
    status: str | None
    errors: JsonValue | None
    message_number: int | None
    is_hsm: bool | None
    group_id: int | None = strawberry.field(
        description="The collection the message was sent to as a whole "
        "(createAndSendMessageToGroup)."
    )
    inserted_at: datetime | None
    updated_at: datetime | None
    send_at: datetime | None
    interactive_content: JsonValue | None
    context_id: str | None

    @strawberry.field(
        metadata={COLUMNS: ("flow", "flow_id", "user_id")},
        description='"Flow: <flow name>" for an outbound message a flow sent, the user\'s '
        'name for one a user sent, else "".',
    )
    async def send_by(self, info: Info) -> str | None:
        row: Any = self
        if row.flow != messages.Direction.OUTBOUND:
            return ""
        flow = await info.context.fetch(FLOW.name, row.flow_id) if row.flow_id else None
        user = None
        if flow is None and row.user_id:
            user = await info.context.fetch(USER.name, row.user_id)
        return messages.send_by(row.flow, getattr(flow, "name", None), getattr(user, "name", None))

    @strawberry.field(
        metadata={COLUMNS: ("template_id",)},
        description="The template an HSM message filled (sendHsmMessage).",
    )
    def template_id(self) -> int | None:
        row: Any = self
        return row.template_id

    @strawberry.field(
        metadata={COLUMNS: ("params",)}, description="The values an HSM message's {{n}} took."
    )
    def params(self) -> list[str | None] | None:
        row: Any = self
        return None if row.params is None else [str(p) for p in row.params]

    @strawberry.field(
        metadata={COLUMNS: ("message_broadcast_id",)},
        description="The broadcast (a send to a whole collection) the message belongs to; "
        "its figures: broadcastStats.",
    )
    def message_broadcast_id(self) -> str | None:
        row: Any = self
        return None if row.message_broadcast_id is None else str(row.message_broadcast_id)

    @strawberry.field(
        metadata={COLUMNS: ("media_url", "caption")},
        description="The message's media (its URL and caption); null for a text.",
    )
    def media(self) -> MessageMedia | None:
        row: Any = self
        if not row.media_url:
            return None
        return MessageMedia(url=row.media_url, source_url=row.media_url, caption=row.caption)

    @strawberry.field(metadata={COLUMNS: ("type",)})
    async def location(self, info: Info) -> Locations | None:
        row: Any = self
        if row.type != messages.MessageType.LOCATION:
            return None
        ctx = info.context
        return await ctx.read(messages.location_of, ctx.org_id, row.id)

    @strawberry.field(
        metadata={COLUMNS: ()},
        description="Always null here (the message a reply answers is not linked).",
    )
    def context_message(self) -> Message | None:
        return None

    @strawberry.field(metadata={COLUMNS: ()}, description="Always null here (no WhatsApp forms).")
    def whatsapp_form_response(self) -> WhatsappFormResponse | None:
        return None

    @strawberry.field(
        metadata={COLUMNS: ()},
        description="Always empty here: tags label flows; messages are not tagged.",
    )
    def tags(self) -> list[Annotated[Tag, strawberry.lazy("schema.types.flow")] | None] | None:
        return []

    sender: ContactRef | None = related(CONTACT, "sender_id")
    receiver: ContactRef | None = related(CONTACT, "receiver_id")
    contact: ContactRef | None = related(CONTACT, "contact_id")
    user: User | None = related(USER, "user_id")
    profile: Profile | None = related(
        PROFILE,
        "profile_id",
        description="The profile that was active on the contact when the message was stored.",
    )


@strawberry.type(name="MessageResult")
class MessageResult:
    message: Message | None = None
    errors: list[InputError | None] | None = None


@strawberry.type(name="GroupMessageResult")
class GroupMessageResult:
    success: bool | None = None
    contact_ids: list[strawberry.ID | None] | None = None
    errors: list[InputError | None] | None = None


@strawberry.type(name="ClearMessagesResult")
class ClearMessagesResult:
    success: bool | None = None
    errors: list[InputError | None] | None = None


@strawberry.input(name="MessageInput")
class MessageInput:
    body: str | None = UNSET
    type: MessageTypeEnum | None = UNSET
    flow: MessageFlowEnum | None = UNSET
    sender_id: strawberry.ID | None = UNSET
    receiver_id: strawberry.ID | None = UNSET
    media_id: strawberry.ID | None = UNSET
    send_at: datetime | None = UNSET
    is_hsm: bool | None = UNSET
    template_id: int | None = UNSET
    interactive_template_id: int | None = UNSET
    params: list[str | None] | None = UNSET


@strawberry.input(name="MessageFilter")
class MessageFilter:
    body: str | None = UNSET
    sender: str | None = UNSET
    receiver: str | None = UNSET
    types: list[MessageTypeEnum | None] | None = UNSET
    either: str | None = UNSET
    user: str | None = UNSET
    bsp_status: MessageStatusEnum | None = UNSET
    tags_included: list[strawberry.ID | None] | None = UNSET
    tags_excluded: list[strawberry.ID | None] | None = UNSET
    date_range: DateRangeInput | None = UNSET
    flow_id: strawberry.ID | None = UNSET
    contact_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="Beyond Glific: the conversation's contact."
    )
    profile_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="Beyond Glific: the profile active when it was stored."
    )
