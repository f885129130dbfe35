"""Moving a contact's runs through their flows: `start` a flow, `resume` the waiting run with
an input or a signal, `interrupt` every unfinished run. One call is one sprint: it goes until
every run waits or ends, and returns the session and the events (the caller persists them).

A node runs its actions, then leaves by its first exit, or by its router: an action's outcome
(Success / Failure, a child's Complete / Expired) picks the category by name; a router with a
wait and no input stops the run; a router without one splits on its evaluated operand. The
limits (steps per sprint, visits of one node per sprint, sub-flow depth) stop a runaway flow
with `RunEnded("failed")` for every run, so the contact is never left waiting."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from resolvers.flow_engine.actions import (
    ACTIONS,
    Abort,
    ActionContext,
    ActionResult,
    EnterFlow,
    Outcome,
    Suspend,
)
from resolvers.flow_engine.actions.base import stamp
from resolvers.flow_engine.actions.wait_for_time import seconds
from resolvers.flow_engine.definition import (
    UNSUPPORTED_ACTIONS,
    WA_GROUP_ACTIONS,
    Exit,
    Flow,
    Node,
)
from resolvers.flow_engine.events import (
    EngineError,
    Event,
    ResultSaved,
    RunEnded,
    RunStarted,
    Sprint,
    WaitStarted,
)
from resolvers.flow_engine.localization import contact_locale
from resolvers.flow_engine.routers import (
    Choice,
    by_cases,
    by_outcome,
    by_random,
    default,
    result_entry,
)
from resolvers.flow_engine.state import (
    ContactView,
    Environment,
    Flows,
    Input,
    OrgView,
    Run,
    Session,
    Signal,
    Wait,
)

NEW_FLOW_REASON = "Last Active flow is killed as new flow has started"
NO_RESPONSE = "No Response"
UNFINISHED = ("active", "waiting")


@dataclass(frozen=True)
class _Enter:
    """Run the node's actions (from `start` on), then leave it."""

    run: Run
    node_uuid: str
    start: int = 0


@dataclass(frozen=True)
class _Resume:
    """A run's child ended: route the run's node by Complete / Expired."""

    run: Run
    outcome: str


_Step = _Enter | _Resume | None


