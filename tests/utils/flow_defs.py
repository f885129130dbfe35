"""Flow definitions for the flow API tests, written here (the flow-editor JSON Glific stores):
a small valid flow, ways to break one, and a Glific export around them."""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

from tests.utils.flow_builder import export_of


def _uuid() -> str:
    return str(uuid.uuid4())


def small_flow(name: str = "Feedback", flow_uuid: str | None = None) -> dict[str, Any]:
    """Ask a question, wait for the answer, file it under a result; then end."""
    ask, wait, done = _uuid(), _uuid(), _uuid()
    good, other = _uuid(), _uuid()
    good_exit, other_exit = _uuid(), _uuid()
    return {
        "name": name,
        "uuid": flow_uuid or _uuid(),
        "spec_version": "13.2.0",
        "language": "base",
        "type": "messaging",
        "expire_after_minutes": 10080,
        "localization": {},
        "nodes": [
            {
                "uuid": ask,
                "actions": [
                    {
                        "uuid": _uuid(),
                        "type": "send_msg",
                        "text": "How was class today, @contact.fields.name?",
                        "attachments": [],
                        "quick_replies": [],
                    }
                ],
                "exits": [{"uuid": _uuid(), "destination_uuid": wait}],
            },
            {
                "uuid": wait,
                "actions": [],
                "router": {
                    "type": "switch",
                    "operand": "@input.text",
                    "result_name": "feedback",
                    "default_category_uuid": other,
                    "wait": {"type": "msg"},
                    "cases": [
                        {
                            "uuid": _uuid(),
                            "type": "has_any_word",
                            "arguments": ["good"],
                            "category_uuid": good,
                        }
                    ],
                    "categories": [
                        {"uuid": good, "name": "Good", "exit_uuid": good_exit},
                        {"uuid": other, "name": "Other", "exit_uuid": other_exit},
                    ],
                },
                "exits": [
                    {"uuid": good_exit, "destination_uuid": done},
                    {"uuid": other_exit, "destination_uuid": done},
                ],
            },
            {
                "uuid": done,
                "actions": [
                    {
                        "uuid": _uuid(),
                        "type": "set_contact_field",
                        "field": {"key": "class_feedback", "name": "Class feedback"},
                        "value": "@results.feedback",
                    }
                ],
                "exits": [{"uuid": _uuid(), "destination_uuid": None}],
            },
        ],
        "_ui": {
            "nodes": {
                ask: {"type": "execute_actions", "position": {"top": 0, "left": 0}},
                wait: {"type": "wait_for_response", "position": {"top": 200, "left": 0}},
                done: {"type": "execute_actions", "position": {"top": 400, "left": 0}},
            }
        },
    }


def with_sub_flow(definition: dict[str, Any], sub: dict[str, Any]) -> dict[str, Any]:
    """`definition` whose last node enters `sub` as a sub-flow."""
    out = copy.deepcopy(definition)
    out["nodes"][-1]["actions"].append(
        {
            "uuid": _uuid(),
            "type": "enter_flow",
            "flow": {"uuid": sub["uuid"], "name": sub["name"]},
        }
    )
    return out


def awaiting_flow(name: str = "Grading") -> dict[str, Any]:
    """Tell the contact their essay is being checked, wait up to an hour for an outside
    service's answer (resumeContactFlow), then tell them the grade it gave."""
    ask, tell = _uuid(), _uuid()
    return {
        "uuid": _uuid(),
        "name": name,
        "spec_version": "13.2.0",
        "language": "base",
        "type": "messaging",
        "expire_after_minutes": 10080,
        "localization": {},
        "nodes": [
            {
                "uuid": ask,
                "actions": [
                    {"uuid": _uuid(), "type": "send_msg", "text": "Checking your essay"},
                    {"uuid": _uuid(), "type": "wait_for_result", "delay": "3600"},
                ],
                "exits": [{"uuid": _uuid(), "destination_uuid": tell}],
            },
            {
                "uuid": tell,
                "actions": [
                    {
                        "uuid": _uuid(),
                        "type": "send_msg",
                        "text": "Your level is @results.grade.level (@results.remark)",
                    }
                ],
                "exits": [{"uuid": _uuid(), "destination_uuid": None}],
            },
        ],
    }


def broken(kind: str, name: str = "Broken") -> dict[str, Any]:
    """A flow with one thing wrong: an exit pointing nowhere, an unknown action, or a loop
    that never waits for the contact."""
    flow = small_flow(name)
    nodes = flow["nodes"]
    if kind == "dangling exit":
        nodes[0]["exits"][0]["destination_uuid"] = _uuid()
    elif kind == "unknown action":
        nodes[0]["actions"].append({"uuid": _uuid(), "type": "launch_rocket"})
    elif kind == "loop without wait":
        nodes[2]["exits"][0]["destination_uuid"] = nodes[0]["uuid"]
        nodes[0]["exits"][0]["destination_uuid"] = nodes[2]["uuid"]
    else:
        raise ValueError(kind)
    return flow


def export(*definitions: dict[str, Any], keywords: list[list[str]] | None = None) -> str:
    """Glific's export format, as the Json string importFlow takes."""
    words = keywords or [[] for _ in definitions]
    return json.dumps(export_of(*zip(definitions, words, strict=True)))
