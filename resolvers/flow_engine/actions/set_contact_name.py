"""set_contact_name: the contact's name (profiles keep theirs, as in Glific)."""

from __future__ import annotations

from resolvers.flow_engine.actions.base import ActionContext, ActionResult
from resolvers.flow_engine.definition import Action
from resolvers.flow_engine.events import ContactNameChanged


def execute(action: Action, ctx: ActionContext) -> ActionResult:
    name = (ctx.evaluate(str(action.get("name") or "")) or "").strip()
    if not name:
        return None
    name = ctx.clip(name, ctx.env.limits.max_field_value_length, "contact name")
    ctx.contact.name = name
    ctx.emit(ContactNameChanged(ctx.run.uuid, name))
    return None
