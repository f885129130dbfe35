"""Flow throughput: N contacts each run a registration-style flow of five messages (the
keyword, then name, age, city and school; fields set, results filed, a reply to each).

    .venv/bin/python bench/flow_engine.py [--contacts 1000] [--database sqlite|postgresql]
        [--clients 32] [--pg-url URL]

  (a) the engine alone: start and resume in memory, no database
  (b) in-process: `resolvers.inbound.receive` on the database (what a webhook calls)
  (c) over HTTP: Glific's simulator endpoint, POST /api/v1/simulator/message, one server
      process started as the README runs it
  and, in the same run, the read bench's baseline { __typename } req/s.

Simulator phones are five per organization, so the contacts are spread over N/5
organizations, each with the flow imported and published through the flows resolvers and a
staff user's token. Prints messages/s and p50/p99 per message for each.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from dataclasses import dataclass
from typing import Any

from common import ADMIN_PHONE, PASSWORD, SECRET_KEY, Server, database, line, run_load, summarise
from sqlalchemy import select
from sqlmodel import col

from models import Database, Language, Organization, User
from models.migrate import upgrade
from resolvers import auth, flows, inbound, organizations, seed
from resolvers.flow_engine import (
    ContactView,
    Environment,
    Input,
    LanguageView,
    OrgView,
    Session,
    parse_flow,
    resume,
    start,
)
from settings import Settings
from tests.utils.flow_builder import FlowBuilder, export_of

KEYWORD = "register"
ANSWERS = ["Asha", "12", "Pune", "Model School"]


def registration_flow() -> dict[str, Any]:
    f = FlowBuilder("Bench registration")
    f.send("ask_name", "What is your name?", "name")
    f.wait("name", [], other="save_name", result_name="name", other_name="All Responses")
    f.actions(
        "save_name",
        [
            {
                "type": "set_contact_field",
                "field": {"key": "name", "name": "Name"},
                "value": "@results.name",
            },
            {"type": "send_msg", "text": "How old are you, @results.name?"},
        ],
        "age",
    )
    f.wait(
        "age",
        [("has_number_between", ["1", "120"], "Age", "save_age")],
        other="age",
        result_name="age",
    )
    f.actions(
        "save_age",
        [
            {
                "type": "set_contact_field",
                "field": {"key": "age", "name": "Age"},
                "value": "@results.age",
            },
            {"type": "send_msg", "text": "Which city do you live in?"},
        ],
        "city",
    )
    f.wait("city", [], other="ask_school", result_name="city", other_name="All Responses")
    f.send("ask_school", "Which school do you go to?", "school")
    f.wait("school", [], other="bye", result_name="school", other_name="All Responses")
    f.send("bye", "Thank you @contact.fields.name from @results.city!", None)
    return f.build()


@dataclass
class Figures:
    label: str
    messages: int
    seconds: float
    latencies: list[float]

    def show(self, baseline: float | None = None) -> str:
        rate = self.messages / self.seconds
        lat = sorted(self.latencies)
        p50 = statistics.median(lat) * 1000
        p99 = lat[int(len(lat) * 0.99) - 1] * 1000
        ratio = f"   {rate / baseline:5.2f} x baseline" if baseline else ""
        return f"{self.label:<42} {rate:9.0f} msg/s   p50 {p50:7.2f} ms   p99 {p99:7.2f} ms{ratio}"


# --- (a) the engine alone ------------------------------------------------------------------


def engine_alone(contacts: int) -> Figures:
    flow = parse_flow(registration_flow())
    table = {flow.uuid: flow}

    class Flows:
        def get(self, flow_uuid: str) -> Any:
            return table.get(flow_uuid)

    org = OrgView(
        id=1,
        languages=(LanguageView(id=1, label="English", locale="en"),),
        default_language_id=1,
    )
    env = Environment()
    latencies: list[float] = []
    began = time.perf_counter()
    for n in range(contacts):
        contact = ContactView(id=n, name=None, phone=f"91{n:010d}", language_id=1, fields={})
        t0 = time.perf_counter()
        sprint = start(env, Flows(), org, contact, Session(), flow.uuid, keyword=KEYWORD)
        latencies.append(time.perf_counter() - t0)
        session = sprint.session
        for answer in ANSWERS:
            t0 = time.perf_counter()
            sprint = resume(env, Flows(), org, contact, session, input=Input(text=answer))
            latencies.append(time.perf_counter() - t0)
            session = sprint.session
    return Figures("(a) engine alone", contacts * 5, time.perf_counter() - began, latencies)


# --- the database ---------------------------------------------------------------------------


@dataclass
class Tenant:
    org_id: int
    token: str
    phones: list[str]


async def prepare(url: str, contacts: int) -> list[Tenant]:
    """Migrate and seed, then one organization per five contacts, each with the flow
    imported and published and a staff user signed in."""
    await upgrade(url)
    # Seeded as the bench's server signs in (bench/common.py).
    settings = Settings(
        database_url=url, admin_password=PASSWORD, admin_phone=ADMIN_PHONE, secret_key=SECRET_KEY
    )
    db = Database(url, settings=settings)
    tenants: list[Tenant] = []
    definition = registration_flow()
    try:
        async with db.transaction(all_organizations=True) as session:
            await seed.seed_defaults(session, settings)
        password_hash = auth.hash_password("Bench-staff-password-1")
        orgs = (contacts + 4) // 5
        for i in range(orgs):
            async with db.transaction(all_organizations=True) as session:
                english = await session.scalar(select(Language).where(col(Language.locale) == "en"))
                assert english is not None
                org: Organization = await organizations.create_organization(
                    session,
                    name=f"Bench org {i}",
                    shortcode=f"bench{i}",
                    contact_phone=f"9170{i:08d}",
                    default_language=english,
                )
                assert org.id is not None
                user = User(
                    organization_id=org.id,
                    name="Bench staff",
                    phone=f"9180{i:08d}",
                    password_hash=password_hash,
                    roles=["staff"],
                    language_id=org.default_language_id,
                )
                session.add(user)
                await session.flush()
                pair = await auth.issue_tokens(session, user)
                org_id = org.id
            async with db.transaction(org_id) as session:
                await flows.import_flows(session, org_id, export_of((definition, [KEYWORD])))
            async with db.transaction(org_id) as session:
                problems = await flows.publish(session, org_id, definition["uuid"])
                assert not [p for p in problems if p.category == "Critical"], problems
            count = min(5, contacts - 5 * i)
            phones = [f"9876543210_{k}" for k in range(1, count + 1)]
            tenants.append(Tenant(org_id, pair.access_token, phones))
    finally:
        await db.dispose()
    return tenants


async def _converse(
    send: Any, tenants: list[Tenant], clients: int
) -> tuple[int, float, list[float]]:
    """Each client takes the next contact and sends its five messages in turn."""
    work = [(t, phone) for t in tenants for phone in t.phones]
    latencies: list[float] = []
    position = iter(range(len(work)))

    async def client() -> None:
        for n in position:
            tenant, phone = work[n]
            for text in [KEYWORD, *ANSWERS]:
                t0 = time.perf_counter()
                await send(tenant, phone, text)
                latencies.append(time.perf_counter() - t0)

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return len(latencies), time.perf_counter() - began, latencies


async def in_process(url: str, tenants: list[Tenant], clients: int, label: str) -> Figures:
    settings = Settings(database_url=url)
    db = Database(url, settings=settings)

    async def send(tenant: Tenant, phone: str, text: str) -> None:
        received = await inbound.receive(
            db,
            tenant.org_id,
            inbound.InboundMessage(
                phone=phone, input=Input(text=text), provider_message_id=str(uuid.uuid4())
            ),
        )
        assert received.replies, (text, received)

    try:
        messages, seconds, latencies = await _converse(send, tenants, clients)
    finally:
        await db.dispose()
    return Figures(label, messages, seconds, latencies)


async def over_http(base: str, tenants: list[Tenant], clients: int, label: str) -> Figures:
    import httpx2

    errors: list[str] = []
    limits = httpx2.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx2.AsyncClient(base_url=base, limits=limits, timeout=120) as http:

        async def send(tenant: Tenant, phone: str, text: str) -> None:
            body = {
                "type": "message",
                "payload": {
                    "id": str(uuid.uuid4()),
                    "type": "text",
                    "payload": {"text": text},
                    "sender": {"phone": phone, "name": "Bench"},
                },
            }
            r = await http.post(
                "/api/v1/simulator/message", json=body, headers={"authorization": tenant.token}
            )
            if r.status_code != 200 and len(errors) < 20:
                errors.append(f"{r.status_code} {r.text[:200]}")

        messages, seconds, latencies = await _converse(send, tenants, clients)
    if errors:
        raise SystemExit("errors over HTTP:\n" + "\n".join(errors))
    return Figures(label, messages, seconds, latencies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1000)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--pg-url", default=None)
    args = parser.parse_args()

    print(f"{args.contacts} contacts x 5 messages, {args.clients} at a time, {args.database}")
    engine = engine_alone(args.contacts)
    with database(args.database, *([args.pg_url] if args.pg_url else [])) as url:
        tenants = asyncio.run(prepare(url, args.contacts))
        local = asyncio.run(
            in_process(url, tenants, args.clients, f"(b) in-process, {args.database}")
        )
        with Server(url) as server:
            baseline = summarise([run_load(server, [("{ __typename }", None)], 64, 5.0)])
            remote = asyncio.run(
                over_http(server.base, tenants, args.clients, f"(c) over HTTP, {args.database}")
            )
    print(line("baseline { __typename }", baseline))
    for figures in (engine, local, remote):
        print(figures.show(baseline["rps"] if figures is remote else None))


if __name__ == "__main__":
    main()
