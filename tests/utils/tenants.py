"""Factories: a fresh organization per test, with a signed-in user for every role, and helpers
to talk GraphQL as any of them."""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass, field
from typing import Any

import httpx2
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Language, Organization, User, saved_id
from resolvers import auth, organizations
from tests.utils.server import LiveServer

PASSWORD = "Password-1234"
ROLES = ("staff", "manager", "admin", "glific_admin", "none")
_PASSWORD_HASH: list[str] = []
_numbers = itertools.count(secrets.randbelow(10**8))


def unique_phone() -> str:
    """A valid Indian mobile number (E.164 digits) that no other test in this run uses."""
    return f"919{next(_numbers) % 10**9:09d}"


@dataclass
class Tenant:
    server: LiveServer
    org_id: int
    shortcode: str
    org_contact_id: int
    users: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def client(self) -> httpx2.Client:
        return self.server.client

    def token(self, role: str = "manager") -> str:
        return str(self.users[role]["token"])

    def post(self, body: Any, role: str | None = "manager", **headers: str) -> httpx2.Response:
        if role is not None:
            headers.setdefault("authorization", self.token(role))
        return self.client.post("/api", json=body, headers=headers)

    def gql(
        self, query: str, variables: dict[str, Any] | None = None, role: str = "manager"
    ) -> dict[str, Any]:
        """Run a document; asserts the HTTP call itself succeeded and returns the JSON body."""
        response = self.post({"query": query, "variables": variables or {}}, role)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def data(
        self, query: str, variables: dict[str, Any] | None = None, role: str = "manager"
    ) -> dict[str, Any]:
        """Run a document that must not produce top-level errors; returns `data`."""
        body = self.gql(query, variables, role)
        assert "errors" not in body, body
        return body["data"]

    def create_contact(self, name: str = "Asha", **extra: Any) -> dict[str, Any]:
        variables = {"input": {"name": name, "phone": extra.pop("phone", unique_phone()), **extra}}
        result = self.data(
            "mutation($input: ContactInput!) { createContact(input: $input) {"
            " contact { id name phone fields language { id label } activeProfile { id } }"
            " errors { key message } } }",
            variables,
        )["createContact"]
        assert result["errors"] is None, result
        return result["contact"]

    def language_id(self, locale: str) -> str:
        async def find(session: AsyncSession) -> int:
            return int(
                (
                    await session.scalar(
                        select(col(Language.id)).where(col(Language.locale) == locale)
                    )
                )
                or 0
            )

        return str(self.server.in_transaction(find))


def create_tenant(server: LiveServer, roles: tuple[str, ...] = ROLES) -> Tenant:
    shortcode = f"t{secrets.token_hex(5)}"

    async def build(session: AsyncSession) -> Tenant:
        if not _PASSWORD_HASH:
            _PASSWORD_HASH.append(auth.hash_password(PASSWORD))
        english = await session.scalar(select(Language).where(col(Language.locale) == "en"))
        assert english is not None
        org: Organization = await organizations.create_organization(
            session,
            name=f"Org {shortcode}",
            shortcode=shortcode,
            contact_phone=unique_phone(),
            default_language=english,
        )
        assert org.contact_id is not None  # create_organization made the chatbot's contact
        tenant = Tenant(server, saved_id(org), shortcode, org.contact_id)
        for role in roles:
            user = User(
                organization_id=tenant.org_id,
                name=f"{role.title()} User",
                phone=unique_phone(),
                password_hash=_PASSWORD_HASH[0],
                roles=[role],
                language_id=english.id,
            )
            session.add(user)
            await session.flush()
            pair = await auth.issue_tokens(session, user)
            tenant.users[role] = {
                "id": user.id,
                "phone": user.phone,
                "token": pair.access_token,
                "renewal_token": pair.renewal_token,
            }
        return tenant

    return server.in_transaction(build)


def restrict_staff(tenant: Tenant, *contact_ids: str) -> None:
    """Make the tenant's staff user restricted to one collection holding these contacts."""
    staff_id = tenant.users["staff"]["id"]

    async def restrict(session: AsyncSession) -> None:
        from models import UserGroup
        from resolvers import groups

        group = await groups.group_by_label(session, tenant.org_id, "My families", create=True)
        assert group is not None and group.id is not None
        for contact_id in contact_ids:
            await groups.add_contact(session, group, int(contact_id))
        session.add(UserGroup(organization_id=tenant.org_id, user_id=staff_id, group_id=group.id))
        user = await session.get(User, staff_id)
        assert user is not None
        user.is_restricted = True

    tenant.server.in_transaction(restrict)
