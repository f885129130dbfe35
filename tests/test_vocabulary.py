"""Every value the API offers is one the domain accepts: each GraphQL enum is the resolvers'
own (schema/enums.py), so a client can send any value introspection shows and read back the
same one; the roles the API names are the roles sign-in knows (resolvers/roles.py)."""

from __future__ import annotations

import secrets
from typing import Any

from tests.utils.builders import make_contact
from tests.utils.tenants import Tenant


def _values(tenant: Tenant, enum: str) -> list[str]:
    found = tenant.data(
        "query($name: String!) { __type(name: $name) { enumValues { name } } }", {"name": enum}
    )["__type"]
    return [v["name"] for v in found["enumValues"]]


def test_every_contact_status_the_schema_offers_is_accepted(tenant: Tenant) -> None:
    contact = make_contact(tenant)
    enums = (("status", "ContactStatusEnum"), ("bspStatus", "ContactProviderStatusEnum"))
    for field, enum in enums:
        values = _values(tenant, enum)
        assert values
        for value in values:
            result = tenant.data(
                f"mutation($id: ID!) {{ updateContact(id: $id, input: {{{field}: {value}}}) {{"
                f" contact {{ {field} }} errors {{ message }} }} }}",
                {"id": contact["id"]},
            )["updateContact"]
            assert result == {"contact": {field: value}, "errors": None}, (field, value)


def test_every_field_type_and_scope_the_schema_offers_is_accepted(tenant: Tenant) -> None:
    for value_type in _values(tenant, "ContactFieldValueTypeEnum"):
        for scope in _values(tenant, "ContactFieldScopeEnum"):
            code = f"v_{secrets.token_hex(3)}"
            result: dict[str, Any] = tenant.data(
                "mutation($input: ContactsFieldInput!) { createContactsField(input: $input) {"
                " contactsField { valueType scope } errors { message } } }",
                {
                    "input": {
                        "name": code,
                        "shortcode": code,
                        "valueType": value_type,
                        "scope": scope,
                    }
                },
            )["createContactsField"]
            assert result == {
                "contactsField": {"valueType": value_type, "scope": scope},
                "errors": None,
            }


def test_each_role_has_its_label_and_its_reserved_access_role(tenant: Tenant) -> None:
    labels = {
        "none": "No access",
        "staff": "Staff",
        "manager": "Manager",
        "admin": "Admin",
        "glific_admin": "Glific_admin",
    }
    for role, label in labels.items():
        user = tenant.gql(
            "{ currentUser { user { roles accessRoles { label isReserved } } } }", role=role
        )
        if role == "none":  # holds no role that may read anything
            assert user["errors"][0]["message"] == "Unauthorized"
            continue
        assert user["data"]["currentUser"]["user"] == {
            "roles": [label],
            "accessRoles": [{"label": label, "isReserved": True}],
        }
