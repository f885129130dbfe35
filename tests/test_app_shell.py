"""The shell every signed-in page of Glific's web app mounts (spec glific-frontend §2 and §3):
the organization and its flags, the provider's wallet, the notification badge and the
session endpoints the sign-in page and the chat list call without a token."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from resolvers import providers
from resolvers.roles import ROLE_ORDER, role_labels
from tests.utils.fake_provider import FakeProvider
from tests.utils.server import LiveServer
from tests.utils.tenants import Tenant

ORGANIZATION = """query($id: ID) { organization(id: $id) {
  organization { id name signaturePhrase bsp { shortcode } activeLanguages { label }
    defaultLanguage { label } outOfOffice { enabled enabledDays { id enabled } } }
  errors { key message } } }"""


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeProvider]:
    with FakeProvider(timeout_sleep=1) as provider:
        yield provider


def use_gupshup(server: LiveServer, tenant: Tenant, api_url: str) -> None:
    async def configure(session: AsyncSession) -> None:
        await providers.set_provider(
            session,
            tenant.org_id,
            "gupshup",
            f"shell-{tenant.shortcode}",
            {"api_key": "k", "source_number": "919900000001", "api_url": api_url},
            sends_replies=True,
        )

    server.in_transaction(configure)


def test_the_organization_is_the_users_own_unless_a_glific_admin_asks(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    mine = tenant.data(ORGANIZATION)["organization"]
    assert mine["errors"] is None
    assert mine["organization"]["id"] == str(tenant.org_id)
    assert mine["organization"]["bsp"] == {"shortcode": "log"}
    assert mine["organization"]["defaultLanguage"] == {"label": "English"}
    assert {"label": "Hindi"} in mine["organization"]["activeLanguages"]
    assert len(mine["organization"]["outOfOffice"]["enabledDays"]) == 7
    by_id = tenant.data(ORGANIZATION, {"id": str(tenant.org_id)})["organization"]
    assert by_id["organization"]["id"] == str(tenant.org_id)
    # Another organization does not exist for its users' peers ...
    theirs = tenant.data(ORGANIZATION, {"id": str(other_tenant.org_id)}, role="admin")
    assert theirs["organization"] == {
        "organization": None,
        "errors": [{"key": "Elixir.Glific.Partners.Organization", "message": "Resource not found"}],
    }
    # ... but a Glific admin runs every organization.
    seen = tenant.data(ORGANIZATION, {"id": str(other_tenant.org_id)}, role="glific_admin")
    assert seen["organization"]["organization"]["id"] == str(other_tenant.org_id)


def test_staff_do_not_see_the_signature_phrase(server: LiveServer, tenant: Tenant) -> None:
    async def set_phrase(session: AsyncSession) -> None:
        from models import Organization

        org = await session.get(Organization, tenant.org_id)
        assert org is not None
        org.fields = {**(org.fields or {}), "signature_phrase": "open sesame"}

    server.in_transaction(set_phrase)
    phrase = "{ organization { organization { signaturePhrase } } }"
    admin = tenant.data(phrase, role="admin")["organization"]["organization"]
    staff = tenant.data(phrase, role="staff")["organization"]["organization"]
    assert (admin["signaturePhrase"], staff["signaturePhrase"]) == ("open sesame", "")


def test_organization_services_turn_on_the_profile_feature_only(tenant: Tenant) -> None:
    flags = tenant.data(
        "{ organizationServices { contactProfileEnabled askGlificEnabled dialogflow"
        " rolesAndPermission whatsappGroupEnabled } }",
        role="staff",
    )["organizationServices"]
    # askGlificEnabled must be false: it hides the chat page's simulator.
    assert flags == {
        "contactProfileEnabled": True,
        "askGlificEnabled": False,
        "dialogflow": False,
        "rolesAndPermission": False,
        "whatsappGroupEnabled": False,
    }


def test_the_wallet_balance_is_a_json_string_the_app_can_parse(
    server: LiveServer, tenant: Tenant, fake: FakeProvider
) -> None:
    # The log provider keeps no wallet: null, which the app shows as "balance is okay".
    assert json.loads(tenant.data("{ bspbalance }")["bspbalance"]) == {"balance": None}
    use_gupshup(server, tenant, fake.url)
    fake.balance = 7.25
    assert json.loads(tenant.data("{ bspbalance }")["bspbalance"]) == {"balance": 7.25}
    wallet = [r for r in fake.requests if r.path == "/sm/api/v2/wallet/balance"]
    assert wallet and wallet[-1].headers["apikey"] == "k"
    bsp = "{ organization { organization { bsp { shortcode } } } }"
    assert tenant.data(bsp)["organization"]["organization"]["bsp"] == {"shortcode": "gupshup"}


def test_a_wallet_that_cannot_be_read_is_an_error_not_a_crash(
    server: LiveServer, tenant: Tenant
) -> None:
    use_gupshup(server, tenant, "http://127.0.0.1:9")  # nothing listens there
    body = tenant.gql("{ bspbalance }")
    assert body["data"] == {"bspbalance": None}
    assert [e["message"] for e in body["errors"]] == ["Could not read the gupshup wallet balance"]


def test_notifications_are_counted_listed_and_marked_read_per_organization(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    count = "query($f: NotificationFilter) { countNotifications(filter: $f) }"
    unread = {"f": {"is_read": False}}  # as the side menu sends it
    assert tenant.data(count, unread)["countNotifications"] == 0
    # An import with a row that cannot be applied tells the staff.
    csv = "name,phone,language,opt_in\nAsha,919812340001,english,\nNobody,not-a-phone,english,\n"
    tenant.data(
        "mutation($d: String!) { importContacts(data: $d, type: DATA) {"
        " status errors { key message } } }",
        {"d": csv},
    )
    assert tenant.data(count, unread, role="staff")["countNotifications"] == 1
    [notice] = tenant.data(
        "{ notifications(opts: {limit: 10}) { category message severity isRead } }"
    )["notifications"]
    assert notice["category"] == "Contact Upload"
    assert "1 of 2 rows" in notice["message"]
    assert (json.loads(notice["severity"]), notice["isRead"]) == ("Warning", False)
    assert other_tenant.data(count, unread)["countNotifications"] == 0
    importing = (
        "mutation($d: String!) { importContacts(data: $d, type: DATA) {"
        " status errors { key message } } }"
    )
    other_tenant.data(importing, {"d": csv.replace("919812340001", "919812340002")})
    assert other_tenant.data(count, unread)["countNotifications"] == 1
    assert tenant.data("mutation { markNotificationAsRead }", role="staff") == {
        "markNotificationAsRead": True
    }
    assert tenant.data(count, unread)["countNotifications"] == 0
    assert tenant.data(count, {"f": {"isRead": True}})["countNotifications"] == 1
    # Another organization's stay unread.
    assert other_tenant.data(count, unread)["countNotifications"] == 1


def test_a_clean_import_is_noted_in_notifications_as_glific_notes_it(tenant: Tenant) -> None:
    # The import dialog's "Go to notifications" must not lead to an empty page.
    csv = "name,phone,language,opt_in\nAsha,919812340011,english,\n"
    tenant.data(
        "mutation($d: String!) { importContacts(data: $d, type: DATA) { status } }", {"d": csv}
    )
    [notice] = tenant.data(
        "{ notifications(opts: {limit: 10}) { category message severity entity } }"
    )["notifications"]
    assert (notice["category"], notice["message"]) == ("Contact Upload", "Contact upload completed")
    assert json.loads(notice["severity"]) == "Info"
    assert "user_job_id" in json.loads(notice["entity"])


def test_my_account_offers_the_interface_languages_on_a_fresh_install(tenant: Tenant) -> None:
    # My Account lists `languages(filter: {localized: true})`: Glific seeds English and Hindi.
    found = tenant.data("{ languages(filter: {localized: true}) { locale } }")["languages"]
    assert sorted(lang["locale"] for lang in found) == ["en", "hi"]


def test_providers_and_access_roles_list_as_the_settings_pages_read_them(tenant: Tenant) -> None:
    listed = tenant.data('{ providers(filter: {shortcode: "gup"}) { shortcode secrets } }')
    [gupshup] = listed["providers"]
    assert gupshup["shortcode"] == "gupshup"
    assert set(json.loads(gupshup["secrets"])) == {"app_name", "api_key", "source_number"}
    roles = tenant.data("{ accessRoles(filter: {isReserved: true}) { label } }")["accessRoles"]
    assert {r["label"] for r in roles} == set(role_labels(ROLE_ORDER))


def test_the_sign_in_page_and_the_tracker_need_no_token(server: LiveServer) -> None:
    name = server.client.post("/api/v1/session/name")
    assert name.status_code == 200
    assert set(name.json()["data"]) == {"name", "status"}
    assert name.json()["data"]["name"]
    tracked = server.client.post("/api/v1/session/tracker", json={"event": "View contact"})
    assert (tracked.status_code, tracked.json()) == (200, {"data": {}})


UPDATE_ORG = """mutation($id: ID!, $i: OrganizationInput) { updateOrganization(id: $id, input: $i) {
  organization { name timezone activeLanguages { label } setting { lowBalanceThreshold }
    outOfOffice { enabled startTime endTime flowId enabledDays { id enabled } }
    newcontactFlowId }
  errors { key message } } }"""


def test_the_settings_form_saves_for_admins(tenant: Tenant, other_tenant: Tenant) -> None:
    flow_id = tenant.data(
        'mutation { createFlow(input: {name: "Out of office"}) { flow { id } } }'
    )["createFlow"]["flow"]["id"]
    hindi = tenant.language_id("hi")
    given = {
        "name": "Pratham Pune",
        "timezone": "Asia/Kolkata",
        "activeLanguageIds": [hindi],
        "setting": {"lowBalanceThreshold": "8"},
        "outOfOffice": {
            "enabled": True,
            "startTime": "09:00",
            "endTime": "17:30:00",
            "enabledDays": [{"id": 6, "enabled": True}],
            "flowId": flow_id,
        },
        "newcontactFlowId": flow_id,
    }
    saved = tenant.data(UPDATE_ORG, {"id": str(tenant.org_id), "i": given}, role="admin")
    org = saved["updateOrganization"]
    assert org["errors"] is None
    got = org["organization"]
    assert got["name"] == "Pratham Pune"
    # The default language stays active whatever the form sends.
    assert {lang["label"] for lang in got["activeLanguages"]} == {"English", "Hindi"}
    assert got["setting"] == {"lowBalanceThreshold": "8"}
    office = got["outOfOffice"]
    assert (office["enabled"], office["startTime"], office["endTime"]) == (
        True,
        "09:00:00",
        "17:30:00",
    )
    assert office["flowId"] == flow_id and got["newcontactFlowId"] == flow_id
    assert [d["id"] for d in office["enabledDays"] if d["enabled"]] == [6]
    # Read back as every page reads it.
    again = tenant.data("{ organization { organization { name outOfOffice { enabled } } } }")
    assert again["organization"]["organization"] == {
        "name": "Pratham Pune",
        "outOfOffice": {"enabled": True},
    }

    def refused(variables: dict[str, Any], role: str = "admin") -> list[dict[str, str]]:
        body = tenant.data(UPDATE_ORG, variables, role=role)["updateOrganization"]
        assert body["organization"] is None
        return list(body["errors"])

    mine = str(tenant.org_id)
    assert refused({"id": mine, "i": {"outOfOffice": {"startTime": "25:00"}}}) == [
        {"key": "start_time", "message": "Start_time: should be a time of day, e.g. 09:30:00"}
    ]
    their_flow = other_tenant.data(
        'mutation { createFlow(input: {name: "Theirs"}) { flow { id } } }'
    )["createFlow"]["flow"]["id"]
    assert refused({"id": mine, "i": {"optinFlowId": their_flow}}) == [
        {"key": "optin_flow_id", "message": "Optin_flow_id: does not exist"}
    ]
    assert refused({"id": mine, "i": {"timezone": "Mars/Olympus"}}) == [
        {"key": "timezone", "message": "Timezone: is not a known time zone"}
    ]
    assert refused({"id": mine, "i": {"shortcode": "renamed"}}) == [
        {"key": "shortcode", "message": "Shortcode: cannot be changed"}
    ]
    assert refused({"id": str(other_tenant.org_id), "i": {"name": "Hijacked"}}) == [
        {"key": "Elixir.Glific.Partners.Organization", "message": "Resource not found"}
    ]
    manager = tenant.gql(UPDATE_ORG, {"id": mine, "i": {"name": "Nope"}}, role="manager")
    assert [e["message"] for e in manager["errors"]] == ["Unauthorized"]
    # Nothing of the refused changes was kept.
    name = tenant.data("{ organization { organization { name } } }")
    assert name["organization"]["organization"]["name"] == "Pratham Pune"


def test_the_chat_screens_status_bar_queries(tenant: Tenant) -> None:
    # attachmentsEnabled turns on the chat input's attach button (uploads are kept here);
    # the status bar lists WhatsApp-group phones, of which there are none.
    found = tenant.data(
        "query { attachmentsEnabled waManagedPhones { status phone } }", role="staff"
    )
    assert found == {"attachmentsEnabled": True, "waManagedPhones": []}


def test_settings_saved_at_the_same_moment_both_stay(tenant: Tenant) -> None:
    """Two admins save different settings at once: each save reads the organization's
    settings and writes them back whole, under the row's lock, so neither is lost."""
    mine = str(tenant.org_id)

    def save(changes: dict[str, Any]) -> None:
        body = tenant.data(UPDATE_ORG, {"id": mine, "i": changes}, role="admin")
        assert body["updateOrganization"]["errors"] is None

    for round_ in range(6):
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(
                pool.map(
                    save,
                    [
                        {"setting": {"lowBalanceThreshold": str(round_)}},
                        {"signaturePhrase": f"phrase {round_}"},
                    ],
                )
            )
        got = tenant.data(
            "{ organization { organization { signaturePhrase setting { lowBalanceThreshold } } } }",
            role="admin",
        )["organization"]["organization"]
        assert got == {
            "signaturePhrase": f"phrase {round_}",
            "setting": {"lowBalanceThreshold": str(round_)},
        }
