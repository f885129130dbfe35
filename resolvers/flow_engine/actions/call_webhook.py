"""call_webhook: builds the request (URL, headers and every string of the JSON body
substituted; a whole value "@contact" / "@results" becomes that object) and makes the run
wait; the caller makes the call outside any transaction and resumes the run with
"webhook_success" / "webhook_failure" and the decoded response."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from resolvers.flow_engine.actions.base import ActionContext, ActionResult, Outcome, Suspend
from resolvers.flow_engine.definition import Action
from resolvers.flow_engine.events import WaitStarted, WebhookRequested
from resolvers.flow_engine.state import Wait


def _body_value(ctx: ActionContext, value: Any, whole: Mapping[str, Any]) -> Any:
    if isinstance(value, str):
        if value.strip() in whole:
            return whole[value.strip()]
        return ctx.substitute(value) or ""
    if isinstance(value, Mapping):
        return {k: _body_value(ctx, v, whole) for k, v in value.items()}
    if isinstance(value, list):
        return [_body_value(ctx, v, whole) for v in value]
    return value


def build_body(ctx: ActionContext, raw: Any) -> str | None:
    text = raw if isinstance(raw, str) else ""
    try:
        body = json.loads(text) if text.strip() else {}
    except ValueError:
        return None
    if not isinstance(body, Mapping):
        return None
    bound = ctx.bindings()
    whole = {"@contact": bound.get("contact"), "@results": dict(ctx.run.results)}
    filled = _body_value(ctx, body, whole)
    filled["organization_id"] = ctx.org.id
    return json.dumps(filled, default=str, ensure_ascii=False)


def execute(action: Action, ctx: ActionContext) -> ActionResult:
    method = str(action.get("method") or "GET").upper()
    url = (ctx.substitute(str(action.get("url") or "")) or "").strip()
    headers_raw = action.get("headers")
    headers = {
        str(k): ctx.substitute(str(v)) or ""
        for k, v in (headers_raw.items() if isinstance(headers_raw, Mapping) else ())
    }
    body = build_body(ctx, action.get("body"))
    result_name = str(action.get("result_name") or "")
    if not url:
        ctx.error("call_webhook without a URL")
        return Outcome("Failure")
    if body is None:
        ctx.error("Error in decoding webhook body")
        return Outcome("Failure")
    request = {
        "method": method,
        "url": url,
        "headers": headers,
        "body": body,
        "result_name": result_name,
        "action_uuid": action.uuid,
    }
    ctx.emit(
        WebhookRequested(
            ctx.run.uuid,
            node_uuid=ctx.node.uuid,
            method=method,
            url=url,
            headers=headers,
            body=body,
            result_name=result_name,
        )
    )
    ctx.emit(WaitStarted(ctx.run.uuid, "webhook", ctx.node.uuid))
    return Suspend(Wait("webhook", request=request))
