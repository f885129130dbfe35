"""Where one inbound message's time goes: the registration flow of bench/flow_engine.py with
one client on a fresh SQLite database, each phase of `resolvers.inbound.receive` timed.

    .venv/bin/python bench/flow_phases.py [--contacts 60]

Prints ms per message for receive as a whole and for its phases (nested phases are included
in their parents' time).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import functools
import time
from collections.abc import Callable
from typing import Any

import flow_engine as fe
from common import database

from resolvers import flow_runs, history, inbound

PHASES: list[tuple[Any, str]] = [
    (inbound, "receive"),
    (inbound, "_contact_for"),
    (inbound, "_store"),
    (inbound, "_route"),
    (flow_runs, "load_turn"),
    (flow_runs, "apply"),
    (flow_runs, "_send"),
    (flow_runs, "_file_result"),
    (flow_runs, "_write_runs"),
    (history, "record"),
]


def _timed(spent: dict[str, float], label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    if asyncio.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return await fn(*args, **kwargs)
            finally:
                spent[label] += time.perf_counter() - began

        return async_wrapper

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[label] += time.perf_counter() - began

    return wrapper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=60)
    args = parser.parse_args()
    spent: dict[str, float] = collections.defaultdict(float)
    for module, name in PHASES:
        label = f"{module.__name__.split('.')[-1]}.{name}"
        setattr(module, name, _timed(spent, label, getattr(module, name)))
    with database("sqlite") as url:
        tenants = asyncio.run(fe.prepare(url, args.contacts))
        asyncio.run(fe.in_process(url, tenants[:2], 1, "warm-up"))
        spent.clear()
        figures = asyncio.run(fe.in_process(url, tenants[2:], 1, "(b) one client, sqlite"))
    print(figures.show())
    for label, seconds in sorted(spent.items(), key=lambda kv: -kv[1]):
        print(f"{seconds / figures.messages * 1000:7.2f} ms/msg  {label}")


if __name__ == "__main__":
    main()
