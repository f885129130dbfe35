"""send_msg: a message to the contact, translated to its language, with `@variables`
substituted (never `<%= %>`), attachments, quick replies and labels; or, with `templating`,
an HSM template (the caller finds it by its provider id and fills it)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from resolvers.flow_engine.actions.base import Abort, ActionContext, ActionResult
from resolvers.flow_engine.definition import Action
from resolvers.flow_engine.events import MsgCreated

MEDIA_TYPES = {
    "image": "image",
    "video": "video",
    "audio": "audio",
    "application": "document",
    "document": "document",
    "sticker": "sticker",
}
RECENT_KEPT = 12
REPEAT_WINDOW = timedelta(hours=6)


def attachment(ctx: ActionContext, raw: object) -> tuple[str, str] | None:
    """`"image:https://…"` → ("image", url); `"expression:…"` is evaluated to such a string.
    Malformed entries are skipped."""
    if not isinstance(raw, str) or ":" not in raw:
        return None
    kind, _, rest = raw.partition(":")
    if kind == "expression":
        evaluated = ctx.evaluate(rest)
        if not evaluated or ":" not in evaluated:
            return None
        kind, _, rest = evaluated.partition(":")
    media = MEDIA_TYPES.get(kind.strip().lower())
    url = ctx.substitute(rest.strip()) if media else None
    return (media, url) if media and url else None


def repeated(ctx: ActionContext, body: str) -> bool:
    """The repeated-send guard: the same (node, body) sent `repeated_send_limit` times in the
    last 6 hours means the flow loops through the contact."""
    run, now = ctx.run, ctx.now()
    since = now - REPEAT_WINDOW
    count = 0
    for node_uuid, sent_body, at in run.recent_outbound:
        try:
            when = datetime.fromisoformat(at)
        except ValueError:
            continue
        if node_uuid == ctx.node.uuid and sent_body == body and when >= since:
            count += 1
    run.recent_outbound.append((ctx.node.uuid, body, now.isoformat()))
    del run.recent_outbound[:-RECENT_KEPT]
    return count >= ctx.env.limits.repeated_send_limit


def execute(action: Action, ctx: ActionContext) -> ActionResult:
    text = ctx.substitute(ctx.localized_text(action, "text")) or ""
    text = ctx.clip(text, ctx.env.limits.max_message_length, "message")
    attachments = tuple(
        a for a in (attachment(ctx, raw) for raw in ctx.localized_list(action, "attachments")) if a
    )
    replies = tuple(
        r
        for r in (ctx.substitute(str(q)) for q in ctx.localized_list(action, "quick_replies"))
        if r
    )
    if not text.strip() and not attachments:
        ctx.error("send_msg with an empty text was not sent")
        return None
    if repeated(ctx, text or attachments[0][1]):
        return Abort(f"Infinite loop detected, body: {text[:80]}. Aborting flow.")
    labels = tuple(
        str(label.get("name"))
        for label in action.get("labels") or ()
        if isinstance(label, dict) and label.get("name")
    )
    ctx.emit(
        MsgCreated(
            ctx.run.uuid,
            node_uuid=ctx.node.uuid,
            text=text,
            type=attachments[0][0] if attachments else "text",
            attachments=attachments,
            quick_replies=replies,
            labels=labels,
            template=template(action, ctx),
        )
    )
    return None


def template(action: Action, ctx: ActionContext) -> tuple[str, tuple[str, ...]] | None:
    """`templating: {template: {uuid}, variables: [...]}`: the HSM template to send, by its
    provider id, with its variables substituted."""
    templating = action.get("templating")
    if not isinstance(templating, Mapping):
        return None
    ref = templating.get("template")
    uuid = ref.get("uuid") if isinstance(ref, Mapping) else None
    if not isinstance(uuid, str) or not uuid.strip():
        return None
    variables = templating.get("variables")
    values = tuple(
        ctx.substitute(str(v)) or "" for v in (variables if isinstance(variables, list) else ())
    )
    return uuid.strip(), values
