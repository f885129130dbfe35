"""What a sprint did, as events, in the order it did them. The caller
(`resolvers.flow_runs`) applies them in one transaction through the same resolver functions
GraphQL uses: ProfileCreated through `profiles.create_profile`, ProfileSwitched through
`profiles.switch_profile`, ContactFieldChanged through `profiles.write_contact_fields`, and
so on. Every event names the run that produced it (`run_uuid`) so results and messages are
stamped with the right flow."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal


@dataclass(frozen=True)
class Event:
    run_uuid: str


@dataclass(frozen=True)
class RunStarted(Event):
    flow_uuid: str
    parent_uuid: str | None = None


@dataclass(frozen=True)
class RunEnded(Event):
    # completed: left by an exit with no destination; expired: timed out or replaced;
    # interrupted: a new flow took over; failed: a loop limit or a broken flow stopped it.
    status: Literal["completed", "expired", "interrupted", "failed"]
    reason: str = ""


@dataclass(frozen=True)
class MsgCreated(Event):
    """A message to the contact. `interactive` is Glific's interactive content (the
    `quick_reply` / `list` JSON) for send_interactive_msg; `type` is Glific's message type."""

    node_uuid: str
    text: str
    type: str = "text"
    attachments: tuple[tuple[str, str], ...] = ()  # (media type, url): ("image", "https://…")
    quick_replies: tuple[str, ...] = ()
    interactive: Mapping[str, Any] | None = None
    labels: tuple[str, ...] = ()
    # An HSM template to send instead (`templating`): its provider id (the session
    # template's `uuid`) and the values of its {{1}}, {{2}} ...
    template: tuple[str, tuple[str, ...]] | None = None


@dataclass(frozen=True)
class ContactFieldChanged(Event):
    """`fields[key] = {"value", "label", "type": "string", "inserted_at"}` on the contact and
    its active profile; the contact field definition is created if it is missing."""

    key: str
    label: str
    value: str


@dataclass(frozen=True)
class WaGroupFieldChanged(Event):
    """`fields[key]` of the WhatsApp group a group flow runs for (set_wa_group_field)."""

    key: str
    label: str
    value: str


@dataclass(frozen=True)
class ContactNameChanged(Event):
    name: str


@dataclass(frozen=True)
class ContactLanguageChanged(Event):
    language_id: int


@dataclass(frozen=True)
class ContactOptedIn(Event):
    pass


@dataclass(frozen=True)
class ContactOptedOut(Event):
    pass


@dataclass(frozen=True)
class ContactPreferencesChanged(Event):
    """`settings.preferences`: `reset` clears them, otherwise `preference` is set true."""

    preference: str | None  # None = reset


@dataclass(frozen=True)
class ProfileCreated(Event):
    """Create Profile succeeded on the engine's view. `activate` False keeps the current
    profile (the action carried `"activate": false`)."""

    name: str
    type: str | None
    activate: bool = True


@dataclass(frozen=True)
class ProfileSwitched(Event):
    index: int  # 1-based, in menu order at this point of the sprint


@dataclass(frozen=True)
class ProfileDeactivated(Event):
    index: int


@dataclass(frozen=True)
class ResultSaved(Event):
    """`results[name]` of the run was set (by a router with a result_name, set_run_result or
    a webhook). `result` is the whole stored entry (`input`, `value`, `category`,
    `inserted_at`, …). The caller files it on the flow result row of the profile active now."""

    name: str
    result: Mapping[str, Any]


@dataclass(frozen=True)
class InputLabelsAdded(Event):
    message_id: int | None
    labels: tuple[str, ...]


@dataclass(frozen=True)
class GroupRef:
    id: int | None  # the group id, when the flow carried one that parses as an integer
    name: str


@dataclass(frozen=True)
class ContactGroupsAdded(Event):
    groups: tuple[GroupRef, ...]


@dataclass(frozen=True)
class BroadcastRequested(Event):
    """send_broadcast: the same message to other contacts (staff, say), sent after this
    turn. `text` has the run's variables substituted; `@staff.name` and `@staff.phone` are
    left for the caller to fill for each recipient."""

    text: str
    contact_ids: tuple[int, ...]
    attachment: tuple[str, str] | None = None  # (media type, url)


@dataclass(frozen=True)
class SessionStartRequested(Event):
    """start_session: start the flow `flow_uuid` for other contacts and the members of
    collections, outside this turn (the caller defers it); `skip_busy`: leave alone those
    already in a flow (Glific's `exclusions.in_a_flow`)."""

    flow_uuid: str
    contact_ids: tuple[int, ...] = ()
    group_ids: tuple[int, ...] = ()
    skip_busy: bool = False


@dataclass(frozen=True)
class ContactGroupsRemoved(Event):
    groups: tuple[GroupRef, ...]
    all_groups: bool = False


@dataclass(frozen=True)
class WaitStarted(Event):
    """The run now waits. For kind "msg" with `timeout_at`, "time" or "result", the caller
    schedules a durable job that resumes it with the "timeout" signal at `timeout_at`."""

    kind: Literal["msg", "time", "webhook", "result"]
    node_uuid: str
    timeout_at: datetime | None = None


@dataclass(frozen=True)
class WebhookRequested(Event):
    """call_webhook: the run waits; the caller commits, makes the request outside any
    transaction, and resumes the run with "webhook_success" / "webhook_failure" and the
    decoded response."""

    node_uuid: str
    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str = ""
    result_name: str = ""


@dataclass(frozen=True)
class EngineError(Event):
    """Something the NGO should know about (a loop limit, a bad expression, an unknown
    language, a missing sub-flow). Logged and turned into a notification; the run continues
    or ends as `RunEnded` says."""

    message: str
    node_uuid: str | None = None


@dataclass(frozen=True)
class Sprint:
    """The engine's answer: the session after the sprint and what happened in it."""

    session: Any  # state.Session
    events: tuple[Event, ...]

    def of_type(self, kind: type[Event]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


__all__ = [
    "ContactFieldChanged",
    "ContactGroupsAdded",
    "ContactGroupsRemoved",
    "ContactLanguageChanged",
    "ContactNameChanged",
    "ContactOptedIn",
    "ContactOptedOut",
    "ContactPreferencesChanged",
    "EngineError",
    "Event",
    "GroupRef",
    "InputLabelsAdded",
    "MsgCreated",
    "ProfileCreated",
    "ProfileDeactivated",
    "ProfileSwitched",
    "ResultSaved",
    "RunEnded",
    "RunStarted",
    "Sprint",
    "WaitStarted",
    "WebhookRequested",
]
