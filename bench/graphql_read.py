"""Read throughput of the GraphQL API: N contacts x 3 profiles, on SQLite or PostgreSQL.

    .venv/bin/python bench/graphql_read.py [--database sqlite|postgresql] [--contacts 10000]
        [--seconds 10] [--clients 32] [--rounds 10] [--workers 1] [--pg-url URL]

Seeds a fresh database (bench/common.py), starts the server as the README runs it, and, from
separate load processes, runs each workload with N concurrent clients:

  (a) { __typename }                                           the baseline
  (b) contact(id) with fields, language, active profile, profiles (over 500 contacts)
  (c) contacts(opts:{limit:25}) with active profile and profiles
  (d) { __typename } again, while one more client loops countContacts (no filter): how
      much one slow statement slows everyone else

and prints requests/s, p50, p99, errors and the server's CPU per request for each, and the
ratios (b)/(a), (c)/(a), (d)/(a) against the baseline measured in the same run. Each
workload's seconds are taken in rounds that alternate a, b, c, d, so that a shared machine
whose speed drifts treats them alike.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from typing import Any

from common import Server, Workload, database, line, run_load, seed, summarise

TYPENAME = "{ __typename }"
ONE = (
    "query($id: ID!) { contact(id: $id) { contact { id name phone fields language { label } "
    "activeProfile { id name } profiles { id name isActive } } } }"
)
PAGE = "{ contacts(opts: {limit: 25}) { id name activeProfile { name } profiles { name } } }"
COUNT = "{ countContacts }"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()

    with database(args.database, args.pg_url) as url:
        took = seed(url, args.contacts)
        print(f"{args.database}: seeded {args.contacts} contacts x 3 profiles in {took:.1f}s")
        with Server(url, workers=args.workers) as server:
            found = server.gql("{ contacts(opts: {limit: 50}) { id } }")["data"]["contacts"]
            first = min(int(c["id"]) for c in found)
            ids = sorted(
                {c["id"] for c in found}
                | {str(first + i) for i in random.sample(range(args.contacts), 500)}
            )

            def one_of(rng: random.Random, _: int) -> dict[str, Any]:
                return {"id": rng.choice(ids)}

            workloads: dict[str, tuple[Workload, Workload | None]] = {
                "a": ([(TYPENAME, None)], None),
                "b": ([(ONE, one_of)], None),
                "c": ([(PAGE, None)], None),
                "d": ([(TYPENAME, None)], [(COUNT, None)]),
            }
            slices: dict[str, list[dict[str, Any]]] = {key: [] for key in workloads}
            seconds = args.seconds / args.rounds
            for _ in range(args.rounds):
                for key, (workload, background) in workloads.items():
                    slices[key].append(
                        run_load(server, workload, args.clients, seconds, background=background)
                    )
    results = {key: summarise(taken) for key, taken in slices.items()}
    labels = {
        "a": "(a) __typename",
        "b": "(b) one contact with profiles",
        "c": "(c) 25 contacts with profiles",
        "d": "(d) __typename beside a count loop",
    }
    for key, result in results.items():
        print(line(labels[key], result))
    counts = [x for s in slices["d"] for x in s["background"]["latencies"]]
    if counts:
        median = sorted(counts)[len(counts) // 2] * 1000
        print(f"    countContacts in the background: {len(counts)} runs, median {median:.0f} ms")
    base = results["a"]["rps"]
    print("   ".join(f"({k})/(a) = {results[k]['rps'] / base:.2f}" for k in ("b", "c", "d")))
    print(
        json.dumps(
            {
                k: {m: round(v, 2) for m, v in r.items() if isinstance(v, float | int)}
                for k, r in results.items()
            }
        )
    )
    return 1 if any(r["errors"] for r in results.values()) else 0


if __name__ == "__main__":
    started = time.perf_counter()
    code = main()
    print(f"(the run took {time.perf_counter() - started:.0f}s)")
    sys.exit(code)
