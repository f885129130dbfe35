"""Helpers for the pure flow-engine tests: a fixed Environment (clock, uuid counter, chance),
a dict of parsed flows, an organization with English and Hindi, contacts, a tiny DSL that
writes flow-editor JSON, and the Glific reference flows with their placeholders filled."""

from __future__ import annotations

import json
import re
import uuid as uuidlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from resolvers.flow_engine import (
    ContactView,
    Environment,
    Flow,
    Input,
    LanguageView,
    Limits,
    OrgView,
    Session,
    Sprint,
    parse_flow,
    resume,
    start,
)
from resolvers.flow_engine.events import MsgCreated
from tests.utils.client_ops import require_reference

ENGLISH = LanguageView(1, "English", "en")
HINDI = LanguageView(2, "Hindi", "hi")
ORG = OrgView(id=1, languages=(ENGLISH, HINDI), default_language_id=1)
T0 = datetime(2026, 1, 5, 10, 0, 0)


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)


def make_env(*, chance: float = 0.0, limits: Limits | None = None) -> tuple[Environment, Clock]:
    clock = Clock()
    counter = iter(range(1, 1_000_000))
    env = Environment(
        now=clock,
        new_uuid=lambda: f"run-{next(counter)}",
        random=lambda: chance,
        limits=limits or Limits(),
    )
    return env, clock


class FlowTable:
    """`Flows` over a dict: parsed flows by uuid."""

    def __init__(self, flows: Iterable[Flow] = ()) -> None:
        self.by_uuid: dict[str, Flow] = {f.uuid: f for f in flows}

    def add(self, definition: Mapping[str, Any] | str) -> Flow:
        flow = parse_flow(definition)
        self.by_uuid[flow.uuid] = flow
        return flow

    def get(self, flow_uuid: str) -> Flow | None:
        return self.by_uuid.get(flow_uuid)


def make_contact(**changes: Any) -> ContactView:
    values: dict[str, Any] = {
        "id": 10,
        "name": "Asha",
        "phone": "919999900001",
        "language_id": ENGLISH.id,
        "fields": {},
    }
    values.update(changes)
    return ContactView(**values)


@dataclass
class Chat:
    """One contact talking to flows: keeps the session and collects every sprint."""

    flows: FlowTable
    contact: ContactView = field(default_factory=make_contact)
    session: Session = field(default_factory=Session)
    env: Environment = field(default_factory=lambda: make_env()[0])
    org: OrgView = ORG
    sprints: list[Sprint] = field(default_factory=list)

    def start(self, flow_uuid: str, **kwargs: Any) -> Sprint:
        sprint = start(
            self.env, self.flows, self.org, self.contact, self.session, flow_uuid, **kwargs
        )
        self.session = sprint.session
        self.sprints.append(sprint)
        return sprint

    def say(self, text: str, **kwargs: Any) -> Sprint:
        return self.resume(input=Input(text=text, **kwargs))

    def timeout(self) -> Sprint:
        """Move the clock to the waiting run's timer and fire it."""
        run = self.session.active_run()
        due = run.wait.timeout_at if run is not None and run.wait is not None else None
        if due is not None and isinstance(self.env.now, Clock):
            self.env.now.now = max(self.env.now.now, due)
        return self.resume(signal="timeout")

    def resume(self, **kwargs: Any) -> Sprint:
        sprint = resume(self.env, self.flows, self.org, self.contact, self.session, **kwargs)
        self.session = sprint.session
        self.sprints.append(sprint)
        return sprint


def texts(sprint: Sprint) -> list[str]:
    return [m.text for m in sprint.of_type(MsgCreated)]


# --- writing flow JSON ------------------------------------------------------------------------

_counter = iter(range(1, 10_000_000))


def uid(prefix: str = "u") -> str:
    return str(uuidlib.uuid5(uuidlib.NAMESPACE_URL, f"{prefix}-{next(_counter)}"))


def send(text: str, **extra: Any) -> dict[str, Any]:
    return {"uuid": uid("a"), "type": "send_msg", "text": text, **extra}


def action(kind: str, **fields: Any) -> dict[str, Any]:
    return {"uuid": uid("a"), "type": kind, **fields}


