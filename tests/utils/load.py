"""Concurrent requests for the load tests: many GraphQL calls sent at the same moment, each on
its own connection, from an event loop of the test's own (not the server's)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import httpx2


@dataclass
class Call:
    """One GraphQL request: the document, its variables and the token it is sent with."""

    query: str
    variables: dict[str, Any]
    token: str


@dataclass
class Answer:
    status: int
    body: Any

    @property
    def errors(self) -> Any:
        """Top-level errors, or the first payload's `errors` when there are none."""
        if not isinstance(self.body, dict):
            return self.body
        if self.body.get("errors"):
            return self.body["errors"]
        for value in (self.body.get("data") or {}).values():
            if isinstance(value, dict) and value.get("errors"):
                return value["errors"]
        return None


async def _burst(base_url: str, calls: list[Call], seconds: float) -> list[Answer]:
    limits = httpx2.Limits(max_connections=None, max_keepalive_connections=None)
    async with httpx2.AsyncClient(base_url=base_url, timeout=seconds, limits=limits) as client:
        gate = asyncio.Event()

        async def send(call: Call) -> Answer:
            await gate.wait()
            response = await client.post(
                "/api",
                json={"query": call.query, "variables": call.variables},
                headers={"authorization": call.token},
            )
            try:
                body = response.json()
            except ValueError:
                body = response.text
            return Answer(response.status_code, body)

        tasks = [asyncio.create_task(send(call)) for call in calls]
        await asyncio.sleep(0)  # every task is waiting at the gate
        gate.set()
        return list(await asyncio.gather(*tasks))


def burst(base_url: str, calls: list[Call], *, timeout: float = 120) -> list[Answer]:
    """Send every call at once (all released by one gate) and return the answers in order."""
    return asyncio.run(_burst(base_url, calls, timeout))
