"""Translations: which locale a contact reads (its language's `locale` in the organization)
and the translated text, attachments, quick replies, case arguments and category names of a
flow (`localization[locale][uuid]`), falling back to the base text when an entry is missing
or empty."""

from __future__ import annotations

from typing import Any

from resolvers.flow_engine.definition import Flow
from resolvers.flow_engine.state import ContactView, OrgView


def contact_locale(org: OrgView, contact: ContactView) -> str | None:
    """The locale ("hi") of the contact's language (the active profile's, which the contact
    carries), or None when the organization does not know it."""
    language = next((lg for lg in org.languages if lg.id == contact.language_id), None)
    return language.locale if language is not None else None


def _entry(flow: Flow, locale: str | None, uuid: str) -> Any:
    if not locale:
        return None
    table: Any = flow.localization.get(locale)
    if table is None:
        # Some exports key translations by a longer locale ("hi_IN"); match the language part.
        table = next(
            (t for k, t in flow.localization.items() if k.split("_")[0].lower() == locale.lower()),
            None,
        )
    return table.get(uuid) if hasattr(table, "get") else None


def localized_list(flow: Flow, locale: str | None, uuid: str, key: str, base: Any) -> list[Any]:
    """A translated list (`text`, `attachments`, `quick_replies`, `arguments`), or the base
    list when the translation is missing or holds only empty strings."""
    entry = _entry(flow, locale, uuid)
    value = entry.get(key) if hasattr(entry, "get") else None
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list) and any(v not in ("", None) for v in value):
        return list(value)
    if base is None:
        return []
    return list(base) if isinstance(base, list | tuple) else [base]


def localized_text(flow: Flow, locale: str | None, uuid: str, key: str, base: Any) -> str:
    """The translated first entry of `key` (send_msg's `text[0]`), else the base text."""
    values = localized_list(flow, locale, uuid, key, base)
    first = values[0] if values else ""
    return first if isinstance(first, str) else str(first)


def localized_name(flow: Flow, locale: str | None, uuid: str, base: str) -> str:
    """A category's translated name."""
    return localized_text(flow, locale, uuid, "name", base) or base
