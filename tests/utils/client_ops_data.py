"""Seed data and variables for running Glific's client documents (tests/test_client_ops.py).

`seed_world` fills a fresh tenant the way a real NGO's account looks: contact fields, a
contact on a shared phone with a default, an active and a spare profile, a group holding the
contact and the signed-in manager, a shared location, a contact to delete. Whatever has a
GraphQL operation is created through it; groups, locations and the user-contact link have none
(yet) and are written directly.

`variables_for` builds a document's variables from its declarations: a per-operation table
first (root field + variable name), then rules by variable name and by type.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import secrets
import uuid as uuid_lib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import FlowLabel, Language, Location, User, UserGroup, UserJob
from resolvers import groups, inbound, providers
from resolvers.conversation import InboundMessage
from resolvers.flow_engine import Input
from tests.utils.client_ops import Operation, ShapeRules
from tests.utils.flow_defs import awaiting_flow, export, small_flow
from tests.utils.tenants import Tenant, unique_phone

LANGUAGE_MUTATIONS = {"createLanguage", "updateLanguage", "deleteLanguage"}


def role_for(operation: Operation) -> str:
    """The least role Glific's matrix allows for every root field of the operation that we
    pick: languages are changed by glific_admin only; managers may do everything else."""
    roots = set(operation.root_fields)
    if LANGUAGE_MUTATIONS & roots:
        return "glific_admin"
    return (
        "admin" if roots & {"updateOrganization", "updateMessage", "deleteMessage"} else "manager"
    )


def shape_rules(operation: Operation) -> ShapeRules:
    """Where null or empty is the right answer for the seeded data."""
    nulls: list[str] = []
    empties: list[str] = []
    for root in operation.root_fields:
        if root in ("flow", "createFlow", "updateFlow", "copyFlow", "flowGet"):
            nulls.append(f"{root}.flow.tag")  # no tags are kept
            empties.append(f"{root}.flow.roles")  # nor flow access roles
        if root == "flowRelease":
            nulls.append(root)  # releasing answers no flow
        if root == "groups":
            empties.append(f"{root}[].roles")  # collections are not limited to roles here
        if root == "group":
            empties.append(f"{root}.group.roles")
        if root == "organization":
            nulls.append(f"{root}.organization.regxFlow")  # no regex flow until one is set
        if root == "publishFlow":
            empties.append(f"{root}.errors")  # a clean publish has no problems to report
        if root == "importFlow":
            empties.append(f"{root}.status[].assistantNodeUuids")
            empties.append(f"{root}.status[].invalidSheetNodeUuids")
        if root.startswith("delete"):
            # Glific's quirk (spec §0): deletes answer {<object>: null, errors: null}.
            nulls.append(f"{root}.*")
        if root == "simulatorRelease":
            nulls.append(root)  # releasing answers no contact
        if root == "createContact":
            nulls.append(f"{root}.contact.active_profile")  # a new contact has no profiles
            nulls.append(f"{root}.contact.activeProfile")
        if root == "search":
            # (`[[]` is a literal `[` in these glob patterns.)
            nulls.append(f"{root}[[]].group")  # a contact's conversation has no group
            for never in ("media", "location", "contextMessage", "whatsappFormResponse"):
                nulls.append(f"{root}[[]].messages[[]].{never}")  # texts: none of these
        if root == "waSearch":
            # (The document names it `search`.) A WhatsApp group's conversation is in no
            # collection view.
            nulls.append("search[[]].group")
        if root in ("createAndSendMessage", "createMessage", "updateMessage", "message"):
            nulls.append(f"{root}.message.media")  # a text has no media
        if root == "searchMulti":
            empties.append(f"{root}.tags")  # messages are not tagged
        if root == "search":
            empties.append(f"{root}[[]].messages[[]].tags")
            empties.append(f"{root}[[]].group.messages")
            nulls.append(f"{root}[[]].messages[[]].user")  # received: no staff member wrote it
    return ShapeRules(null_objects=tuple(nulls), empty_lists=tuple(empties))


def _fields_json(**values: tuple[str, str]) -> str:
    """Glific's contact-fields map: shortcode -> {value, label, type, inserted_at}."""
    return json.dumps(
        {
            key: {
                "value": value,
                "label": label,
                "type": "string",
                "inserted_at": "2024-05-01T10:00:00Z",
            }
            for key, (label, value) in values.items()
        }
    )


