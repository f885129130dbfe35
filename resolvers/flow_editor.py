"""What the flow editor (Glific's fork of RapidPro's floweditor) loads and saves through
`/flow-editor/*`: the expression completion, the organization's fields, groups, labels,
languages, users and flows as editor assets, a flow's revisions (list, read, save) and the
activity on its canvas. Every function takes a session scoped to the organization and returns
plain JSON values; the HTTP layer is schema/flow_editor.py.

Decisions:
- A revision is saved through `flows.save_revision` (numbered under the flow's row lock).
  While another user holds the flow in the editor (`flowGet`, not expired) the save is
  refused (`EditorError` 409, "This flow is being edited by X right now!"); the holder, and
  anyone while the flow is free, saves. A save does not take the lock: `flowGet` does.
- Every flow gets a revision when it is created or imported, so the list is never empty.
  Should a flow have none all the same (rows written by hand), the list holds one entry with
  id 0 and `GET revisions/<flow>/0` answers the empty definition a new flow starts with: the
  canvas opens instead of sticking.
- Revision statuses are the stored ones: draft, published, or archived (once published).
- A flow is named by its uuid: a path segment that is not a UUID names no flow (404), and
  a revision by its numeric id within that flow (anything else is a 404).
- `activity` counts the unfinished runs waiting at each node of the flow: `nodes` counts
  distinct contacts (Glific), `profiles` distinct profiles (ours: two children on one phone
  are one contact and two profiles).
"""

from __future__ import annotations

import copy
import uuid
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import (
    Contact,
    ContactGroup,
    ContactsField,
    Flow,
    FlowContext,
    FlowLabel,
    FlowRevision,
    Organization,
    User,
    saved_id,
)
from resolvers import contacts_fields, flow_labels, flows, groups, staff
from resolvers import validation as v
from resolvers.config import settings_of
from resolvers.contacts import Viewer, list_contacts
from resolvers.errors import DomainError
from resolvers.flow_engine.expressions import interpreter
from resolvers.organization_view import active_languages
from resolvers.querying import ListOpts

REVISION_LIMIT = 25
RECIPIENT_LIMIT = 100
USER_LIMIT = 100
EDITOR_VERSION = "13.0.0"
DEFAULT_EXPIRES = 10080
EDITING = "This flow is being edited by {name} right now!"


