"""WhatsApp webhook throughput: Gupshup text messages (unique ids) from 500 contacts, each
answered by a one-question flow, against (a) the embedded SQLite server (one process) or
(b) PostgreSQL with 2 HTTP processes and 2 job workers.

    .venv/bin/python bench/whatsapp_webhook.py [--database sqlite|postgresql] [--contacts 500]
                                      [--rate 80] [--seconds 15] [--import-rows 2000]

Prints, beside the `{ __typename }` baseline of the same server:
- paced at --rate messages/s (WhatsApp's default per-number rate): acknowledgement latency
  p50/p99, and how long until every reply was stored; then the same while a contact import
  of --import-rows rows runs;
- as fast as 32 senders can: acknowledged/s, and processed/s end to end (every reply
  stored).
Replies go through the `log` provider (stored, not sent): the bench measures the server.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import subprocess
import sys
import threading
import time
import uuid
from typing import Any

from common import (
    PASSWORD,
    ROOT,
    SECRET_KEY,
    Server,
    database,
    line,
    run_load,
    seed,
    summarise,
)

APP = "bench-app"
FLOW_UUID = "5b3c8a8e-0f6a-4d1e-9a55-1f2b3c4d5e60"


def question_flow() -> dict[str, Any]:
    """`hi` asks a name; the answer is thanked by name."""
    sys.path.insert(0, str(ROOT))
    from tests.utils.flow_builder import FlowBuilder

    f = FlowBuilder("Bench question", flow_uuid=FLOW_UUID)
    f.send("ask", "What is your name?", "name")
    f.wait("name", [], other="thanks", result_name="name", other_name="All Responses")
    f.send("thanks", "Thanks @results.name", None)
    return f.build()


def prepare(url: str) -> None:
    """The organization's Gupshup account (replies through `log`) and the flow, published."""
    from sqlalchemy import text

    from models import Database
    from resolvers import flows, providers
    from tests.utils.flow_builder import export_of

    async def work() -> None:
        db = Database(url)
        try:
            async with db.session(all_organizations=True) as session:
                org_id = int(
                    await session.scalar(text("SELECT id FROM organizations ORDER BY id LIMIT 1"))
                )
            async with db.transaction(org_id) as session:
                await providers.set_provider(
                    session, org_id, "gupshup", APP, {"api_key": "k", "source_number": "1"}
                )
                await flows.import_flows(session, org_id, export_of((question_flow(), ["hi"])))
            async with db.transaction(org_id) as session:
                await flows.publish(session, org_id, FLOW_UUID)
        finally:
            await db.dispose()

    asyncio.run(work())


def replies_stored(url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url.replace("+aiosqlite", ""))
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(text("SELECT count(*) FROM messages WHERE flow = 'outbound'")).scalar()
                or 0
            )
    finally:
        engine.dispose()


def message(phone: str, text: str) -> dict[str, Any]:
    return {
        "app": APP,
        "type": "message",
        "payload": {
            "id": f"gs-{uuid.uuid4().hex}",
            "type": "text",
            "payload": {"text": text},
            "sender": {"phone": phone, "name": "Bench"},
        },
    }


class Conversations:
    """Message n goes to contact n % contacts: `hi` on even rounds, a name on odd ones."""

    def __init__(self, contacts: int, first: int = 0) -> None:
        self.contacts = contacts
        self.n = first

    def next(self) -> dict[str, Any]:
        n, self.n = self.n, self.n + 1
        phone = f"9191{n % self.contacts:08d}"
        return message(phone, "hi" if (n // self.contacts) % 2 == 0 else "Asha")


async def paced(base: str, conv: Conversations, rate: float, seconds: float) -> list[float]:
    """Send at `rate` messages/s for `seconds`; each acknowledgement's latency.

    The bench's own garbage collector is off meanwhile: a full collection in this process
    (it holds every earlier round's objects) stopped it for about 100 ms mid-round, and
    every acknowledgement due then was counted 100 ms late, the server's latency or not."""
    gc.collect()
    gc.disable()
    try:
        return await _paced(base, conv, rate, seconds)
    finally:
        gc.enable()


async def _paced(base: str, conv: Conversations, rate: float, seconds: float) -> list[float]:
    import httpx2

    latencies: list[float] = []
    errors: list[str] = []
    limits = httpx2.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx2.AsyncClient(base_url=base, timeout=60, limits=limits) as http:

        async def send(body: dict[str, Any]) -> None:
            t0 = time.perf_counter()
            response = await http.post("/gupshup", json=body)
            latencies.append(time.perf_counter() - t0)
            if response.status_code != 200:
                errors.append(f"{response.status_code} {response.text[:200]}")

        tasks = []
        start = time.perf_counter()
        total = int(rate * seconds)
        for i in range(total):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(send(conv.next())))
        await asyncio.gather(*tasks)
    if errors:
        raise SystemExit("errors: " + "; ".join(errors[:5]))
    return latencies


async def flood(base: str, conv: Conversations, total: int, senders: int = 32) -> float:
    """Send `total` messages from `senders` concurrent senders; seconds it took."""
    import httpx2

    bodies = [conv.next() for _ in range(total)]
    position = iter(bodies)
    limits = httpx2.Limits(max_connections=senders, max_keepalive_connections=senders)
    async with httpx2.AsyncClient(base_url=base, timeout=60, limits=limits) as http:

        async def sender() -> None:
            for body in position:
                response = await http.post("/gupshup", json=body)
                assert response.status_code == 200, response.text

        start = time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(senders)))
        return time.perf_counter() - start