@dataclass
class World:
    tenant: Tenant
    contact_id: str
    phone: str
    default_profile_id: str
    active_profile_id: str
    spare_profile_id: str
    group_id: str
    group_label: str
    field_id: str
    spare_field_id: str
    spare_contact_id: str
    hindi_id: str
    english_id: str
    # Languages created for this test; the languages table is global, so they are removed
    # again when the test ends (see `cleanup`).
    created_locales: list[str] = field(default_factory=list)
    _scratch_language_id: str | None = None
    scratch_locale: str = ""
    # A published flow with a keyword, a spare flow to delete, and a flow label.
    flow_id: str = ""
    flow_uuid: str = ""
    spare_flow_id: str = ""
    flow_label: str = ""
    _saved_search_ids: list[str] = field(default_factory=list)
    _awaiting_flow_id: str | None = None
    _hsm_template_id: str | None = None
    _wa_group_id: str | None = None

    # -- lazily made objects --------------------------------------------------------------

    def scratch_language_id(self) -> str:
        """A language nobody uses, for updateLanguage/deleteLanguage."""
        if self._scratch_language_id is None:
            locale = self.scratch_locale = self.new_locale()
            result = self.tenant.data(
                "mutation($input: LanguageInput!) { createLanguage(input: $input) {"
                " language { id } errors { key message } } }",
                {
                    "input": {
                        "label": f"Scratch {locale}",
                        "labelLocale": "Scratch",
                        "locale": locale,
                    }
                },
                role="glific_admin",
            )["createLanguage"]
            assert result["errors"] is None, result
            self._scratch_language_id = result["language"]["id"]
        return self._scratch_language_id

    def awaiting_flow_id(self) -> str:
        """A published flow the contact is in, waiting for an outside service's result."""
        if self._awaiting_flow_id is None:
            keyword = f"essay{secrets.token_hex(3)}"
            definition = awaiting_flow()
            self.tenant.data(
                "mutation($flow: Json!) { importFlow(flow: $flow) { status { status } } }",
                {"flow": export(definition, keywords=[[keyword]])},
            )
            self.tenant.data(
                "mutation($uuid: UUID4!) { publishFlow(uuid: $uuid) { success } }",
                {"uuid": definition["uuid"]},
            )
            flows = self.tenant.data(
                "query($f: FlowFilter) { flows(filter: $f) { id } }",
                {"f": {"uuid": definition["uuid"]}},
            )["flows"]
            self._awaiting_flow_id = str(flows[0]["id"])
            receive_text(self.tenant, self.phone, keyword)
        return self._awaiting_flow_id

    def localization_csv(self, flow_id: str) -> str:
        """exportFlowLocalization's sheet of the flow."""
        return str(
            self.tenant.data(
                "query($id: ID!) { exportFlowLocalization(id: $id) { exportData } }",
                {"id": flow_id},
            )["exportFlowLocalization"]["exportData"]
        )

    def translated_flow_id(self) -> str:
        """A flow whose every message is translated into every language (imported through
        importFlowLocalization), so that inlineFlowLocalization has nothing missing."""
        definition = small_flow(f"Translated {secrets.token_hex(2)}")
        self.tenant.data(
            "mutation($flow: Json!) { importFlow(flow: $flow) { status { status } } }",
            {"flow": export(definition)},
        )
        flow_id = str(
            self.tenant.data(
                "query($f: FlowFilter) { flows(filter: $f) { id } }",
                {"f": {"uuid": definition["uuid"]}},
            )["flows"][0]["id"]
        )
        rows = list(csv.reader(io.StringIO(self.localization_csv(flow_id))))
        filled = rows[:2] + [[c or f"({i})" for i, c in enumerate(r)] for r in rows[2:]]
        out = io.StringIO()
        csv.writer(out).writerows(filled)
        done = self.tenant.data(
            "mutation($l: String!, $id: ID!) { importFlowLocalization(localization: $l,"
            " id: $id) { success errors { message } } }",
            {"l": out.getvalue(), "id": flow_id},
        )["importFlowLocalization"]
        assert done["success"], done
        return flow_id

    def hsm_template_id(self) -> str:
        """An approved HSM template of two parameters; the contact has opted in."""
        if self._hsm_template_id is None:
            made = _ok(
                self.tenant,
                "mutation($i: SessionTemplateInput!) { createSessionTemplate(input: $i) {"
                " sessionTemplate { id } errors { key message } } }",
                {
                    "i": {
                        "label": "Daily nudge",
                        "body": "Hi {{1}}, today's activity is {{2}}.",
                        "shortcode": "daily_nudge",
                        "isHsm": True,
                        "uuid": "gs-template-1",
                        "languageId": self.english_id,
                    }
                },
            )
            self._hsm_template_id = str(made["sessionTemplate"]["id"])
            self.tenant.data(
                "mutation($p: String!) { optinContact(phone: $p) { errors { message } } }",
                {"p": self.phone},
            )
        return self._hsm_template_id

    def wa_group_id(self) -> str:
        """A WhatsApp group (as Maytapi makes one: a member's message in it), put in the
        world's collection."""
        if self._wa_group_id is None:
            product = f"prod-{secrets.token_hex(6)}"

            async def account(session: AsyncSession) -> None:
                await providers.set_provider(
                    session, self.tenant.org_id, providers.MAYTAPI, product, {"token": "t"}
                )

            self.tenant.server.in_transaction(account)
            member = unique_phone()
            said = self.tenant.client.post(
                "/maytapi",
                json={
                    "product_id": product,
                    "phone_id": 1150,
                    "type": "message",
                    "conversation": "120363213149844251@g.us",
                    "conversation_name": "Class 5 parents",
                    "receiver": unique_phone(),
                    "user": {"id": f"{member}@c.us", "name": "Parent", "phone": member},
                    "message": {"type": "text", "text": "Good morning", "id": f"m-{product}"},
                },
            )
            assert said.status_code == 200, said.text
            found = self.tenant.data("{ waGroups { id } }")["waGroups"]
            self._wa_group_id = str(found[0]["id"])
            self.tenant.data(
                "mutation($i: UpdateCollectionWaGroupInput!) { updateCollectionWaGroup(input:"
                " $i) { waGroupsDeleted } }",
                {
                    "i": {
                        "groupId": self.group_id,
                        "addWaGroupIds": [self._wa_group_id],
                        "deleteWaGroupIds": [],
                    }
                },
            )
        return self._wa_group_id

    def broadcast_id(self) -> str:
        """The broadcast of a text sent to the world's collection."""
        self.tenant.data(
            "mutation($i: MessageInput!, $g: ID!) { createAndSendMessageToGroup(input: $i,"
            " groupId: $g) { success } }",
            {"i": {"body": "No class tomorrow.", "type": "TEXT"}, "g": self.group_id},
        )
        messages = self.tenant.data(
            "query($id: ID!) { group(id: $id) { group { messages { messageBroadcastId } } } }",
            {"id": self.group_id},
        )["group"]["group"]["messages"]
        return str(messages[0]["messageBroadcastId"])

    def message_id(self) -> str:
        """A message from the contact, made on each call (deleteMessage removes one)."""
        made = receive_text(self.tenant, self.phone, f"Hello {secrets.token_hex(2)}")
        return str(made)

    def saved_search_id(self) -> str:
        """A saved search of the organization's own (made on first use; each call after the
        first makes another, for deleteSavedSearch)."""
        result = self.tenant.data(
            "mutation($input: SavedSearchInput!) { createSavedSearch(input: $input) {"
            " savedSearch { id } errors { key message } } }",
            {"input": _saved_search_input()},
        )["createSavedSearch"]
        assert result["errors"] is None, result
        self._saved_search_ids.append(result["savedSearch"]["id"])
        return str(result["savedSearch"]["id"])

    def new_locale(self) -> str:
        locale = f"x-{secrets.token_hex(4)}"
        self.created_locales.append(locale)
        return locale

    def user_job_id(self) -> str:
        """The job of a contact import this manager ran (what the frontend polls)."""
        result = self.tenant.data(
            "mutation($data: String!, $groupLabel: String, $type: ImportContactsTypeEnum) {"
            " importContacts(data: $data, groupLabel: $groupLabel, type: $type) {"
            " status errors { key message } } }",
            {"data": self.import_csv(), "groupLabel": "Report check", "type": "DATA"},
        )["importContacts"]
        assert result["errors"] is None, result
        org_id = self.tenant.org_id

        async def newest(session: AsyncSession) -> int | None:
            return await session.scalar(
                select(col(UserJob.id))
                .where(col(UserJob.organization_id) == org_id)
                .order_by(col(UserJob.id).desc())
                .limit(1)
            )

        job_id = self.tenant.server.in_transaction(newest)
        assert job_id is not None, "importContacts recorded no user job for its report"
        return str(job_id)

    def import_csv(self) -> str:
        """Glific's import sheet: name, phone, language, opt_in, collection."""
        rows = [
            "name,phone,language,opt_in,collection",
            f"Kiran,{unique_phone()},Hindi,2024-05-01 10:00:00,{self.group_label}",
            f"Lata,{unique_phone()},English,2024-05-01 10:00:00,",
        ]
        return "\n".join(rows) + "\n"

    def move_csv(self) -> str:
        """Existing contacts moved into a collection (Glific's move_contact sheet)."""
        return f"name,phone,language,collection\nAsha Devi,{self.phone},Hindi,Moved\n"

    def cleanup(self) -> None:
        locales = list(self.created_locales)
        if not locales:
            return

        async def drop(session: AsyncSession) -> None:
            await session.execute(delete(Language).where(col(Language.locale).in_(locales)))

        self.tenant.server.in_transaction(drop)


