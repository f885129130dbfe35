"""The flow engine: reads Glific's (nyaruka flow-editor) flow JSON and runs it, shaped like
nyaruka/goflow. It is pure: given flows, a contact's session of runs, the contact as the
flow sees it and an input, it returns the new session and the events of the sprint
(`events.py`). It never touches the database, the network or the clock (`state.Environment`
injects time, ids and chance); `resolvers.flow_runs` loads the state, applies the events in
one transaction through the resolver functions GraphQL uses, and makes webhook calls
outside it.

Layout: `definition.py` parses and validates a flow; `runner.py` moves runs through nodes;
`routers.py` picks a category; `cases.py` holds the case tests; `actions/<type>.py` one
module per action type; `expressions/` the `@variable` substitution and the small
expression language (with a cost budget; never `eval`).
"""

from resolvers.flow_engine.definition import Flow, FlowInvalid, Problem, parse_flow, validate
from resolvers.flow_engine.events import Sprint
from resolvers.flow_engine.runner import interrupt, resume, start
from resolvers.flow_engine.state import (
    AWAITING_RESULT,
    ContactView,
    Environment,
    Flows,
    GroupView,
    Input,
    LanguageView,
    Limits,
    OrgView,
    ProfileView,
    Run,
    Session,
    Signal,
    Wait,
)

__all__ = [
    "AWAITING_RESULT",
    "ContactView",
    "Environment",
    "Flow",
    "FlowInvalid",
    "Flows",
    "GroupView",
    "Input",
    "LanguageView",
    "Limits",
    "OrgView",
    "Problem",
    "ProfileView",
    "Run",
    "Session",
    "Signal",
    "Sprint",
    "Wait",
    "interrupt",
    "parse_flow",
    "resume",
    "start",
    "validate",
]
