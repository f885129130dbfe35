"""Reading a flow-editor definition: `parse_flow` turns the JSON Glific stores into a `Flow`
(nodes by uuid, the start node, the translations) and refuses a broken one; `validate` lists
the problems the publish step reports (Glific's list plus ours: dangling references, unknown
action and case types, loops with no wait, bad expressions)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from resolvers.flow_engine.cases import KNOWN_CASES
from resolvers.flow_engine.expressions import check_expression

Category_ = Literal["Critical", "Warning"]

# Action types this engine runs, with the keys each must carry (spec §1.4).
ACTION_REQUIRED: dict[str, tuple[str, ...]] = {
    "send_msg": ("text",),
    "send_interactive_msg": ("name",),
    "set_contact_field": ("value", "field"),
    "set_contact_name": ("name",),
    "set_contact_language": ("language",),
    "set_contact_profile": ("value", "profile_type"),
    "set_run_result": ("name", "value", "category"),
    "enter_flow": ("flow",),
    "add_input_labels": ("labels",),
    "add_contact_groups": ("groups",),
    "remove_contact_groups": ("groups",),
    "wait_for_time": ("delay",),
    "wait_for_result": ("delay",),
    "call_webhook": ("url", "method", "headers", "result_name"),
    "start_session": ("flow",),
    "send_broadcast": ("text", "contacts"),
    "set_wa_group_field": ("value", "field"),
}

# Glific action types this engine does not run: a warning when publishing, an EngineError
# (and the Failure path, when the node has one) at run time.
UNSUPPORTED_ACTIONS = frozenset(
    {
        "call_classifier",
        "link_google_sheet",
        "open_ticket",
    }
)

# Glific's retired FUNCTION webhooks (publishing a flow that calls one is refused).
DEPRECATED_WEBHOOKS = frozenset(
    {"speech_to_text_with_bhasini", "text_to_speech_with_bhasini", "nmt_tts_with_bhasini"}
)

# What a flow run for a WhatsApp group may do (Glific: messages to the group, the group's
# fields, results, sub-flows and timers). Anything about a contact is skipped there.
WA_GROUP_ACTIONS = frozenset(
    {"send_msg", "set_wa_group_field", "set_run_result", "enter_flow", "wait_for_time"}
)

# Actions after which the run waits (for time, a webhook): a loop through one of them is
# not a runaway loop.
WAITING_ACTIONS = frozenset({"wait_for_time", "wait_for_result", "call_webhook"})


@dataclass(frozen=True)
class Problem:
    key: str  # the uuid of the node/action/router at fault, or "definition"
    message: str
    category: str  # "Critical" | "Warning"


class FlowInvalid(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.key}: {p.message}" for p in problems) or "invalid flow")


@dataclass(frozen=True)
class Exit:
    uuid: str
    destination_uuid: str | None


@dataclass(frozen=True)
class Category:
    uuid: str
    name: str
    exit_uuid: str


@dataclass(frozen=True)
class Case:
    uuid: str
    type: str
    arguments: tuple[str, ...]
    category_uuid: str


@dataclass(frozen=True)
class Timeout:
    seconds: int | None
    expression: str | None
    category_uuid: str | None


@dataclass(frozen=True)
class WaitSpec:
    type: str
    timeout: Timeout | None


@dataclass(frozen=True)
class Router:
    type: str  # "switch" | "random"
    operand: str
    result_name: str | None
    default_category_uuid: str | None
    cases: tuple[Case, ...]
    categories: tuple[Category, ...]
    wait: WaitSpec | None

    def category(self, uuid: str | None) -> Category | None:
        return next((c for c in self.categories if c.uuid == uuid), None)

    def category_named(self, name: str) -> Category | None:
        exact = next((c for c in self.categories if c.name == name), None)
        if exact is not None:
            return exact
        folded = name.casefold()
        return next((c for c in self.categories if c.name.casefold() == folded), None)


@dataclass(frozen=True)
class Action:
    uuid: str
    type: str
    raw: Mapping[str, Any]  # the action's JSON, read by its module under actions/

    def get(self, key: str, default: Any = None) -> Any:
        return self.raw.get(key, default)


@dataclass(frozen=True)
class Node:
    uuid: str
    actions: tuple[Action, ...]
    exits: tuple[Exit, ...]
    router: Router | None

    def exit(self, uuid: str) -> Exit | None:
        return next((e for e in self.exits if e.uuid == uuid), None)

    @property
    def terminal(self) -> bool:
        return all(e.destination_uuid is None for e in self.exits)

    @property
    def waits(self) -> bool:
        """The run stops here for input, time or a webhook."""
        if self.router is not None and self.router.wait is not None:
            return True
        return any(a.type in WAITING_ACTIONS for a in self.actions)


@dataclass(frozen=True)
class Flow:
    uuid: str
    name: str
    start_node_uuid: str | None
    nodes: Mapping[str, Node]
    localization: Mapping[str, Mapping[str, Mapping[str, Any]]]
    version: int = 0
    expire_after_minutes: int | None = None
    definition: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def node(self, uuid: str | None) -> Node | None:
        return None if uuid is None else self.nodes.get(uuid)


# --- parsing -------------------------------------------------------------------------------


def _load(definition: Mapping[str, Any] | str) -> tuple[Mapping[str, Any] | None, list[Problem]]:
    if isinstance(definition, str):
        try:
            definition = json.loads(definition)
        except ValueError as exc:
            return None, [Problem("definition", f"not valid JSON: {exc}", "Critical")]
    if not isinstance(definition, Mapping):
        return None, [Problem("definition", "a flow definition must be a JSON object", "Critical")]
    # The editor sometimes wraps the flow under "definition".
    inner = definition.get("definition")
    if isinstance(inner, Mapping) and "nodes" in inner:
        definition = inner
    return definition, []


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


class _Reader:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def critical(self, key: str, message: str) -> None:
        self.problems.append(Problem(key, message, "Critical"))

    def warning(self, key: str, message: str) -> None:
        self.problems.append(Problem(key, message, "Warning"))

    def missing(self, key: str, obj: Mapping[str, Any], required: Sequence[str], what: str) -> bool:
        absent = [k for k in required if k not in obj]
        if absent:
            self.critical(key, f"{what} is missing required fields: {', '.join(absent)}")
        return bool(absent)

    def action(self, raw: Any, node_uuid: str) -> Action | None:
        if not isinstance(raw, Mapping):
            self.critical(node_uuid, "an action must be an object")
            return None
        uuid = _str(raw.get("uuid")) or node_uuid
        if self.missing(uuid, raw, ("uuid", "type"), "action"):
            return None
        kind = str(raw["type"])
        if kind in ACTION_REQUIRED:
            if self.missing(uuid, raw, ACTION_REQUIRED[kind], f"action {kind}"):
                return None
        elif kind in UNSUPPORTED_ACTIONS:
            self.warning(uuid, f"action type {kind} is not supported and will be skipped")
        else:
            self.critical(uuid, f"unknown action type: {kind}")
            return None
        return Action(uuid=uuid, type=kind, raw=raw)

    def router(self, raw: Any, node_uuid: str) -> Router | None:
        if not isinstance(raw, Mapping):
            self.critical(node_uuid, "a router must be an object")
            return None
        kind = raw.get("type")
        required: tuple[str, ...] = ("type", "categories")
        if kind == "switch":
            required = ("type", "operand", "default_category_uuid", "cases", "categories")
        elif kind != "random":
            self.critical(node_uuid, f"unknown router type: {kind}")
            return None
        if self.missing(node_uuid, raw, required, "router"):
            return None
        categories: list[Category] = []
        for cat in raw.get("categories") or ():
            if not isinstance(cat, Mapping) or self.missing(
                node_uuid, cat, ("uuid", "name", "exit_uuid"), "category"
            ):
                continue
            categories.append(Category(str(cat["uuid"]), str(cat["name"]), str(cat["exit_uuid"])))
        cases: list[Case] = []
        for case in raw.get("cases") or ():
            if not isinstance(case, Mapping) or self.missing(
                node_uuid, case, ("uuid", "type", "category_uuid"), "case"
            ):
                continue
            args = case.get("arguments") or []
            if isinstance(args, str):
                args = [args]
            cases.append(
                Case(
                    str(case["uuid"]),
                    str(case["type"]),
                    tuple(str(a) for a in args),
                    str(case["category_uuid"]),
                )
            )
        wait: WaitSpec | None = None
        raw_wait = raw.get("wait")
        if isinstance(raw_wait, Mapping):
            timeout: Timeout | None = None
            raw_timeout = raw_wait.get("timeout")
            if isinstance(raw_timeout, Mapping):
                seconds = raw_timeout.get("seconds")
                timeout = Timeout(
                    seconds=int(seconds)
                    if isinstance(seconds, int | float | str)
                    and str(seconds).strip().lstrip("-").isdigit()
                    else None,
                    expression=_str(raw_timeout.get("expression")),
                    category_uuid=_str(raw_timeout.get("category_uuid")),
                )
            wait = WaitSpec(type=str(raw_wait.get("type") or "msg"), timeout=timeout)
        return Router(
            type=str(kind),
            operand=_str(raw.get("operand")) or "",
            result_name=_str(raw.get("result_name")) or None,
            default_category_uuid=_str(raw.get("default_category_uuid")),
            cases=tuple(cases),
            categories=tuple(categories),
            wait=wait,
        )

    def node(self, raw: Any, index: int) -> Node | None:
        if not isinstance(raw, Mapping):
            self.critical(f"nodes[{index}]", "a node must be an object")
            return None
        key = _str(raw.get("uuid")) or f"nodes[{index}]"
        if self.missing(key, raw, ("uuid", "actions", "exits"), "node"):
            return None
        actions = [a for a in (self.action(a, key) for a in raw["actions"] or ()) if a]
        exits: list[Exit] = []
        for ex in raw["exits"] or ():
            if not isinstance(ex, Mapping) or self.missing(key, ex, ("uuid",), "exit"):
                continue
            exits.append(Exit(str(ex["uuid"]), _str(ex.get("destination_uuid")) or None))
        router = self.router(raw["router"], key) if raw.get("router") is not None else None
        return Node(key, tuple(actions), tuple(exits), router)


def _start_node(definition: Mapping[str, Any], nodes: list[Node]) -> str | None:
    if not nodes:
        return None
    ui = definition.get("_ui")
    positions = ui.get("nodes") if isinstance(ui, Mapping) else None
    if not isinstance(positions, Mapping):
        return nodes[0].uuid

    def place(node: Node) -> tuple[float, float, int]:
        entry = positions.get(node.uuid)
        pos = entry.get("position") if isinstance(entry, Mapping) else None
        if not isinstance(pos, Mapping):
            return (float("inf"), float("inf"), 0)
        top, left = pos.get("top"), pos.get("left")
        return (
            float(top) if isinstance(top, int | float) else float("inf"),
            float(left) if isinstance(left, int | float) else float("inf"),
            0,
        )

    return min(nodes, key=place).uuid


def _read(
    definition: Mapping[str, Any] | str, version: int
) -> tuple[Flow | None, list[Problem], Mapping[str, Any] | None]:
    loaded, problems = _load(definition)
    if loaded is None:
        return None, problems, None
    reader = _Reader()
    reader.problems.extend(problems)
    if reader.missing("definition", loaded, ("uuid", "nodes"), "flow"):
        return None, reader.problems, loaded
    raw_nodes = loaded["nodes"]
    if not isinstance(raw_nodes, list):
        reader.critical("definition", "nodes must be a list")
        return None, reader.problems, loaded
    nodes = [n for n in (reader.node(raw, i) for i, raw in enumerate(raw_nodes)) if n]
    by_uuid: dict[str, Node] = {}
    for node in nodes:
        if node.uuid in by_uuid:
            reader.critical(node.uuid, "two nodes share this uuid")
        by_uuid[node.uuid] = node
    loc = loaded.get("localization")
    localization = loc if isinstance(loc, Mapping) else {}
    expire = loaded.get("expire_after_minutes")
    flow = Flow(
        uuid=str(loaded["uuid"]),
        name=str(loaded.get("name") or ""),
        start_node_uuid=_start_node(loaded, nodes),
        nodes=by_uuid,
        localization=localization,
        version=version,
        expire_after_minutes=expire if isinstance(expire, int) else None,
        definition=loaded,
    )
    return flow, reader.problems, loaded


def parse_flow(definition: Mapping[str, Any] | str, *, version: int = 0) -> Flow:
    """The runnable flow; FlowInvalid lists the Critical problems that make it unrunnable
    (broken JSON, missing keys, dangling references, unknown action or case types). Loops with
    no wait, bad expressions and missing sub-flows are publish-time problems (`validate`):
    a flow Glific stored with them still loads, and the run-time limits stop it."""
    flow, problems, _ = _read(definition, version)
    critical = [p for p in problems if p.category == "Critical"]
    if flow is not None:
        critical.extend(p for p in _structure(flow) if p.category == "Critical")
    if flow is None or critical:
        raise FlowInvalid(critical)
    return flow


# --- validation ----------------------------------------------------------------------------


def _structure(flow: Flow | None) -> list[Problem]:
    """Broken references and node shapes the engine cannot run."""
    if flow is None:
        return []
    problems: list[Problem] = []
    for node in flow.nodes.values():
        if not node.actions and node.router is None:
            problems.append(Problem(node.uuid, "node has no actions and no router", "Critical"))
        if not node.exits:
            problems.append(Problem(node.uuid, "node has no exits", "Critical"))
        for ex in node.exits:
            if ex.destination_uuid is not None and ex.destination_uuid not in flow.nodes:
                problems.append(
                    Problem(
                        node.uuid,
                        f"exit points at a missing node {ex.destination_uuid}",
                        "Critical",
                    )
                )
        router = node.router
        if router is None:
            continue
        exit_uuids = {e.uuid for e in node.exits}
        category_uuids = {c.uuid for c in router.categories}
        if not router.categories:
            problems.append(Problem(node.uuid, "router has no categories", "Critical"))
        if router.type == "switch" and router.default_category_uuid not in category_uuids:
            problems.append(
                Problem(node.uuid, "router's default category names no category", "Critical")
            )
        for case in router.cases:
            if case.category_uuid not in category_uuids:
                problems.append(Problem(case.uuid, "case's category names no category", "Critical"))
            if case.type not in KNOWN_CASES:
                problems.append(Problem(case.uuid, f"unknown case type: {case.type}", "Critical"))
        for cat in router.categories:
            if cat.exit_uuid not in exit_uuids:
                problems.append(Problem(cat.uuid, "category's exit names no exit", "Critical"))
    return problems


def _cycles_without_wait(flow: Flow) -> list[list[str]]:
    """Strongly connected groups of non-waiting nodes that can loop (Tarjan's algorithm)."""
    graph: dict[str, list[str]] = {
        uuid: [
            dest
            for dest in (e.destination_uuid for e in node.exits)
            if dest is not None and dest in flow.nodes and not flow.nodes[dest].waits
        ]
        for uuid, node in flow.nodes.items()
        if not node.waits
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        # Iterative depth-first search: (node, iterator over its successors).
        work: list[tuple[str, Iterator[str]]] = [(root, iter(graph[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            advanced = False
            for nxt in successors:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(graph[nxt])))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1 or node in graph[node]:
                    found.append(group)
    return found


def _expressions(flow: Flow) -> Iterator[tuple[str, str]]:
    """(key, text) of every value that is evaluated as an expression."""
    for node in flow.nodes.values():
        for action in node.actions:
            for key in ("value", "name", "delay"):
                text = action.get(key)
                if isinstance(text, str) and action.type != "send_interactive_msg":
                    yield action.uuid, text
            fl = action.get("flow")
            if action.type == "enter_flow" and isinstance(fl, Mapping):
                expr = fl.get("expression")
                if isinstance(expr, str):
                    yield action.uuid, expr
            expr = action.get("expression")
            if isinstance(expr, str):
                yield action.uuid, expr
        router = node.router
        # The operand of an action's router (enter_flow, profile) is never evaluated.
        if router is not None and router.wait is None and router.operand and not node.actions:
            yield node.uuid, router.operand
        timeout = router.wait.timeout if router is not None and router.wait else None
        if timeout is not None and timeout.expression:
            yield node.uuid, timeout.expression


def validate(
    definition: Mapping[str, Any] | str, *, flow_exists: Callable[[str], bool]
) -> list[Problem]:
    """Every problem of a definition, as the publish step reports them."""
    flow, problems, _ = _read(definition, 0)
    if flow is None:
        return problems
    problems.extend(_structure(flow))
    if not flow.nodes:
        problems.append(Problem("definition", "Cannot start an empty flow", "Warning"))
    for group in _cycles_without_wait(flow):
        problems.append(
            Problem(
                sorted(group)[0],
                f"nodes {', '.join(sorted(group))} loop with no wait for a reply",
                "Critical",
            )
        )
    for node in flow.nodes.values():
        for action in node.actions:
            fl = action.get("flow")
            if action.type == "enter_flow":
                target = fl.get("uuid") if isinstance(fl, Mapping) else None
                is_expression = isinstance(fl, Mapping) and fl.get("name") == "Expression"
                if not is_expression and (not isinstance(target, str) or not flow_exists(target)):
                    problems.append(
                        Problem(action.uuid, f"sub-flow {target} does not exist", "Critical")
                    )
            if action.type == "start_session":
                target = fl.get("uuid") if isinstance(fl, Mapping) else None
                if not isinstance(target, str) or not flow_exists(target):
                    problems.append(
                        Problem(action.uuid, f"flow {target} to start does not exist", "Critical")
                    )
            if action.type == "call_webhook" and str(action.get("url")) in DEPRECATED_WEBHOOKS:
                problems.append(
                    Problem(action.uuid, f"webhook {action.get('url')} is deprecated", "Critical")
                )
            if action.type == "send_interactive_msg" and not _next_waits(flow, node):
                problems.append(
                    Problem(
                        action.uuid, "an interactive message is not followed by a wait", "Warning"
                    )
                )
    for key, text in _expressions(flow):
        problems.extend(Problem(key, msg, "Critical") for msg in check_expression(text))
    reachable = _reachable(flow)
    problems.extend(
        Problem(uuid, "node can never be reached", "Warning")
        for uuid in flow.nodes
        if uuid not in reachable
    )
    return problems


def _next_waits(flow: Flow, node: Node) -> bool:
    if node.router is not None:
        return node.router.wait is not None
    nxt = flow.node(node.exits[0].destination_uuid) if node.exits else None
    return nxt is not None and nxt.router is not None and nxt.router.wait is not None


def _reachable(flow: Flow) -> set[str]:
    seen: set[str] = set()
    todo = [flow.start_node_uuid] if flow.start_node_uuid else []
    while todo:
        uuid = todo.pop()
        if uuid in seen or uuid not in flow.nodes:
            continue
        seen.add(uuid)
        todo.extend(e.destination_uuid for e in flow.nodes[uuid].exits if e.destination_uuid)
    return seen