def _ok(tenant: Tenant, query: str, variables: dict[str, Any], role: str = "manager") -> Any:
    data = tenant.data(query, variables, role=role)
    (result,) = data.values()
    assert result["errors"] is None, result
    return result


FIELD_MUTATION = (
    "mutation($input: ContactsFieldInput!) { createContactsField(input: $input) {"
    " contactsField { id } errors { key message } } }"
)
PROFILE_MUTATION = (
    "mutation($input: ProfileInput!, $activate: Boolean) {"
    " createProfile(input: $input, activate: $activate) {"
    " profile { id } errors { key message } } }"
)


def seed_world(tenant: Tenant) -> World:
    hindi, english = tenant.language_id("hi"), tenant.language_id("en")
    field_ids = [
        _ok(
            tenant, FIELD_MUTATION, {"input": {"name": name, "shortcode": code, "valueType": kind}}
        )["contactsField"]["id"]
        for name, code, kind in (
            ("Age", "age", "INTEGER"),
            ("School", "school", "TEXT"),
            ("Old survey answer", "old_survey_answer", "TEXT"),
        )
    ]
    phone = unique_phone()
    contact = tenant.create_contact(
        "Asha Devi",
        phone=phone,
        languageId=hindi,
        fields=_fields_json(age=("Age", "34"), school=("School", "GPS Rampur")),
        settings=json.dumps({"preferences": {"daily_reminder": True}}),
    )
    child = _ok(
        tenant,
        PROFILE_MUTATION,
        {
            "input": {
                "name": "Ravi",
                "type": "child",
                "contactId": contact["id"],
                "languageId": hindi,
                "fields": _fields_json(age=("Age", "9"), school=("School", "GPS Rampur")),
            }
        },
    )["profile"]["id"]
    spare = _ok(
        tenant,
        PROFILE_MUTATION,
        {
            "input": {"name": "Meena", "type": "child", "contactId": contact["id"]},
            "activate": False,
        },
    )["profile"]["id"]
    profiles = tenant.data(
        "query($id: ID!) { contact(id: $id) { contact {"
        " activeProfile { id } profiles { id isDefault } } } }",
        {"id": contact["id"]},
    )["contact"]["contact"]
    assert profiles["activeProfile"]["id"] == child, profiles
    default = next(p["id"] for p in profiles["profiles"] if p["isDefault"])
    spare_contact = tenant.create_contact("Old Number", phone=unique_phone())
    manager = tenant.users["manager"]
    manager_contact = tenant.create_contact("Manager User", phone=manager["phone"])
    label = f"Class 5 parents {secrets.token_hex(2)}"

    async def link(session: AsyncSession) -> int:
        group = await groups.group_by_label(session, tenant.org_id, label, create=True)
        assert group is not None and group.id is not None
        group.description = "Parents of class 5 children"
        await groups.add_contact(session, group, int(contact["id"]))
        await groups.add_contact(session, group, int(manager_contact["id"]))
        session.add(
            UserGroup(organization_id=tenant.org_id, user_id=manager["id"], group_id=group.id)
        )
        user = await session.get(User, manager["id"])
        assert user is not None
        user.contact_id = int(manager_contact["id"])
        session.add(
            Location(
                organization_id=tenant.org_id,
                contact_id=int(contact["id"]),
                longitude=77.2090,
                latitude=28.6139,
            )
        )
        await session.flush()
        return group.id

    group_id = tenant.server.in_transaction(link)
    receive_text(tenant, phone, "Namaste, Ravi finished today's activity")
    flow_id, flow_uuid, spare_flow_id, label = seed_flows(tenant)
    return World(
        tenant=tenant,
        contact_id=contact["id"],
        phone=phone,
        default_profile_id=default,
        active_profile_id=child,
        spare_profile_id=spare,
        group_id=str(group_id),
        group_label=label,
        field_id=field_ids[0],
        spare_field_id=field_ids[2],
        spare_contact_id=spare_contact["id"],
        hindi_id=hindi,
        english_id=english,
        flow_id=flow_id,
        flow_uuid=flow_uuid,
        spare_flow_id=spare_flow_id,
        flow_label=label,
    )


