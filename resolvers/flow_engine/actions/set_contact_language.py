"""set_contact_language: by the language's label ("Hindi", any case) or locale ("hi",
"en_US" → "en"); the active profile's language follows. An unknown language is reported and
the run goes on."""

from __future__ import annotations

from resolvers.flow_engine.actions.base import ActionContext, ActionResult
from resolvers.flow_engine.definition import Action
from resolvers.flow_engine.events import ContactLanguageChanged
from resolvers.flow_engine.state import LanguageView, OrgView


def find_language(org: OrgView, wanted: str) -> LanguageView | None:
    folded = wanted.strip().casefold()
    locale = folded.replace("-", "_").split("_")[0]
    for language in org.languages:
        if language.label.casefold() == folded or language.locale.casefold() in (folded, locale):
            return language
    return None


def execute(action: Action, ctx: ActionContext) -> ActionResult:
    wanted = (ctx.substitute(str(action.get("language") or "")) or "").strip()
    if not wanted:
        return None
    language = find_language(ctx.org, wanted)
    if language is None:
        ctx.error(f"unknown language: {wanted}")
        return None
    ctx.contact.language_id = language.id
    ctx.sync_active_profile()
    ctx.emit(ContactLanguageChanged(ctx.run.uuid, language.id))
    return None
