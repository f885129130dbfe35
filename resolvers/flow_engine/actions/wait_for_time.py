"""wait_for_time: the run sleeps `delay` seconds and goes on when the "timeout" signal wakes
it; a blank or non-positive delay goes on at once."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from resolvers.flow_engine.actions.base import ActionContext, ActionResult, Suspend
from resolvers.flow_engine.definition import Action
from resolvers.flow_engine.events import WaitStarted
from resolvers.flow_engine.state import Wait


def seconds(text: str) -> int:
    try:
        return int(float(text.strip()))
    except ValueError:
        return 0


def sleep(action: Action, ctx: ActionContext, kind: Literal["time", "result"]) -> ActionResult:
    """Wait (of `kind`) until `delay` seconds from now; nothing when the delay is not
    positive."""
    delay = seconds(ctx.evaluate(str(action.get("delay") or "")) or "")
    if delay <= 0:
        return None
    at = ctx.now() + timedelta(seconds=delay)
    ctx.emit(WaitStarted(ctx.run.uuid, kind, ctx.node.uuid, at))
    return Suspend(Wait(kind, timeout_at=at))


def execute(action: Action, ctx: ActionContext) -> ActionResult:
    return sleep(action, ctx, "time")
