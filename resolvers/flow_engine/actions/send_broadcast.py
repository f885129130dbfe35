"""send_broadcast: the same message to other contacts, such as a teacher or a staff member
(Glific's "Send message to someone else"). The text is translated and substituted for the
run's contact (`@contact` is the person in the flow); `@staff.name` / `@staff.phone` are
filled for each recipient when the message is written, after the turn."""

from __future__ import annotations

from resolvers.flow_engine.actions.base import ActionContext, ActionResult
from resolvers.flow_engine.actions.send_msg import attachment
from resolvers.flow_engine.actions.start_session import contact_ids
from resolvers.flow_engine.definition import Action
from resolvers.flow_engine.events import BroadcastRequested


def execute(action: Action, ctx: ActionContext) -> ActionResult:
    recipients = contact_ids(action.get("contacts"))
    text = ctx.substitute(ctx.localized_text(action, "text")) or ""
    text = ctx.clip(text, ctx.env.limits.max_message_length, "message")
    media = next(
        (
            a
            for a in (attachment(ctx, raw) for raw in ctx.localized_list(action, "attachments"))
            if a
        ),
        None,
    )
    if not recipients or (not text.strip() and media is None):
        ctx.error("send_broadcast with no recipients or nothing to say was not sent")
        return None
    ctx.emit(BroadcastRequested(ctx.run.uuid, text, recipients, media))
    return None
