"""Contact search at scale: N contacts x 3 profiles, on SQLite or PostgreSQL.

    .venv/bin/python bench/contact_search.py [--database sqlite|postgresql]
        [--contacts 1000000] [--seconds 10] [--clients 32] [--rounds 5] [--pg-url URL]

Seeds a fresh database (bench/common.py; contacts are named `Child 00000000` ... with
phones `9190` + the same eight digits), starts the server as the README runs it, and runs,
from separate load processes, each workload with N concurrent clients:

  (a) { __typename }                                          the baseline
  (b) contacts(opts: {limit: 25}) with active profile and profiles   a page
  (c) countContacts                                           no filter
  (d) contacts(filter: {name}) + countContacts(filter: {name})   one person's six digits
  (e) the same, with a name that 1% of the contacts have        `hild 00` + two digits
  (f) contacts(filter: {phone}) + countContacts(filter: {phone}) seven digits of a phone
  (g) contacts(filter: {term}) + countContacts(filter: {term})   six digits: names and phones
  (h) contacts(opts: {limit: 25, offset: N/2})                 a deep page

and prints requests/s, p50, p99 and errors for each, and its ratio to (a) measured in the
same run. Each workload's seconds are taken in rounds that alternate a..h, so that a shared
machine whose speed drifts treats them alike.
"""

from __future__ import annotations

import json
import random
import sys
import time
from typing import Any

from common import Server, Workload, database, print_ratios, run_rounds, scale_arguments, seed

TYPENAME = "{ __typename }"
PAGE = "{ contacts(opts: {limit: 25}) { id name activeProfile { name } profiles { name } } }"
COUNT = "{ countContacts }"
SEARCH = """query($f: ContactFilter) {
  contacts(filter: $f, opts: {limit: 25}) { id name } countContacts(filter: $f) }"""
DEEP = "query($o: Int) { contacts(opts: {limit: 25, offset: $o}) { id name } }"

LABELS = {
    "a": "(a) __typename",
    "b": "(b) a page of 25 contacts",
    "c": "(c) countContacts",
    "d": "(d) name search, one person",
    "e": "(e) name search, 1% of contacts",
    "f": "(f) phone search",
    "g": "(g) term search",
    "h": "(h) deep page (offset N/2)",
}


def workloads(contacts: int) -> dict[str, Workload]:
    def digits(rng: random.Random) -> str:
        return f"{rng.randrange(contacts):08d}"

    def name(rng: random.Random, _: int) -> dict[str, Any]:
        return {"f": {"name": digits(rng)[2:]}}

    def common_name(rng: random.Random, _: int) -> dict[str, Any]:
        return {"f": {"name": f"hild 00{rng.randrange(min(100, max(contacts // 10_000, 1))):02d}"}}

    def phone(rng: random.Random, _: int) -> dict[str, Any]:
        return {"f": {"phone": digits(rng)[1:]}}

    def term(rng: random.Random, _: int) -> dict[str, Any]:
        return {"f": {"term": digits(rng)[2:]}}

    def deep(_rng: random.Random, _: int) -> dict[str, Any]:
        return {"o": contacts // 2}

    return {
        "a": [(TYPENAME, None)],
        "b": [(PAGE, None)],
        "c": [(COUNT, None)],
        "d": [(SEARCH, name)],
        "e": [(SEARCH, common_name)],
        "f": [(SEARCH, phone)],
        "g": [(SEARCH, term)],
        "h": [(DEEP, deep)],
    }


def _analyse(url: str) -> None:
    """SQLite: gather the planner's statistics and merge the search index now (the server
    would at start, in the background, while the first round runs)."""
    if url.startswith("sqlite"):
        from models.sqlite_search_index import merge
        from models.sqlite_statistics import refresh

        path = url.split(":///", 1)[1]
        refresh(path, 60)
        merge(path, 60)


def main() -> int:
    args = scale_arguments(__doc__.splitlines()[0]).parse_args()
    with database(args.database, args.pg_url) as url:
        took = seed(url, args.contacts)
        _analyse(url)
        print(f"{args.database}: seeded {args.contacts} contacts x 3 profiles in {took:.1f}s")
        plan = workloads(args.contacts)
        with Server(url) as server:
            # Each search once, to show what it finds.
            rng = random.Random(1)
            for key in ("d", "e", "f", "g"):
                query, make = plan[key][0]
                assert make is not None
                variables = make(rng, 0)
                found = server.gql(query, variables)["data"]["countContacts"]
                print(f"    {LABELS[key]}: {json.dumps(variables['f'])} finds {found}")
            results = run_rounds(server, plan, args.clients, args.seconds, args.rounds)
    code = print_ratios(results, LABELS)
    print(
        json.dumps(
            {
                k: {m: round(v, 2) for m, v in r.items() if isinstance(v, float | int)}
                for k, r in results.items()
            }
        )
    )
    return code


if __name__ == "__main__":
    started = time.perf_counter()
    code = main()
    print(f"(the run took {time.perf_counter() - started:.0f}s)")
    sys.exit(code)
