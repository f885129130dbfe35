"""Small GraphQL builders for the access-control and bad-input tests: make a contact with
profiles, a contact field or a language through the API, and snapshot what an organization
holds so a refused or failed mutation can be shown to have changed nothing."""

from __future__ import annotations

import json
import secrets
from typing import Any

from tests.utils.tenants import Tenant

SNAPSHOT = """
query {
  contacts(opts: {limit: 50}) { id name status fields language { id } activeProfile { id } }
  countContacts
  profiles { id name type fields isActive isDefault contact { id } language { id } }
  contactsFields { id name shortcode valueType scope }
  contactHistory { id eventType profile { id } }
}
"""


def snapshot(tenant: Tenant) -> dict[str, Any]:
    """Everything of the tenant's that the operations under test could change (as admin)."""
    data = tenant.data(SNAPSHOT, role="glific_admin")
    for key in ("contacts", "profiles", "contactsFields", "contactHistory"):
        data[key] = sorted(data[key], key=lambda row: int(row["id"]))
    return data


def make_contact(tenant: Tenant, name: str = "Asha", **extra: Any) -> dict[str, Any]:
    return tenant.create_contact(name, **extra)


def make_profile(
    tenant: Tenant, contact_id: str, name: str = "Kid", type_: str = "child", **extra: Any
) -> dict[str, Any]:
    """A second profile on the contact (so the contact also gets its default profile)."""
    result = tenant.data(
        "mutation($input: ProfileInput!) { createProfile(input: $input) {"
        " profile { id name type isActive isDefault } errors { key message } } }",
        {"input": {"contactId": contact_id, "name": name, "type": type_, **extra}},
    )["createProfile"]
    assert result["errors"] is None, result
    return result["profile"]


def contact_with_profiles(tenant: Tenant, name: str = "Asha") -> dict[str, Any]:
    """A contact with its default profile and one more ("Kid", active)."""
    contact = make_contact(tenant, name, fields=json.dumps({"age": {"value": "9"}}))
    kid = make_profile(tenant, contact["id"])
    profiles = tenant.data(
        "query($id: ID!) { contact(id: $id) { contact { profiles { id isDefault } } } }",
        {"id": contact["id"]},
    )["contact"]["contact"]["profiles"]
    default = next(p for p in profiles if p["isDefault"])
    return {**contact, "kid_id": kid["id"], "default_profile_id": default["id"]}


def make_field(tenant: Tenant) -> dict[str, Any]:
    code = f"f_{secrets.token_hex(3)}"
    result = tenant.data(
        "mutation($input: ContactsFieldInput!) { createContactsField(input: $input) {"
        " contactsField { id name shortcode } errors { key message } } }",
        {"input": {"name": f"Field {code}", "shortcode": code, "valueType": "TEXT"}},
    )["createContactsField"]
    assert result["errors"] is None, result
    return result["contactsField"]


def make_language(tenant: Tenant) -> dict[str, Any]:
    """A new global language (languages are shared; each has a unique made-up locale)."""
    code = f"x{secrets.token_hex(3)}"
    result = tenant.data(
        "mutation($input: LanguageInput!) { createLanguage(input: $input) {"
        " language { id label locale } errors { key message } } }",
        {"input": {"label": f"Lang {code}", "labelLocale": f"Lang {code}", "locale": code}},
        role="glific_admin",
    )["createLanguage"]
    assert result["errors"] is None, result
    return result["language"]
