"""add_input_labels: labels the message that woke the run."""

from __future__ import annotations

from collections.abc import Mapping

from resolvers.flow_engine.actions.base import ActionContext, ActionResult
from resolvers.flow_engine.definition import Action
from resolvers.flow_engine.events import InputLabelsAdded


def execute(action: Action, ctx: ActionContext) -> ActionResult:
    names: list[str] = []
    for label in action.get("labels") or ():
        if not isinstance(label, Mapping):
            continue
        name = label.get("name") or label.get("name_match")
        if name:
            names.append(ctx.substitute(str(name)) or str(name))
    if names:
        message_id = ctx.input.message_id if ctx.input is not None else None
        ctx.emit(InputLabelsAdded(ctx.run.uuid, message_id, tuple(names)))
    return None
