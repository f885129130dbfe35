"""start_session: start another flow for other contacts and for the members of collections
(Glific's "Start a flow for someone else"). The contacts and collections are named by id in
their `uuid`; the start happens after this turn, through the collection-send machinery
(`resolvers.flow_sessions`), never for the contact of this run."""

from __future__ import annotations

from collections.abc import Mapping

from resolvers.flow_engine.actions.add_contact_groups import group_refs
from resolvers.flow_engine.actions.base import ActionContext, ActionResult
from resolvers.flow_engine.definition import Action
from resolvers.flow_engine.events import SessionStartRequested


def contact_ids(raw: object) -> tuple[int, ...]:
    """The contact ids a list of `{uuid, name}` names (in their `uuid`), once each."""
    found: list[int] = []
    for item in raw if isinstance(raw, list) else ():
        ident = str(item.get("uuid") or "").strip() if isinstance(item, Mapping) else ""
        if ident.isdigit() and int(ident) not in found:
            found.append(int(ident))
    return tuple(found)


def execute(action: Action, ctx: ActionContext) -> ActionResult:
    flow = action.get("flow")
    target = flow.get("uuid") if isinstance(flow, Mapping) else None
    if not isinstance(target, str) or not target:
        ctx.error("start_session names no flow")
        return None
    contacts = tuple(c for c in contact_ids(action.get("contacts")) if c != ctx.contact.id)
    groups = tuple(ref.id for ref in group_refs(action.get("groups")) if ref.id is not None)
    if not contacts and not groups:
        ctx.error("start_session names no contacts or collections")
        return None
    exclusions = action.get("exclusions")
    skip_busy = bool(exclusions.get("in_a_flow")) if isinstance(exclusions, Mapping) else False
    ctx.emit(SessionStartRequested(ctx.run.uuid, target, contacts, groups, skip_busy))
    return None
