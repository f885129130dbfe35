"""send_interactive_msg: a quick-reply or list message. There is no interactive-template
table: the action's `text` holds the template's JSON (`{"type", "content", "options"}` or a
list's `items`), translated when `localization` has it, with `@variables` substituted in
every string of it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from resolvers.flow_engine.actions.base import ActionContext, ActionResult
from resolvers.flow_engine.definition import Action
from resolvers.flow_engine.events import MsgCreated


def _titles(template: Mapping[str, Any]) -> tuple[str, ...]:
    titles: list[str] = []
    for option in template.get("options") or ():
        if isinstance(option, Mapping) and option.get("title"):
            titles.append(str(option["title"]))
    for item in template.get("items") or ():
        for option in (item.get("options") or ()) if isinstance(item, Mapping) else ():
            if isinstance(option, Mapping) and option.get("title"):
                titles.append(str(option["title"]))
    return tuple(titles)


def _body(template: Mapping[str, Any]) -> str:
    content = template.get("content")
    if isinstance(content, Mapping):
        for key in ("text", "caption"):
            if isinstance(content.get(key), str) and content[key]:
                return str(content[key])
    body = template.get("body")
    return body if isinstance(body, str) else ""


def execute(action: Action, ctx: ActionContext) -> ActionResult:
    raw = ctx.localized_text(action, "text")
    try:
        template = json.loads(raw) if raw else None
    except ValueError:
        template = None
    if not isinstance(template, Mapping):
        ctx.error(f"interactive message {action.get('name')!r} has no readable template")
        return None
    if len(raw) > ctx.env.limits.max_template_length:
        ctx.error("interactive template too long, not sent")
        return None
    template = ctx.substitute_value(template)
    if not isinstance(template, Mapping):
        return None
    labels = tuple(
        str(label["name"])
        for label in action.get("labels") or ()
        if isinstance(label, Mapping) and label.get("name")
    )
    ctx.emit(
        MsgCreated(
            ctx.run.uuid,
            node_uuid=ctx.node.uuid,
            text=_body(template),
            type=str(template.get("type") or "quick_reply"),
            quick_replies=_titles(template),
            interactive=template,
            labels=labels,
        )
    )
    return None
