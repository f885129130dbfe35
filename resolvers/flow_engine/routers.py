"""Choosing a router's category: by an internal outcome's name (Success, Failure, Complete,
Expired, No Response — never from text a person typed), at random, or by the cases in order
with the default category last; category names and case arguments in the contact's language.
Also the entry a router with a `result_name` stores (spec §1.7)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from resolvers.flow_engine.cases import UnknownCase, test_case
from resolvers.flow_engine.definition import Category, Flow, Router
from resolvers.flow_engine.localization import localized_list, localized_name
from resolvers.flow_engine.state import Input

# The body Glific's synthetic message carries for each outcome, which its routers' cases
# (`has_only_text ["completed"]`) test when no category has the outcome's name.
OUTCOME_BODIES = {"Complete": "completed", "Expired": "expired"}


@dataclass(frozen=True)
class Choice:
    category: Category
    name: str  # in the contact's language
    extra: Mapping[str, Any] = field(default_factory=dict)  # from the matching case


def _choice(flow: Flow, locale: str | None, category: Category, **extra: Any) -> Choice:
    return Choice(category, localized_name(flow, locale, category.uuid, category.name), extra)


def default(router: Router, flow: Flow, locale: str | None) -> Choice | None:
    category = router.category(router.default_category_uuid)
    return _choice(flow, locale, category) if category is not None else None


def by_cases(
    router: Router,
    flow: Flow,
    locale: str | None,
    input: Input,
    *,
    contact_groups: Sequence[int] = (),
    on_error: Callable[[str], None] = lambda _: None,
) -> Choice | None:
    """The first matching case's category, else the default category."""
    for case in router.cases:
        arguments = [
            str(a) for a in localized_list(flow, locale, case.uuid, "arguments", case.arguments)
        ]
        try:
            match = test_case(case.type, arguments, input, contact_groups=contact_groups)
        except UnknownCase:
            on_error(f"unknown case type: {case.type}")
            continue
        if match is None:
            continue
        category = router.category(case.category_uuid)
        if category is not None:
            return _choice(flow, locale, category, **dict(match.extra))
    return default(router, flow, locale)


def by_outcome(
    router: Router,
    flow: Flow,
    locale: str | None,
    outcome: str,
    *,
    contact_groups: Sequence[int] = (),
) -> Choice | None:
    """The category named after an internal outcome; else the cases given Glific's reserved
    body for it; else the default category."""
    category = router.category_named(outcome)
    if category is not None:
        return _choice(flow, locale, category)
    body = OUTCOME_BODIES.get(outcome, outcome)
    return by_cases(router, flow, locale, Input(text=body), contact_groups=contact_groups)


def by_random(router: Router, flow: Flow, locale: str | None, chance: float) -> Choice | None:
    if not router.categories:
        return None
    index = min(int(chance * len(router.categories)), len(router.categories) - 1)
    return _choice(flow, locale, router.categories[index])


def result_entry(input: Input | None, choice: Choice, inserted_at: str) -> dict[str, Any]:
    """What `results[result_name]` becomes for this input and category."""
    if input is None:
        return {"input": "", "value": "", "category": choice.name, "inserted_at": inserted_at}
    if input.type in ("image", "audio", "video", "document", "sticker"):
        url = input.media_url or ""
        return {
            "id": input.message_id,
            "source_url": url,
            "url": url,
            "caption": input.caption,
            "input": url,
            "value": url,
            "category": "media",
            "inserted_at": inserted_at,
        }
    if input.type == "location":
        return {
            "id": input.message_id,
            "longitude": input.longitude,
            "latitude": input.latitude,
            "input": f"{input.latitude},{input.longitude}",
            "category": "location",
            "inserted_at": inserted_at,
        }
    if input.type == "whatsapp_form_response" and input.form_response is not None:
        entry: dict[str, Any] = {
            k: ", ".join(str(x) for x in v) if isinstance(v, list) else v
            for k, v in input.form_response.items()
        }
        entry.update(category=choice.name, inserted_at=inserted_at)
        return entry
    entry = {
        "input": input.text,
        "value": input.text,
        "category": choice.name,
        "inserted_at": inserted_at,
        "intent": None,
    }
    if input.type in ("quick_reply", "list") and input.interactive is not None:
        entry["interactive"] = dict(input.interactive)
    entry.update(choice.extra)
    return entry
