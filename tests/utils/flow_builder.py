"""Write flow definitions for tests in the flow editor's JSON (what Glific exports), without
spelling out every uuid: nodes are named, and names become deterministic uuids."""

from __future__ import annotations

import uuid
from typing import Any

_NS = uuid.UUID("6f1c3a52-8d4e-4b7a-9c0e-2a5b1d3f4e60")


def uid(*parts: str) -> str:
    return str(uuid.uuid5(_NS, "/".join(parts)))


class FlowBuilder:
    def __init__(self, name: str, *, flow_uuid: str | None = None) -> None:
        self.name = name
        self.uuid = flow_uuid or uid("flow", name)
        self.nodes: list[dict[str, Any]] = []
        self.ui: dict[str, Any] = {}

    def _u(self, *parts: str) -> str:
        return uid(self.uuid, *parts)

    def _node(
        self,
        name: str,
        actions: list[dict[str, Any]],
        exits: list[dict[str, Any]],
        router: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        node: dict[str, Any] = {"uuid": self._u(name), "actions": actions, "exits": exits}
        if router is not None:
            node["router"] = router
        self.ui[node["uuid"]] = {"position": {"top": len(self.nodes) * 100, "left": 0}}
        self.nodes.append(node)
        return node

    def _exit(self, name: str, to: str | None) -> dict[str, Any]:
        return {"uuid": self._u(name, "exit"), "destination_uuid": self._u(to) if to else None}

    def send(self, name: str, text: str, to: str | None, **extra: Any) -> FlowBuilder:
        action = {
            "uuid": self._u(name, "a"),
            "type": "send_msg",
            "text": text,
            "attachments": [],
            "quick_replies": [],
            **extra,
        }
        self._node(name, [action], [self._exit(name, to)])
        return self

    def actions(self, name: str, actions: list[dict[str, Any]], to: str | None) -> FlowBuilder:
        for i, action in enumerate(actions):
            action.setdefault("uuid", self._u(name, "a", str(i)))
        self._node(name, actions, [self._exit(name, to)])
        return self

    def wait(
        self,
        name: str,
        cases: list[tuple[str, list[str], str, str | None]],
        *,
        other: str | None,
        result_name: str | None = None,
        timeout: tuple[int, str | None] | None = None,
        other_name: str = "Other",
    ) -> FlowBuilder:
        """A wait for a message: cases are (type, arguments, category name, destination)."""
        categories: list[dict[str, Any]] = []
        exits: list[dict[str, Any]] = []
        by_name: dict[str, str] = {}

        def category(cat_name: str, to: str | None) -> str:
            if cat_name in by_name:
                return by_name[cat_name]
            cat_uuid = self._u(name, "cat", cat_name)
            exit_ = self._exit(f"{name}/{cat_name}", to)
            exits.append(exit_)
            categories.append({"uuid": cat_uuid, "name": cat_name, "exit_uuid": exit_["uuid"]})
            by_name[cat_name] = cat_uuid
            return cat_uuid

        router_cases = [
            {
                "uuid": self._u(name, "case", str(i)),
                "type": t,
                "arguments": args,
                "category_uuid": category(cat, to),
            }
            for i, (t, args, cat, to) in enumerate(cases)
        ]
        default = category(other_name, other)
        wait: dict[str, Any] = {"type": "msg"}
        if timeout is not None:
            seconds, to = timeout
            wait["timeout"] = {"seconds": seconds, "category_uuid": category("No Response", to)}
        router: dict[str, Any] = {
            "type": "switch",
            "operand": "@input.text",
            "cases": router_cases,
            "categories": categories,
            "default_category_uuid": default,
            "wait": wait,
        }
        if result_name:
            router["result_name"] = result_name
        self._node(name, [], exits, router)
        return self

    def outcome(
        self, name: str, action: dict[str, Any], success: str | None, failure: str | None
    ) -> FlowBuilder:
        """An action whose outcome picks Success or Failure (set_contact_profile, webhooks)."""
        action.setdefault("uuid", self._u(name, "a"))
        ok = self._exit(f"{name}/Success", success)
        bad = self._exit(f"{name}/Failure", failure)
        ok_cat, bad_cat = self._u(name, "cat", "Success"), self._u(name, "cat", "Failure")
        router = {
            "type": "switch",
            "operand": "@results",
            "cases": [
                {
                    "uuid": self._u(name, "case"),
                    "type": "has_only_text",
                    "arguments": ["Success"],
                    "category_uuid": ok_cat,
                }
            ],
            "categories": [
                {"uuid": ok_cat, "name": "Success", "exit_uuid": ok["uuid"]},
                {"uuid": bad_cat, "name": "Failure", "exit_uuid": bad["uuid"]},
            ],
            "default_category_uuid": bad_cat,
        }
        self._node(name, [action], [ok, bad], router)
        return self

    def build(self) -> dict[str, Any]:
        return {
            "uuid": self.uuid,
            "name": self.name,
            "spec_version": "13.2.0",
            "language": "base",
            "type": "messaging",
            "expire_after_minutes": 10080,
            "localization": {},
            "nodes": self.nodes,
            "_ui": {"nodes": self.ui},
        }


def export_of(*flows: tuple[dict[str, Any], list[str]]) -> dict[str, Any]:
    """`importFlow`'s input: definitions with their keywords."""
    return {
        "flows": [{"definition": d, "keywords": kws} for d, kws in flows],
        "contact_field": [],
        "collections": [],
        "interactive_templates": [],
    }