def receive_text(tenant: Tenant, phone: str, text: str) -> int:
    """An inbound WhatsApp text from `phone`, through the same function the webhooks call
    (it opens the contact's 24-hour window and marks the conversation unread)."""
    message = InboundMessage(
        phone=phone, input=Input(text=text), provider_message_id=f"test-{uuid_lib.uuid4()}"
    )
    server = tenant.server
    received = server.run(lambda: inbound.receive(server.db, tenant.org_id, message))
    assert received.message_id is not None
    return received.message_id


def _saved_search_input() -> dict[str, Any]:
    code = f"kids_{secrets.token_hex(3)}"
    return {
        "label": f"Children's answers {code}",
        "shortcode": code,
        "args": json.dumps(
            {
                "filter": {"term": "Ravi"},
                "contactOpts": {"limit": 25},
                "messageOpts": {"limit": 20},
            }
        ),
    }


def seed_flows(tenant: Tenant) -> tuple[str, str, str, str]:
    """A daily-activity flow (imported, keyword "activity", published), a spare flow, and a
    flow label. Returns (flow id, flow uuid, spare flow id, label name)."""
    definition = small_flow("Daily activity")
    status = tenant.data(
        "mutation($flow: Json!) { importFlow(flow: $flow) { status { flowName status } } }",
        {"flow": export(definition, keywords=[["activity"]])},
    )["importFlow"]["status"]
    assert status == [{"flowName": "Daily activity", "status": "Successfully imported"}], status
    published = tenant.data(
        "mutation($uuid: UUID4!) { publishFlow(uuid: $uuid) { success errors { message } } }",
        {"uuid": definition["uuid"]},
    )["publishFlow"]
    assert published["success"] is True, published
    flows = tenant.data(
        "query($f: FlowFilter) { flows(filter: $f) { id } }", {"f": {"uuid": definition["uuid"]}}
    )["flows"]
    tag = _ok(
        tenant,
        "mutation($i: TagInput!) { createTag(input: $i) { tag { id } errors { key message } } }",
        {"i": {"label": "Activities"}},
    )["tag"]["id"]
    _ok(
        tenant,
        "mutation($id: ID!, $i: FlowInput) { updateFlow(id: $id, input: $i) {"
        " flow { id } errors { key message } } }",
        {"id": flows[0]["id"], "i": {"tagId": tag}},
    )
    spare = _ok(
        tenant,
        "mutation($input: FlowInput!) { createFlow(input: $input) {"
        " flow { id } errors { key message } } }",
        {"input": {"name": "Old campaign", "keywords": ["oldcampaign"]}},
    )["flow"]["id"]
    label = f"Answered {secrets.token_hex(2)}"

    async def add_label(session: AsyncSession) -> None:
        session.add(
            FlowLabel(organization_id=tenant.org_id, uuid=str(uuid_lib.uuid4()), name=label)
        )

    tenant.server.in_transaction(add_label)
    return flows[0]["id"], definition["uuid"], spare, label


