"""A flow's translations as a sheet a translator can work on (Glific's `exportFlowLocalization`,
`importFlowLocalization` and `inlineFlowLocalization`): one row per message the flow sends
(`send_msg`), one column per language of the organization.

The CSV: two header rows, `Type,UUID,<language labels>` and `Type,UUID,<locales>`, the
default language first, then one `action,<action uuid>,<text>,<translation>...` row per
message. An import writes the non-blank cells of the other languages into the flow's
`localization` (keeping each entry's attachments and quick replies) as a new draft
revision; blank cells keep what is there. Glific fills missing cells by machine translation
(Google or OpenAI) when asked; no translation service is configured here, so an export
leaves them blank and an inline translation succeeds only when there is nothing to
translate, and otherwise says what is missing."""

from __future__ import annotations

import copy
import csv
import io
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from models import Language, Organization
from resolvers import flows
from resolvers.errors import InputErrors
from resolvers.organization_view import active_languages

KEY = "localization"
ROW_KIND = "action"
HEADER = ["Type", "UUID"]


async def _languages(session: AsyncSession, org_id: int) -> list[Language]:
    """The organization's languages, its default one first, the others by locale."""
    org = await session.get(Organization, org_id)
    if org is None:
        raise InputErrors.raw("organization", "Organization not found")
    used = await active_languages(session, org)
    return sorted(used, key=lambda lg: (lg.id != org.default_language_id, lg.locale))


def _messages(definition: dict[str, Any]) -> list[tuple[str, str]]:
    """(action uuid, base text) of each message the flow sends, in node order; template
    messages (`templating`) are translated by their template, not here."""
    found = []
    for node in definition.get("nodes") or []:
        for action in node.get("actions") or [] if isinstance(node, dict) else []:
            if not isinstance(action, dict) or action.get("type") != "send_msg":
                continue
            if action.get("templating") or action.get("is_template"):
                continue
            uuid, text = action.get("uuid"), action.get("text")
            if isinstance(uuid, str) and isinstance(text, str):
                found.append((uuid, text))
    return found


def _translation(localization: dict[str, Any], locale: str, uuid: str) -> str:
    entry = (localization.get(locale) or {}).get(uuid)
    text = entry.get("text") if isinstance(entry, dict) else None
    if isinstance(text, list):
        text = next((t for t in text if isinstance(t, str) and t), "")
    return text if isinstance(text, str) else ""


async def _flow_definition(
    session: AsyncSession, org_id: int, raw_id: Any, *, lock: bool = False
) -> tuple[Any, dict[str, Any]]:
    flow = await flows.fetch_flow(session, org_id, raw_id, lock=lock)
    found = await flows.latest_definition(session, org_id, int(flow.id or 0))
    return flow, (found[1] if found is not None else {})


async def export_localization(session: AsyncSession, org_id: int, raw_id: Any) -> str:
    """The flow's newest revision as the CSV above."""
    _, definition = await _flow_definition(session, org_id, raw_id)
    languages = await _languages(session, org_id)
    localization = definition.get(KEY) or {}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER + [lg.label for lg in languages])
    writer.writerow(HEADER + [lg.locale for lg in languages])
    for uuid, text in _messages(definition):
        cells = [_translation(localization, lg.locale, uuid) for lg in languages[1:]]
        writer.writerow([ROW_KIND, uuid, text, *cells])
    return out.getvalue()


def _parse(text: str | None) -> list[list[str]]:
    if not text or not text.strip():
        raise InputErrors.field(KEY, "is empty: send the CSV exportFlowLocalization gave")
    try:
        return [row for row in csv.reader(io.StringIO(text)) if any(c.strip() for c in row)]
    except csv.Error as exc:
        raise InputErrors.field(KEY, f"is not a readable CSV ({exc})") from None


def _locales(rows: list[list[str]], known: set[str]) -> list[str]:
    """The locales of the header row that holds them (either of the first two)."""
    for row in rows[:2]:
        if row[:2] == HEADER and row[2:] and all(c.strip() in known for c in row[2:]):
            return [c.strip() for c in row[2:]]
    raise InputErrors.field(
        KEY,
        "has no header row of locales (Type,UUID,en,hi...) naming only this "
        f"organization's languages ({', '.join(sorted(known))})",
    )


async def import_localization(
    session: AsyncSession, org_id: int, raw_id: Any, text: str | None, user_id: int | None
) -> None:
    """Write the sheet's translations into the flow as a new draft revision. All or nothing:
    a row naming no message of the flow, or a row longer than the header, refuses it."""
    flow, definition = await _flow_definition(session, org_id, raw_id, lock=True)
    languages = await _languages(session, org_id)
    rows = _parse(text)
    locales = _locales(rows, {lg.locale for lg in languages})
    default = languages[0].locale
    messages = dict(_messages(definition))
    localization = copy.deepcopy(definition.get(KEY) or {})
    problems = []
    for number, row in enumerate(rows, start=1):
        if number <= 2 and row[:2] == HEADER:
            continue
        if len(row) < 2 or row[1].strip() not in messages:
            problems.append(f"row {number}: no message of this flow has the UUID {row[1:2]}")
            continue
        if len(row) - 2 > len(locales):
            problems.append(f"row {number}: more cells than the header has languages")
            continue
        uuid = row[1].strip()
        for locale, cell in zip(locales, row[2:], strict=False):
            if locale == default or not cell.strip():
                continue  # the base text is edited in the flow; a blank cell keeps what is there
            table = localization.setdefault(locale, {})
            entry = dict(table.get(uuid) or {})
            entry["text"] = [cell]
            table[uuid] = entry
    if problems:
        raise InputErrors.field(KEY, "; ".join(problems[:10]))
    await flows.save_revision(session, org_id, flow, {**definition, KEY: localization}, user_id)


async def inline_localization(session: AsyncSession, org_id: int, raw_id: Any) -> None:
    """Glific translates the missing cells by machine and imports them in one step. Without
    a translation service there is nothing to fill them with: success when every message
    is translated into every language, else an error saying what is missing."""
    _, definition = await _flow_definition(session, org_id, raw_id)
    languages = await _languages(session, org_id)
    localization = definition.get(KEY) or {}
    missing = {
        lg.locale: n
        for lg in languages[1:]
        if (
            n := sum(
                1
                for uuid, _ in _messages(definition)
                if not _translation(localization, lg.locale, uuid)
            )
        )
    }
    if missing:
        counts = ", ".join(f"{locale}: {n}" for locale, n in sorted(missing.items()))
        raise InputErrors.raw(
            KEY,
            "No translation service is configured to fill the missing translations "
            f"({counts}); export the localization, translate it and import it",
        )
