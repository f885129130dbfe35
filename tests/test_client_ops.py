"""Glific's own clients work unchanged: every in-scope document from
`glific-data/client-ops/` (the web frontend's and Glific's test suite's operations for
contacts, profiles, contact fields, languages and currentUser) validates against our schema,
and runs against seeded data with the response shape the document asks for.

The documents are read from the reference data folder (`$GLIFIC_REFERENCE_DATA`, else
`../shared/glific-data`); without it these tests skip saying where they looked, except under
CI (`CI` set), where they fail.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from graphql import GraphQLObjectType, GraphQLSchema

from tests.utils.client_ops import (
    Operation,
    document_id,
    fetch_schema,
    in_scope_documents,
    require_reference_data,
    shape_problems,
    unmatched_patterns,
    validation_errors,
)
from tests.utils.client_ops_data import World, role_for, seed_world, shape_rules, variables_for
from tests.utils.server import LiveServer
from tests.utils.tenants import Tenant

DOCUMENTS = in_scope_documents()
# Collected even when the folder is missing, so the skip (or the CI failure) is visible.
DOCUMENT_PARAMS = [pytest.param(p, id=document_id(p)) for p in DOCUMENTS] or [
    pytest.param(None, id="reference-data-missing")
]

_schemas: dict[str, GraphQLSchema] = {}


def schema_of(server: LiveServer, tenant: Tenant) -> GraphQLSchema:
    """Introspected once per server (the schema does not change while it runs)."""
    if server.base_url not in _schemas:
        _schemas[server.base_url] = fetch_schema(server.client, tenant.token("manager"))
    return _schemas[server.base_url]


@pytest.fixture
def world(tenant: Tenant) -> Iterator[World]:
    seeded = seed_world(tenant)
    try:
        yield seeded
    finally:
        seeded.cleanup()


def test_reference_documents_are_found() -> None:
    require_reference_data()
    assert DOCUMENTS, "no in-scope client documents found"
    assert not unmatched_patterns(), f"patterns matching no document: {unmatched_patterns()}"


def test_every_document_validates(server: LiveServer, tenant: Tenant) -> None:
    require_reference_data()
    schema = schema_of(server, tenant)
    failures = {
        document_id(path): errors
        for path in DOCUMENTS
        if (errors := validation_errors(schema, path.read_text(encoding="utf-8")))
    }
    assert DOCUMENTS
    assert not failures, "\n".join(f"{name}: {errs}" for name, errs in failures.items())


@pytest.mark.parametrize("path", DOCUMENT_PARAMS)
def test_document_runs_with_its_shape(
    path: Path | None, server: LiveServer, tenant: Tenant, world: World
) -> None:
    require_reference_data()
    assert path is not None
    operation = Operation.load(path)
    variables = variables_for(operation, world)
    body: dict[str, object] = {"query": operation.text, "variables": variables}
    if operation.name:
        body["operationName"] = operation.name  # as Apollo, Glific's frontend client, sends it
    uploads = [name for name, kind in operation.variables() if kind == "Upload"]
    if uploads:
        # As Glific's web app sends a file (apollo-absinthe-upload-link): a form whose
        # variables name the part holding each file.
        files = {
            f"file_{name}": ("drawing.jpg", b"\xff\xd8 a drawing", "image/jpeg") for name in uploads
        }
        form = {
            "query": operation.text,
            "variables": json.dumps(variables | {name: f"file_{name}" for name in uploads}),
            "operationName": operation.name or "",
        }
        response = tenant.client.post(
            "/api",
            data=form,
            files=files,
            headers={"authorization": tenant.token(role_for(operation))},
        )
    else:
        response = tenant.post(body, role=role_for(operation))
    assert response.status_code == 200, response.text
    result = response.json()
    assert "errors" not in result, result
    data = result["data"]
    problems = shape_problems(schema_of(server, tenant), operation, data, shape_rules(operation))
    assert not problems, f"{document_id(path)} with {variables}:\n" + "\n".join(problems)

    # The object a read or an update returns is the one the client asked for.
    if "id" in variables:
        for root in operation.root_fields:
            payload = data.get(root)
            if root.startswith("delete") or not isinstance(payload, dict):
                continue
            for value in payload.values():
                if isinstance(value, dict) and "id" in value:
                    assert value["id"] == variables["id"], (root, value)


# A document of our own in the style of Glific's (snake_case, fragments, every leaf kind), to
# show the shape check notices what would break a client. It needs no reference data.
SAMPLE = """
query sample($id: ID!, $filter: ContactsFieldFilter) {
  contact(id: $id) { ...ContactFields errors { key message } }
  contactsFields(filter: $filter) { id value_type inserted_at }
}
fragment ContactFields on ContactResult {
  contact { id fields bspStatus last_message_number active_profile { id is_default } }
}
"""


def test_shape_check_notices_what_breaks_a_client(
    server: LiveServer, tenant: Tenant, world: World
) -> None:
    operation = Operation.from_text(SAMPLE)
    variables = {"id": world.contact_id, "filter": {"scope": "CONTACT"}}
    data = tenant.data(SAMPLE, variables)
    schema = schema_of(server, tenant)
    rules = shape_rules(operation)
    assert shape_problems(schema, operation, data, rules) == []
    contact = data["contact"]["contact"]
    assert contact["id"] == world.contact_id
    assert contact["active_profile"] == {"id": world.active_profile_id, "is_default": False}

    def broken(change: str) -> list[str]:
        copy = json.loads(json.dumps(data))
        target, field = copy["contact"]["contact"], copy["contactsFields"][0]
        if change == "camelCase key":
            target["activeProfile"] = target.pop("active_profile")
        elif change == "int id":
            target["id"] = int(target["id"])
        elif change == "Json as object":
            target["fields"] = json.loads(target["fields"])
        elif change == "lower-case enum":
            field["value_type"] = field["value_type"].lower()
        elif change == "DateTime without Z":
            field["inserted_at"] = field["inserted_at"].rstrip("Z")
        elif change == "null object":
            target["active_profile"] = None
        elif change == "payload errors":
            copy["contact"]["errors"] = [{"key": "name", "message": "Name: is invalid"}]
        elif change == "object for a list":
            copy["contactsFields"] = field
        elif change == "string for an Int":
            target["last_message_number"] = "0"
        elif change == "string for a Boolean":
            target["active_profile"]["is_default"] = "false"
        return shape_problems(schema, operation, copy, rules)

    for change in (
        "camelCase key",
        "int id",
        "Json as object",
        "lower-case enum",
        "DateTime without Z",
        "null object",
        "payload errors",
        "object for a list",
        "string for an Int",
        "string for a Boolean",
    ):
        assert broken(change), f"the shape check missed: {change}"


def test_user_roles_are_glific_role_labels(server: LiveServer, tenant: Tenant) -> None:
    """`User.roles` is Glific's `RoleLabel` scalar: "No access", "Manager", ..."""
    schema = schema_of(server, tenant)
    user = schema.type_map["User"]
    assert isinstance(user, GraphQLObjectType)
    assert str(user.fields["roles"].type) == "[RoleLabel]"
    query = "{ currentUser { user { roles } } }"
    assert tenant.data(query)["currentUser"]["user"]["roles"] == ["Manager"]
    assert tenant.data(query, role="glific_admin")["currentUser"]["user"]["roles"] == [
        "Glific_admin"
    ]