# --- variables -----------------------------------------------------------------------------

Rule = Callable[[World], Any]

# The object `$id` names, per root field.
IDS: dict[str, Rule] = {
    "contact": lambda w: w.contact_id,
    "updateContact": lambda w: w.contact_id,
    "contactLocation": lambda w: w.contact_id,
    "deleteContact": lambda w: w.spare_contact_id,
    "profile": lambda w: w.active_profile_id,
    "updateProfile": lambda w: w.active_profile_id,
    "deleteProfile": lambda w: w.spare_profile_id,
    "contactsField": lambda w: w.field_id,
    "updateContactsField": lambda w: w.field_id,
    "deleteContactsField": lambda w: w.spare_field_id,
    "language": lambda w: w.hindi_id,
    "updateLanguage": lambda w: w.scratch_language_id(),
    "deleteLanguage": lambda w: w.scratch_language_id(),
    "flow": lambda w: w.flow_id,
    "updateFlow": lambda w: w.flow_id,
    "exportFlow": lambda w: w.flow_id,
    "exportFlowLocalization": lambda w: w.flow_id,
    "importFlowLocalization": lambda w: w.flow_id,
    "inlineFlowLocalization": lambda w: w.translated_flow_id(),
    "flowGet": lambda w: w.flow_id,
    "copyFlow": lambda w: w.flow_id,
    "deleteFlow": lambda w: w.spare_flow_id,
    "savedSearch": lambda w: w.saved_search_id(),
    "updateSavedSearch": lambda w: w.saved_search_id(),
    "deleteSavedSearch": lambda w: w.saved_search_id(),
    "organization": lambda w: str(w.tenant.org_id),
    "updateOrganization": lambda w: str(w.tenant.org_id),
    "updateUser": lambda w: str(w.tenant.users["staff"]["id"]),
    "group": lambda w: w.group_id,
    "groupInfo": lambda w: w.group_id,
    "deleteGroup": lambda w: _new_group(w, "Old class"),
    "message": lambda w: w.message_id(),
    "savedSearchCount": lambda w: w.saved_search_id(),
    "updateMessage": lambda w: w.message_id(),
    "deleteMessage": lambda w: w.message_id(),
}