class EditorError(DomainError):
    """A request the editor made that cannot be answered: `status` is the HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="microseconds") + "Z"


# --- completion ----------------------------------------------------------------------------

# The `@` context (resolvers/flow_engine/expressions/context.py) in the editor's terms: each
# type lists its properties; `key_source` types take their keys from the named asset.
_TEXT, _ANY = "text", "any"


def _prop(key: str, help_: str, type_: str = _TEXT, *, array: bool = False) -> dict[str, Any]:
    prop: dict[str, Any] = {"key": key, "help": help_, "type": type_}
    if array:
        prop["array"] = True
    return prop


CONTEXT_TYPES: list[dict[str, Any]] = [
    {
        "name": "fields",
        "key_source": "fields",
        "property_template": {
            "key": "{key}",
            "help": "{key} for the contact (the active profile's value)",
            "type": _ANY,
        },
    },
    {
        "name": "results",
        "key_source": "results",
        "property_template": {"key": "{key}", "help": "result for {key}", "type": "result"},
    },
    {
        "name": "result",
        "properties": [
            _prop("__default__", "the value"),
            _prop("value", "the value of the result"),
            _prop("category", "the category of the result"),
            _prop("input", "the input of the result"),
        ],
    },
    {
        "name": "language",
        "properties": [
            _prop("__default__", "the label"),
            _prop("id", "the id of the language"),
            _prop("label", "the name of the language"),
            _prop("locale", "the locale of the language, e.g. en"),
        ],
    },
    {
        "name": "flag",
        "properties": [_prop("value", "true when it applies")],
    },
    {
        "name": "profile",
        "properties": [
            _prop("id", "the id of the profile"),
            _prop("name", "the name of the profile"),
            _prop("index", "the profile's number in the menu (1, 2, ...)"),
        ],
    },
    {
        "name": "profiles",
        "properties": [
            _prop("count", "how many profiles the contact has"),
            _prop(
                "profile_1", "the first profile of the menu (profile_2 the second ...)", "profile"
            ),
        ],
    },
    {
        "name": "contact",
        "properties": [
            _prop("__default__", "the name"),
            _prop("id", "the numeric id of the contact"),
            _prop("name", "the name of the contact"),
            _prop("phone", "the phone number of the contact"),
            _prop("status", "the status of the contact"),
            _prop("bsp_status", "the WhatsApp status of the contact"),
            _prop("language", "the language of the contact (or its active profile)", "language"),
            _prop("fields", "the custom field values of the contact", "fields"),
            _prop("groups", "the ids of the collections the contact is in", array=True),
            _prop("in_groups", "the ids of the collections the contact is in", array=True),
            _prop("active_profile_name", "the name of the profile using the phone now"),
            _prop("list_profiles", "the profiles as a numbered menu"),
            _prop("profiles", "the profiles of the contact, by menu number", "profiles"),
            _prop("has_multiple_profile", "set while a profile is active", "flag"),
        ],
    },
    {
        "name": "input",
        "properties": [
            _prop("__default__", "the text"),
            _prop("text", "the text of the message the contact sent"),
        ],
    },
    {
        "name": "flow",
        "properties": [
            _prop("__default__", "the name"),
            _prop("name", "the name of the flow"),
            _prop("uuid", "the UUID of the flow"),
        ],
    },
    {
        "name": "calendar",
        "properties": [
            _prop("current_date", "today as D/MM/YYYY in the organization's timezone"),
            _prop("yesterday", "yesterday as D/MM/YYYY"),
            _prop("tomorrow", "tomorrow as D/MM/YYYY"),
            _prop("current_day", "the weekday, in lower case"),
            _prop("current_month", "the month number"),
            _prop("current_year", "the year"),
        ],
    },
    {
        "name": "organization",
        "properties": [
            _prop("id", "the id of the organization"),
            _prop("name", "the name of the organization"),
        ],
    },
]

CONTEXT_ROOT: list[dict[str, Any]] = [
    _prop("contact", "the contact", "contact"),
    _prop("fields", "the custom field values of the contact", "fields"),
    _prop("results", "the current run results", "results"),
    _prop("input", "the current input from the contact", "input"),
    _prop("flow", "the current flow", "flow"),
    _prop("parent", "the results of the parent run", "results"),
    _prop("child", "the results of the last child run", "results"),
    _prop("calendar", "today's date", "calendar"),
    _prop("organization", "the organization", "organization"),
]

# Argument names and a summary for the functions of `<%= ... %>` blocks
# (interpreter.FUNCTIONS); `Kernel.x` is `x`. A function missing here is still listed.
_FUNCTION_HELP: dict[str, tuple[tuple[str, ...], str]] = {
    "rem": (("dividend", "divisor"), "the remainder of an integer division"),
    "div": (("dividend", "divisor"), "the integer part of a division"),
    "abs": (("number",), "the absolute value of a number"),
    "round": (("number",), "a number rounded to the nearest integer"),
    "trunc": (("number",), "the integer part of a number"),
    "max": (("a", "b"), "the larger of two values"),
    "min": (("a", "b"), "the smaller of two values"),
    "to_string": (("value",), "a value as text"),
    "length": (("list",), "the number of elements of a list"),
    "is_nil": (("value",), "whether the value is nil"),
    "is_number": (("value",), "whether the value is a number"),
    "is_integer": (("value",), "whether the value is an integer"),
    "is_float": (("value",), "whether the value is a float"),
    "is_binary": (("value",), "whether the value is text"),
    "is_boolean": (("value",), "whether the value is true or false"),
    "is_list": (("value",), "whether the value is a list"),
    "String.upcase": (("text",), "the text in upper case"),
    "String.downcase": (("text",), "the text in lower case"),
    "String.capitalize": (("text",), "the text with its first letter in upper case"),
    "String.trim": (("text",), "the text without leading and trailing spaces"),
    "String.length": (("text",), "the number of characters of the text"),
    "String.reverse": (("text",), "the text backwards"),
    "String.contains?": (("text", "part"), "whether the text contains the part"),
    "String.starts_with?": (("text", "prefix"), "whether the text starts with the prefix"),
    "String.ends_with?": (("text", "suffix"), "whether the text ends with the suffix"),
    "String.replace": (("text", "pattern", "replacement"), "the text with a part replaced"),
    "String.split": (("text", "separator"), "the text split into a list (at spaces by default)"),
    "String.slice": (("text", "start", "length"), "part of the text"),
    "String.to_integer": (("text",), "the text read as an integer"),
    "String.to_float": (("text",), "the text read as a float"),
    "Integer.to_string": (("integer",), "an integer as text"),
    "Float.round": (("number", "digits"), "a number rounded to some decimal digits"),
    "Enum.member?": (("list", "value"), "whether the list holds the value"),
    "Enum.count": (("list",), "the number of elements of a list"),
    "Enum.join": (("list", "joiner"), "the elements of a list joined into text"),
    "Enum.at": (("list", "index", "default"), "the element at an index (from 0)"),
    "Enum.sum": (("list",), "the sum of a list of numbers"),
    "Enum.max": (("list",), "the largest element of a list"),
    "Enum.min": (("list",), "the smallest element of a list"),
    "Enum.sort": (("list",), "the list sorted"),
    "Enum.reverse": (("list",), "the list backwards"),
    "List.first": (("list",), "the first element of a list"),
    "List.last": (("list",), "the last element of a list"),
}


def _function(name: str, low: int, high: int) -> dict[str, str]:
    known = _FUNCTION_HELP.get(name.removeprefix("Kernel."))
    names = known[0] if known is not None and len(known[0]) == high else None
    args = list(names or (f"arg{i}" for i in range(1, high + 1)))
    required, optional = args[:low], args[low:]
    signature = ", ".join(required)
    if optional:
        signature += (" [, " if required else "[") + ", ".join(optional) + "]"
    summary = known[1] if known is not None else f"{name}, in a <%= ... %> block"
    return {"signature": f"{name}({signature})", "summary": summary}


def completion() -> dict[str, Any]:
    """The `@` context and one entry per function `<%= ... %>` blocks may call (read from
    the interpreter each time, so a new function is listed as soon as it exists)."""
    functions = [
        _function(name, low, high) for name, (low, high, _) in sorted(interpreter.FUNCTIONS.items())
    ]
    return {
        "context": {"types": copy.deepcopy(CONTEXT_TYPES), "root": copy.deepcopy(CONTEXT_ROOT)},
        "functions": functions,
    }


def empty_results() -> dict[str, Any]:
    return {"results": []}


def validate_media(url: str | None) -> dict[str, Any]:
    """Whether an attachment URL can be sent: an http(s) URL (not fetched here)."""
    if not url or not url.strip():
        return {"is_valid": False, "message": "Please provide a media URL"}
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or not parts.hostname.isprintable()
    ):
        return {"is_valid": False, "message": "The media URL must start with http:// or https://"}
    return {"is_valid": True, "message": "success"}


# --- the organization ----------------------------------------------------------------------


async def _organization(session: AsyncSession, org_id: int) -> Organization:
    org = await session.get(Organization, org_id)
    if org is None:
        raise EditorError(404, "Organization not found")
    return org


async def languages(session: AsyncSession, org_id: int) -> dict[str, Any]:
    org = await _organization(session, org_id)
    used = await active_languages(session, org)
    return {
        "results": [
            {"iso": lang.locale, "name": lang.label, "default": lang.id == org.default_language_id}
            for lang in used
        ]
    }


async def environment(session: AsyncSession, org_id: int) -> dict[str, Any]:
    org = await _organization(session, org_id)
    used = await active_languages(session, org)
    default = next((lang.locale for lang in used if lang.id == org.default_language_id), None)
    return {
        "date_format": "DD-MM-YYYY",
        "time_format": "tt:mm",
        "timezone": org.timezone,
        "default_language": default,
        "allowed_languages": [lang.locale for lang in used],
        "default_country": settings_of(session).default_phone_region or "IN",
        "redaction_policy": "none",
    }


async def channels(session: AsyncSession, org_id: int) -> dict[str, Any]:
    org = await _organization(session, org_id)
    phone = None
    if org.contact_id is not None:
        phone = await session.scalar(
            select(col(Contact.phone)).where(
                col(Contact.organization_id) == org_id, col(Contact.id) == org.contact_id
            )
        )
    channel = {
        "uuid": str(org_id),
        "name": "WhatsApp",
        "address": phone,
        "schemes": ["whatsapp"],
        "roles": ["send", "receive"],
    }
    return {"results": [channel]}


# --- fields, groups, labels, users, recipients ------------------------------------------------

# Our value types as the editor's (text, number, datetime).
_VALUE_TYPES = {"integer": "number", "number": "number", "date": "datetime"}


def _field(field: ContactsField) -> dict[str, Any]:
    return {
        "key": field.shortcode,
        "name": field.name,
        "label": field.name,
        "value_type": _VALUE_TYPES.get(field.value_type, "text"),
        "scope": field.scope,
    }


async def fields(session: AsyncSession, org_id: int, scope: str | None) -> dict[str, Any]:
    """The organization's contact fields (those of `scope` only, when given)."""
    if scope and scope not in contacts_fields.SCOPES:
        return {"results": []}
    flt = {"scope": scope} if scope else {}
    rows = await contacts_fields.list_fields(session, org_id, flt, ListOpts(order_with="name"))
    return {"results": [_field(f) for f in rows]}