def wait_for_replies(url: str, expected: int, since: float) -> float:
    """Seconds from `since` until `expected` replies are stored."""
    while replies_stored(url) < expected:
        time.sleep(0.05)
    return time.perf_counter() - since


def run_import(server: Server, rows: int, out: dict[str, float]) -> None:
    import httpx2

    csv = "name,phone\n" + "".join(f"Imported {i},9192{i:08d}\n" for i in range(rows))
    started = time.perf_counter()
    response = httpx2.post(
        server.base + "/api",
        json={
            "query": "mutation($d: String!) { importContacts(data: $d, type: DATA) {"
            " status errors { message } } }",
            "variables": {"d": csv},
        },
        headers={"authorization": server.token},
        timeout=600,
    )
    out["seconds"] = time.perf_counter() - started
    out["status"] = float(response.status_code)


def percentiles(latencies: list[float]) -> str:
    lat = sorted(latencies)
    p50, p99 = lat[len(lat) // 2] * 1000, lat[int(len(lat) * 0.99)] * 1000
    return f"p50 {p50:6.1f} ms   p99 {p99:6.1f} ms"


def workers(url: str, count: int) -> list[subprocess.Popen[bytes]]:
    env = dict(
        os.environ,
        DATABASE_URL=url,
        ENVIRONMENT="production",
        SECRET_KEY=SECRET_KEY,
        ADMIN_PASSWORD=PASSWORD,
    )
    return [
        subprocess.Popen(
            [sys.executable, "-m", "app", "worker"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--contacts", type=int, default=500)
    parser.add_argument("--rate", type=float, default=80.0)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--import-rows", type=int, default=2000)
    parser.add_argument("--flood", type=int, default=3000, help="messages in the flood round")
    args = parser.parse_args()
    postgres = args.database == "postgresql"
    setup = "2 HTTP processes + 2 workers" if postgres else "one process"
    print(f"{args.database}, {setup}; {args.contacts} contacts")
    with database(args.database) as url:
        seed(url, 1)
        prepare(url)
        env = {"JOBS_ENABLED": "false"} if postgres else {}
        helpers = workers(url, 2) if postgres else []
        try:
            with Server(url, workers=2 if postgres else 1, env=env) as server:
                baseline = summarise([run_load(server, [("{ __typename }", None)], 32, 5.0)])
                print(line("baseline { __typename }", baseline))
                conv = Conversations(args.contacts)
                sent = 0
                for with_import in (False, True):
                    imported: dict[str, float] = {}
                    side = threading.Thread(
                        target=run_import, args=(server, args.import_rows, imported)
                    )
                    if with_import:
                        side.start()
                    start = time.perf_counter()
                    latencies = asyncio.run(paced(server.base, conv, args.rate, args.seconds))
                    sent += len(latencies)
                    done = wait_for_replies(url, sent, start)
                    if with_import:
                        side.join()
                    label = f"paced {args.rate:.0f}/s" + (", import running" if with_import else "")
                    extra = (
                        f"   import of {args.import_rows} rows took {imported['seconds']:.1f} s"
                        if with_import
                        else ""
                    )
                    print(
                        f"{label:<34} acks {percentiles(latencies)}   all replies stored"
                        f" {done:5.1f} s after the first message{extra}"
                    )
                start = time.perf_counter()
                seconds = asyncio.run(flood(server.base, conv, args.flood))
                sent += args.flood
                done = wait_for_replies(url, sent, start)
                print(
                    f"{'flood, 32 senders':<34} acknowledged {args.flood / seconds:7.1f} msg/s"
                    f" ({args.flood / seconds / baseline['rps']:.2f} x baseline)"
                    f"   processed {args.flood / done:7.1f} msg/s end to end"
                )
        finally:
            for helper in helpers:
                helper.terminate()
                helper.wait(timeout=30)


if __name__ == "__main__":
    main()