def _message_filter(w: World) -> dict[str, Any]:
    w.message_id()  # "Hello ..."
    return {"body": "Hello"}


def _multi_filter(w: World) -> dict[str, Any]:
    """A term the contact's phone and one of its messages hold."""
    receive_text(w.tenant, w.phone, f"My number is {w.phone}")
    return {"term": w.phone}


def _new_language(w: World) -> dict[str, Any]:
    locale = w.new_locale()
    return {
        "label": f"Test language {locale}",
        "labelLocale": "Test",
        "locale": locale,
        "isActive": True,
        "localized": False,
    }


def _renamed_language(w: World) -> dict[str, Any]:
    w.scratch_language_id()
    locale = w.scratch_locale
    return {"label": f"Renamed {locale}", "labelLocale": "Renamed", "locale": locale}


# Values that depend on the operation: (root field, variable name) -> rule.
PER_OPERATION: dict[tuple[str, str], Rule] = {
    ("updateUser", "input"): lambda w: {
        "name": "Staff member",
        "roles": ["Staff"],
        "groupIds": [w.group_id],
        "isRestricted": False,
    },
    ("updateCurrentUser", "input"): lambda w: {"name": "The manager"},
    ("createTag", "input"): lambda w: {"label": f"Registration {secrets.token_hex(2)}"},
    ("uploadBlob", "media"): lambda w: base64.b64encode(b"\xff\xd8 a drawing").decode(),
    ("updateOrganization", "input"): lambda w: {
        "name": "Pratham Pune",
        "activeLanguageIds": [w.hindi_id],
        "outOfOffice": {
            "enabled": True,
            "startTime": "09:00:00",
            "endTime": "17:30:00",
            "enabledDays": [{"id": 1, "enabled": True}, {"id": 2, "enabled": True}],
            "flowId": w.flow_id,
            "defaultFlowId": w.flow_id,
        },
        "setting": {"lowBalanceThreshold": "8", "sendWarningMail": True},
    },
    ("createGroup", "input"): lambda w: {
        "label": f"Class 6 parents {secrets.token_hex(2)}",
        "description": "Parents of class 6 children",
    },
    ("updateGroupContacts", "input"): lambda w: {
        "groupId": w.group_id,
        "addContactIds": [w.spare_contact_id],
        "deleteContactIds": [],
    },
    ("updateGroupUsers", "input"): lambda w: {
        "groupId": w.group_id,
        "addUserIds": [str(w.tenant.users["staff"]["id"])],
        "deleteUserIds": [],
    },
    ("contactByPhone", "phone"): lambda w: w.phone,
    ("optinContact", "phone"): lambda w: unique_phone(),
    ("optinContact", "name"): lambda w: "Sunita",
    ("importContacts", "data"): lambda w: w.import_csv(),
    ("moveContacts", "data"): lambda w: w.move_csv(),
    ("getContactUploadReport", "userJobId"): lambda w: w.user_job_id(),
    ("deleteContactsField", "deleteAssoc"): lambda w: True,
    ("createContact", "input"): lambda w: {
        "name": "Farida",
        "phone": unique_phone(),
        "languageId": w.hindi_id,
        "fields": _fields_json(age=("Age", "28")),
    },
    ("updateContact", "input"): lambda w: {
        "name": "Asha Devi Sharma",
        "fields": _fields_json(age=("Age", "35"), school=("School", "GPS Rampur")),
    },
    ("createProfile", "input"): lambda w: {
        "name": "Sita",
        "type": "child",
        "contactId": w.contact_id,
        "languageId": w.hindi_id,
        "fields": _fields_json(age=("Age", "7")),
    },
    ("updateProfile", "input"): lambda w: {
        "name": "Ravi Kumar",
        "type": "child",
        "fields": _fields_json(age=("Age", "10"), school=("School", "GPS Rampur")),
    },
    ("createContactsField", "input"): lambda w: {
        "name": "Favourite colour",
        "shortcode": "favourite_colour",
        "valueType": "TEXT",
    },
    ("updateContactsField", "input"): lambda w: {
        "name": "Age in years",
        "shortcode": "age",
        "valueType": "INTEGER",
    },
    ("createFlow", "input"): lambda w: {
        "name": f"Weekly quiz {secrets.token_hex(2)}",
        "keywords": ["quiz"],
        "isActive": True,
        "description": "A quiz every Sunday",
    },
    ("updateFlow", "input"): lambda w: {
        "name": "Daily activity (v2)",
        "keywords": ["activity", "today"],
        "isActive": True,
    },
    ("importFlow", "flow"): lambda w: export(
        small_flow(f"Imported {secrets.token_hex(2)}"), keywords=[[f"kw{secrets.token_hex(3)}"]]
    ),
    ("publishFlow", "uuid"): lambda w: w.flow_uuid,
    ("resetFlowCount", "flowId"): lambda w: w.flow_id,
    ("startContactFlow", "flowId"): lambda w: w.flow_id,
    ("startContactFlow", "contactId"): lambda w: w.contact_id,
    ("startGroupFlow", "flowId"): lambda w: w.flow_id,
    ("startGroupFlow", "groupId"): lambda w: w.group_id,
    ("terminateContactFlows", "contactId"): lambda w: w.contact_id,
    ("importFlowLocalization", "localization"): lambda w: w.localization_csv(w.flow_id),
    ("broadcastStats", "messageBroadcastId"): lambda w: w.broadcast_id(),
    ("sendHsmMessage", "template_id"): lambda w: w.hsm_template_id(),
    ("sendHsmMessage", "receiver_id"): lambda w: w.contact_id,
    ("sendHsmMessage", "parameters"): lambda w: ["Asha", "drawing"],
    ("sendHsmMessageToGroup", "template_id"): lambda w: w.hsm_template_id(),
    ("sendHsmMessageToGroup", "group_id"): lambda w: w.group_id,
    ("sendHsmMessageToGroup", "parameters"): lambda w: ["friends", "singing"],
    ("resumeContactFlow", "flowId"): lambda w: w.awaiting_flow_id(),
    ("resumeContactFlow", "contactId"): lambda w: w.contact_id,
    ("resumeContactFlow", "result"): lambda w: json.dumps({"grade": {"level": "B2"}}),
    ("createLanguage", "input"): _new_language,
    ("createAndSendMessage", "input"): lambda w: {
        "body": "Well done Ravi! Tomorrow's activity comes at 9.",
        "type": "TEXT",
        "flow": "OUTBOUND",
        "senderId": w.tenant.org_contact_id,
        "receiverId": w.contact_id,
    },
    ("markContactMessagesAsRead", "contactId"): lambda w: w.contact_id,
    ("createMessage", "input"): lambda w: {
        "body": "Recorded by a script",
        "type": "TEXT",
        "flow": "INBOUND",
        "senderId": w.contact_id,
        "receiverId": str(w.tenant.org_contact_id),
    },
    ("updateMessage", "input"): lambda w: {"body": "Edited"},
    ("clearMessages", "contactId"): lambda w: w.contact_id,
    ("createAndSendMessageToGroup", "input"): lambda w: {
        "body": "No class tomorrow.",
        "type": "TEXT",
    },
    ("createAndSendMessageToGroup", "group_id"): lambda w: w.group_id,
    ("searchMulti", "filter"): _multi_filter,
    ("savedSearchCount", "term"): lambda w: None,
    ("createSavedSearch", "input"): lambda w: _saved_search_input(),
    ("updateSavedSearch", "input"): lambda w: _saved_search_input(),
    ("collectionStats", "organizationId"): lambda w: str(w.tenant.org_id),
    ("sendMessageInWaGroup", "input"): lambda w: {
        "message": "Tomorrow's class starts at 9.",
        "type": "TEXT",
        "waGroupId": w.wa_group_id(),
    },
    ("startWaGroupCollectionFlow", "flowId"): lambda w: (w.wa_group_id(), w.flow_id)[1],
    ("startWaGroupCollectionFlow", "groupId"): lambda w: w.group_id,
    ("waSearch", "filter"): lambda w: {"id": w.wa_group_id()},
    ("updateLanguage", "input"): _renamed_language,
}