async def create_field(session: AsyncSession, org_id: int, body: Any) -> dict[str, Any]:
    """`{"label": "Age"}` (or `name`): the contact field of that name, created (with the
    shortcode a flow writing it would get) unless it exists."""
    params = _object(body)
    name = v.text({"label": params.get("label", params.get("name"))}, "label", required=True)
    field = await session.scalar(
        select(ContactsField).where(
            col(ContactsField.organization_id) == org_id,
            col(ContactsField.scope) == contacts_fields.Scope.CONTACT.value,
            col(ContactsField.name) == name,
        )
    )
    if field is None:
        field = await contacts_fields.ensure_field(session, org_id, name, name)
    found = _field(field)
    found.pop("scope")
    return found


async def group_list(session: AsyncSession, org_id: int, viewer: Viewer) -> dict[str, Any]:
    """The collections the user may see, with how many contacts each holds."""
    rows = await groups.list_groups(session, org_id, {}, ListOpts(), viewer)
    ids = [saved_id(g) for g in rows]
    counts: dict[int, int] = {}
    if ids:
        found = await session.execute(
            select(col(ContactGroup.group_id), func.count())
            .where(col(ContactGroup.group_id).in_(ids))
            .group_by(col(ContactGroup.group_id))
        )
        counts = {int(gid): int(n) for gid, n in found.all()}
    return {
        "results": [
            {"uuid": str(g.id), "name": g.label, "count": counts.get(saved_id(g), 0)} for g in rows
        ]
    }


