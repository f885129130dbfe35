"""What Glific's web app reads and writes (its settings form) about the signed-in user's
organization besides its columns: the feature flags (`organizationServices`), the settings
kept in the organization's `fields` (out of office, the balance warnings, the regex flow,
the new-contact and opt-in flows, the active languages, the signature phrase), and its
WhatsApp provider's wallet balance and quality rating.

Decisions (Glific keeps these settings in columns of their own; here they live in
`fields`): a setting never written reads as Glific's default for a new organization. The
only feature flag that is on is the one this backend is about, `contactProfileEnabled` (the
organization's own `is_contact_profile_enabled`): the others turn on screens whose backends
(Dialogflow, tickets, WhatsApp groups, certificates, AI evaluations, Ask Glific ...) do not
exist here."""

from __future__ import annotations

import logging
import re
from typing import Any
from zoneinfo import available_timezones

import httpx2
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Flow, Language, Organization, utcnow
from resolvers import providers
from resolvers import validation as v
from resolvers.delivery import balance_reader_for
from resolvers.errors import ClientError, InputErrors, not_found
from resolvers.languages import all_languages
from resolvers.querying import int_ids, to_int_id

log = logging.getLogger(__name__)

# The 17 flags the web app asks for at sign-in (every one must exist, or the query fails).
SERVICE_FLAGS = (
    "dialogflow",
    "auto_translation_enabled",
    "google_cloud_storage",
    "flow_uuid_display",
    "roles_and_permission",
    "contact_profile_enabled",
    "ticketing_enabled",
    "whatsapp_group_enabled",
    "certificate_enabled",
    "ask_glific_enabled",
    "whatsapp_forms_enabled",
    "ai_evaluations_enabled",
    "ai_evaluation_v2_enabled",
    "copy_node_enabled",
    "prompt_generator_enabled",
    "template_v2_enabled",
    "template_library_enabled",
)

# Glific's defaults for a new organization (priv/repo/seeds and Partners.Organization).
DEFAULT_OUT_OF_OFFICE: dict[str, Any] = {
    "enabled": False,
    "start_time": None,
    "end_time": None,
    "enabled_days": [{"id": day, "enabled": False} for day in range(1, 8)],
    "flow_id": None,
    "default_flow_id": None,
}
DEFAULT_SETTING: dict[str, Any] = {
    "report_frequency": "WEEKLY",
    "run_flow_each_time": False,
    "low_balance_threshold": "10",
    "critical_balance_threshold": "5",
    "send_warning_mail": False,
    "allow_bot_number_update": False,
}


async def get_organization(
    session: AsyncSession, org_id: int, requested: Any, *, glific_admin: bool
) -> Organization:
    """The organization `requested` names (the user's own when None); another one only for
    a Glific admin, and "not found" for anyone else, as if it did not exist."""
    wanted = org_id if requested in (None, "") else to_int_id(requested)
    org = await session.get(Organization, wanted)
    if org is None or (wanted != org_id and not glific_admin):
        raise not_found("Partners.Organization")
    return org


# Flags an operator sets from the command line (`python -m app org-flag`), as Glific's team
# switches FunWithFlags flags: the CLI's name -> the key in the organization's `fields`.
OPERATOR_FLAGS = {"interactive-re-response": "interactive_re_response_enabled"}


async def set_operator_flag(session: AsyncSession, shortcode: str, flag: str, on: bool) -> str:
    """Switch one of OPERATOR_FLAGS for the organization `shortcode`; what was done."""
    key = OPERATOR_FLAGS.get(flag)
    if key is None:
        raise InputErrors.raw("flag", f"unknown flag {flag!r}; known: {', '.join(OPERATOR_FLAGS)}")
    org = await session.scalar(
        select(Organization).where(col(Organization.shortcode) == shortcode).with_for_update()
    )
    if org is None:
        raise InputErrors.raw("org", f"no organization has the shortcode {shortcode!r}")
    org.fields = {**(org.fields or {}), key: on}
    org.updated_at = utcnow()
    return f"{flag} is {'on' if on else 'off'} for {shortcode}"