BY_NAME: dict[str, Rule] = {
    "groupLabel": lambda w: f"Imported {secrets.token_hex(2)}",
    "group_label": lambda w: f"Imported {secrets.token_hex(2)}",
    "exportCollectionId": lambda w: w.group_id,
    "extension": lambda w: "jpg",
}

BY_TYPE: dict[str, Rule] = {
    "ContactFilter": lambda w: {"includeGroups": [w.group_id]},
    "ContactsHistoryFilter": lambda w: {"contactId": w.contact_id},
    "ContactsFieldFilter": lambda w: {"scope": "CONTACT"},
    "ProfileFilter": lambda w: {"contactId": w.contact_id},
    "LanguageFilter": lambda w: {"label": "Hindi"},
    "Opts": lambda w: {"limit": 25, "offset": 0, "order": "ASC"},
    "ImportContactsTypeEnum": lambda w: "DATA",
    "FlowFilter": lambda w: {"isActive": True, "keyword": "activity"},
    "FlowLabelFilter": lambda w: {"name": w.flow_label},
    # The chat screen's first `search` (spec glific-frontend §3.1 row 6).
    "SearchFilter": lambda w: {},
    "MessageFilter": _message_filter,
    "SaveSearchInput": lambda w: None,  # run the search without saving it
    "SavedSearchFilter": lambda w: {"isReserved": True},
    # The side menu's badge (spec glific-frontend §3.1 row 5), in Absinthe's spelling.
    "NotificationFilter": lambda w: {"is_read": False},
    "UserFilter": lambda w: {"name": "manager"},  # in a collection, with a contact
    "GroupFilter": lambda w: {"label": "Class 5"},
    "TagFilter": lambda w: {"label": "activit"},
    # Sent as a form part (tests/test_client_ops.py), named by the variable.
    "Upload": lambda w: None,
    "ProviderFilter": lambda w: {"shortcode": "gupshup"},
    "AccessRoleFilter": lambda w: {"isReserved": True},
}


def _new_group(world: World, label: str) -> str:
    made = world.tenant.data(
        "mutation($i: GroupInput!) { createGroup(input: $i) { group { id } } }",
        {"i": {"label": f"{label} {secrets.token_hex(2)}"}},
    )
    return str(made["createGroup"]["group"]["id"])


def variables_for(operation: Operation, world: World) -> dict[str, Any]:
    roots = operation.root_fields
    values: dict[str, Any] = {}
    for name, type_name in operation.variables():
        rule = next((PER_OPERATION[(r, name)] for r in roots if (r, name) in PER_OPERATION), None)
        if rule is None and name == "id" and type_name == "ID":
            rule = next((IDS[r] for r in roots if r in IDS), None)
        rule = rule or BY_NAME.get(name) or BY_TYPE.get(type_name)
        if rule is None:
            raise AssertionError(
                f"no value for ${name}: {type_name} in {roots}; add a rule to "
                "tests/utils/client_ops_data.py"
            )
        values[name] = rule(world)
    return values
