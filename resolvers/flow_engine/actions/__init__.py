"""The action types, one module each (goflow's layout): `ACTIONS[type](action, ctx)` runs
one action against the run and the contact view and returns what the runner does next."""

from __future__ import annotations

from collections.abc import Callable

from resolvers.flow_engine.actions import (
    add_contact_groups,
    add_input_labels,
    call_webhook,
    enter_flow,
    remove_contact_groups,
    send_broadcast,
    send_interactive_msg,
    send_msg,
    set_contact_field,
    set_contact_language,
    set_contact_name,
    set_contact_profile,
    set_run_result,
    set_wa_group_field,
    start_session,
    wait_for_result,
    wait_for_time,
)
from resolvers.flow_engine.actions.base import (
    Abort,
    ActionContext,
    ActionResult,
    EnterFlow,
    Outcome,
    Suspend,
)
from resolvers.flow_engine.definition import Action

Execute = Callable[[Action, ActionContext], ActionResult]

ACTIONS: dict[str, Execute] = {
    "send_msg": send_msg.execute,
    "send_interactive_msg": send_interactive_msg.execute,
    "set_contact_field": set_contact_field.execute,
    "set_contact_name": set_contact_name.execute,
    "set_contact_language": set_contact_language.execute,
    "set_contact_profile": set_contact_profile.execute,
    "set_run_result": set_run_result.execute,
    "enter_flow": enter_flow.execute,
    "add_input_labels": add_input_labels.execute,
    "add_contact_groups": add_contact_groups.execute,
    "remove_contact_groups": remove_contact_groups.execute,
    "wait_for_time": wait_for_time.execute,
    "wait_for_result": wait_for_result.execute,
    "call_webhook": call_webhook.execute,
    "start_session": start_session.execute,
    "send_broadcast": send_broadcast.execute,
    "set_wa_group_field": set_wa_group_field.execute,
}

__all__ = [
    "ACTIONS",
    "Abort",
    "ActionContext",
    "ActionResult",
    "EnterFlow",
    "Execute",
    "Outcome",
    "Suspend",
]
