"""A per-address limit on searches (the one costly page): a sliding minute per address."""

from __future__ import annotations

from collections import deque
from datetime import timedelta

from bot.clock import Clock

WINDOW = timedelta(minutes=1)
# Addresses remembered at most; past it the oldest are forgotten (a flood cannot fill memory).
MAX_ADDRESSES = 10_000


class RateLimiter:
    def __init__(self, per_minute: int, clock: Clock) -> None:
        self._limit = per_minute
        self._clock = clock
        self._seen: dict[str, deque[float]] = {}

    def allow(self, address: str) -> float | None:
        """None if `address` may go ahead (and counts it), else seconds until it may."""
        now = self._clock.now().timestamp()
        window = WINDOW.total_seconds()
        times = self._seen.pop(address, None) or deque()
        while times and times[0] <= now - window:
            times.popleft()
        self._seen[address] = times  # re-inserted: the dict stays ordered by last use
        if len(times) >= self._limit:
            return max(times[0] + window - now, 1.0)
        times.append(now)
        while len(self._seen) > MAX_ADDRESSES:
            del self._seen[next(iter(self._seen))]
        return None