async def create_group(session: AsyncSession, org_id: int, body: Any) -> dict[str, Any]:
    """`{"name": "Readers"}`: the collection of that name, created unless it exists."""
    name = v.text(_object(body), "name", required=True)
    group = await groups.group_by_label(session, org_id, name)
    if group is None:
        group = await groups.create_group(session, org_id, {"label": name})
    return {"uuid": str(saved_id(group)), "name": group.label}


def _label(label: Any) -> dict[str, Any]:
    return {"uuid": label.uuid or str(label.id), "name": label.name, "count": 0}


async def labels(session: AsyncSession, org_id: int) -> dict[str, Any]:
    rows = await flow_labels.flow_labels_read(org_id, {}, ListOpts()).fetch(session)
    return {"results": [_label(label) for label in rows]}


async def create_label(session: AsyncSession, org_id: int, body: Any) -> dict[str, Any]:
    """`{"name": "Feedback"}`: the flow label of that name, created unless it exists."""
    name = v.text(_object(body), "name", required=True)
    label: FlowLabel = await flow_labels.ensure_label(session, org_id, name)
    return _label(label)


async def users(session: AsyncSession, org_id: int) -> dict[str, Any]:
    rows = await staff.list_users(session, org_id, {}, ListOpts(limit=USER_LIMIT))
    return {"results": [{"email": u.email or "", "name": u.name} for u in rows]}


