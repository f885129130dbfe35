"""Read throughput of the GraphQL API on SQLite: 10,000 contacts x 3 profiles.

    .venv/bin/python bench/graphql_read.py [--seconds 10] [--clients 32] [--contacts 10000]

Starts one server process (`python -m app serve`) on a fresh SQLite file, then, from a
separate load process, runs each query with N concurrent clients for S seconds:

  (a) { __typename }                                           the baseline
  (b) contact(id) with fields, language, active profile, profiles
  (c) contacts(opts:{limit:25}) with active profile and profiles

and prints requests/s, p50 and p99 for each, and (b)/(a), (c)/(a): the cost of real reads
relative to the cheapest authenticated request measured in the same run.

The S seconds of each query are taken in R rounds (--rounds, default 10) that alternate
a, b, c: on a shared machine whose speed drifts, each query then sees the same conditions.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

QUERIES = {
    "a": ("{ __typename }", None),
    "b": (
        "query($id: ID!) { contact(id: $id) { contact { id name phone fields language { label } "
        "activeProfile { id name } profiles { id name isActive } } } }",
        "id",
    ),
    "c": (
        "{ contacts(opts: {limit: 25}) { id name activeProfile { name } profiles { name } } }",
        None,
    ),
}


def seed_database(url: str, contacts: int) -> None:
    """Migrate, seed, and bulk-insert contacts with three profiles each (one active)."""
    import asyncio as aio

    from sqlalchemy import insert, select, update

    from models import Contact, Database, Language, Organization, Profile, utcnow
    from models.migrate import upgrade_sync
    from resolvers.seed import seed_defaults
    from settings import get_settings

    upgrade_sync(url)

    async def go() -> None:
        db = Database(url)
        async with db.transaction(all_organizations=True) as s:
            await seed_defaults(s, get_settings())
            org = await s.scalar(select(Organization))
            lang = await s.scalar(select(Language.id).where(Language.locale == "en"))
            now = utcnow()
            rows = [
                {
                    "organization_id": org.id,
                    "name": f"Child {i:05d}",
                    "phone": f"9190{i:08d}",
                    "language_id": lang,
                    "fields": {},
                    "settings": {},
                    "contact_type": "WABA",
                    "status": "valid",
                    "bsp_status": "session",
                    "is_org_read": True,
                    "is_org_replied": True,
                    "is_contact_replied": True,
                    "optin_status": False,
                    "first_message_number": 1,
                    "last_message_number": 0,
                    "inserted_at": now,
                    "updated_at": now,
                }
                for i in range(contacts)
            ]
            await s.execute(insert(Contact), rows)
            ids = list(await s.scalars(select(Contact.id).where(Contact.phone.like("9190%"))))
            profiles = []
            for cid in ids:
                for n, name in enumerate(("Parent", "Asha", "Ravi")):
                    fields = {
                        "age": {
                            "value": str(8 + n),
                            "label": "Age",
                            "type": "string",
                            "inserted_at": now.isoformat() + "Z",
                        }
                    }
                    profiles.append(
                        {
                            "organization_id": org.id,
                            "contact_id": cid,
                            "language_id": lang,
                            "name": name,
                            "type": None if n == 0 else "student",
                            "fields": fields,
                            "is_active": True,
                            "is_default": n == 0,
                            "inserted_at": now.replace(microsecond=0),
                            "updated_at": now.replace(microsecond=0),
                        }
                    )
            await s.execute(insert(Profile), profiles)
            firsts = await s.execute(
                select(Profile.contact_id, Profile.id, Profile.fields).where(Profile.name == "Asha")
            )
            for cid, pid, fields in firsts:
                await s.execute(
                    update(Contact)
                    .where(Contact.id == cid)
                    .values(active_profile_id=pid, fields=fields)
                    .execution_options(synchronize_session=False)
                )
        await db.dispose()

    aio.run(go())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def load(
    url: str, token: str, query: str, ids: list[str] | None, clients: int, seconds: float, out: Any
) -> None:
    """Run in a separate process: N clients posting `query` for `seconds`."""
    import httpx2

    latencies: list[float] = []
    errors = 0

    async def client(c: httpx2.AsyncClient, stop: float) -> None:
        nonlocal errors
        rng = random.Random()
        while time.perf_counter() < stop:
            variables = {"id": rng.choice(ids)} if ids else {}
            t0 = time.perf_counter()
            r = await c.post(
                "/api",
                json={"query": query, "variables": variables},
                headers={"authorization": token},
            )
            latencies.append(time.perf_counter() - t0)
            if r.status_code != 200 or "errors" in r.json():
                errors += 1

    async def main() -> None:
        limits = httpx2.Limits(max_connections=clients, max_keepalive_connections=clients)
        async with httpx2.AsyncClient(base_url=url, limits=limits, timeout=30) as c:
            warm = time.perf_counter() + min(1.0, seconds / 5)
            await asyncio.gather(*(client(c, warm) for _ in range(clients)))
            latencies.clear()
            start = time.perf_counter()
            await asyncio.gather(*(client(c, start + seconds) for _ in range(clients)))
            elapsed = time.perf_counter() - start
        out.put({"latencies": latencies, "elapsed": elapsed, "errors": errors})

    asyncio.run(main())


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (Linux /proc), to tell whether the server or the
    load generator was the bottleneck."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_load(
    url: str, token: str, key: str, ids: list[str], clients: int, seconds: float, server_pid: int
) -> dict:
    query, var = QUERIES[key]
    queue: mp.Queue = mp.Queue()
    proc = mp.Process(
        target=load, args=(url, token, query, ids if var else None, clients, seconds, queue)
    )
    cpu_before, wall_before = cpu_seconds(server_pid), time.perf_counter()
    proc.start()
    result = queue.get(timeout=seconds + 120)
    proc.join()
    cpu_after, wall = cpu_seconds(server_pid), time.perf_counter() - wall_before
    result["cpu"] = None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
    result["wall"] = wall
    return result


def summarise(slices: list[dict]) -> dict:
    """One query's rounds together: requests/s over the measured time, latency percentiles,
    and the server's CPU (warm-ups included) per measured request and busy share."""
    lat = sorted(x for s in slices for x in s["latencies"])
    elapsed = sum(s["elapsed"] for s in slices)
    out = {
        "rps": len(lat) / elapsed,
        "p50": lat[len(lat) // 2] * 1000,
        "p99": lat[int(len(lat) * 0.99)] * 1000,
        "requests": len(lat),
        "errors": sum(s["errors"] for s in slices),
    }
    if all(s["cpu"] is not None for s in slices):
        cpu = sum(s["cpu"] for s in slices)
        # Near 100% busy means the server, not the load generator, set the pace.
        out["server_cpu_ms"] = cpu * 1000 / max(len(lat), 1)
        out["server_busy_pct"] = cpu * 100 / sum(s["wall"] for s in slices)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="glific-bench-")
    url = f"sqlite+aiosqlite:///{workdir}/bench.db"
    os.environ.update(DATABASE_URL=url, ADMIN_PASSWORD="Bench-password-1")
    t0 = time.perf_counter()
    seed_database(url, args.contacts)
    print(f"seeded {args.contacts} contacts x 3 profiles in {time.perf_counter() - t0:.1f}s")

    port = free_port()
    env = dict(
        os.environ,
        PORT=str(port),
        ENVIRONMENT="production",
        SECRET_KEY="bench-secret",
        HOST="127.0.0.1",
    )
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "app:create_app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        import httpx2

        for _ in range(200):
            try:
                if httpx2.get(base + "/health").status_code == 200:
                    break
            except httpx2.TransportError:
                time.sleep(0.1)
        login = httpx2.post(
            base + "/api/v1/session",
            json={"user": {"phone": "917834811114", "password": "Bench-password-1"}},
        )
        token = login.json()["data"]["access_token"]
        ids_query = {"query": "{ contacts(opts: {limit: 50}) { id } }"}
        ids = [
            c["id"]
            for c in httpx2.post(
                base + "/api", json=ids_query, headers={"authorization": token}
            ).json()["data"]["contacts"]
        ]
        # Spread (b) over many contacts, not only the first page.
        ids = sorted(set(ids) | {str(i) for i in random.sample(range(8, args.contacts), 500)})

        slices: dict[str, list[dict]] = {"a": [], "b": [], "c": []}
        for _ in range(args.rounds):
            for key, taken in slices.items():
                seconds = args.seconds / args.rounds
                taken.append(run_load(base, token, key, ids, args.clients, seconds, server.pid))
        results = {key: summarise(taken) for key, taken in slices.items()}
        for key, r in results.items():
            line = (
                f"({key}) {r['rps']:8.1f} req/s   p50 {r['p50']:6.1f} ms   "
                f"p99 {r['p99']:6.1f} ms   requests {r['requests']}   errors {r['errors']}"
            )
            if "server_cpu_ms" in r:
                cpu, busy = r["server_cpu_ms"], r["server_busy_pct"]
                line += f"   server CPU {cpu:.2f} ms/req, busy {busy:.0f}%"
            print(line)
        a = results["a"]["rps"]
        print(f"(b)/(a) = {results['b']['rps'] / a:.2f}   (c)/(a) = {results['c']['rps'] / a:.2f}")
        print(json.dumps({k: {m: round(v, 2) for m, v in r.items()} for k, r in results.items()}))
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=15)
    return 0


if __name__ == "__main__":
    sys.exit(main())
