"""Message templates (Glific's session templates): listed, counted, created, changed and
deleted per organization, and filled in for sending (`render`, `template_ref`).

An HSM template stands for one the provider has approved: it is stored `APPROVED` when it
names the provider's template id (`uuid`; Meta finds it by `shortcode` and language) and
`PENDING` otherwise, and only an approved one may be sent (`resolvers.hsm`). Glific submits
new HSM templates to Gupshup for approval and syncs their status; this backend does not
talk to the providers' template APIs, so a template is approved at the provider first
and recorded here with its id.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Language, Message, SessionTemplate, utcnow
from resolvers import tags
from resolvers import validation as v
from resolvers.delivery import TemplateRef
from resolvers.errors import InputErrors, not_found
from resolvers.languages import all_languages
from resolvers.querying import ListOpts, apply_opts, ilike, to_int_id

ENTITY = "Templates.SessionTemplate"
APPROVED, PENDING = "APPROVED", "PENDING"
TYPES = frozenset({"text", "image", "video", "document", "audio"})
MAX_BODY = 1024  # WhatsApp's limit for a template's body
MAX_FOOTER = 60  # and for its footer
# Glific's categories for a new HSM template (`whatsappHsmCategories`).
HSM_CATEGORIES = ("UTILITY", "MARKETING")
MEDIA_NOT_KEPT = "media templates are not kept here: a template is sent as its text"


class ButtonType(StrEnum):
    """Glific's `TemplateButtonTypeEnum`: what a template's buttons do."""

    CALL_TO_ACTION = "call_to_action"
    QUICK_REPLY = "quick_reply"
    OTP = "otp"
    WHATSAPP_FORM = "whatsapp_form"


_PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")

_COLUMNS = {
    "id": SessionTemplate.id,
    "label": SessionTemplate.label,
    "body": SessionTemplate.body,
    "shortcode": SessionTemplate.shortcode,
    "inserted_at": SessionTemplate.inserted_at,
    "updated_at": SessionTemplate.updated_at,
}


def _filtered(stmt: Any, org_id: int, flt: dict[str, Any]) -> Any:
    stmt = stmt.where(col(SessionTemplate.organization_id) == org_id)
    for key in ("label", "body", "shortcode"):
        if flt.get(key):
            stmt = stmt.where(ilike(getattr(SessionTemplate, key), str(flt[key])))
    if flt.get("term"):
        term = str(flt["term"])
        stmt = stmt.where(
            or_(
                ilike(col(SessionTemplate.label), term),
                ilike(col(SessionTemplate.body), term),
                ilike(col(SessionTemplate.shortcode), term),
            )
        )
    for key in ("is_hsm", "is_active", "is_reserved"):
        if flt.get(key) is not None:
            stmt = stmt.where(getattr(SessionTemplate, key).is_(bool(flt[key])))
    if flt.get("language_id") is not None:
        stmt = stmt.where(col(SessionTemplate.language_id) == int(flt["language_id"]))
    if flt.get("language"):
        stmt = stmt.where(
            col(SessionTemplate.language_id).in_(
                select(col(Language.id)).where(ilike(col(Language.label), str(flt["language"])))
            )
        )
    if flt.get("status"):
        stmt = stmt.where(col(SessionTemplate.status) == str(flt["status"]).upper())
    return stmt


async def list_templates(
    session: AsyncSession, org_id: int, flt: dict[str, Any], opts: ListOpts
) -> list[SessionTemplate]:
    stmt = apply_opts(
        _filtered(select(SessionTemplate), org_id, flt),
        opts,
        columns=_COLUMNS,
        default_field="label",
        tiebreak=SessionTemplate.id,
    )
    return list((await session.scalars(stmt)).all())


async def count_templates(session: AsyncSession, org_id: int, flt: dict[str, Any]) -> int:
    stmt = _filtered(select(func.count()).select_from(SessionTemplate), org_id, flt)
    return int((await session.execute(stmt)).scalar_one())


async def get_template(
    session: AsyncSession, org_id: int, raw_id: Any, *, lock: bool = False, key: str = "id"
) -> SessionTemplate:
    stmt = select(SessionTemplate).where(
        col(SessionTemplate.organization_id) == org_id,
        col(SessionTemplate.id) == to_int_id(raw_id, key),
    )
    found: SessionTemplate | None = await session.scalar(stmt.with_for_update() if lock else stmt)
    if found is None:
        raise not_found(ENTITY)
    return found


def placeholders(body: str) -> list[int]:
    """The distinct {{n}} numbers of a body, in order."""
    return sorted({int(n) for n in _PLACEHOLDER.findall(body)})


def translation_for(template: SessionTemplate, language_id: int | None) -> dict[str, Any] | None:
    """The template's approved translation into `language_id` (its `translations`, keyed by
    language id as Glific keeps them: `{"<id>": {"uuid", "body", "status", ...}}`), when
    that is not the template's own language; None otherwise. Glific's rule: a contact whose
    language the template has an approved translation for gets that translation (its body,
    and the provider's id for it), else the template as it is."""
    if language_id is None or language_id == template.language_id:
        return None
    found = (template.translations or {}).get(str(language_id))
    if (
        isinstance(found, dict)
        and str(found.get("status") or "").upper() == APPROVED
        and isinstance(found.get("body"), str)
        and found["body"].strip()
    ):
        return found
    return None


def render(template: SessionTemplate, params: list[str], language_id: int | None = None) -> str:
    """The body (of the translation into `language_id`, if it has an approved one) with
    {{n}} replaced by the n-th parameter."""
    translation = translation_for(template, language_id)
    body = str(translation["body"]) if translation is not None else template.body

    def value(match: re.Match[str]) -> str:
        n = int(match.group(1))
        return params[n - 1] if 0 < n <= len(params) else match.group(0)

    return _PLACEHOLDER.sub(value, body)


async def _apply(
    session: AsyncSession, template: SessionTemplate, params: dict[str, Any], *, creating: bool
) -> None:
    label = v.text(params, "label", required=creating)
    if label is not None:
        template.label = label
    body = v.text(params, "body", required=creating, max_len=MAX_BODY)
    if body is not None:
        template.body = body
    kind = params.get("type")
    if kind is not None:
        kind = str(kind).lower()
        if kind not in TYPES:
            raise InputErrors.field("type", "is invalid")
        template.type = kind
    if "shortcode" in params:
        template.shortcode = v.text(params, "shortcode") or None
    if creating or params.get("language_id") is not None:
        template.language_id = await v.language_id(session, params)
    for key in ("is_hsm", "is_active", "is_source"):
        flag = v.boolean(params, key)
        if flag is not None:
            setattr(template, key, flag)
    for key in ("category", "example"):
        if key in params:
            setattr(template, key, v.text(params, key, max_len=MAX_BODY) or None)
    if "uuid" in params:
        template.uuid = v.text(params, "uuid") or None
    if params.get("translations") is not None:
        template.translations = v.json_map(params, "translations")
    await _apply_form_extras(session, template, params)
    _check_hsm(template, params)


async def _apply_form_extras(
    session: AsyncSession, template: SessionTemplate, params: dict[str, Any]
) -> None:
    """What Glific's template form sends besides the body: kept and shown again."""
    if "footer" in params:
        template.footer = v.text(params, "footer", max_len=MAX_FOOTER) or None
    has_buttons = v.boolean(params, "has_buttons")
    if has_buttons is not None:
        template.has_buttons = has_buttons
    if "button_type" in params:
        kind = params["button_type"]
        template.button_type = None if kind is None else ButtonType(kind).value
    if params.get("buttons") is not None:
        buttons = params["buttons"]
        if not isinstance(buttons, list) or any(not isinstance(b, dict) for b in buttons):
            raise InputErrors.field("buttons", "should be a JSON list of buttons")
        template.buttons = buttons
    if "tag_id" in params:
        raw = params["tag_id"]
        template.tag_id = (
            None
            if raw in (None, "")
            else (await tags.get_tag(session, template.organization_id, raw)).id
        )
    if params.get("message_media_id") not in (None, ""):
        raise InputErrors.field("message_media_id", MEDIA_NOT_KEPT)


def _check_hsm(template: SessionTemplate, params: dict[str, Any]) -> None:
    """An HSM template's placeholders are {{1}} .. {{n}}, as many as it says it has; it is
    approved when it names the provider's template."""
    found = placeholders(template.body)
    given = params.get("number_parameters")
    if given is not None:
        if not isinstance(given, int) or isinstance(given, bool) or given < 0:
            raise InputErrors.field("number_parameters", "is invalid")
        template.number_parameters = given
    elif template.is_hsm:
        template.number_parameters = len(found)
    if not template.is_hsm:
        template.status = None
        return
    if found != list(range(1, len(found) + 1)):
        raise InputErrors.field("body", "placeholders should be numbered {{1}}, {{2}} ... in turn")
    if template.number_parameters != len(found):
        raise InputErrors.field(
            "number_parameters", f"should be {len(found)}, the placeholders in the body"
        )
    if not template.shortcode:
        raise InputErrors.field("shortcode", "can't be blank for an HSM template")
    template.status = APPROVED if template.uuid else PENDING


async def _check_unique(session: AsyncSession, template: SessionTemplate) -> None:
    clash = select(col(SessionTemplate.id)).where(
        col(SessionTemplate.organization_id) == template.organization_id,
        col(SessionTemplate.label) == template.label,
        col(SessionTemplate.language_id) == template.language_id,
        col(SessionTemplate.id) != (template.id or 0),
    )
    await v.refuse_taken(session, "label", clash)


async def create_template(
    session: AsyncSession, org_id: int, params: dict[str, Any]
) -> SessionTemplate:
    template = SessionTemplate(organization_id=org_id, label="", body="", language_id=0)
    await _apply(session, template, params, creating=True)
    await _check_unique(session, template)
    session.add(template)
    await v.flush_unique(session, "label")
    return template


async def update_template(
    session: AsyncSession, org_id: int, raw_id: Any, params: dict[str, Any]
) -> SessionTemplate:
    template = await get_template(session, org_id, raw_id, lock=True)
    await _apply(session, template, params, creating=False)
    await _check_unique(session, template)
    template.updated_at = utcnow()
    await v.flush_unique(session, "label")
    return template


async def delete_template(session: AsyncSession, org_id: int, raw_id: Any) -> None:
    """Messages sent from it keep their text; they no longer name it."""
    template = await get_template(session, org_id, raw_id, lock=True)
    if template.is_reserved:
        raise InputErrors.raw("id", "A reserved template cannot be deleted")
    await session.delete(template)
    await session.flush()


async def approved(session: AsyncSession, org_id: int, uuid: str) -> SessionTemplate | None:
    """The organization's approved, active HSM template with this provider id (what a
    flow's `templating` names)."""
    found: SessionTemplate | None = await session.scalar(
        select(SessionTemplate)
        .where(
            col(SessionTemplate.organization_id) == org_id,
            col(SessionTemplate.uuid) == uuid,
            col(SessionTemplate.is_hsm).is_(True),
            col(SessionTemplate.is_active).is_(True),
            col(SessionTemplate.status) == APPROVED,
        )
        .limit(1)
    )
    return found


async def template_ref(
    session: AsyncSession, message: Message, language_id: int | None = None
) -> TemplateRef | None:
    """How the providers name the template an HSM message fills, while it is approved and
    active; None otherwise (the outbox then fails the message). For a contact of
    `language_id`, its approved translation into that language when it has one: Gupshup's
    id for the translation, and for Meta the template's name in that language."""
    if not message.is_hsm or message.template_id is None:
        return None
    found = await session.execute(
        select(SessionTemplate, col(Language.locale))
        .join(Language, col(Language.id) == col(SessionTemplate.language_id))
        .where(
            col(SessionTemplate.id) == message.template_id,
            col(SessionTemplate.organization_id) == message.organization_id,
            col(SessionTemplate.status) == APPROVED,
            col(SessionTemplate.is_active).is_(True),
        )
    )
    row = found.first()
    if row is None:
        return None
    template, locale = row
    translation = translation_for(template, language_id)
    if translation is not None:
        languages = {language.id: language.locale for language in await all_languages(session)}
        return TemplateRef(
            uuid=str(translation.get("uuid") or template.uuid or ""),
            name=template.shortcode or "",
            language=str(languages.get(language_id, locale)),
            params=tuple(str(p) for p in message.params or ()),
        )
    return TemplateRef(
        uuid=template.uuid or "",
        name=template.shortcode or "",
        language=str(locale),
        params=tuple(str(p) for p in message.params or ()),
    )
