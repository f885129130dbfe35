"""set_contact_profile (the "Manage profile" node): Create, Switch or Deactivate a profile
on the engine's view of the contact, exactly as `resolvers.profiles` does it in the
database, because the caller replays the events through those functions: ProfileCreated
through `create_profile`, ProfileSwitched through `switch_profile(index=…)`,
ProfileDeactivated through `set_profile_active(False)` on the profile at that index. A
Failure changes nothing and emits nothing."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from resolvers.flow_engine.actions.base import ActionContext, ActionResult, Outcome
from resolvers.flow_engine.definition import Action
from resolvers.flow_engine.events import ProfileCreated, ProfileDeactivated, ProfileSwitched
from resolvers.flow_engine.state import ContactView, ProfileView

SUCCESS = Outcome("Success")
FAILURE = Outcome("Failure")
MAX_NAME = 255  # resolvers.validation.text's limit for a profile's name and type


def parse_index(value: Any) -> int | None:
    """An int, or a string that is exactly an integer (surrounding spaces allowed)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return int(text)
    return None


def _order(profile: ProfileView) -> tuple[bool, float]:
    # is_default first, then oldest; a profile made in this sprint (id None) is the newest.
    return (not profile.is_default, float("inf") if profile.id is None else profile.id)


def ensure_default(contact: ContactView) -> ProfileView:
    """The default profile: the existing one (reactivated if needed); with profiles but no
    default, the oldest; with none, a new one from the contact's name, fields and language."""
    if contact.profiles:
        existing = min(contact.profiles, key=_order)
        existing.is_default = True
        existing.is_active = True
        return existing
    default = ProfileView(
        id=None,
        name=contact.name,
        type=None,
        language_id=contact.language_id,
        fields=copy.deepcopy(contact.fields),
        is_active=True,
        is_default=True,
    )
    contact.profiles.append(default)
    return default


def activate(contact: ContactView, profile: ProfileView) -> None:
    contact.active_profile = contact.profiles.index(profile)
    contact.fields = copy.deepcopy(profile.fields)
    contact.language_id = profile.language_id


class _Snapshot:
    """The profiles as they were, to put back when the action fails (in place: the caller
    may hold the ProfileView objects)."""

    def __init__(self, contact: ContactView) -> None:
        self.contact = contact
        self.count = len(contact.profiles)
        self.flags = [(p, p.is_default, p.is_active) for p in contact.profiles]
        self.active = contact.active_profile

    def restore(self) -> Outcome:
        del self.contact.profiles[self.count :]
        for profile, is_default, is_active in self.flags:
            profile.is_default, profile.is_active = is_default, is_active
        self.contact.active_profile = self.active
        return FAILURE


def _text(ctx: ActionContext, raw: Any) -> str | None:
    if raw is None:
        return ""
    value = ctx.evaluate(str(raw))
    return None if value is None else value.strip()


def create(action: Action, ctx: ActionContext) -> Outcome:
    value = action.get("value")
    if not isinstance(value, Mapping):
        ctx.error("Create Profile needs a value with a name and a type")
        return FAILURE
    name, type_ = _text(ctx, value.get("name")), _text(ctx, value.get("type"))
    if not name or type_ is None or len(name) > MAX_NAME or len(type_) > MAX_NAME:
        return FAILURE
    contact = ctx.contact
    snapshot = _Snapshot(contact)
    default = ensure_default(contact)
    if any((p.name or "") == name and (p.type or "") == type_ for p in contact.profiles):
        return snapshot.restore()
    profile = ProfileView(
        id=None,
        name=name,
        type=type_,
        language_id=contact.language_id,
        fields={},
        is_active=True,
        is_default=False,
    )
    contact.profiles.append(profile)
    make_active = action.get("activate") is not False
    if make_active:
        activate(contact, profile)
    elif contact.active_profile is None:
        activate(contact, default)
    ctx.emit(ProfileCreated(ctx.run.uuid, name=name, type=type_, activate=make_active))
    return SUCCESS


def _index(action: Action, ctx: ActionContext) -> int | None:
    value = action.get("value")
    return parse_index(_text(ctx, value) if isinstance(value, str) else value)


def switch(action: Action, ctx: ActionContext) -> Outcome:
    position = _index(action, ctx)
    contact = ctx.contact
    snapshot = _Snapshot(contact)
    ensure_default(contact)
    menu = contact.menu()
    if position is None or not 1 <= position <= len(menu):
        return snapshot.restore()
    activate(contact, menu[position - 1])
    ctx.emit(ProfileSwitched(ctx.run.uuid, position))
    return SUCCESS


def deactivate(action: Action, ctx: ActionContext) -> Outcome:
    position = _index(action, ctx)
    contact = ctx.contact
    snapshot = _Snapshot(contact)
    default = ensure_default(contact)
    menu = contact.menu()
    if position is None or not 1 <= position <= len(menu):
        return snapshot.restore()
    target = menu[position - 1]
    if target is default:
        # The default profile is never deactivated; nothing changes.
        snapshot.restore()
        return SUCCESS
    was_active = contact.active() is target
    target.is_active = False
    if was_active:
        activate(contact, default)
    ctx.emit(ProfileDeactivated(ctx.run.uuid, position))
    return SUCCESS


OPERATIONS = {"Create Profile": create, "Switch Profile": switch, "Deactivate Profile": deactivate}


def execute(action: Action, ctx: ActionContext) -> ActionResult:
    operation = OPERATIONS.get(str(action.get("profile_type") or ""))
    if operation is None:
        ctx.error(f"unknown profile_type: {action.get('profile_type')}")
        return FAILURE
    return operation(action, ctx)
