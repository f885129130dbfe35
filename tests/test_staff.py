"""Staff management and My Account (Glific's users screens): managers list, change and
delete the organization's users; nobody grants a role above their own or touches a user
above them (Glific's privilege-escalation fix, #5565); everyone edits their own account."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.utils.tenants import Tenant

UPDATE = """mutation($id: ID!, $input: UserInput!) { updateUser(id: $id, input: $input) {
  user { id name roles isRestricted groups { label } } errors { key message } } }"""
DELETE = "mutation($id: ID!) { deleteUser(id: $id) { errors { key message } } }"


def update(tenant: Tenant, target: str, role: str, **changes: Any) -> dict[str, Any]:
    result: dict[str, Any] = tenant.data(
        UPDATE, {"id": str(tenant.users[target]["id"]), "input": changes}, role=role
    )["updateUser"]
    return result


def errors(result: dict[str, Any]) -> list[str]:
    return [e["message"] for e in result["errors"] or []]


def test_managers_list_and_count_their_organizations_users(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    listed = tenant.data("{ users(opts: {limit: 50}) { name roles } }")["users"]
    assert {u["name"] for u in listed} == {u.title() + " User" for u in tenant.users} | set()
    found = tenant.data('{ users(filter: {name: "staff"}) { name } }')["users"]
    assert found == [{"name": "Staff User"}]
    assert tenant.data("{ countUsers }")["countUsers"] == len(tenant.users)
    assert other_tenant.data("{ countUsers }")["countUsers"] == len(other_tenant.users)
    refused = tenant.gql("{ users { id } }", role="staff")
    assert [e["message"] for e in refused["errors"]] == ["Unauthorized"]


def test_a_manager_changes_a_staff_member(tenant: Tenant) -> None:
    group = tenant.data(
        'mutation { importContacts(data: "name,phone\\nA,919812340099", type: DATA,'
        ' groupLabel: "Volunteers") { status } }'
    )
    assert group
    group_id = tenant.data(
        "{ search(filter: {searchGroup: true}, contactOpts: {limit: 5},"
        " messageOpts: {limit: 1}) { group { id label } } }"
    )
    groups = [g["group"] for g in group_id["search"] if g["group"]]
    volunteers = next(g["id"] for g in groups if g["label"] == "Volunteers")
    result = update(
        tenant, "staff", "manager", name="Asha (staff)", isRestricted=True, groupIds=[volunteers]
    )
    assert result["errors"] is None
    assert result["user"]["name"] == "Asha (staff)"
    assert result["user"]["isRestricted"] is True
    assert result["user"]["groups"] == [{"label": "Volunteers"}]
    assert update(tenant, "staff", "manager", groupIds=[])["user"]["groups"] == []


def test_nobody_grants_a_role_above_their_own_or_changes_a_user_above_them(
    tenant: Tenant,
) -> None:
    result = update(tenant, "staff", "manager", roles=["Admin"])
    assert errors(result) == ["You cannot grant a role above your own"]
    result = update(tenant, "staff", "manager", roles=["Glific_admin"])
    assert errors(result) == ["You cannot grant a role above your own"]
    result = update(tenant, "admin", "manager", name="Demoted", roles=["Staff"])
    assert errors(result) == ["You cannot change a user whose role is above yours"]
    roles = tenant.data("{ accessRoles { id label } }")["accessRoles"]
    admin_role = next(r["id"] for r in roles if r["label"] == "Admin")
    result = update(tenant, "staff", "manager", addRoleIds=[admin_role])
    assert errors(result) == ["You cannot grant a role above your own"]
    # Nothing was written by the refused changes.
    me = tenant.data('{ users(filter: {name: "staff"}) { roles } }')
    assert me["users"] == [{"roles": ["Staff"]}]
    # Within one's own rank it works, and the new role counts on the next request.
    manager_role = next(r["id"] for r in roles if r["label"] == "Manager")
    staff_role = next(r["id"] for r in roles if r["label"] == "Staff")
    promoted = update(
        tenant, "staff", "manager", addRoleIds=[manager_role], deleteRoleIds=[staff_role]
    )
    assert promoted["errors"] is None and promoted["user"]["roles"] == ["Manager"]
    assert tenant.data("{ countUsers }", role="staff")["countUsers"] == len(tenant.users)


def test_deleting_users(tenant: Tenant) -> None:
    assert errors(
        tenant.data(DELETE, {"id": str(tenant.users["manager"]["id"])})["deleteUser"]
    ) == ["You cannot delete your own account"]
    assert errors(tenant.data(DELETE, {"id": str(tenant.users["admin"]["id"])})["deleteUser"]) == [
        "You cannot change a user whose role is above yours"
    ]
    done = tenant.data(DELETE, {"id": str(tenant.users["staff"]["id"])})["deleteUser"]
    assert done["errors"] is None
    assert tenant.data("{ countUsers }")["countUsers"] == len(tenant.users) - 1
    # The deleted user's session ends with the account.
    gone = tenant.post({"query": "{ currentUser { user { id } } }"}, role="staff")
    assert gone.status_code == 401
    missing = tenant.data(DELETE, {"id": str(tenant.users["staff"]["id"])})["deleteUser"]
    assert errors(missing) == ["Resource not found"]


def test_my_account_changes_only_the_users_own_name_email_and_language(tenant: Tenant) -> None:
    hindi = tenant.language_id("hi")
    mutation = """mutation($input: CurrentUserInput!) { updateCurrentUser(input: $input) {
      user { id name email language { locale } } errors { key message } } }"""
    changed = tenant.data(
        mutation,
        {"input": {"name": "Meera", "email": "m@ngo.org", "languageId": hindi}},
        role="staff",
    )["updateCurrentUser"]
    assert changed["errors"] is None
    assert changed["user"]["id"] == str(tenant.users["staff"]["id"])
    assert (changed["user"]["name"], changed["user"]["email"]) == ("Meera", "m@ngo.org")
    assert changed["user"]["language"] == {"locale": "hi"}
    refused = tenant.data(
        mutation, {"input": {"password": "new-password-123", "otp": "1234"}}, role="staff"
    )["updateCurrentUser"]
    assert refused["user"] is None
    assert "one-time code" in refused["errors"][0]["message"]


def test_roles_added_at_the_same_moment_both_stay(tenant: Tenant) -> None:
    # Each change reads the user's roles and writes them back under the row's lock.
    roles = {
        r["label"]: r["id"] for r in tenant.data("{ accessRoles { id label } }")["accessRoles"]
    }
    staff_id = str(tenant.users["staff"]["id"])
    reset = {"id": staff_id, "input": {"roles": ["Staff"]}}
    for _ in range(5):
        assert tenant.data(UPDATE, reset, role="admin")["updateUser"]["errors"] is None

        def add(label: str) -> None:
            variables = {"id": staff_id, "input": {"addRoleIds": [roles[label]]}}
            assert tenant.data(UPDATE, variables, role="admin")["updateUser"]["errors"] is None

        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(add, ["Manager", "Admin"]))
        found = tenant.data('{ users(filter: {name: "staff"}) { roles } }')["users"]
        assert sorted(found[0]["roles"]) == ["Admin", "Manager", "Staff"]
