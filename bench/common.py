"""What the benchmarks share: a database of N contacts x 3 profiles (a fresh SQLite file or a
fresh PostgreSQL database), server processes started as `make run` serves, sign-in, load
processes that send GraphQL documents with many concurrent clients, and the summary of
their rounds.

The load runs in separate processes so the server's CPU is its own; the server's CPU time
per request comes from /proc (warm-ups included), and how busy it was says whether the
server (near 100% per process) or the load generator set the pace.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PASSWORD = "Bench-password-1"
SECRET_KEY = "bench-secret"
ADMIN_PHONE = "917834811114"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
# Phones of the seeded contacts: 9190 followed by 8 digits.
PHONE_PREFIX = "9190"


# --- the database -------------------------------------------------------------------------


@contextmanager
def database(kind: str, pg_url: str = DEFAULT_PG) -> Iterator[str]:
    """A fresh, empty database URL for one run: a SQLite file in a temporary folder, or a
    PostgreSQL database created next to `pg_url` and dropped afterwards."""
    if kind == "sqlite":
        folder = tempfile.mkdtemp(prefix="glific-bench-")
        yield f"sqlite+aiosqlite:///{folder}/bench.db"
        return
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(pg_url)
    name = f"glific_bench_{secrets.token_hex(4)}"
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def seed(url: str, contacts: int) -> float:
    """Migrate, seed the defaults, and write `contacts` contacts with three profiles each
    (one active, its fields copied onto the contact) straight into the tables, as an NGO's
    data would be after months of use. Returns the seconds it took."""
    from sqlalchemy import create_engine, text

    from models.migrate import upgrade_sync
    from resolvers.seed import seed_defaults
    from settings import Settings

    started = time.perf_counter()
    upgrade_sync(url)
    settings = Settings(database_url=url, admin_password=PASSWORD)

    async def defaults() -> None:
        from models import Database

        db = Database(url, settings=settings)
        async with db.transaction(all_organizations=True) as session:
            await seed_defaults(session, settings)
        await db.dispose()

    asyncio.run(defaults())
    sync_url = url.replace("+aiosqlite", "")
    postgres = url.startswith("postgresql")
    engine = create_engine(sync_url)
    now = "2026-01-01 00:00:00"
    fields = '{"age": {"value": "%s", "label": "Age", "type": "string", "inserted_at": "%s"}}'
    json = "CAST(:fields{n} AS JSONB)" if postgres else ":fields{n}"
    true, false = ("true", "false") if postgres else ("1", "0")
    if postgres:
        numbers = "FROM generate_series(0, :last) AS s(i)"
        padded = "lpad(i::text, 8, '0')"
    else:
        numbers = "FROM s"
        padded = "printf('%08d', i)"
    generate = (
        ""
        if postgres
        else "WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < :last) "
    )
    with engine.begin() as conn:
        org, language = conn.execute(
            text(
                "SELECT o.id, l.id FROM organizations o, languages l"
                " WHERE l.locale = 'en' ORDER BY o.id LIMIT 1"
            )
        ).one()
        conn.execute(
            text(
                generate + "INSERT INTO contacts (organization_id, name, phone, language_id,"
                " fields, settings, contact_type, status, bsp_status, is_org_read,"
                " is_org_replied, is_contact_replied, optin_status, first_message_number,"
                " last_message_number, inserted_at, updated_at)"
                f" SELECT :org, 'Child ' || {padded}, '{PHONE_PREFIX}' || {padded}, :language,"
                f" {json.format(n='')}, {json.format(n='')}, 'WABA', 'valid', 'session',"
                f" {true}, {true}, {true}, {false}, 1, 0, :now, :now {numbers}"
            ),
            {"org": org, "language": language, "fields": "{}", "now": now, "last": contacts - 1},
        )
        people = " UNION ALL ".join(
            f"SELECT {n} AS n, '{name}' AS name, {kind} AS type, {json.format(n=n)} AS fields,"
            f" {true if n == 0 else false} AS is_default"
            for n, (name, kind) in enumerate(
                (("Parent", "NULL"), ("Asha", "'student'"), ("Ravi", "'student'"))
            )
        )
        conn.execute(
            text(
                "INSERT INTO profiles (organization_id, contact_id, language_id, name, type,"
                " fields, is_active, is_default, inserted_at, updated_at)"
                f" SELECT c.organization_id, c.id, c.language_id, p.name, p.type, p.fields,"
                f" {true}, p.is_default, :now, :now"
                f" FROM contacts c CROSS JOIN ({people}) p"
                f" WHERE c.phone LIKE '{PHONE_PREFIX}%' ORDER BY c.id, p.n"
            ),
            {"now": now, **{f"fields{n}": fields % (8 + n, now) for n in range(3)}},
        )
        conn.execute(
            text(
                "UPDATE contacts SET active_profile_id = p.id, fields = p.fields"
                " FROM profiles p WHERE p.contact_id = contacts.id AND p.name = 'Asha'"
            )
        )
    if postgres:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return time.perf_counter() - started


# --- servers ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """`uvicorn --factory app:create_app` with `workers` processes, as the README says to run
    it; signed in as the seeded admin."""

    url: str
    workers: int = 1
    base: str = ""
    token: str = ""
    process: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)

    def __enter__(self) -> Server:
        import httpx2

        port = free_port()
        env = dict(
            os.environ,
            DATABASE_URL=self.url,
            ENVIRONMENT="production",
            SECRET_KEY=SECRET_KEY,
            ADMIN_PASSWORD=PASSWORD,
            **self.env,
        )
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "app:create_app",
                "--port",
                str(port),
                "--workers",
                str(self.workers),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        self.base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if httpx2.get(self.base + "/health").status_code == 200:
                    break
            except httpx2.TransportError:
                time.sleep(0.1)
        login = httpx2.post(
            self.base + "/api/v1/session",
            json={"user": {"phone": ADMIN_PHONE, "password": PASSWORD}},
        )
        self.token = login.json()["data"]["access_token"]
        return self

    def __exit__(self, *_: Any) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=30)

    def gql(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        import httpx2

        response = httpx2.post(
            self.base + "/api",
            json={"query": query, "variables": variables or {}},
            headers={"authorization": self.token},
            timeout=60,
        )
        return response.json()

    def pids(self) -> list[int]:
        """The processes serving requests (the workers, when uvicorn forks them)."""
        assert self.process is not None
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            children = []
        return [int(c) for c in children] if self.workers > 1 and children else [pid]

    def cpu_seconds(self) -> float | None:
        """User + system CPU time of the serving processes (Linux /proc)."""
        total = 0.0
        for pid in self.pids():
            try:
                stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                return None
            total += (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
        return total


# --- load ---------------------------------------------------------------------------------

# A workload is a list of (document, variables maker); each client request picks the next
# document in turn (so a mix is sent in a fixed proportion) with variables from the maker.
Variables = Callable[[random.Random, int], dict[str, Any]]
Workload = list[tuple[str, Variables | None]]


def _failed(body: Any) -> bool:
    """Top-level errors, or a mutation payload's `errors`."""
    if not isinstance(body, dict) or body.get("errors"):
        return True
    return any(isinstance(v, dict) and v.get("errors") for v in (body.get("data") or {}).values())


