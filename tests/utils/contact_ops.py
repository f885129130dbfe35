"""GraphQL helpers for the contact, profile and history tests: the documents they share, small
wrappers that return the payload of one operation, and the sync invariant check."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from tests.utils.tenants import Tenant

T = TypeVar("T")

ERRORS = "errors { key message }"
PROFILE = "id name type fields isActive isDefault language { id } contact { id }"
CONTACT = (
    "id name phone fields language { id }"
    " activeProfile { id name fields isDefault language { id } }"
    " profiles { id name type isActive isDefault }"
)
HISTORY = "id eventType eventLabel eventMeta eventDatetime profile { id name }"


def field(value: Any, label: str = "Field") -> dict[str, Any]:
    """One entry of a `fields` map, as flows write them."""
    return {"value": value, "label": label, "type": "string", "inserted_at": "2024-05-01T10:20:30Z"}


def as_json(value: Any) -> str:
    return json.dumps(value)


def decoded(value: str | None) -> Any:
    """The `Json` scalar is a JSON-encoded string on the wire."""
    return None if value is None else json.loads(value)


def contact(tenant: Tenant, contact_id: Any, role: str = "manager") -> dict[str, Any]:
    result = tenant.data(
        f"query($id: ID!) {{ contact(id: $id) {{ contact {{ {CONTACT} }} {ERRORS} }} }}",
        {"id": contact_id},
        role,
    )["contact"]
    assert result["errors"] is None, result
    return result["contact"]


def profile(tenant: Tenant, profile_id: Any) -> dict[str, Any] | None:
    return tenant.data(
        f"query($id: ID!) {{ profile(id: $id) {{ profile {{ {PROFILE} }} {ERRORS} }} }}",
        {"id": profile_id},
    )["profile"]["profile"]


def existing_profile(tenant: Tenant, profile_id: Any) -> dict[str, Any]:
    """`profile`, for a profile the test expects to exist."""
    found = profile(tenant, profile_id)
    assert found is not None, f"profile {profile_id} not found"
    return found


def create_profile(
    tenant: Tenant,
    contact_id: Any,
    name: str | None,
    *,
    activate: bool | None = None,
    role: str = "manager",
    **extra: Any,
) -> dict[str, Any]:
    """`createProfile`; returns the whole `{profile, errors}` payload."""
    if "fields" in extra and not isinstance(extra["fields"], str):
        extra["fields"] = as_json(extra["fields"])
    variables: dict[str, Any] = {"input": {"contactId": contact_id, "name": name, **extra}}
    declared = arg = ""
    if activate is not None:
        variables["activate"] = activate
        declared, arg = ", $activate: Boolean", ", activate: $activate"
    return tenant.data(
        f"mutation($input: ProfileInput!{declared}) {{"
        f" createProfile(input: $input{arg}) {{ profile {{ {PROFILE} }} {ERRORS} }} }}",
        variables,
        role,
    )["createProfile"]


def new_profile(tenant: Tenant, contact_id: Any, name: str, **extra: Any) -> dict[str, Any]:
    """`createProfile` that must succeed; returns the profile."""
    result = create_profile(tenant, contact_id, name, **extra)
    assert result["errors"] is None, result
    return result["profile"]


def switch(tenant: Tenant, contact_id: Any, role: str = "staff", **by: Any) -> dict[str, Any]:
    """`switchProfile` by `profileId`, `index` or `name`; returns `{contact, errors}`."""
    return tenant.data(
        "mutation($contactId: ID!, $profileId: ID, $index: Int, $name: String) {"
        " switchProfile(contactId: $contactId, profileId: $profileId, index: $index, name: $name)"
        f" {{ contact {{ {CONTACT} }} {ERRORS} }} }}",
        {"contactId": contact_id, **by},
        role,
    )["switchProfile"]


def _update(
    tenant: Tenant, kind: str, selection: str, row_id: Any, role: str, input: dict[str, Any]
) -> dict[str, Any]:
    """`update<Kind>(id, input)`; a `fields` dict is sent as Glific's JSON string."""
    if "fields" in input and not isinstance(input["fields"], str):
        input["fields"] = as_json(input["fields"])
    field, result = f"update{kind}", kind[0].lower() + kind[1:]
    return tenant.data(
        f"mutation($id: ID!, $input: {kind}Input) {{ {field}(id: $id, input: $input)"
        f" {{ {result} {{ {selection} }} {ERRORS} }} }}",
        {"id": row_id, "input": input},
        role,
    )[field]


def update_contact(
    tenant: Tenant, contact_id: Any, role: str = "staff", **input: Any
) -> dict[str, Any]:
    return _update(tenant, "Contact", CONTACT, contact_id, role, input)


def update_profile(
    tenant: Tenant, profile_id: Any, role: str = "staff", **input: Any
) -> dict[str, Any]:
    return _update(tenant, "Profile", PROFILE, profile_id, role, input)


def profile_mutation(tenant: Tenant, name: str, profile_id: Any) -> dict[str, Any]:
    """`deleteProfile`, `deactivateProfile` or `reactivateProfile` (as a manager)."""
    return tenant.data(
        f"mutation($id: ID!) {{ {name}(id: $id) {{ profile {{ {PROFILE} }} {ERRORS} }} }}",
        {"id": profile_id},
    )[name]


def history(
    tenant: Tenant, filter: dict[str, Any], opts: dict[str, Any] | None = None
) -> list[Any]:
    return tenant.data(
        "query($filter: ContactsHistoryFilter, $opts: Opts) {"
        f" contactHistory(filter: $filter, opts: $opts) {{ {HISTORY} }} }}",
        {"filter": filter, "opts": opts},
    )["contactHistory"]


def assert_in_sync(state: dict[str, Any]) -> None:
    """The invariant: while a profile is active, the contact's fields and language are the
    profile's."""
    active = state["activeProfile"]
    assert active is not None, state
    assert decoded(state["fields"]) == decoded(active["fields"]), state
    assert state["language"]["id"] == active["language"]["id"], state


def in_org_transaction(tenant: Tenant, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one write transaction opened for the tenant's organization, on the
    server's loop: exactly how the flow engine and the webhook will call the resolvers."""
    server = tenant.server

    async def go() -> T:
        async with server.db.transaction(tenant.org_id) as session:
            return await work(session)

    return server.run(go)