def services(org: Organization) -> dict[str, bool]:
    flags = dict.fromkeys(SERVICE_FLAGS, False)
    flags["contact_profile_enabled"] = bool(org.is_contact_profile_enabled)
    return flags


def _setting_of(org: Organization, key: str, default: dict[str, Any]) -> dict[str, Any]:
    stored = (org.fields or {}).get(key)
    return {**default, **stored} if isinstance(stored, dict) else dict(default)


def out_of_office(org: Organization) -> dict[str, Any]:
    return _setting_of(org, "out_of_office", DEFAULT_OUT_OF_OFFICE)


def setting(org: Organization) -> dict[str, Any]:
    return _setting_of(org, "setting", DEFAULT_SETTING)


def regx_flow(org: Organization) -> dict[str, Any] | None:
    stored = (org.fields or {}).get("regx_flow")
    return stored if isinstance(stored, dict) else None


def flow_setting(org: Organization, key: str) -> str | None:
    """`newcontact_flow_id` or `optin_flow_id`: None until one is chosen."""
    value = (org.fields or {}).get(key)
    return None if value in (None, "") else str(value)


def signature_phrase(org: Organization, *, staff_only: bool) -> str:
    """Glific hides the phrase from staff (it unlocks the bot number's settings)."""
    return "" if staff_only else str((org.fields or {}).get("signature_phrase") or "")


async def active_languages(session: AsyncSession, org: Organization) -> list[Language]:
    """The languages the organization uses: those listed in `fields.active_language_ids`,
    else every language (Glific seeds all of them active), the default one always."""
    languages = await all_languages(session)
    chosen = (org.fields or {}).get("active_language_ids")
    if not isinstance(chosen, list) or not chosen:
        return list(languages)
    ids = {str(i) for i in chosen} | {str(org.default_language_id)}
    return [lang for lang in languages if str(lang.id) in ids]


async def bsp(session: AsyncSession, org_id: int) -> dict[str, Any]:
    """The provider the organization's messages go through, as Glific's `Provider`."""
    account = await providers.sender_of(session, org_id)
    name = account.provider if account is not None else "log"
    return providers.catalog_entry(name)


async def wallet_balance(
    session: AsyncSession, org_id: int, request_seconds: float
) -> dict[str, float | None]:
    """`{"balance": …}` from the sending provider's wallet; `None` when the provider keeps
    no wallet (Meta, the log provider): glific-frontend 6.18 shows that as "Message balance
    $NaN" (older versions: "Wallet balance is okay"), and its chat screen's status bar reads
    `.balance` of the answer, so the object stays even without a balance. A provider that
    does not answer is an error ("Verify Gupshup settings" in the app)."""
    account = await providers.sender_of(session, org_id)
    reader = balance_reader_for(account.provider) if account is not None else None
    if account is None or reader is None:
        return {"balance": None}
    try:
        async with httpx2.AsyncClient(timeout=request_seconds) as client:
            balance = await reader(client, account.sending_credentials())
    except (httpx2.HTTPError, ValueError, KeyError) as exc:
        log.warning("wallet balance of organization %s: %s", org_id, exc)
        raise ClientError(f"Could not read the {account.provider} wallet balance") from None
    return {"balance": balance}


# --- the settings form (`updateOrganization`) ------------------------------------------------

_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$")


def _time(value: Any, key: str) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not _TIME.match(value):
        raise InputErrors.field(key, "should be a time of day, e.g. 09:30:00")
    return value if value.count(":") == 2 else value + ":00"