class _Sprint:
    def __init__(
        self,
        env: Environment,
        flows: Flows,
        org: OrgView,
        contact: ContactView,
        session: Session,
        input: Input | None = None,
    ) -> None:
        self.env = env
        self.flows = flows
        self.org = org
        self.contact = contact
        self.session = session
        self.input = input
        self.events: list[Event] = []
        self.steps = 0
        self.visits: Counter[str] = Counter()
        self.stopped = False

    # --- bookkeeping ------------------------------------------------------------------------

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def result(self) -> Sprint:
        return Sprint(session=self.session, events=tuple(self.events))

    def flow(self, uuid: str) -> Flow | None:
        found = self.flows.get(uuid)
        return cast(Flow, found) if found is not None else None

    def context(self, run: Run, flow: Flow, node: Node) -> ActionContext:
        return ActionContext(
            env=self.env,
            org=self.org,
            contact=self.contact,
            session=self.session,
            run=run,
            flow=flow,
            node=node,
            input=self.input,
            events=self.events,
        )

    def visit(self, node: Node) -> bool:
        """Count a node's run; False (after stopping everything) past a limit."""
        limits = self.env.limits
        self.steps += 1
        self.visits[node.uuid] += 1
        if self.steps > limits.max_steps_per_sprint:
            self.fail_all(f"more than {limits.max_steps_per_sprint} steps in one sprint", node)
            return False
        if self.visits[node.uuid] > limits.max_node_visits_per_sprint:
            self.fail_all(
                f"Infinite loop detected: node visited more than "
                f"{limits.max_node_visits_per_sprint} times",
                node,
            )
            return False
        return True

    def fail_all(self, reason: str, node: Node | None = None) -> None:
        """Stop: every unfinished run ends failed, none left waiting."""
        unfinished = [r for r in reversed(self.session.runs) if r.status in UNFINISHED]
        first = unfinished[0].uuid if unfinished else ""
        self.emit(EngineError(first, reason, node.uuid if node is not None else None))
        for run in unfinished:
            self.finish(run, "failed", reason)
        self.stopped = True

    def finish(self, run: Run, status: Any, reason: str = "") -> None:
        run.status = status
        run.wait = None
        run.exited_at = self.env.now()
        self.emit(RunEnded(run.uuid, status, reason))

    def end_run(self, run: Run, status: Any, reason: str = "") -> _Step:
        """End one run; its parent, if waiting for it, goes on by Complete or Expired."""
        self.finish(run, status, reason)
        parent = self.session.find(run.parent_uuid) if run.parent_uuid else None
        if parent is None or parent.status not in UNFINISHED:
            return None
        if status == "completed":
            child = {k: v for k, v in run.results.items() if k != "parent"}
            parent.results["child"] = child
            self.emit(ResultSaved(parent.uuid, "child", child))
            return _Resume(parent, "Complete")
        return _Resume(parent, "Expired")

    # --- the loop ---------------------------------------------------------------------------

    def drive(self, step: _Step) -> None:
        while step is not None and not self.stopped:
            if isinstance(step, _Enter):
                step = self.enter(step.run, step.node_uuid, step.start)
            else:
                step = self.resume_parent(step.run, step.outcome)

    def begin(self, run: Run, flow: Flow) -> _Step:
        if flow.start_node_uuid is None:
            self.emit(EngineError(run.uuid, "Cannot start an empty flow"))
            return self.end_run(run, "failed", "Cannot start an empty flow")
        return _Enter(run, flow.start_node_uuid)

    def node_of(self, run: Run, uuid: str | None) -> tuple[Flow, Node] | None:
        flow = self.flow(run.flow_uuid)
        node = flow.node(uuid) if flow is not None else None
        if flow is None or node is None:
            self.fail_all(f"flow {run.flow_uuid} has no node {uuid} (a new version was published?)")
            return None
        return flow, node

    def enter(self, run: Run, node_uuid: str, start: int = 0) -> _Step:
        found = self.node_of(run, node_uuid)
        if found is None:
            return None
        flow, node = found
        if not self.visit(node):
            return None
        run.node_uuid = node.uuid
        run.status = "active"
        ctx = self.context(run, flow, node)
        for action in node.actions[start:]:
            result = self.act(action.type, action, ctx, node)
            if isinstance(result, Abort):
                self.fail_all(result.reason, node)
                return None
            if isinstance(result, Suspend):
                run.status = "waiting"
                run.wait = result.wait
                return None
            if isinstance(result, EnterFlow):
                return self.enter_child(run, flow, node, result.flow_uuid)
            if isinstance(result, Outcome) and node.router is not None:
                return self.route(run, flow, node, outcome=result.name)
        if node.router is None:
            return self.leave(run, node, node.exits[0] if node.exits else None)
        return self.route(run, flow, node)

    def act(self, kind: str, action: Any, ctx: ActionContext, node: Node) -> ActionResult:
        execute = ACTIONS.get(kind)
        if execute is None or (self.contact.wa_group and kind not in WA_GROUP_ACTIONS):
            if execute is not None:
                reason = "not for a WhatsApp group flow"
            else:
                reason = "not supported" if kind in UNSUPPORTED_ACTIONS else "unknown"
            ctx.error(f"action type {kind} is {reason}; skipped")
            return Outcome("Failure") if node.router is not None else None
        return execute(action, ctx)

    def leave(self, run: Run, node: Node, exit: Exit | None) -> _Step:
        if exit is None or exit.destination_uuid is None:
            return self.end_run(run, "completed")
        return _Enter(run, exit.destination_uuid)

    def route(
        self,
        run: Run,
        flow: Flow,
        node: Node,
        *,
        input: Input | None = None,
        outcome: str | None = None,
        timeout: bool = False,
    ) -> _Step:
        router = node.router
        assert router is not None
        locale = contact_locale(self.org, self.contact)
        groups = [g.id for g in self.contact.groups]
        ctx = self.context(run, flow, node)
        routed_input = input
        choice: Choice | None
        if timeout:
            category = router.category_named(NO_RESPONSE)
            if category is None:
                return self.end_run(run, "expired", "no reply before the wait timed out")
            choice = by_outcome(router, flow, locale, NO_RESPONSE)
            routed_input = Input(text=NO_RESPONSE)
        elif outcome is not None:
            choice = by_outcome(router, flow, locale, outcome, contact_groups=groups)
            routed_input = Input(text=outcome)
        elif router.type == "random":
            choice = by_random(router, flow, locale, self.env.random())
            routed_input = Input(text=choice.name) if choice else None
        elif input is not None:
            choice = by_cases(
                router, flow, locale, input, contact_groups=groups, on_error=ctx.error
            )
        elif router.wait is not None:
            return self.wait_for_message(run, node, ctx)
        else:
            operand = ctx.evaluate(router.operand) or ""
            routed_input = Input(text=operand)
            choice = by_cases(
                router, flow, locale, routed_input, contact_groups=groups, on_error=ctx.error
            )
        if choice is None:
            choice = default(router, flow, locale)
        if choice is None:
            self.emit(EngineError(run.uuid, "no category to leave the router by", node.uuid))
            return self.end_run(run, "failed", "no category")
        if router.result_name:
            ctx.save_result(
                router.result_name, result_entry(routed_input, choice, stamp(self.env.now()))
            )
        return self.leave(run, node, node.exit(choice.category.exit_uuid))

    def wait_for_message(self, run: Run, node: Node, ctx: ActionContext) -> _Step:
        assert node.router is not None and node.router.wait is not None
        timeout = node.router.wait.timeout
        at = None
        if timeout is not None:
            delay = timeout.seconds
            if delay is None and timeout.expression:
                delay = seconds(ctx.evaluate(timeout.expression) or "")
            if delay is not None and delay > 0:
                at = self.env.now() + timedelta(seconds=delay)
        run.status = "waiting"
        run.node_uuid = node.uuid
        run.wait = Wait("msg", timeout_at=at)
        self.emit(WaitStarted(run.uuid, "msg", node.uuid, at))
        return None

    def resume_parent(self, run: Run, outcome: str) -> _Step:
        found = self.node_of(run, run.node_uuid)
        if found is None:
            return None
        flow, node = found
        if not self.visit(node):
            return None
        run.status = "active"
        run.wait = None
        if node.router is None:
            return self.leave(run, node, node.exits[0] if node.exits else None)
        return self.route(run, flow, node, outcome=outcome)

    # --- sub-flows --------------------------------------------------------------------------

    def ancestors(self, run: Run) -> list[Run]:
        chain: list[Run] = []
        current = run
        while current.parent_uuid:
            parent = self.session.find(current.parent_uuid)
            if parent is None or parent in chain:
                break
            chain.append(parent)
            current = parent
        return chain

    def enter_child(self, run: Run, flow: Flow, node: Node, child_uuid: str) -> _Step:
        lineage = [run, *self.ancestors(run)]
        child_flow = self.flow(child_uuid)
        problem = None
        if child_flow is None:
            problem = f"sub-flow {child_uuid} not found"
        elif any(r.flow_uuid == child_uuid for r in lineage):
            problem = f"Repeated loop: flow {child_uuid} is already running above this one"
        elif len(lineage) >= self.env.limits.max_depth:
            problem = f"sub-flows nested deeper than {self.env.limits.max_depth}"
        if problem is not None or child_flow is None:
            self.emit(EngineError(run.uuid, problem or "", node.uuid))
            if node.router is not None:
                return self.route(run, flow, node, outcome="Expired")
            return self.leave(run, node, node.exits[0] if node.exits else None)
        run.uuids_seen.append(child_uuid)
        parent_results = {k: v for k, v in run.results.items() if k not in ("parent", "child")}
        parent_uuid: str | None = run.uuid
        if node.terminal:
            # A tail call: this run is done, the child answers to the grandparent.
            parent_uuid = run.parent_uuid
            self.finish(run, "completed")
        else:
            run.status = "active"
            run.wait = None
            run.node_uuid = node.uuid
        child = Run(
            uuid=self.env.new_uuid(),
            flow_uuid=child_flow.uuid,
            flow_version=child_flow.version,
            node_uuid=None,
            status="active",
            results={"parent": parent_results},
            parent_uuid=parent_uuid,
            uuids_seen=list(run.uuids_seen),
            started_at=self.env.now(),
            draft=run.draft,
        )
        self.session.runs.append(child)
        self.emit(RunStarted(child.uuid, child.flow_uuid, parent_uuid))
        return self.begin(child, child_flow)

    # --- resuming a waiting run -------------------------------------------------------------

    def resume(
        self,
        run: Run,
        *,
        signal: Signal | None,
        response: Mapping[str, Any] | None,
    ) -> _Step:
        found = self.node_of(run, run.node_uuid)
        if found is None:
            return None
        flow, node = found
        wait = run.wait
        kind = wait.kind if wait is not None else "msg"
        due = wait.timeout_at if wait is not None else None
        if signal == "timeout" and due is not None and self.env.now() < due:
            return None  # an early or stale timer: the wait it was armed for is not due
        if kind == "msg":
            if run.status != "waiting" or (signal is None and self.input is None):
                return None  # not waiting for a message (e.g. a parent whose child runs)
            if signal not in (None, "timeout"):
                return None  # a stale webhook signal: nothing to do
            if not self.visit(node):
                return None
            return self.reroute(run, flow, node, input=self.input, timeout=signal == "timeout")
        if kind == "time":
            if signal != "timeout":
                return None  # a message during a timed wait does not wake it
            run.wait = None
            run.status = "active"
            return _Enter(run, node.uuid, self.after(node, "wait_for_time"))
        if kind == "result":
            if signal not in ("timeout", "resumed"):
                return None  # messages do not answer it
            if signal == "resumed":
                self.merge_results(run, flow, node, response)
            run.wait = None
            run.status = "active"
            return _Enter(run, node.uuid, self.after(node, "wait_for_result"))
        # A webhook wait: messages are ignored until the answer (or its timeout) arrives.
        if signal is None:
            return None
        if signal == "resumed":
            # An outside service answered for the webhook (Glific's async webhooks).
            self.merge_results(run, flow, node, response)
            signal = "webhook_success"
            response = None
        success = signal == "webhook_success"
        request = wait.request if wait is not None and wait.request is not None else {}
        name = str(request.get("result_name") or "")
        run.wait = None
        run.status = "active"
        ctx = self.context(run, flow, node)
        if name and response is not None:
            # A JSON array answer is kept as {"0": ..., "1": ...}, as Glific does.
            entry: dict[str, Any] = (
                dict(response)
                if isinstance(response, Mapping)
                else {str(i): v for i, v in enumerate(response)}
            )
            entry["inserted_at"] = stamp(self.env.now())
            ctx.save_result(name, entry)
        if node.router is None:
            return _Enter(run, node.uuid, self.after(node, "call_webhook"))
        if not self.visit(node):
            return None
        return self.route(run, flow, node, outcome="Success" if success else "Failure")

    def merge_results(
        self, run: Run, flow: Flow, node: Node, response: Mapping[str, Any] | None
    ) -> None:
        """Each entry of an outside answer becomes a result of the run (Glific merges the
        map into the run's results); a plain value is kept as that result's value."""
        ctx = self.context(run, flow, node)
        for name, value in (response or {}).items():
            entry = dict(value) if isinstance(value, Mapping) else {"value": value}
            ctx.save_result(str(name), entry)

    def reroute(
        self, run: Run, flow: Flow, node: Node, *, input: Input | None = None, timeout: bool = False
    ) -> _Step:
        run.wait = None
        run.status = "active"
        if node.router is None:
            return self.leave(run, node, node.exits[0] if node.exits else None)
        return self.route(run, flow, node, input=None if timeout else input, timeout=timeout)

    @staticmethod
    def after(node: Node, kind: str) -> int:
        """The index of the action after the first one of `kind` (where a resumed node goes on)."""
        for i, action in enumerate(node.actions):
            if action.type == kind:
                return i + 1
        return len(node.actions)


