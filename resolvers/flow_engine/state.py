"""What the engine reads and returns, as plain values: the contact as the flow sees it, the
runs of a contact's flow session, the input that wakes it, and the sources of time, ids and
chance. Nothing here touches a database; `resolvers.flow_runs` builds these from rows and
writes them back."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

# --- the contact as the flow sees it --------------------------------------------------------


@dataclass(frozen=True)
class LanguageView:
    id: int
    label: str  # "English", "Hindi"
    locale: str  # "en", "hi"


@dataclass
class ProfileView:
    """One profile of the contact. `id` is None for a profile created earlier in this same
    sprint (the caller creates it when it applies the events)."""

    id: int | None
    name: str | None
    type: str | None
    language_id: int
    fields: dict[str, Any]
    is_active: bool = True
    is_default: bool = False


@dataclass(frozen=True)
class GroupView:
    id: int
    label: str


@dataclass
class ContactView:
    """The contact at the start of a sprint. Actions change this copy as they emit their
    events, so later actions in the same sprint see what earlier ones did (a field set after
    a Switch Profile lands on the new profile). `profiles` is oldest first (by id); `menu()`
    gives the switch menu's order.

    `wa_group`: the flow runs for a WhatsApp group, which stands in for the contact (`name`
    its label, `phone` its provider id, `fields` its fields; `@wa_group` instead of
    `@contact`)."""

    id: int
    name: str | None
    phone: str
    language_id: int
    fields: dict[str, Any]
    profiles: list[ProfileView] = field(default_factory=list)
    # Index into `profiles` of the active one; None while the contact has no active profile.
    active_profile: int | None = None
    groups: list[GroupView] = field(default_factory=list)
    optin: bool = False
    opted_out: bool = False
    status: str = "valid"
    bsp_status: str = "none"
    last_message_at: datetime | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    wa_group: bool = False

    def menu(self) -> list[ProfileView]:
        """The active profiles in menu order (default first, then oldest): position i
        (1-based) is what "i" picks in Switch Profile and in `@contact.list_profiles`."""
        active = [p for p in self.profiles if p.is_active]
        return sorted(active, key=lambda p: not p.is_default)

    def active(self) -> ProfileView | None:
        return None if self.active_profile is None else self.profiles[self.active_profile]


@dataclass(frozen=True)
class OrgView:
    """Organization data a flow may read: its languages (set_contact_language looks a
    language up by label or locale), its default language and its timezone name."""

    id: int
    languages: tuple[LanguageView, ...]
    default_language_id: int
    timezone: str = "Asia/Kolkata"
    name: str = ""
    # The organization's own contact: the sender of its replies.
    contact_id: int | None = None
    # Glific's `is_interactive_re_response_enabled`: a reply to an older interactive message
    # answers that message (runner.resume).
    interactive_re_response: bool = False


# --- what wakes a session -------------------------------------------------------------------

InputType = Literal[
    "text",
    "quick_reply",
    "list",
    "image",
    "audio",
    "video",
    "document",
    "sticker",
    "location",
    "whatsapp_form_response",
    "contact",
    "unsupported",
]


@dataclass(frozen=True)
class Input:
    """A message from the person on the phone. `id` is the provider's id of a tapped
    button or list item (for Glific flows, the node uuid of the interactive message)."""

    text: str = ""
    type: InputType = "text"
    id: str | None = None
    media_url: str | None = None
    caption: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    interactive: Mapping[str, Any] | None = None
    form_response: Mapping[str, Any] | None = None
    # The stored message's id, so add_input_labels can label it.
    message_id: int | None = None


# Outcomes that resume a waiting run. They never come from text a person typed: a person
# who types "Success" sends an Input whose text is "Success", which is only text. "resumed":
# an outside service answers a run that awaits a result (GraphQL `resumeContactFlow`).
Signal = Literal["timeout", "webhook_success", "webhook_failure", "resumed"]


# --- a contact's flow session ---------------------------------------------------------------

RunStatus = Literal["active", "waiting", "completed", "expired", "interrupted", "failed"]
WaitKind = Literal["msg", "time", "webhook", "result"]
# Waits an outside service may answer (Glific's `is_await_result`).
AWAITING_RESULT: frozenset[str] = frozenset({"webhook", "result"})


@dataclass
class Wait:
    kind: WaitKind
    # When the wait times out (a msg wait with a timeout, wait_for_time); None = never.
    timeout_at: datetime | None = None
    # For a webhook wait: what the caller must call (see events.WebhookRequested).
    request: Mapping[str, Any] | None = None


@dataclass
class Run:
    """One run of one flow (a `flow_contexts` row). `results` is the run's whole results map
    (`@results`), Glific's shape: `{name: {"input", "value", "category", "inserted_at", ...}}`
    plus `parent` / `child` / `flow_keyword` entries."""

    uuid: str
    flow_uuid: str
    flow_version: int
    node_uuid: str | None
    status: RunStatus = "active"
    results: dict[str, Any] = field(default_factory=dict)
    parent_uuid: str | None = None
    wait: Wait | None = None
    # Flow uuids entered below this run in this session (enter_flow's repeat guard).
    uuids_seen: list[str] = field(default_factory=list)
    # (node uuid, body, at) of recent sends, for the repeated-send guard.
    recent_outbound: list[tuple[str, str, str]] = field(default_factory=list)
    started_at: datetime | None = None
    exited_at: datetime | None = None
    draft: bool = False


@dataclass
class Session:
    """A contact's runs, oldest first. At most one run is not finished at the top of the
    stack (`active_run`); its ancestors are `active` too, waiting for their child."""

    runs: list[Run] = field(default_factory=list)

    def active_run(self) -> Run | None:
        for run in reversed(self.runs):
            if run.status in ("active", "waiting"):
                return run
        return None

    def find(self, run_uuid: str) -> Run | None:
        return next((r for r in self.runs if r.uuid == run_uuid), None)


# --- the world outside ----------------------------------------------------------------------


class Flows(Protocol):
    """Where enter_flow finds a child flow: loaded, parsed definitions by flow uuid."""

    def get(self, flow_uuid: str) -> Any | None:  # returns definition.Flow
        ...


@dataclass(frozen=True)
class Limits:
    """goflow's hard limits, with Glific's values where Glific has one."""

    max_steps_per_sprint: int = 100
    max_node_visits_per_sprint: int = 6  # Glific: the same node more than 6 times -> stop
    max_depth: int = 10  # nested enter_flow
    max_template_length: int = 10_000
    max_field_value_length: int = 640
    max_result_value_length: int = 640
    max_result_name_length: int = 64
    max_message_length: int = 4096
    expression_budget: int = 10_000  # evaluation steps for one expression
    repeated_send_limit: int = 4  # the same (node, body) sent 4 times in 6 h -> Exit Loop


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class Environment:
    """Injected so a test can fix time, ids and chance."""

    now: Callable[[], datetime] = _utcnow
    new_uuid: Callable[[], str] = lambda: str(uuid.uuid4())
    random: Callable[[], float] = random.random
    limits: Limits = field(default_factory=Limits)