def node(
    uuid: str, actions: Sequence[dict[str, Any]] = (), to: str | None = None
) -> dict[str, Any]:
    return {
        "uuid": uuid,
        "actions": list(actions),
        "exits": [{"uuid": uid("e"), "destination_uuid": to}],
    }


def router_node(
    uuid: str,
    branches: list[tuple[str, str | None, str | None, list[str]]],
    *,
    default: tuple[str, str | None] = ("Other", None),
    wait: bool = True,
    timeout: int | None = None,
    no_response_to: str | None = None,
    result_name: str | None = None,
    operand: str = "@input.text",
    actions: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """`branches`: (category name, destination, case type or None, case arguments)."""
    exits: list[dict[str, Any]] = []
    categories: list[dict[str, Any]] = []
    cases: list[dict[str, Any]] = []

    def category(name: str, dest: str | None) -> str:
        exit_uuid, cat_uuid = uid("e"), uid("c")
        exits.append({"uuid": exit_uuid, "destination_uuid": dest})
        categories.append({"uuid": cat_uuid, "name": name, "exit_uuid": exit_uuid})
        return cat_uuid

    for name, dest, case_type, args in branches:
        cat = category(name, dest)
        if case_type is not None:
            cases.append(
                {"uuid": uid("k"), "type": case_type, "arguments": args, "category_uuid": cat}
            )
    default_uuid = category(*default)
    router: dict[str, Any] = {
        "type": "switch",
        "operand": operand,
        "default_category_uuid": default_uuid,
        "cases": cases,
        "categories": categories,
    }
    if result_name:
        router["result_name"] = result_name
    if wait:
        router["wait"] = {"type": "msg"}
        if timeout is not None:
            router["wait"]["timeout"] = {
                "seconds": timeout,
                "category_uuid": category("No Response", no_response_to),
            }
    return {"uuid": uuid, "actions": list(actions), "router": router, "exits": exits}


def outcome_node(
    uuid: str, act: dict[str, Any], yes: str | None, no: str | None, names: tuple[str, str]
) -> dict[str, Any]:
    """An action plus the router its outcome picks from (Success/Failure, Complete/Expired)."""
    return router_node(
        uuid,
        [(names[0], yes, "has_only_text", [names[0].lower()])],
        default=(names[1], no),
        wait=False,
        operand="@results.x.category",
        actions=[act],
    )


def flow(name: str, nodes: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """Nodes placed top to bottom in the order given (the first is the start node)."""
    ui = {
        "nodes": {n["uuid"]: {"position": {"top": i * 100, "left": 0}} for i, n in enumerate(nodes)}
    }
    return {
        "uuid": extra.pop("uuid", uid("f")),
        "name": name,
        "spec_version": "13.1.0",
        "language": "base",
        "type": "messaging",
        "nodes": nodes,
        "localization": extra.pop("localization", {}),
        "_ui": ui,
        **extra,
    }


# --- Glific's reference flows -----------------------------------------------------------------

FLOW_FILES = (
    "deactivate_profile",
    "help",
    "language",
    "multiple_profile",
    "multiple_profile_creation",
    "new_contact",
    "optin",
    "optout",
    "registration",
)
OPTOUT_GROUP_ID = 7


def require_reference_flows() -> Path:
    return require_reference("flows")


def reference_definitions() -> dict[str, dict[str, Any]]:
    """Every reference flow by file name, with Glific's seed placeholders replaced: flow
    placeholders by uuids (the optin flow's own uuid for OPTIN_UUID), group ids by integers."""
    folder = require_reference_flows()
    raw = {name: (folder / f"{name}.json").read_text(encoding="utf-8") for name in FLOW_FILES}
    optin_uuid = json.loads(raw["optin"])["uuid"]
    replacements = {"OPTIN_UUID": optin_uuid, "OPTOUT_COLLECTION_UUID": str(OPTOUT_GROUP_ID)}

    def fill(match: re.Match[str]) -> str:
        token = match.group(0)
        if token not in replacements:
            replacements[token] = str(uuidlib.uuid5(uuidlib.NAMESPACE_URL, token))
        return replacements[token]

    return {
        name: json.loads(re.sub(r"\b[A-Z][A-Z_]*_UUID\b", fill, text)) for name, text in raw.items()
    }
