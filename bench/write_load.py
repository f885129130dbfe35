"""Write throughput under concurrency: 64 clients doing createContact / createProfile /
switchProfile / updateContact, on distinct contacts and on one hot contact.

    .venv/bin/python bench/write_load.py [--database sqlite|postgresql] [--workers 1]
        [--contacts 10000] [--seconds 10] [--clients 64] [--rounds 5] [--pg-url URL]

Seeds a fresh database (bench/common.py), starts the server as the README runs it (with
`--workers` processes), and runs, in rounds that alternate them:

  (a) { __typename }                                   the baseline, as in the read bench
  (w) the four mutations in turn, each on a random one of the seeded contacts
  (h) the same four, all on one contact (every write waits for the one before it)

It prints mutations/s, p50, p99 and the error count (which must be 0: a write that fails
under load is a bug), and (w)/(a), (h)/(a).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from typing import Any

from common import PHONE_PREFIX, Server, Workload, database, line, run_load, seed, summarise

TYPENAME = "{ __typename }"
CREATE_CONTACT = (
    "mutation($input: ContactInput!) { createContact(input: $input) {"
    " contact { id } errors { key message } } }"
)
CREATE_PROFILE = (
    "mutation($input: ProfileInput!) { createProfile(input: $input) {"
    " profile { id } errors { key message } } }"
)
SWITCH = (
    "mutation($c: ID!, $i: Int) { switchProfile(contactId: $c, index: $i) {"
    " contact { id activeProfile { name } } errors { key message } } }"
)
UPDATE = (
    "mutation($id: ID!, $input: ContactInput) { updateContact(id: $id, input: $input) {"
    " contact { id fields } errors { key message } } }"
)


def writes(pick: Any) -> Workload:
    """The four mutations, each on the contact `pick(rng)` chooses. New phones and profile
    names are unique per process and request, so no write fails as a duplicate."""

    def new_contact(_: random.Random, n: int) -> dict[str, Any]:
        # 91 8 + 5 digits of this load process + 4 of its request count: unique in a run.
        phone = f"918{os.getpid() % 100_000:05d}{n % 10_000:04d}"
        return {"input": {"name": f"New {n}", "phone": phone}}

    def new_profile(rng: random.Random, n: int) -> dict[str, Any]:
        tag = f"{rng.randrange(10**9)}-{n}"
        return {"input": {"contactId": pick(rng), "name": f"Kid {tag}", "type": "student"}}

    def switch(rng: random.Random, _: int) -> dict[str, Any]:
        return {"c": pick(rng), "i": rng.randint(1, 3)}

    def update(rng: random.Random, n: int) -> dict[str, Any]:
        fields = {"score": {"value": n, "label": "Score", "type": "string"}}
        return {"id": pick(rng), "input": {"fields": json.dumps(fields)}}

    return [
        (CREATE_CONTACT, new_contact),
        (CREATE_PROFILE, new_profile),
        (SWITCH, switch),
        (UPDATE, update),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    with database(args.database, args.pg_url) as url:
        took = seed(url, args.contacts)
        print(f"{args.database}: seeded {args.contacts} contacts x 3 profiles in {took:.1f}s")
        with Server(url, workers=args.workers) as server:
            found = server.gql(
                "query($p: String) { contacts(filter: {phone: $p}, opts: {limit: 50}) { id } }",
                {"p": PHONE_PREFIX},
            )["data"]["contacts"]
            first = min(int(c["id"]) for c in found)
            hot = str(first)

            def anyone(rng: random.Random) -> str:
                return str(first + rng.randrange(args.contacts))

            workloads: dict[str, Workload] = {
                "a": [(TYPENAME, None)],
                "w": writes(anyone),
                "h": writes(lambda _: hot),
            }
            slices: dict[str, list[dict[str, Any]]] = {key: [] for key in workloads}
            seconds = args.seconds / args.rounds
            for _ in range(args.rounds):
                for key, workload in workloads.items():
                    slices[key].append(run_load(server, workload, args.clients, seconds))
    results = {key: summarise(taken) for key, taken in slices.items()}
    labels = {
        "a": "(a) __typename",
        "w": "(w) mutations, distinct contacts",
        "h": "(h) mutations, one hot contact",
    }
    setup = f"{args.database}, {args.workers} process(es), {args.clients} clients"
    print(setup)
    for key, result in results.items():
        print(line(labels[key], result))
    base = results["a"]["rps"]
    print(
        f"(w)/(a) = {results['w']['rps'] / base:.2f}   (h)/(a) = {results['h']['rps'] / base:.2f}"
    )
    return 1 if any(r["errors"] for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
