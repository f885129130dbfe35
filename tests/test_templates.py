"""Message templates and HSM sends (resolvers/templates.py, resolvers/hsm.py): templates kept
per organization with their placeholders checked; an approved HSM template reaching an
opted-in contact outside the 24-hour window through Gupshup's and Meta's template APIs (a
fake provider over HTTP); what is refused; and a collection send that reaches only the
members who opted in. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Contact, Message, utcnow
from resolvers import outbox, providers
from tests.test_jobs import wait_until
from tests.test_whatsapp import Org, settled, wa_server
from tests.utils.chat import import_and_publish
from tests.utils.fake_provider import FakeProvider
from tests.utils.flow_builder import FlowBuilder
from tests.utils.load import Call, burst
from tests.utils.server import LiveServer
from tests.utils.tenants import Tenant, create_tenant, unique_phone

CREATE = """mutation($i: SessionTemplateInput!) { createSessionTemplate(input: $i) {
  sessionTemplate { id label body shortcode isHsm numberParameters status uuid type
    language { locale } } errors { key message } } }"""
UPDATE = """mutation($id: ID!, $i: SessionTemplateInput) { updateSessionTemplate(id: $id,
  input: $i) { sessionTemplate { id label status } errors { key message } } }"""
DELETE = """mutation($id: ID!) { deleteSessionTemplate(id: $id) { errors { key message } } }"""
LIST = """query($f: SessionTemplateFilter) { sessionTemplates(filter: $f, opts: {order: ASC}) {
  label } countSessionTemplates(filter: $f) }"""
ONE = """query($id: ID!) { sessionTemplate(id: $id) { sessionTemplate { label }
  errors { key message } } }"""
SEND = """mutation($t: ID!, $r: ID!, $p: [String]) { sendHsmMessage(templateId: $t,
  receiverId: $r, parameters: $p) { message { id body isHsm templateId params status }
  errors { key message } } }"""
SEND_GROUP = """mutation($t: ID!, $g: ID!, $p: [String]) { sendHsmMessageToGroup(templateId: $t,
  groupId: $g, parameters: $p) { success contactIds errors { key message } } }"""
OPTIN = """mutation($phone: String!) { optinContact(phone: $phone, name: "Asha") {
  contact { id } errors { message } } }"""
NUDGE = "Hi {{1}}, today's activity is {{2}}. Reply to start."


def _create(tenant: Tenant, role: str = "staff", **fields: Any) -> dict[str, Any]:
    given = {"languageId": tenant.language_id("en"), **fields}
    result: dict[str, Any] = tenant.data(CREATE, {"i": given}, role=role)["createSessionTemplate"]
    return result


def _nudge(tenant: Tenant, **fields: Any) -> str:
    made = _create(
        tenant,
        label=f"Daily nudge {unique_phone()[-6:]}",
        body=NUDGE,
        shortcode="daily_nudge",
        isHsm=True,
        uuid="gs-template-7f3a",
        **fields,
    )
    assert made["errors"] is None, made
    return str(made["sessionTemplate"]["id"])


def test_templates_are_kept_per_organization_with_their_placeholders_checked(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    saved = _create(tenant, label="Thanks", body="Thank you for your answer!")
    assert saved["errors"] is None
    text = saved["sessionTemplate"]
    assert (text["isHsm"], text["status"], text["type"], text["language"]) == (
        False,
        None,
        "TEXT",
        {"locale": "en"},
    )
    # An HSM template: its placeholders count, and it is approved once it names the
    # provider's template.
    pending = _create(tenant, label="Nudge", body=NUDGE, shortcode="nudge", isHsm=True)
    assert pending["errors"] is None
    hsm = pending["sessionTemplate"]
    assert (hsm["numberParameters"], hsm["status"]) == (2, "PENDING")
    approved = tenant.data(UPDATE, {"id": hsm["id"], "i": {"uuid": "gs-1"}})
    assert approved["updateSessionTemplate"]["sessionTemplate"]["status"] == "APPROVED"

    def refused(fields: dict[str, Any], key: str, words: str) -> None:
        result = _create(tenant, **fields)
        assert result["sessionTemplate"] is None, result
        assert result["errors"][0]["key"] == key and words in result["errors"][0]["message"]

    hsm_fields = {"label": "Other", "shortcode": "other", "isHsm": True}
    refused({**hsm_fields, "body": "Hi {{1}} and {{3}}"}, "body", "numbered {{1}}, {{2}}")
    refused({**hsm_fields, "body": NUDGE, "numberParameters": 3}, "number_parameters", "be 2")
    refused({"label": "Other", "body": NUDGE, "isHsm": True}, "shortcode", "can't be blank")
    refused({"label": "Thanks", "body": "Again"}, "label", "has already been taken")
    refused({"label": "Empty", "body": "  "}, "body", "can't be blank")
    # Listed and counted, filtered; another organization sees none of them.
    found = tenant.data(LIST, {"f": {"isHsm": True}})
    assert found == {"sessionTemplates": [{"label": "Nudge"}], "countSessionTemplates": 1}
    assert tenant.data(LIST, {"f": {"term": "thank"}})["countSessionTemplates"] == 1
    assert other_tenant.data(LIST, {"f": {}})["countSessionTemplates"] == 0
    theirs = other_tenant.data(ONE, {"id": hsm["id"]})["sessionTemplate"]
    assert theirs == {
        "sessionTemplate": None,
        "errors": [
            {"key": "Elixir.Glific.Templates.SessionTemplate", "message": "Resource not found"}
        ],
    }
    assert tenant.data(DELETE, {"id": text["id"]})["deleteSessionTemplate"]["errors"] is None
    assert tenant.data(LIST, {"f": {}})["countSessionTemplates"] == 1


def test_templates_created_at_once_with_one_label_keep_one(tenant: Tenant) -> None:
    given = {"label": "Weekly", "body": "See you next week", "languageId": tenant.language_id("en")}
    token = tenant.token("staff")
    answers = burst(tenant.server.base_url, [Call(CREATE, {"i": given}, token)] * 6)
    made = [a.body["data"]["createSessionTemplate"] for a in answers]
    assert sum(m["errors"] is None for m in made) == 1, made
    assert all(
        m["errors"] == [{"key": "label", "message": "Label: has already been taken"}]
        for m in made
        if m["errors"] is not None
    )
    assert tenant.data(LIST, {"f": {"label": "Weekly"}})["countSessionTemplates"] == 1


def _opted_in_outside_the_window(org: Org, phone: str) -> int:
    """A contact who wrote once, opted in, and has been silent for 25 hours."""
    org.gupshup(org.text(phone, "hello"))
    wait_until(settled(org, phone, 1))
    org.tenant.data(OPTIN, {"phone": phone})
    org_id = org.tenant.org_id

    async def age(session: AsyncSession) -> int:
        await session.execute(
            update(Contact)
            .where(col(Contact.organization_id) == org_id, col(Contact.phone) == phone)
            .values(last_message_at=utcnow() - timedelta(hours=25))
        )
        found = await session.scalar(
            select(col(Contact.id)).where(
                col(Contact.organization_id) == org_id, col(Contact.phone) == phone
            )
        )
        assert found is not None
        return int(found)

    return int(org.server.in_transaction(age, org_id=org_id))


__all__ = ["wa_server"]  # the module's server that runs jobs (tests/test_whatsapp.py)


def _collection(tenant: Tenant, members: list[str]) -> str:
    group: str = tenant.data(
        "mutation($i: GroupInput!) { createGroup(input: $i) { group { id } } }",
        {"i": {"label": f"Class {unique_phone()}"}},
    )["createGroup"]["group"]["id"]
    tenant.data(
        "mutation($i: GroupContactsInput!) { updateGroupContacts(input: $i) { numberDeleted } }",
        {"i": {"groupId": group, "addContactIds": members, "deleteContactIds": []}},
    )
    return group


START = """mutation($f: ID!, $c: ID!) { startContactFlow(flowId: $f, contactId: $c) {
  success errors { message } } }"""


def _flow_ids(tenant: Tenant) -> dict[str, str]:
    return {f["name"]: f["id"] for f in tenant.data("{ flows { id name } }")["flows"]}


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeProvider]:
    with FakeProvider(timeout_sleep=3) as provider:
        yield provider


@pytest.mark.parametrize("sender", ["gupshup", "meta"])
def test_an_approved_template_reaches_an_opted_in_contact_outside_the_window(
    wa_server: LiveServer, fake: FakeProvider, sender: str
) -> None:
    org = Org(wa_server, fake, sender=sender)
    phone = unique_phone()
    contact_id = _opted_in_outside_the_window(org, phone)
    template = _nudge(org.tenant)
    fake.reset()
    sent = org.tenant.data(
        SEND, {"t": template, "r": str(contact_id), "p": ["Asha", "drawing"]}, role="staff"
    )["sendHsmMessage"]
    assert sent["errors"] is None, sent
    message = sent["message"]
    body = "Hi Asha, today's activity is drawing. Reply to start."
    assert (message["body"], message["isHsm"], message["params"]) == (
        body,
        True,
        ["Asha", "drawing"],
    )
    assert message["templateId"] == int(template)
    wait_until(settled(org, phone, 2))
    stored = org.messages(phone)[-1]
    assert (stored.status, stored.bsp_message_id is not None) == ("sent", True), stored.errors
    (request,) = fake.requests
    if sender == "gupshup":
        assert request.path == "/wa/api/v1/template/msg"
        assert request.form is not None and request.form["destination"] == phone
        assert json.loads(request.form["template"]) == {
            "id": "gs-template-7f3a",
            "params": ["Asha", "drawing"],
        }
    else:
        assert request.json is not None and request.json["type"] == "template"
        assert request.json["template"] == {
            "name": "daily_nudge",
            "language": {"code": "en"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Asha"},
                        {"type": "text", "text": "drawing"},
                    ],
                }
            ],
        }


def test_what_an_hsm_send_refuses(tenant: Tenant) -> None:
    template = _nudge(tenant)
    phone = unique_phone()
    contact = tenant.create_contact("Not asked", phone=phone)["id"]

    def send(template_id: str, params: list[str | None], contact_id: str = contact) -> Any:
        return tenant.gql(SEND, {"t": template_id, "r": contact_id, "p": params}, role="staff")

    # Not opted in: WhatsApp would refuse it.
    body = send(template, ["Asha", "drawing"])
    assert body["errors"][0]["message"] == "Contact is not opted in to receive HSM templates"
    tenant.data(OPTIN, {"phone": phone})
    # Wrong number of parameters, or a blank or null one (Glific's words).
    wrong: list[list[str | None]] = [["Asha"], ["Asha", " "], [None, "drawing"], ["Asha", "x", "y"]]
    for params in wrong:
        result = send(template, params)["data"]["sendHsmMessage"]
        assert result["message"] is None
        assert result["errors"] == [
            {
                "key": "parameters",
                "message": "You need to provide correct number of parameters for hsm template",
            }
        ]
    # Not approved yet, or not an HSM template at all.
    pending = _create(tenant, label="Pending", body="Hi {{1}}", shortcode="pending", isHsm=True)[
        "sessionTemplate"
    ]["id"]
    plain = _create(tenant, label="Plain", body="Thanks")["sessionTemplate"]["id"]
    assert (
        "not approved" in send(pending, ["Asha"])["data"]["sendHsmMessage"]["errors"][0]["message"]
    )
    assert "not an HSM" in send(plain, [])["data"]["sendHsmMessage"]["errors"][0]["message"]
    # Another organization's template or contact is not found.
    other = create_tenant(tenant.server)
    theirs = _nudge(other)
    assert send(theirs, ["Asha", "drawing"])["data"]["sendHsmMessage"]["errors"][0]["message"] == (
        "Resource not found"
    )
    their_phone = unique_phone()
    their_contact = other.create_contact("Theirs", phone=their_phone)["id"]
    other.data(OPTIN, {"phone": their_phone})
    refused = send(template, ["Asha", "drawing"], their_contact)
    assert refused["errors"][0]["message"] == "Receiver does not exist"
    # Nothing was sent.
    messages = tenant.data(
        "query($id: ID!) { messages(filter: {contactId: $id}) { body } }", {"id": contact}
    )["messages"]
    assert messages == []
    # It goes once all is right.
    assert send(template, ["Asha", "drawing"])["data"]["sendHsmMessage"]["errors"] is None


def test_a_collection_send_reaches_only_members_who_opted_in(timed_tenant: Tenant) -> None:
    tenant = timed_tenant
    template = _nudge(tenant)
    members = []
    for name, opted in (("Asha", True), ("Ravi", True), ("Meena", False)):
        phone = unique_phone()
        members.append(tenant.create_contact(name, phone=phone)["id"])
        if opted:
            tenant.data(OPTIN, {"phone": phone})
    group = _collection(tenant, members)
    result = tenant.data(
        SEND_GROUP, {"t": template, "g": group, "p": ["friend", "singing"]}, role="staff"
    )["sendHsmMessageToGroup"]
    assert result["success"] is True and sorted(result["contactIds"]) == sorted(members)

    def copies(contact_id: str) -> list[Any]:
        return [
            m
            for m in tenant.data(
                "query($id: ID!) { messages(filter: {contactId: $id}) { body isHsm groupId } }",
                {"id": contact_id},
            )["messages"]
            if m["groupId"] is not None
        ]

    expected = {
        "body": "Hi friend, today's activity is singing. Reply to start.",
        "isHsm": True,
        "groupId": int(group),
    }

    def reached(member: str) -> Callable[[], bool]:
        return lambda: copies(member) == [expected]

    for member in members[:2]:
        wait_until(reached(member))
    assert copies(members[2]) == []


def _templated_flow(template_uuid: str, name: str) -> dict[str, Any]:
    """Start of a morning flow: the HSM nudge (the only message that reaches a child after
    a quiet day), then wait for the answer."""
    f = FlowBuilder(name)
    f.send(
        "nudge",
        "Hi @contact.name, today's activity is drawing.",
        "listen",
        templating={
            "uuid": str(uuid.uuid4()),
            "template": {"uuid": template_uuid, "name": "Daily nudge"},
            "variables": ["@contact.name", "drawing"],
        },
    )
    f.wait("listen", [], other=None, result_name="answer", other_name="All Responses")
    return f.build()


def test_a_flow_opens_the_day_with_an_hsm_template(
    wa_server: LiveServer, fake: FakeProvider
) -> None:
    org = Org(wa_server, fake, sender="gupshup")
    phone = unique_phone()
    contact_id = _opted_in_outside_the_window(org, phone)
    _nudge(org.tenant)
    unknown = _templated_flow("not-a-template-here", "Unknown nudge")
    known = _templated_flow("gs-template-7f3a", "Morning nudge")
    import_and_publish(org.tenant, (known, []), (unknown, []))
    flows = _flow_ids(org.tenant)
    fake.reset()
    started = org.tenant.data(
        START, {"f": flows["Morning nudge"], "c": str(contact_id)}, role="staff"
    )
    assert started["startContactFlow"] == {"success": True, "errors": None}
    wait_until(settled(org, phone, 2))
    nudge = org.messages(phone)[-1]
    assert (nudge.body, nudge.is_hsm, nudge.params) == (
        "Hi Asha, today's activity is drawing. Reply to start.",
        True,
        ["Asha", "drawing"],
    )
    assert nudge.status == "sent", nudge.errors
    (request,) = fake.requests
    assert request.path == "/wa/api/v1/template/msg"
    assert request.form is not None
    assert json.loads(request.form["template"])["params"] == ["Asha", "drawing"]
    # A flow naming a template this organization does not have sends its text, which the
    # closed window refuses.
    org.tenant.data(START, {"f": flows["Unknown nudge"], "c": str(contact_id)}, role="staff")
    wait_until(settled(org, phone, 3))
    text = org.messages(phone)[-1]
    assert (text.is_hsm, text.status) == (False, "error")
    assert text.errors["message"] == outbox.WINDOW_CLOSED
    # Once the contact opts out, the template is not used either: its text meets the
    # closed window.
    org_id = org.tenant.org_id

    async def opt_out(session: AsyncSession) -> None:
        await session.execute(
            update(Contact).where(col(Contact.id) == contact_id).values(optout_time=utcnow())
        )

    org.server.in_transaction(opt_out, org_id=org_id)
    org.tenant.data(START, {"f": flows["Morning nudge"], "c": str(contact_id)}, role="staff")
    wait_until(settled(org, phone, 4))
    after = org.messages(phone)[-1]
    assert (after.is_hsm, after.status, after.errors["message"]) == (
        False,
        "error",
        outbox.WINDOW_CLOSED,
    )
    assert len(fake.requests) == 1  # only the first nudge ever reached the provider


def test_a_queued_template_is_checked_again_when_it_goes(
    wa_server: LiveServer, fake: FakeProvider
) -> None:
    org = Org(wa_server, fake, sender="gupshup")
    phone = unique_phone()
    contact_id = _opted_in_outside_the_window(org, phone)
    template = _nudge(org.tenant)
    org_id = org.tenant.org_id

    def queue_hsm(opted_out: bool) -> None:
        """An HSM already in the outbox, as sendHsmMessage leaves it, while the contact
        opts out (or not) before it goes."""

        async def write(session: AsyncSession) -> None:
            contact = await session.get(Contact, contact_id)
            assert contact is not None
            contact.optout_time = utcnow() if opted_out else None
            message = Message(
                organization_id=org_id,
                contact_id=contact_id,
                flow="outbound",
                body="Hi Asha, today's activity is drawing. Reply to start.",
                uuid=str(uuid.uuid4()),
                is_hsm=True,
                template_id=int(template),
                params=["Asha", "drawing"],
            )
            session.add(message)
            sender = await providers.sender_of(session, org_id)
            await outbox.queue(session, org_id, contact, message, sender, message.body)

        wa_server.in_transaction(write, org_id=org_id)

    fake.reset()
    queue_hsm(opted_out=True)
    wait_until(settled(org, phone, 2))
    assert org.messages(phone)[-1].errors["message"] == outbox.NOT_OPTED_IN
    # Opted in again, but the template was deactivated meanwhile.
    org.tenant.data(UPDATE, {"id": template, "i": {"isActive": False}}, role="staff")
    queue_hsm(opted_out=False)
    wait_until(settled(org, phone, 3))
    assert org.messages(phone)[-1].errors["message"] == outbox.TEMPLATE_GONE
    assert fake.requests == []  # neither reached the provider


HINDI_NUDGE = "नमस्ते {{1}}, आज की गतिविधि {{2}} है।"
SET_LANGUAGE = """mutation($id: ID!, $l: ID!) { updateContact(id: $id, input: {languageId: $l}) {
  errors { message } } }"""


def _translated_nudge(tenant: Tenant) -> str:
    """The nudge in English, approved in Hindi as Gupshup's template `gs-template-hi-9c1`,
    and waiting for approval in Tamil."""
    translations = {
        tenant.language_id("hi"): {
            "uuid": "gs-template-hi-9c1",
            "body": HINDI_NUDGE,
            "status": "APPROVED",
            "number_parameters": 2,
        },
        tenant.language_id("ta"): {
            "uuid": "gs-template-ta-4d2",
            "body": "வணக்கம் {{1}}, இன்று {{2}}.",
            "status": "PENDING",
        },
    }
    return _nudge(tenant, translations=json.dumps(translations))


def _speaks(tenant: Tenant, contact_id: Any, locale: str) -> None:
    changed = tenant.data(SET_LANGUAGE, {"id": str(contact_id), "l": tenant.language_id(locale)})
    assert changed["updateContact"]["errors"] is None, changed


@pytest.mark.parametrize("sender", ["gupshup", "meta"])
def test_a_contact_gets_the_templates_approved_translation_into_their_language(
    wa_server: LiveServer, fake: FakeProvider, sender: str
) -> None:
    """Glific's rule: a contact whose language the template has an approved translation for
    gets that translation (its text, and the provider's template in that language); a
    translation still waiting for approval is not used."""
    org = Org(wa_server, fake, sender=sender)
    phone = unique_phone()
    contact_id = _opted_in_outside_the_window(org, phone)
    template = _translated_nudge(org.tenant)
    sent: list[tuple[str, Any]] = []
    for locale, count in (("hi", 2), ("ta", 3)):
        _speaks(org.tenant, contact_id, locale)
        fake.reset()
        result = org.tenant.data(
            SEND, {"t": template, "r": str(contact_id), "p": ["Asha", "drawing"]}, role="staff"
        )["sendHsmMessage"]
        assert result["errors"] is None, result
        wait_until(settled(org, phone, count))
        stored = org.messages(phone)[-1]
        assert stored.status == "sent", stored.errors
        (request,) = fake.requests
        if sender == "gupshup":
            assert request.form is not None
            sent.append((result["message"]["body"], json.loads(request.form["template"])["id"]))
        else:
            assert request.json is not None
            named = request.json["template"]
            sent.append((result["message"]["body"], (named["name"], named["language"]["code"])))
    english = "Hi Asha, today's activity is drawing. Reply to start."
    hindi = "नमस्ते Asha, आज की गतिविधि drawing है।"
    if sender == "gupshup":
        assert sent == [(hindi, "gs-template-hi-9c1"), (english, "gs-template-7f3a")]
    else:
        assert sent == [(hindi, ("daily_nudge", "hi")), (english, ("daily_nudge", "en"))]


def test_a_flows_template_and_a_collections_copies_speak_each_contacts_language(
    wa_server: LiveServer, fake: FakeProvider
) -> None:
    org = Org(wa_server, fake, sender="gupshup")
    phone = unique_phone()
    contact_id = _opted_in_outside_the_window(org, phone)
    _speaks(org.tenant, contact_id, "hi")
    template = _translated_nudge(org.tenant)
    flow = _templated_flow("gs-template-7f3a", "Translated nudge")
    import_and_publish(org.tenant, (flow, []))
    fake.reset()
    started = org.tenant.data(
        START, {"f": _flow_ids(org.tenant)["Translated nudge"], "c": str(contact_id)}, role="staff"
    )
    assert started["startContactFlow"] == {"success": True, "errors": None}
    wait_until(settled(org, phone, 2))
    nudge = org.messages(phone)[-1]
    assert (nudge.body, nudge.status) == ("नमस्ते Asha, आज की गतिविधि drawing है।", "sent")
    (request,) = fake.requests
    assert request.form is not None
    assert json.loads(request.form["template"])["id"] == "gs-template-hi-9c1"

    # A collection of the Hindi speaker and an English speaker: each copy in its language.
    other = unique_phone()
    other_id = org.tenant.create_contact("Ravi", phone=other)["id"]
    org.tenant.data(OPTIN, {"phone": other})
    group = _collection(org.tenant, [str(contact_id), other_id])
    result = org.tenant.data(
        SEND_GROUP, {"t": template, "g": group, "p": ["friend", "singing"]}, role="staff"
    )["sendHsmMessageToGroup"]
    assert result["success"] is True, result

    def copy_of(member: Any) -> Callable[[], list[str]]:
        return lambda: [
            m["body"]
            for m in org.tenant.data(
                "query($id: ID!) { messages(filter: {contactId: $id}) { body groupId } }",
                {"id": str(member)},
            )["messages"]
            if m["groupId"] is not None
        ]

    wait_until(lambda: bool(copy_of(contact_id)()) and bool(copy_of(other_id)()))
    assert copy_of(contact_id)() == ["नमस्ते friend, आज की गतिविधि singing है।"]
    assert copy_of(other_id)() == ["Hi friend, today's activity is singing. Reply to start."]


# What Glific's web app (6.18) asks on its HSM templates and speed sends screens.
WEB_APP_LIST = """query sessionTemplates($filter: SessionTemplateFilter!, $opts: Opts!) {
  sessionTemplates(filter: $filter, opts: $opts) { id body footer label isHsm updatedAt
    translations type quality category language { id label locale } bspId shortcode status
    reason isReserved isActive numberParameters hasButtons buttons buttonType
    tag { id label } MessageMedia { id caption sourceUrl } } }"""
WEB_APP_CREATE = """mutation createSessionTemplate($input: SessionTemplateInput!) {
  createSessionTemplate(input: $input) { sessionTemplate { id label body footer isActive
    language { label id } translations type MessageMedia { id caption sourceUrl } category
    shortcode example hasButtons buttons buttonType } errors { key message } } }"""


def test_the_web_apps_template_screens_keep_what_their_form_sends(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    tag = tenant.data('mutation { createTag(input: {label: "Mornings"}) { tag { id } } }')[
        "createTag"
    ]["tag"]["id"]
    buttons = [{"type": "QUICK_REPLY", "text": "Start"}, {"type": "QUICK_REPLY", "text": "Later"}]
    given = {
        "label": f"Morning {unique_phone()[-6:]}",
        "body": "Hi {{1}}, ready?",
        "footer": "Team Asha",
        "isHsm": True,
        "shortcode": "morning_ready",
        "category": "UTILITY",
        "languageId": tenant.language_id("en"),
        "type": "TEXT",
        "hasButtons": True,
        "buttonType": "QUICK_REPLY",
        "buttons": json.dumps(buttons),
        "tagId": tag,
        "messageMediaId": None,
        "uuid": "gs-ready-1",
    }
    made = tenant.data(WEB_APP_CREATE, {"input": given})["createSessionTemplate"]
    assert made["errors"] is None, made
    template = made["sessionTemplate"]
    assert (template["footer"], template["hasButtons"], template["buttonType"]) == (
        "Team Asha",
        True,
        "QUICK_REPLY",
    )
    assert json.loads(template["buttons"]) == buttons
    assert template["MessageMedia"] is None
    listed = tenant.data(WEB_APP_LIST, {"filter": {"isHsm": True}, "opts": {}})
    [row] = [t for t in listed["sessionTemplates"] if t["id"] == template["id"]]
    assert (row["bspId"], row["tag"], row["quality"], row["reason"]) == (
        "gs-ready-1",
        {"id": tag, "label": "Mornings"},
        None,
        None,
    )
    # The form offers a WhatsApp form as a button: none are kept here, and asking says so.
    forms = tenant.data(
        """query listWhatsappForms($filter: WhatsappFormFilter) {
          whatsappForms: listWhatsappForms(filter: $filter) { id name status description
            categories sheet { id url } updatedAt } }""",
        {"filter": {"status": "PUBLISHED"}},
    )
    assert forms == {"whatsappForms": []}
    assert tenant.data("{ whatsappHsmCategories }")["whatsappHsmCategories"] == [
        "UTILITY",
        "MARKETING",
    ]
    # Refused with what was wrong, and nothing stored: media, buttons that are no list,
    # another organization's tag.
    other_tag = other_tenant.data(
        'mutation { createTag(input: {label: "Theirs"}) { tag { id } } }'
    )["createTag"]["tag"]["id"]
    for change, key in (
        ({"messageMediaId": "5"}, "message_media_id"),
        ({"buttons": json.dumps({"text": "Start"})}, "buttons"),
        ({"tagId": other_tag}, None),
    ):
        refused = tenant.data(
            WEB_APP_CREATE, {"input": {**given, "label": f"Other {unique_phone()}", **change}}
        )["createSessionTemplate"]
        assert refused["sessionTemplate"] is None and refused["errors"], (change, refused)
        if key is not None:
            assert refused["errors"][0]["key"] == key, refused
    count = tenant.data(
        "query($f: SessionTemplateFilter) { countSessionTemplates(filter: $f) }",
        {"f": {"isHsm": True}},
    )["countSessionTemplates"]
    assert count == 1