async def _flow_id(session: AsyncSession, org_id: int, value: Any, key: str) -> str | None:
    """A flow of the organization, as the id the settings keep; None clears it."""
    if value in (None, ""):
        return None
    flow_id = to_int_id(value, key)
    found = await session.scalar(
        select(col(Flow.id)).where(col(Flow.id) == flow_id, col(Flow.organization_id) == org_id)
    )
    if found is None:
        raise InputErrors.field(key, "does not exist")
    return str(flow_id)


async def update_organization(
    session: AsyncSession,
    org_id: int,
    requested: Any,
    params: dict[str, Any],
    *,
    glific_admin: bool,
) -> Organization:
    """The settings form: name, email, timezone, default and active languages, out of office,
    the balance warnings, the regex / new contact / opt-in flows, the signature phrase.
    The shortcode names the organization's host and never changes here; its status is for
    a Glific admin only."""
    org = await get_organization(session, org_id, requested, glific_admin=glific_admin)
    await session.refresh(org, with_for_update=True)
    fields = dict(org.fields or {})
    name = v.text(params, "name")
    if name is not None:
        if not name:
            raise InputErrors.field("name", "can't be blank")
        org.name = name
    if "email" in params:
        org.email = v.text(params, "email") or None
    if params.get("timezone"):
        zone = str(params["timezone"])
        if zone not in available_timezones():
            raise InputErrors.field("timezone", "is not a known time zone")
        org.timezone = zone
    if params.get("shortcode") not in (None, org.shortcode):
        raise InputErrors.field("shortcode", "cannot be changed")
    if params.get("status") is not None:
        if not glific_admin:
            raise InputErrors.field("status", "can only be changed by a Glific admin")
        org.status = str(params["status"]).lower()
    if params.get("default_language_id") is not None:
        org.default_language_id = await v.language_id(session, params, "default_language_id")
    if params.get("active_language_ids") is not None:
        ids = [int(i) for i in int_ids(params["active_language_ids"])]
        known = {int(lang.id) for lang in await all_languages(session)}
        if not ids or any(i not in known for i in ids):
            raise InputErrors.field("active_language_ids", "does not exist")
        fields["active_language_ids"] = sorted(set(ids) | {org.default_language_id})
    if params.get("out_of_office") is not None:
        given = dict(params["out_of_office"])
        office = out_of_office(org)
        if "enabled" in given:
            office["enabled"] = bool(given["enabled"])
        for key in ("start_time", "end_time"):
            if key in given:
                office[key] = _time(given[key], key)
        for key in ("flow_id", "default_flow_id"):
            if key in given:
                office[key] = await _flow_id(session, org.id or 0, given[key], key)
        if given.get("enabled_days") is not None:
            days = {int(d["id"]): bool(d["enabled"]) for d in given["enabled_days"]}
            if any(day not in range(1, 8) for day in days):
                raise InputErrors.field("enabled_days", "days are numbered 1 to 7")
            office["enabled_days"] = [
                {"id": day, "enabled": days.get(day, False)} for day in range(1, 8)
            ]
        fields["out_of_office"] = office
    if params.get("setting") is not None:
        fields["setting"] = {**setting(org), **dict(params["setting"])}
    if "regx_flow" in params:
        regx = params["regx_flow"]
        problem = v.regex_problem(str(regx.get("regx") or "")) if regx is not None else None
        if problem is not None:
            raise InputErrors.field("regx", problem)
        fields["regx_flow"] = (
            None
            if regx is None
            else {
                "flow_id": await _flow_id(session, org.id or 0, regx.get("flow_id"), "flow_id"),
                "regx": regx.get("regx"),
                "regx_opt": regx.get("regx_opt"),
            }
        )
    for key in ("newcontact_flow_id", "optin_flow_id"):
        if key in params:
            fields[key] = await _flow_id(session, org.id or 0, params[key], key)
    if "signature_phrase" in params:
        fields["signature_phrase"] = v.text(params, "signature_phrase") or ""
    org.fields = fields
    org.updated_at = utcnow()
    await session.flush()
    return org
