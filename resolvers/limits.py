"""Rate limits on unauthenticated requests, as Glific's RateLimitPlug (spec §4.3, §0.6):
at most N requests a minute per client address and route (the session routes, and refused
tokens on /api), and at most N sign-in attempts a minute per phone. A limited request is
answered HTTP 429 with the plain text `Rate limit exceeded`.

Counters live in the memory of each process: with several app processes behind a load
balancer each counts for itself, so a client can get up to (processes x limit) through.
Memory is bounded: a limiter keeps at most `max_keys` counters and forgets the oldest first,
so an attacker rotating phones or addresses cannot grow it (forgetting a counter early can
only let its key through sooner, and the per-address limit still holds the rotator back).

A limiter belongs to one app and is used from that app's event loop only: no locking.
"""

from __future__ import annotations

import time

from resolvers.errors import InputErrors
from resolvers.phones import normalize_phone
from settings import Settings

RATE_LIMITED = "Rate limit exceeded"
WINDOW_SECONDS = 60.0


class RateLimiter:
    """At most `limit` hits per key in a window of `window` seconds that opens with the key's
    first hit (a fixed window per key, as Glific's Hammer buckets). `limit` 0: no limit."""

    def __init__(self, limit: int, *, window: float = WINDOW_SECONDS, max_keys: int = 100_000):
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        # key -> [window start, hits]. Insertion order is window-start order (a key whose
        # window restarts is moved to the end), so expired and oldest counters are in front.
        self._counters: dict[str, list[float]] = {}

    def hit(self, key: str) -> bool:
        """Count one request for `key`; False when it is over the limit."""
        if self.limit <= 0:
            return True
        now = time.monotonic()
        counter = self._counters.get(key)
        if counter is not None and now - counter[0] >= self.window:
            del self._counters[key]
            counter = None
        if counter is None:
            self._make_room(now)
            self._counters[key] = [now, 1]
            return True
        counter[1] += 1
        return counter[1] <= self.limit

    def _make_room(self, now: float) -> None:
        counters = self._counters
        while counters:
            oldest = next(iter(counters))
            if now - counters[oldest][0] < self.window and len(counters) < self.max_keys:
                return
            del counters[oldest]


class RequestLimits:
    """The limits one app applies to unauthenticated requests (settings in `settings.py`)."""

    def __init__(self, settings: Settings) -> None:
        self._region = settings.default_phone_region
        self._per_address = RateLimiter(
            settings.unauthenticated_requests_per_minute, max_keys=settings.rate_limit_max_keys
        )
        self._per_phone = RateLimiter(
            settings.signin_attempts_per_minute, max_keys=settings.rate_limit_max_keys
        )

    def allow_address(self, address: str, route: str) -> bool:
        """Count one request from `address` to `route` (`POST /api/v1/session`); False past
        the limit."""
        return self._per_address.hit(f"{address} {route}")

    def allow_sign_in(self, phone: str) -> bool:
        """Count one sign-in attempt for `phone`, however it is written. Strings that are no
        phone number are not counted here (they cannot sign anyone in; the per-address limit
        still counts them)."""
        try:
            stored = normalize_phone(phone, default_region=self._region)
        except InputErrors:
            return True
        return self._per_phone.hit(stored)