async def recipients(session: AsyncSession, org_id: int, viewer: Viewer) -> dict[str, Any]:
    """Contacts and collections a flow may start for (the first 100 of each the user may
    see)."""
    people = await list_contacts(session, org_id, {}, ListOpts(limit=RECIPIENT_LIMIT), viewer)
    collections = await groups.list_groups(
        session, org_id, {}, ListOpts(limit=RECIPIENT_LIMIT), viewer
    )
    return {
        "results": [{"uuid": str(c.id), "name": c.name or "", "type": "contact"} for c in people]
        + [{"uuid": str(g.id), "name": g.label, "type": "group"} for g in collections]
    }


# --- flows -----------------------------------------------------------------------------------


def _flow_entry(flow_uuid: str, name: str, active: bool, expires: Any) -> dict[str, Any]:
    minutes = expires if isinstance(expires, int) and not isinstance(expires, bool) else None
    return {
        "uuid": flow_uuid,
        "name": name,
        "type": "message",
        "archived": not active,
        "labels": [],
        "parent_refs": [],
        "expires": minutes if minutes and minutes > 0 else DEFAULT_EXPIRES,
    }


def _flows_statement(org_id: int) -> Any:
    """The organization's flows with their newest revision's `expire_after_minutes`."""
    newest = (
        select(
            col(FlowRevision.flow_id).label("flow_id"),
            func.max(FlowRevision.revision_number).label("number"),
        )
        .where(col(FlowRevision.organization_id) == org_id)
        .group_by(col(FlowRevision.flow_id))
        .subquery()
    )
    return (
        select(
            col(Flow.uuid),
            col(Flow.name),
            col(Flow.is_active),
            col(FlowRevision.definition)["expire_after_minutes"],
        )
        .outerjoin(newest, newest.c.flow_id == col(Flow.id))
        .outerjoin(
            FlowRevision,
            and_(
                col(FlowRevision.flow_id) == col(Flow.id),
                col(FlowRevision.revision_number) == newest.c.number,
            ),
        )
        .where(col(Flow.organization_id) == org_id)
    )


async def flow_list(session: AsyncSession, org_id: int) -> dict[str, Any]:
    """The organization's active flows (what an enter_flow action may pick)."""
    stmt = _flows_statement(org_id).where(col(Flow.is_active).is_(True)).order_by(col(Flow.name))
    rows = (await session.execute(stmt)).all()
    return {"results": [_flow_entry(*row) for row in rows]}


async def flow_entry(session: AsyncSession, org_id: int, flow_uuid: str) -> dict[str, Any]:
    """One flow of the organization, active or not (`archived` says which)."""
    wanted = col(Flow.uuid) == _flow_uuid(flow_uuid)
    row = (await session.execute(_flows_statement(org_id).where(wanted))).first()
    if row is None:
        raise _no_flow(flow_uuid)
    return _flow_entry(*row)


def _no_flow(flow_uuid: str) -> EditorError:
    return EditorError(404, f"No flow with uuid {flow_uuid!r}")


def _flow_uuid(raw: str) -> str:
    """A flow uuid as written in the path; anything that is not a UUID names no flow."""
    try:
        uuid.UUID(raw)
    except ValueError:
        raise _no_flow(raw) from None
    return raw


async def _flow(session: AsyncSession, org_id: int, flow_uuid: str, *, lock: bool = False) -> Flow:
    flow = await flows.flow_by_uuid(session, org_id, _flow_uuid(flow_uuid), lock=lock)
    if flow is None:
        raise _no_flow(flow_uuid)
    return flow


# --- revisions -----------------------------------------------------------------------------


def _revision(
    rid: int | None, created: datetime | None, status: str, number: int, email: Any, name: Any
) -> dict[str, Any]:
    return {
        "id": rid or 0,
        "created_on": _iso(created),
        "user": {"email": email or "", "name": name or ""},
        "status": status,
        "version": EDITOR_VERSION,
        "revision": number,
    }


async def revisions(session: AsyncSession, org_id: int, flow_uuid: str) -> dict[str, Any]:
    """The flow's newest revisions, newest first."""
    flow = await _flow(session, org_id, flow_uuid)
    rows = (
        await session.execute(
            select(
                col(FlowRevision.id),
                col(FlowRevision.inserted_at),
                col(FlowRevision.status),
                col(FlowRevision.revision_number),
                col(User.email),
                col(User.name),
            )
            .outerjoin(User, col(User.id) == col(FlowRevision.user_id))
            .where(
                col(FlowRevision.organization_id) == org_id,
                col(FlowRevision.flow_id) == saved_id(flow),
            )
            .order_by(col(FlowRevision.revision_number).desc())
            .limit(REVISION_LIMIT)
        )
    ).all()
    if not rows:  # never written by this backend (module docstring)
        return {"results": [_revision(0, flow.inserted_at, "draft", 0, None, None)]}
    return {"results": [_revision(*row) for row in rows]}


