"""wait_for_time: the run sleeps `delay` seconds and goes on when the "timeout" signal wakes
it; a blank or non-positive delay goes on at once."""

from __future__ import annotations

from datetime import timedelta

from resolvers.flow_engine.actions.base import ActionContext, ActionResult, Suspend
from resolvers.flow_engine.definition import Action
from resolvers.flow_engine.events import WaitStarted
from resolvers.flow_engine.state import Wait


def seconds(text: str) -> int:
    try:
        return int(float(text.strip()))
    except ValueError:
        return 0


def execute(action: Action, ctx: ActionContext) -> ActionResult:
    delay = seconds(ctx.evaluate(str(action.get("delay") or "")) or "")
    if delay <= 0:
        return None
    at = ctx.now() + timedelta(seconds=delay)
    ctx.emit(WaitStarted(ctx.run.uuid, "time", ctx.node.uuid, at))
    return Suspend(Wait("time", timeout_at=at))