# --- the public API ------------------------------------------------------------------------


def _interrupt_all(sprint: _Sprint, reason: str) -> None:
    for run in reversed(sprint.session.runs):
        if run.status in UNFINISHED:
            sprint.finish(run, "interrupted", reason)


def start(
    env: Environment,
    flows: Flows,
    org: OrgView,
    contact: ContactView,
    session: Session,
    flow_uuid: str,
    *,
    results: Mapping[str, Any] | None = None,
    keyword: str | None = None,
    draft: bool = False,
) -> Sprint:
    """Start a flow for the contact; its unfinished runs are interrupted first (a new keyword
    replaces the flow in progress). Runs until the first wait or the end."""
    sprint = _Sprint(env, flows, org, contact, session)
    flow = sprint.flow(flow_uuid)
    if flow is None:
        sprint.emit(EngineError("", f"flow {flow_uuid} not found"))
        return sprint.result()
    _interrupt_all(sprint, NEW_FLOW_REASON)
    now = env.now()
    run = Run(
        uuid=env.new_uuid(),
        flow_uuid=flow.uuid,
        flow_version=flow.version,
        node_uuid=None,
        status="active",
        results=dict(results or {}),
        started_at=now,
        draft=draft,
    )
    session.runs.append(run)
    sprint.emit(RunStarted(run.uuid, flow.uuid, None))
    if keyword is not None:
        entry = {"input": keyword, "value": keyword, "category": keyword, "inserted_at": stamp(now)}
        run.results["flow_keyword"] = entry
        sprint.emit(ResultSaved(run.uuid, "flow_keyword", entry))
    sprint.drive(sprint.begin(run, flow))
    return sprint.result()


