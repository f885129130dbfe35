"""set_contact_field: a contact field (and the active profile's, which follows), or with the
key `settings` the contact's opt-in state and preferences."""

from __future__ import annotations

from collections.abc import Mapping

from resolvers.flow_engine.actions.base import ActionContext, ActionResult, stamp
from resolvers.flow_engine.definition import Action
from resolvers.flow_engine.events import (
    ContactFieldChanged,
    ContactOptedIn,
    ContactOptedOut,
    ContactPreferencesChanged,
)


def clean(value: str) -> str:
    """Glific's string_clean: letters and digits only, lowercased."""
    return "".join(ch for ch in value if ch.isalnum()).lower()


def _settings(ctx: ActionContext, value: str) -> None:
    choice = value.strip().lower()
    contact = ctx.contact
    if choice == "optout":
        contact.opted_out, contact.optin = True, False
        ctx.emit(ContactOptedOut(ctx.run.uuid))
    elif choice == "optin":
        contact.opted_out, contact.optin = False, True
        ctx.emit(ContactOptedIn(ctx.run.uuid))
    elif choice in ("", "reset"):
        contact.settings["preferences"] = {}
        ctx.emit(ContactPreferencesChanged(ctx.run.uuid, None))
    else:
        preference = clean(value)
        prefs = contact.settings.get("preferences")
        prefs = dict(prefs) if isinstance(prefs, Mapping) else {}
        prefs[preference] = True
        contact.settings["preferences"] = prefs
        ctx.emit(ContactPreferencesChanged(ctx.run.uuid, preference))


def execute(action: Action, ctx: ActionContext) -> ActionResult:
    field = action.get("field")
    if not isinstance(field, Mapping) or not field.get("key"):
        ctx.error("set_contact_field without a field key")
        return None
    key = str(field["key"])
    label = field.get("name", key)
    if not label:
        return None  # Glific: a field without a name changes nothing
    raw = action.get("value")
    value = ctx.evaluate(raw if isinstance(raw, str) else str(raw or "")) or ""
    if key == "settings":
        _settings(ctx, value)
        return None
    value = ctx.clip(value, ctx.env.limits.max_field_value_length, "field value")
    ctx.contact.fields[key] = {
        "value": value,
        "label": str(label),
        "type": "string",
        "inserted_at": stamp(ctx.now()),
    }
    ctx.sync_active_profile()
    ctx.emit(ContactFieldChanged(ctx.run.uuid, key=key, label=str(label), value=value))
    return None
