"""wait_for_result: the run waits up to `delay` seconds for an outside service to answer it
(GraphQL `resumeContactFlow`, the "resumed" signal, whose results join the run's); either
way it then goes on past this action. A blank or non-positive delay goes on at once."""

from __future__ import annotations

from resolvers.flow_engine.actions.base import ActionContext, ActionResult
from resolvers.flow_engine.actions.wait_for_time import sleep
from resolvers.flow_engine.definition import Action


def execute(action: Action, ctx: ActionContext) -> ActionResult:
    return sleep(action, ctx, "result")