def _load(
    base: str,
    token: str,
    workload: Workload,
    clients: int,
    seconds: float,
    warmup: float,
    out: Any,
) -> None:
    """In a separate process: `clients` concurrent clients sending `workload` for
    `seconds` (after `warmup` seconds whose requests are not counted)."""
    import httpx2

    latencies: list[float] = []
    errors: list[str] = []
    sequence = iter(range(1 << 62))

    async def client(c: httpx2.AsyncClient, stop: float) -> None:
        rng = random.Random()
        while time.perf_counter() < stop:
            n = next(sequence)
            query, make = workload[n % len(workload)]
            variables = make(rng, n) if make else {}
            t0 = time.perf_counter()
            r = await c.post(
                "/api",
                json={"query": query, "variables": variables},
                headers={"authorization": token},
            )
            latencies.append(time.perf_counter() - t0)
            if (r.status_code != 200 or _failed(r.json())) and len(errors) < 1000:
                errors.append(f"{r.status_code} {r.text[:300]}")

    async def main() -> None:
        limits = httpx2.Limits(max_connections=clients, max_keepalive_connections=clients)
        async with httpx2.AsyncClient(base_url=base, limits=limits, timeout=120) as c:
            if warmup:
                await asyncio.gather(
                    *(client(c, time.perf_counter() + warmup) for _ in range(clients))
                )
            latencies.clear()
            errors.clear()
            start = time.perf_counter()
            await asyncio.gather(*(client(c, start + seconds) for _ in range(clients)))
            elapsed = time.perf_counter() - start
        out.put({"latencies": latencies, "elapsed": elapsed, "errors": errors})

    asyncio.run(main())