async def revision(
    session: AsyncSession, org_id: int, flow_uuid: str, raw_id: str
) -> dict[str, Any]:
    """One revision's definition, named and numbered as the flow and the revision are."""
    flow = await _flow(session, org_id, flow_uuid)
    missing = EditorError(404, f"No revision {raw_id!r} of this flow")
    if not (raw_id.isascii() and raw_id.isdigit()) or len(raw_id) > 18:
        raise missing
    found = await session.scalar(
        select(FlowRevision).where(
            col(FlowRevision.organization_id) == org_id,
            col(FlowRevision.flow_id) == saved_id(flow),
            col(FlowRevision.id) == int(raw_id),
        )
    )
    if found is not None:
        definition = copy.deepcopy(flows.unwrap(found.definition))
        number = found.revision_number
    elif (
        int(raw_id) == 0 and await flows.latest_definition(session, org_id, saved_id(flow)) is None
    ):
        definition, number = flows.empty_definition(flow), 0
    else:
        raise missing
    definition.update(name=flow.name, uuid=flow.uuid, revision=number)
    return {"definition": definition, "metadata": {"issues": []}}


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise EditorError(400, "The request body must be a JSON object")
    return body


def _definition(flow: Flow, body: Any) -> dict[str, Any]:
    """The definition the editor posted (bare, or wrapped under `definition`)."""
    definition = flows.unwrap(_object(body))
    if not definition:
        raise EditorError(400, "The flow definition must be a JSON object")
    if not isinstance(definition.get("nodes"), list):
        raise EditorError(400, "The flow definition must have a list of nodes")
    given = definition.get("uuid")
    if given is not None and given != flow.uuid:
        raise EditorError(400, f"The definition is of flow {given!r}, not of {flow.uuid!r}")
    return {**definition, "uuid": flow.uuid}


async def save_revision(
    session: AsyncSession, org_id: int, user_id: int, flow_uuid: str, body: Any
) -> dict[str, Any]:
    """Store the editor's definition as the flow's newest draft (module docstring: the
    editing lock)."""
    flow = await _flow(session, org_id, flow_uuid, lock=True)
    definition = _definition(flow, body)
    holder = await flows.lock_holder(session, flow, user_id)
    if holder is not None:
        raise EditorError(409, EDITING.format(name=holder))
    saved = await flows.save_revision(session, org_id, flow, definition, user_id)
    author = await session.execute(
        select(col(User.email), col(User.name)).where(col(User.id) == user_id)
    )
    email, name = author.first() or (None, None)
    entry = _revision(
        saved_id(saved), saved.inserted_at, saved.status, saved.revision_number, email, name
    )
    return {"revision": entry, "issues": [], "metadata": {"issues": []}}


# --- activity ------------------------------------------------------------------------------


async def activity(session: AsyncSession, org_id: int, flow_uuid: str) -> dict[str, Any]:
    """Where the flow's unfinished runs wait: contacts and profiles per node."""
    flow = await _flow(session, org_id, flow_uuid)
    rows = await session.execute(
        select(
            col(FlowContext.node_uuid),
            func.count(func.distinct(FlowContext.contact_id)),
            func.count(func.distinct(FlowContext.profile_id)),
        )
        .where(
            col(FlowContext.organization_id) == org_id,
            col(FlowContext.flow_id) == saved_id(flow),
            col(FlowContext.completed_at).is_(None),
            col(FlowContext.node_uuid).is_not(None),
        )
        .group_by(col(FlowContext.node_uuid))
    )
    nodes: dict[str, int] = {}
    profiles: dict[str, int] = {}
    for node, contacts, people in rows.all():
        nodes[str(node)] = int(contacts)
        profiles[str(node)] = int(people)
    return {"nodes": nodes, "segments": {}, "recentMessages": {}, "profiles": profiles}
