"""set_run_result: `results[name] = {input, value, category, inserted_at}`; the value is
evaluated, the category substituted."""

from __future__ import annotations

from resolvers.flow_engine.actions.base import ActionContext, ActionResult, stamp
from resolvers.flow_engine.definition import Action


def execute(action: Action, ctx: ActionContext) -> ActionResult:
    name = str(action.get("name") or "").strip()
    if not name:
        ctx.error("set_run_result without a name")
        return None
    value = ctx.evaluate(str(action.get("value") or "")) or ""
    category = ctx.substitute(str(action.get("category") or "")) or ""
    ctx.save_result(
        name,
        {"input": value, "value": value, "category": category, "inserted_at": stamp(ctx.now())},
    )
    return None
