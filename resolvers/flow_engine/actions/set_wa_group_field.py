"""set_wa_group_field: a field of the WhatsApp group a group flow runs for (Glific skips it,
with an error, in a contact's flow)."""

from __future__ import annotations

from collections.abc import Mapping

from resolvers.flow_engine.actions.base import ActionContext, ActionResult, stamp
from resolvers.flow_engine.definition import Action
from resolvers.flow_engine.events import WaGroupFieldChanged


def execute(action: Action, ctx: ActionContext) -> ActionResult:
    if not ctx.contact.wa_group:
        ctx.error("set_wa_group_field runs only in a WhatsApp group's flow; skipped")
        return None
    field = action.get("field")
    if not isinstance(field, Mapping) or not (field.get("key") or field.get("name")):
        ctx.error("set_wa_group_field without a field")
        return None
    label = str(field.get("name") or field["key"])
    # Glific: the key, else the name lower-cased with spaces as underscores.
    key = str(field.get("key") or label.lower().replace(" ", "_"))
    raw = action.get("value")
    value = ctx.evaluate(raw if isinstance(raw, str) else str(raw or "")) or ""
    value = ctx.clip(value, ctx.env.limits.max_field_value_length, "field value")
    ctx.contact.fields[key] = {
        "value": value,
        "label": label,
        "type": "string",
        "inserted_at": stamp(ctx.now()),
    }
    ctx.emit(WaGroupFieldChanged(ctx.run.uuid, key=key, label=label, value=value))
    return None
