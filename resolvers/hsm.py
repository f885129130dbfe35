"""Sending an HSM template (Glific's `sendHsmMessage`, `sendHsmMessageToGroup`): the one
kind of message WhatsApp lets through outside the 24-hour window, to contacts who opted in.

The message stores the filled-in text (what the chat screen shows) with `is_hsm`, the
template and its parameters; the outbox sends it through the provider's template API
(`resolvers.delivery.TemplateRef`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from models import Message, SessionTemplate
from resolvers import group_sends, outbox, sending, templates
from resolvers.auth import AuthUser
from resolvers.contacts import Viewer
from resolvers.errors import ClientError, InputErrors
from resolvers.sending import INVALID_CONTACT, receiver

# Glific's words.
WRONG_COUNT = "You need to provide correct number of parameters for hsm template"


async def fill(
    session: AsyncSession, org_id: int, template_id: Any, parameters: Any
) -> tuple[SessionTemplate, list[str], str]:
    """The approved HSM template, its parameters checked, and its filled-in text."""
    template = await templates.get_template(session, org_id, template_id, key="template_id")
    if not template.is_hsm:
        raise InputErrors.raw("template_id", "The template is not an HSM template")
    if template.status != templates.APPROVED:
        raise InputErrors.raw(
            "template_id",
            "The template is not approved: record the provider's template id (uuid) first",
        )
    if not template.is_active:
        raise InputErrors.raw("template_id", "The template is not active")
    if template.type != "text":
        raise InputErrors.raw("template_id", "Only text templates can be sent here")
    values = ["" if p is None else str(p) for p in parameters or []]
    if len(values) != template.number_parameters or any(not p.strip() for p in values):
        raise InputErrors.raw("parameters", WRONG_COUNT)
    return template, values, templates.render(template, values)


async def send_hsm_message(
    session: AsyncSession,
    org_id: int,
    user: AuthUser,
    template_id: Any,
    parameters: Any,
    receiver_id: Any,
    viewer: Viewer | None = None,
) -> Message:
    template, values, _ = await fill(session, org_id, template_id, parameters)
    contact = await receiver(session, org_id, receiver_id, viewer)
    if contact.status != "valid":
        raise ClientError(INVALID_CONTACT)
    if not outbox.hsm_allowed(contact):
        raise ClientError(outbox.NOT_OPTED_IN)
    return await sending.staff_send(
        session,
        org_id,
        user,
        contact,
        type="text",
        body=templates.render(template, values, contact.language_id),
        is_hsm=True,
        template_id=template.id,
        params=values,
    )


async def send_hsm_to_group(
    session: AsyncSession,
    org_id: int,
    user: AuthUser,
    template_id: Any,
    parameters: Any,
    group_id: Any,
    viewer: Viewer | None = None,
) -> list[int]:
    """The members it is for; each opted-in one gets a copy (written by the group job)."""
    template, values, body = await fill(session, org_id, template_id, parameters)
    hsm = group_sends.Hsm(template_id=int(template.id or 0), params=values)
    return await group_sends.send_to_group(
        session, org_id, user, {"type": "text", "body": body}, group_id, viewer, hsm=hsm
    )
