"""add_contact_groups: the group id is the flow's `uuid` when it parses as an integer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from resolvers.flow_engine.actions.base import ActionContext, ActionResult
from resolvers.flow_engine.definition import Action
from resolvers.flow_engine.events import ContactGroupsAdded, GroupRef
from resolvers.flow_engine.state import GroupView


def group_refs(raw: Any) -> tuple[GroupRef, ...]:
    refs: list[GroupRef] = []
    for group in raw or ():
        if not isinstance(group, Mapping):
            continue
        ident = str(group.get("uuid") or "").strip()
        refs.append(GroupRef(int(ident) if ident.isdigit() else None, str(group.get("name") or "")))
    return tuple(refs)


def execute(action: Action, ctx: ActionContext) -> ActionResult:
    refs = group_refs(action.get("groups"))
    if not refs:
        return None
    have = {g.id for g in ctx.contact.groups}
    for ref in refs:
        if ref.id is not None and ref.id not in have:
            ctx.contact.groups.append(GroupView(ref.id, ref.name))
            have.add(ref.id)
    ctx.emit(ContactGroupsAdded(ctx.run.uuid, refs))
    return None
