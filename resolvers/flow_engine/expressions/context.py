"""The binding map `@variables` are looked up in (spec §2, Glific's `get_vars_to_parse`).

`bindings(...)` builds it from the engine's plain state values:

- `contact`: id, name, phone, status, bsp_status, optin, opted_out, last_message_at,
  settings; `fields` (the active profile's fields while one is active: `ContactView.fields`
  already holds them), where `fields.name` falls back to `{"value": contact.name}` and
  `fields.language` is `{"label": ...}`; `language` as `{"id", "label", "locale"}` (rendered as
  its label); `groups` and `in_groups` as group ids. Only while a profile is active:
  `active_profile_name`, `list_profiles` (" 1. Name \\n 2. Name \\n" in menu order),
  `profiles` (`{"profile_1": {"id", "name", "index"}, ..., "count": N}`) and
  `has_multiple_profile` (`{"value": True}`).
- `results`: the run's results, plus `parent` (the parent run's results) and `child` (the
  latest child run's results) when the run does not already hold them.
- `parent`: the parent run's results (`@parent.x`); `child` likewise.
- `fields`: the same map as `contact.fields` (`@fields.x`, which Glific rewrites to
  `@contact.fields.x` in router operands).
- `flow`: `{"name", "uuid"}`.
- `calendar`: `current_date`, `yesterday`, `tomorrow` (D/MM/YYYY), `current_day` (weekday
  name, lowercase), `current_month`, `current_year`, in the organization's timezone.
- `organization`: `{"id", "name"}`.

In a WhatsApp group's flow (`ContactView.wa_group`) there is no `contact`: `wa_group` holds
the group's id, label, bsp_id and fields (Glific's `get_vars_to_parse`), and `fields` is the
group's.

The runner may add `ctx["input"] = {"text": ...}` for `@input.text`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from resolvers.flow_engine.state import (
    ContactView,
    LanguageView,
    OrgView,
    Run,
    Session,
)


def bindings(
    *,
    org: OrgView,
    contact: ContactView,
    session: Session,
    run: Run,
    flow_name: str,
    flow_uuid: str,
    now: datetime,
) -> dict[str, Any]:
    """The map `substitute` and `evaluate` look `@variables` up in (module docstring)."""
    parent = session.find(run.parent_uuid) if run.parent_uuid else None
    child = _latest_child(session, run)
    results: dict[str, Any] = dict(run.results)
    if parent is not None and "parent" not in results:
        results["parent"] = dict(parent.results)
    if child is not None and "child" not in results:
        results["child"] = dict(child.results)
    # `@wa_group` stands in for `@contact` in a WhatsApp group's flow.
    who, values = (
        ("wa_group", wa_group_map(contact))
        if contact.wa_group
        else ("contact", contact_map(org, contact))
    )
    return {
        who: values,
        # Glific rewrites a router operand's `@fields.x` to `@contact.fields.x`.
        "fields": values["fields"],
        "results": results,
        "parent": dict(parent.results) if parent is not None else {},
        "child": dict(child.results) if child is not None else {},
        "flow": {"name": flow_name, "uuid": flow_uuid},
        "calendar": calendar(org, now),
        "organization": {"id": org.id, "name": org.name},
    }


def _latest_child(session: Session, run: Run) -> Run | None:
    for other in reversed(session.runs):
        if other.parent_uuid == run.uuid:
            return other
    return None


def language_of(org: OrgView, language_id: int) -> LanguageView | None:
    return next((lang for lang in org.languages if lang.id == language_id), None)


def wa_group_map(group: ContactView) -> dict[str, Any]:
    """`@wa_group` in a WhatsApp group's flow: id, label, bsp_id and fields."""
    return {
        "id": group.id,
        "label": group.name,
        "bsp_id": group.phone,
        "fields": dict(group.fields),
    }


def contact_map(org: OrgView, contact: ContactView) -> dict[str, Any]:
    """`@contact` (module docstring)."""
    active = contact.active()
    language = language_of(org, active.language_id if active else contact.language_id)
    fields: dict[str, Any] = dict(contact.fields)
    if "name" not in fields:
        fields["name"] = {"value": contact.name}
    if language is not None:
        existing = fields.get("language")
        merged = dict(existing) if isinstance(existing, dict) else {}
        merged["label"] = language.label
        fields["language"] = merged
    group_ids = [g.id for g in contact.groups]
    result: dict[str, Any] = {
        "id": contact.id,
        "name": contact.name,
        "phone": contact.phone,
        "status": contact.status,
        "bsp_status": contact.bsp_status,
        "optin": contact.optin,
        "opted_out": contact.opted_out,
        "last_message_at": contact.last_message_at,
        "settings": dict(contact.settings),
        "fields": fields,
        "language": (
            {"id": language.id, "label": language.label, "locale": language.locale}
            if language is not None
            else None
        ),
        "groups": group_ids,
        "in_groups": list(group_ids),
    }
    if active is not None:
        menu = contact.menu()
        result["active_profile_name"] = active.name
        result["list_profiles"] = "".join(
            f" {i}. {profile.name} \n" for i, profile in enumerate(menu, 1)
        )
        profiles: dict[str, Any] = {
            f"profile_{i}": {"id": profile.id, "name": profile.name, "index": i}
            for i, profile in enumerate(menu, 1)
        }
        profiles["count"] = len(menu)
        result["profiles"] = profiles
        result["has_multiple_profile"] = {"value": True}
    return result


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def calendar(org: OrgView, now: datetime) -> dict[str, Any]:
    """`@calendar`: today, yesterday and tomorrow as D/MM/YYYY in the organization's
    timezone. A naive `now` is UTC (the engine's clock)."""
    aware = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    local = aware.astimezone(_zone(org.timezone))
    today = local.date()

    def fmt(day: Any) -> str:
        return f"{day.day}/{day.month:02d}/{day.year}"

    return {
        "current_date": fmt(today),
        "yesterday": fmt(today - timedelta(days=1)),
        "tomorrow": fmt(today + timedelta(days=1)),
        "current_day": today.strftime("%A").lower(),
        "current_month": today.month,
        "current_year": today.year,
    }
