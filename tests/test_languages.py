"""Languages are shared reference data: a change made through the API is what the very next
read shows, even though language rows are cached for speed."""

from __future__ import annotations

import secrets

from tests.utils.tenants import Tenant

CREATE = """mutation($input: LanguageInput!) { createLanguage(input: $input) {
  language { id label } errors { message } } }"""
UPDATE = """mutation($id: ID!, $input: LanguageInput!) { updateLanguage(id: $id, input: $input) {
  language { label } errors { message } } }"""
SHOW = """query($id: ID!) { contact(id: $id) { contact { language { label } } } }"""


def test_a_renamed_language_shows_its_new_label_at_once(tenant: Tenant) -> None:
    locale = f"x{secrets.token_hex(3)}"
    made = tenant.data(
        CREATE,
        {"input": {"label": "Konkani", "labelLocale": "कोंकणी", "locale": locale}},
        role="glific_admin",
    )["createLanguage"]
    assert made["errors"] is None
    language_id = made["language"]["id"]
    contact = tenant.create_contact("Sita", languageId=language_id)
    assert tenant.data(SHOW, {"id": contact["id"]})["contact"]["contact"]["language"] == {
        "label": "Konkani"
    }

    renamed = tenant.data(
        UPDATE,
        {
            "id": language_id,
            "input": {"label": "Konkani (Goa)", "labelLocale": "कोंकणी", "locale": locale},
        },
        role="glific_admin",
    )["updateLanguage"]
    assert renamed == {"language": {"label": "Konkani (Goa)"}, "errors": None}
    shown = tenant.data(SHOW, {"id": contact["id"]})["contact"]["contact"]["language"]
    assert shown == {"label": "Konkani (Goa)"}


def test_a_failed_rename_keeps_the_old_label(tenant: Tenant) -> None:
    locale = f"x{secrets.token_hex(3)}"
    first = tenant.data(
        CREATE,
        {"input": {"label": "Tulu", "labelLocale": "ತುಳು", "locale": locale}},
        role="glific_admin",
    )["createLanguage"]["language"]
    tenant.data(
        CREATE,
        {"input": {"label": "Tulu 2", "labelLocale": "ತುಳು", "locale": locale}},
        role="glific_admin",
    )
    contact = tenant.create_contact("Ravi", languageId=first["id"])
    clash = tenant.data(
        UPDATE,
        {"id": first["id"], "input": {"label": "Tulu 2", "labelLocale": "ತುಳು", "locale": locale}},
        role="glific_admin",
    )["updateLanguage"]
    assert clash["language"] is None and clash["errors"]
    shown = tenant.data(SHOW, {"id": contact["id"]})["contact"]["contact"]["language"]
    assert shown == {"label": "Tulu"}
