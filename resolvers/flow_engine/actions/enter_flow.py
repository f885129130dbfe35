"""enter_flow: names the child flow (its uuid, or with the name "Expression" the evaluated
`flow.expression`); the runner starts the child and resumes this run when it ends."""

from __future__ import annotations

from collections.abc import Mapping

from resolvers.flow_engine.actions.base import ActionContext, ActionResult, EnterFlow, Outcome
from resolvers.flow_engine.definition import Action

EXPIRED = "Expired"


def execute(action: Action, ctx: ActionContext) -> ActionResult:
    flow = action.get("flow")
    if not isinstance(flow, Mapping):
        ctx.error("enter_flow without a flow")
        return Outcome(EXPIRED)
    target = flow.get("uuid")
    if flow.get("name") == "Expression" and isinstance(flow.get("expression"), str):
        target = (ctx.evaluate(str(flow["expression"])) or "").strip()
    if not isinstance(target, str) or not target:
        ctx.error("enter_flow names no flow")
        return Outcome(EXPIRED)
    return EnterFlow(target)