def run_load(
    server: Server,
    workload: Workload,
    clients: int,
    seconds: float,
    warmup: float | None = None,
    background: Workload | None = None,
) -> dict[str, Any]:
    """One round of `workload` against `server`; with `background`, one more client sends
    that workload meanwhile (not measured)."""
    warm = min(1.0, seconds / 5) if warmup is None else warmup
    queue: mp.Queue[Any] = mp.Queue()
    side: mp.Queue[Any] = mp.Queue()
    proc = mp.Process(
        target=_load, args=(server.base, server.token, workload, clients, seconds, warm, queue)
    )
    other = (
        mp.Process(
            target=_load,
            args=(server.base, server.token, background, 1, seconds + warm, 0, side),
        )
        if background
        else None
    )
    cpu_before, wall_before = server.cpu_seconds(), time.perf_counter()
    if other is not None:
        other.start()
    proc.start()
    result: dict[str, Any] = queue.get(timeout=seconds + 300)
    proc.join()
    if other is not None:
        result["background"] = side.get(timeout=seconds + 300)
        other.join()
    cpu_after, wall = server.cpu_seconds(), time.perf_counter() - wall_before
    result["cpu"] = None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
    result["wall"] = wall * server.workers
    return result


def summarise(slices: list[dict[str, Any]]) -> dict[str, Any]:
    """One workload's rounds together: requests/s over the measured time, latency
    percentiles, errors, and the server's CPU per measured request and busy share."""
    lat = sorted(x for s in slices for x in s["latencies"])
    elapsed = sum(s["elapsed"] for s in slices)
    errors = [e for s in slices for e in s["errors"]]
    out: dict[str, Any] = {
        "rps": len(lat) / elapsed,
        "p50": lat[len(lat) // 2] * 1000 if lat else 0.0,
        "p99": lat[int(len(lat) * 0.99)] * 1000 if lat else 0.0,
        "requests": len(lat),
        "errors": len(errors),
        "first_errors": errors[:3],
    }
    if all(s["cpu"] is not None for s in slices):
        cpu = sum(s["cpu"] for s in slices)
        out["server_cpu_ms"] = cpu * 1000 / max(len(lat), 1)
        out["server_busy_pct"] = cpu * 100 / sum(s["wall"] for s in slices)
    return out


def line(label: str, r: dict[str, Any]) -> str:
    text = (
        f"{label:<34} {r['rps']:8.1f} req/s   p50 {r['p50']:6.1f} ms   p99 {r['p99']:7.1f} ms"
        f"   errors {r['errors']}"
    )
    if "server_cpu_ms" in r:
        text += f"   server {r['server_cpu_ms']:.2f} ms CPU/req, busy {r['server_busy_pct']:.0f}%"
    for error in r["first_errors"]:
        text += f"\n      error: {error}"
    return text


def scale_arguments(description: str) -> argparse.ArgumentParser:
    """The options of the benches that seed N contacts and compare workloads to a baseline."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    return parser


def run_rounds(
    server: Server, plan: Mapping[str, Workload], clients: int, seconds: float, rounds: int
) -> dict[str, dict[str, Any]]:
    """Each workload of `plan` for `seconds` in all, interleaved over `rounds` so that a slow
    moment of the machine falls on every one; summarised per workload."""
    slices: dict[str, list[dict[str, Any]]] = {key: [] for key in plan}
    for _ in range(rounds):
        for key, workload in plan.items():
            slices[key].append(run_load(server, workload, clients, seconds / rounds))
    return {key: summarise(taken) for key, taken in slices.items()}


def print_ratios(results: Mapping[str, dict[str, Any]], labels: Mapping[str, str]) -> int:
    """Each result and its ratio to workload "a" (the baseline); 1 when any request failed."""
    base = results["a"]["rps"]
    for key, result in results.items():
        print(line(labels[key], result) + f"   /(a) = {result['rps'] / base:.3f}")
    return 1 if any(r["errors"] for r in results.values()) else 0
