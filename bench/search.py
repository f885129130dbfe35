"""The chat screen at scale: N contacts x 3 profiles with M messages each, on SQLite or
PostgreSQL.

    .venv/bin/python bench/search.py [--database sqlite|postgresql] [--contacts 1000000]
        [--messages 5] [--seconds 10] [--clients 32] [--rounds 5]

Seeds a fresh database (bench/common.py: contacts `Child 00000000` ..., three profiles
each), then `--messages` messages per contact (5,000,000 at the defaults) with the contacts'
conversation columns set as the webhook would leave them, starts the server as the README
runs it and, from separate load processes with `--clients` concurrent clients, runs:

  (a) { __typename }                                    the baseline
  (b) search: the conversation list's first page (25 contacts, 20 messages each)
  (c) search with a name term matching one person
  (d) contacts(filter: {name}) + countContacts(filter: {name}), one person
  (e) search with a name term shared by many (`hild 000`: a tenth of the contacts at 1M)
  (f) contacts(filter: {name}) + countContacts(filter: {name}), the same many

printing requests/s, p50, p99 and errors for each, and its ratio to (a) in the same run.
(a)-(d) are interleaved over the rounds; (e) and (f) run once, after them.
"""

from __future__ import annotations

import random
import time
from typing import Any

from common import Server, Workload, database, print_ratios, run_rounds, scale_arguments, seed
from contact_search import _analyse

SEARCH = """query($filter: SearchFilter!) {
  search(filter: $filter, contactOpts: {limit: 25}, messageOpts: {limit: 20}) {
    id contact { id name phone lastMessageAt isOrgRead }
    messages { id body insertedAt messageNumber type sender { id } receiver { id } }
  } }"""
CONTACTS = """query($f: ContactFilter) {
  contacts(filter: $f, opts: {limit: 25}) { id name } countContacts(filter: $f) }"""
LABELS = {
    "a": "(a) __typename",
    "b": "(b) search, first page",
    "c": "(c) search, one person's name",
    "d": "(d) contacts+count, one name",
    "e": "(e) search, a name many share",
    "f": "(f) contacts+count, many share",
}


def seed_messages(url: str, per_contact: int) -> float:
    """`per_contact` messages for every seeded contact, alternating in and out, and the
    contacts' conversation columns (last message number and times) to match."""
    from sqlalchemy import create_engine, text

    started = time.perf_counter()
    postgres = url.startswith("postgresql")
    engine = create_engine(url.replace("+aiosqlite", ""))
    empty = "CAST('{}' AS JSONB)" if postgres else "'{}'"
    false = "false" if postgres else "0"
    numbers = " UNION ALL ".join(f"SELECT {n} AS n" for n in range(1, per_contact + 1))
    seconds = "make_interval(secs => c.id)" if postgres else None
    when = (
        f"TIMESTAMP '2026-01-01 00:00:00' + {seconds}"
        if postgres
        else "datetime('2026-01-01 00:00:00', '+' || c.id || ' seconds')"
    )
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO messages (organization_id, contact_id, sender_id, flow, type, body,"
                " status, bsp_status, errors, interactive_content, message_number, is_hsm,"
                " send_attempts, inserted_at, updated_at)"
                " SELECT c.organization_id, c.id, c.id,"
                " CASE WHEN k.n % 2 = 1 THEN 'inbound' ELSE 'outbound' END, 'text',"
                f" 'Message ' || k.n, 'received', 'delivered', {empty}, {empty}, k.n, {false},"
                f" 0, {when}, {when}"
                f" FROM contacts c CROSS JOIN ({numbers}) k WHERE c.phone LIKE '9190%'"
            )
        )
        conn.execute(
            text(
                f"UPDATE contacts SET last_message_number = {per_contact},"
                f" last_message_at = {when.replace('c.id', 'contacts.id')},"
                f" last_communication_at = {when.replace('c.id', 'contacts.id')}"
                " WHERE phone LIKE '9190%'"
            )
        )
    if postgres:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return time.perf_counter() - started


def workloads(contacts: int) -> dict[str, Workload]:
    def one(rng: random.Random) -> str:
        return f"{rng.randrange(contacts):08d}"[2:]

    def search_one(rng: random.Random, _: int) -> dict[str, Any]:
        return {"filter": {"term": one(rng)}}

    def contacts_one(rng: random.Random, _: int) -> dict[str, Any]:
        return {"f": {"name": one(rng)}}

    return {
        "a": [("{ __typename }", None)],
        "b": [(SEARCH, lambda _r, _n: {"filter": {}})],
        "c": [(SEARCH, search_one)],
        "d": [(CONTACTS, contacts_one)],
        "e": [(SEARCH, lambda _r, _n: {"filter": {"term": "hild 000"}})],
        "f": [(CONTACTS, lambda _r, _n: {"f": {"name": "hild 000"}})],
    }


def main() -> int:
    parser = scale_arguments(__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5)
    args = parser.parse_args()
    with database(args.database, args.pg_url) as url:
        took = seed(url, args.contacts)
        took += seed_messages(url, args.messages)
        _analyse(url)
        print(
            f"{args.database}: seeded {args.contacts} contacts x 3 profiles and"
            f" {args.contacts * args.messages} messages in {took:.1f}s"
        )
        plan = workloads(args.contacts)
        with Server(url) as server:
            many = server.gql(CONTACTS, {"f": {"name": "hild 000"}})["data"]["countContacts"]
            print(f"    'hild 000' is in {many} contacts' names")
            # The shared-name searches take seconds each: interleaved with the others, their
            # last requests would still be running when the next workload's slice begins.
            # They run once, after the rest, for as long as one workload's share.
            quick = {key: plan[key] for key in "abcd"}
            results = run_rounds(server, quick, args.clients, args.seconds, args.rounds)
            slow = {key: plan[key] for key in "ef"}
            results.update(run_rounds(server, slow, args.clients, args.seconds, 1))
    return print_ratios(results, LABELS)


if __name__ == "__main__":
    raise SystemExit(main())