def resume(
    env: Environment,
    flows: Flows,
    org: OrgView,
    contact: ContactView,
    session: Session,
    *,
    input: Input | None = None,
    signal: Signal | None = None,
    response: Mapping[str, Any] | None = None,
) -> Sprint:
    """Wake the contact's waiting run: with a message (`input`), or with a signal: "timeout"
    (a wait's timer or wait_for_time), "webhook_success" / "webhook_failure" with the decoded
    `response`. A message while the run waits for time or a webhook is ignored (no events)."""
    sprint = _Sprint(env, flows, org, contact, session, input)
    run = session.active_run()
    if run is None:
        return sprint.result()
    if org.interactive_re_response and input is not None and input.id and signal is None:
        _answer_again(flows, run, input.id)
    sprint.drive(sprint.resume(run, signal=signal, response=response))
    return sprint.result()


def _answer_again(flows: Flows, run: Run, node_uuid: str) -> None:
    """Glific's interactive re-response: a reply whose id is an interactive message's node in
    the run's flow (a button of an older message) moves the waiting run to where that
    message leads, so the reply answers it. Any other id leaves the run where it is."""
    if run.wait is None or run.wait.kind != "msg":
        return
    flow = flows.get(run.flow_uuid)
    node = flow.node(node_uuid) if flow is not None else None
    if flow is None or node is None or not node.exits:
        return
    destination = node.exits[0].destination_uuid
    if destination is not None and flow.node(destination) is not None:
        run.node_uuid = destination


def interrupt(env: Environment, session: Session, reason: str) -> Sprint:
    """End every unfinished run of the session (RunEnded "interrupted")."""
    events: list[Event] = []
    for run in reversed(session.runs):
        if run.status in UNFINISHED:
            run.status = "interrupted"
            run.wait = None
            run.exited_at = env.now()
            events.append(RunEnded(run.uuid, "interrupted", reason))
    return Sprint(session=session, events=tuple(events))
