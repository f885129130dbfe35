"""remove_contact_groups: the listed groups, or every group with `all_groups`."""

from __future__ import annotations

from resolvers.flow_engine.actions.add_contact_groups import group_refs
from resolvers.flow_engine.actions.base import ActionContext, ActionResult
from resolvers.flow_engine.definition import Action
from resolvers.flow_engine.events import ContactGroupsRemoved


def execute(action: Action, ctx: ActionContext) -> ActionResult:
    if action.get("all_groups") is True:
        ctx.contact.groups = []
        ctx.emit(ContactGroupsRemoved(ctx.run.uuid, (), all_groups=True))
        return None
    refs = group_refs(action.get("groups"))
    if not refs:
        return None
    gone = {r.id for r in refs if r.id is not None}
    ctx.contact.groups = [g for g in ctx.contact.groups if g.id not in gone]
    ctx.emit(ContactGroupsRemoved(ctx.run.uuid, refs))
    return None
