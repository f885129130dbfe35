"""What an action module gets and gives back: `ActionContext` (the run, the contact view, the
flow, the input, and helpers to substitute, localise, store results and emit events) and the
outcomes an action can hand the runner (`Outcome`, `Suspend`, `EnterFlow`, `Abort`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from resolvers.flow_engine.definition import Action, Flow, Node
from resolvers.flow_engine.events import EngineError, Event, ResultSaved
from resolvers.flow_engine.expressions import (
    INVALID,
    Budget,
    BudgetExceeded,
    bindings,
    evaluate,
    substitute,
    substitute_value,
)
from resolvers.flow_engine.localization import contact_locale, localized_list, localized_text
from resolvers.flow_engine.state import ContactView, Environment, Input, OrgView, Run, Session, Wait


@dataclass(frozen=True)
class Outcome:
    """The node's router picks the category with this name (Success, Failure, Expired)."""

    name: str


@dataclass(frozen=True)
class Suspend:
    """The run waits (for time or a webhook) at this node."""

    wait: Wait


@dataclass(frozen=True)
class EnterFlow:
    flow_uuid: str


@dataclass(frozen=True)
class Abort:
    """Stop every run of the contact (a runaway loop)."""

    reason: str


ActionResult = Outcome | Suspend | EnterFlow | Abort | None


def stamp(now: datetime) -> str:
    """Timestamps inside results, as Glific's JSON carries them."""
    text = now.isoformat()
    return text if now.tzinfo is not None else text + "Z"


@dataclass
class ActionContext:
    env: Environment
    org: OrgView
    contact: ContactView
    session: Session
    run: Run
    flow: Flow
    node: Node
    input: Input | None
    events: list[Event]

    @property
    def locale(self) -> str | None:
        return contact_locale(self.org, self.contact)

    def now(self) -> datetime:
        return self.env.now()

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def error(self, message: str) -> None:
        self.emit(EngineError(self.run.uuid, message, self.node.uuid))

    def bindings(self) -> dict[str, Any]:
        ctx = bindings(
            org=self.org,
            contact=self.contact,
            session=self.session,
            run=self.run,
            flow_name=self.flow.name,
            flow_uuid=self.flow.uuid,
            now=self.now(),
        )
        if self.input is not None:
            ctx["input"] = {"text": self.input.text, "type": self.input.type}
        return ctx

    def substitute_value(self, value: Any) -> Any | None:
        """`@variables` in every string of a JSON-like value, under one budget; None (after
        an EngineError) when it could not be done."""
        try:
            return substitute_value(
                value, self.bindings(), Budget(self.env.limits.expression_budget)
            )
        except BudgetExceeded:
            self.error("expressions too costly in a structured value, left out")
            return None

    def _expand(self, fn: Callable[[str, Mapping[str, Any], Budget], str], text: str) -> str | None:
        limits = self.env.limits
        if len(text) > limits.max_template_length:
            self.error(f"template longer than {limits.max_template_length} characters refused")
            return None
        budget = Budget(limits.expression_budget)
        try:
            value = fn(text, self.bindings(), budget)
        except BudgetExceeded:
            value = None
        if value is None or (value == INVALID and budget.remaining == 0):
            # `evaluate` answers "Invalid Code" for a spent budget too; that is not a value.
            self.error(f"expression too costly, treated as empty: {text[:80]}")
            return None
        if value == INVALID and text.strip() != INVALID:
            self.error(f"invalid expression: {text[:80]}")
        return value

    def substitute(self, text: str) -> str | None:
        """`@variables` only; None (after an EngineError) when it could not be done."""
        return self._expand(substitute, text)

    def evaluate(self, text: str) -> str | None:
        """`@variables` then `<%= %>`; None (after an EngineError) when it could not be done."""
        return self._expand(evaluate, text)

    def localized_text(self, action: Action, key: str) -> str:
        return localized_text(self.flow, self.locale, action.uuid, key, action.get(key))

    def localized_list(self, action: Action, key: str) -> list[Any]:
        return localized_list(self.flow, self.locale, action.uuid, key, action.get(key))

    def clip(self, value: str, limit: int, what: str) -> str:
        if len(value) <= limit:
            return value
        self.error(f"{what} longer than {limit} characters was cut")
        return value[:limit]

    def save_result(self, name: str, entry: dict[str, Any]) -> None:
        """`results[name] = entry`, with the value length limits, and ResultSaved."""
        limits = self.env.limits
        if not name:
            return
        if len(name) > limits.max_result_name_length:
            self.error(f"result name longer than {limits.max_result_name_length} refused")
            return
        for key in ("input", "value", "category"):
            if isinstance(entry.get(key), str):
                entry[key] = self.clip(entry[key], limits.max_result_value_length, "result")
        self.run.results[name] = entry
        self.emit(ResultSaved(self.run.uuid, name, entry))

    def sync_active_profile(self) -> None:
        """Keep the active profile equal to the contact (the profiles invariant)."""
        profile = self.contact.active()
        if profile is not None:
            profile.fields = {
                k: dict(v) if isinstance(v, dict) else v for k, v in self.contact.fields.items()
            }
            profile.language_id = self.contact.language_id
