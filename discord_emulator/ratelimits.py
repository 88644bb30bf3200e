"""Discord's REST rate limits, opt-in: a global per-second limit and per-route buckets.

Modelled on Discord's documentation (topics/rate-limits) and on what discord.py's `http.py` reads:

- Global: `global_per_second` requests per bot in a one-second window. Token-authenticated
  interaction and webhook routes (`/interactions/{id}/{token}/callback`, `/webhooks/{id}/{token}…`)
  are exempt, as Discord exempts interaction endpoints from the bot's global limit.
- Per route: a bucket per route (or per shared bucket name) and per top-level resource (the
  "major parameter": channel, guild, webhook id + token), with a limit per window. Every answer
  carries `X-RateLimit-Limit/-Remaining/-Reset/-Reset-After/-Bucket`, so a client can wait before
  it is refused, as discord.py does when Remaining reaches 0.
- An over-limit request is answered 429 with Discord's body and headers (`Retry-After`,
  `X-RateLimit-Scope`, `X-RateLimit-Global`, and `Via`, without which discord.py takes the 429 for a
  Cloudflare ban) and never reaches its handler.

Windows are fixed and start with their first request, as Discord's buckets do: the whole quota
comes back at once at the reset, so clients that retry together after `retry_after` all fit.
Nothing here knows aiohttp: `check` returns a `Verdict` that the REST pipeline turns into headers or
a 429 response. Time is the event loop's monotonic clock (rate limits are wall-clock, unlike the
emulator's fake clock); tests inject their own.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from time import time as _wall_clock
from typing import Any, Literal

Scope = Literal["user", "global"]

# Discord's top-level resources; the interaction id and token play the webhook's part for callbacks.
MAJOR_PARAMETERS = (
    "channel_id",
    "guild_id",
    "webhook_id",
    "webhook_token",
    "interaction_id",
    "interaction_token",
)
# Path parameters that authenticate a request by themselves: the bot's global limit does not apply.
_TOKEN_PARAMETERS = ("{interaction_token}", "{webhook_token}")


@dataclass(frozen=True)
class RouteLimit:
    """`limit` requests per `per` seconds. Routes naming the same `bucket` share one quota per
    top-level resource, like Discord's shared buckets; by default each route is its own bucket."""

    limit: int
    per: float
    bucket: str | None = None


MESSAGES = "/channels/{channel_id}/messages"
OWN_REACTION = "/channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/@me"

# Discord publishes no per-route numbers ("parse the headers"); these are the values its headers
# are commonly reported to carry, so a client that paces by the headers is paced realistically.
DEFAULT_ROUTE_LIMITS: Mapping[tuple[str, str], RouteLimit] = {
    ("POST", MESSAGES): RouteLimit(5, 5.0),
    ("PATCH", MESSAGES + "/{message_id}"): RouteLimit(5, 5.0),
    ("DELETE", MESSAGES + "/{message_id}"): RouteLimit(5, 1.0),
    ("PUT", OWN_REACTION): RouteLimit(1, 0.25, bucket="reactions"),
    ("DELETE", OWN_REACTION): RouteLimit(1, 0.25, bucket="reactions"),
    ("PATCH", "/guilds/{guild_id}/members/{user_id}"): RouteLimit(10, 10.0),
    ("PUT", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}"): RouteLimit(
        10, 10.0, bucket="member-roles"
    ),
    ("DELETE", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}"): RouteLimit(
        10, 10.0, bucket="member-roles"
    ),
    # Opening a DM has no top-level resource, so one bucket covers the whole bot. Its value is a
    # guess (nothing reliable is published); 5 a second still lets a digest reach 10,000 in an hour.
    ("POST", "/users/@me/channels"): RouteLimit(5, 1.0),
}
DEFAULT_ROUTE_LIMIT = RouteLimit(50, 1.0)


@dataclass
class _Window:
    """A fixed window that opens with its first request."""

    limit: int
    per: float
    count: int = 0
    resets_at: float = -math.inf

    def _expire(self, now: float) -> None:
        if now >= self.resets_at:
            self.count, self.resets_at = 0, -math.inf

    def full(self, now: float) -> bool:
        self._expire(now)
        return self.count >= self.limit

    def take(self, now: float) -> None:
        self._expire(now)
        if self.count == 0:
            self.resets_at = now + self.per
        self.count += 1

    def reset_after(self, now: float) -> float:
        return max(0.0, self.resets_at - now) if self.count else self.per


@dataclass(frozen=True)
class Verdict:
    """What to answer: `limited` is None when the request may go on (with `headers` added)."""

    headers: Mapping[str, str]
    limited: Scope | None = None
    retry_after: float = 0.0

    def body(self) -> dict[str, Any]:
        return {
            "message": "You are being rate limited.",
            "retry_after": self.retry_after,
            "global": self.limited == "global",
        }


@dataclass(frozen=True)
class RateLimitStats:
    """Counters since the limiter was made (or last `reset()`).

    `peak_per_second` is the most requests counted in one global window (one second), so it is at
    most `global_per_second`; exempt interaction and webhook routes are not counted in it.
    """

    requests: int
    served: int
    global_limited: Mapping[str, int]  # "METHOD template" -> global 429s
    route_limited: Mapping[str, int]  # "METHOD template" -> per-route 429s
    peak_per_second: int

    @property
    def global_429s(self) -> int:
        return sum(self.global_limited.values())

    @property
    def route_429s(self) -> int:
        return sum(self.route_limited.values())


@dataclass
class _Counters:
    requests: int = 0
    served: int = 0
    global_limited: Counter[str] = field(default_factory=Counter)
    route_limited: Counter[str] = field(default_factory=Counter)
    peak_per_second: int = 0


class RateLimits:
    """Pass to `DiscordEmulator(rate_limits=RateLimits(...))`; off when not given.

    `routes` overrides `DEFAULT_ROUTE_LIMITS` per (method, template); `default` is for every
    other route. `time` is a monotonic clock in seconds (the running loop's by default) and
    `epoch` the wall clock for the `X-RateLimit-Reset` header.
    """

    def __init__(
        self,
        *,
        global_per_second: int = 50,
        routes: Mapping[tuple[str, str], RouteLimit] | None = None,
        default: RouteLimit = DEFAULT_ROUTE_LIMIT,
        time: Callable[[], float] | None = None,
        epoch: Callable[[], float] = _wall_clock,
    ) -> None:
        self.global_per_second = global_per_second
        self.routes: dict[tuple[str, str], RouteLimit] = dict(DEFAULT_ROUTE_LIMITS)
        for (method, template), limit in (routes or {}).items():
            self.routes[method.upper(), template] = limit
        self.default = default
        self._time = time or (lambda: asyncio.get_running_loop().time())
        self._epoch = epoch
        self.reset()

    def reset(self) -> None:
        """Forget every window and counter (e.g. between a benchmark's warm-up and its run)."""
        self._global = _Window(self.global_per_second, 1.0)
        self._buckets: dict[tuple[str, str], _Window] = {}
        self._counters = _Counters()

    def limit_for(self, method: str, template: str) -> RouteLimit:
        return self.routes.get((method.upper(), template), self.default)

    def stats(self) -> RateLimitStats:
        c = self._counters
        return RateLimitStats(
            requests=c.requests,
            served=c.served,
            global_limited=dict(c.global_limited),
            route_limited=dict(c.route_limited),
            peak_per_second=c.peak_per_second,
        )

    def check(self, method: str, template: str, params: Mapping[str, str]) -> Verdict:
        """Count one request on the route `template` with path `params`, or refuse it."""
        now = self._time()
        method = method.upper()
        route = f"{method} {template}"
        limit = self.limit_for(method, template)
        bucket_name = limit.bucket or route
        major = "+".join(params[p] for p in MAJOR_PARAMETERS if p in params)
        window = self._buckets.get((bucket_name, major))
        if window is None or (window.limit, window.per) != (limit.limit, limit.per):
            window = self._buckets[bucket_name, major] = _Window(limit.limit, limit.per)
        counts_globally = not any(token in template for token in _TOKEN_PARAMETERS)
        self._global.limit = self.global_per_second  # a test may change it between requests
        self._counters.requests += 1

        # Check both quotas before taking from either: a refused request uses up nothing.
        if counts_globally and self._global.full(now):
            self._counters.global_limited[route] += 1
            retry_after = _ceil_ms(self._global.reset_after(now))
            return Verdict(
                {
                    "Retry-After": str(math.ceil(retry_after)),
                    "X-RateLimit-Global": "true",
                    "X-RateLimit-Scope": "global",
                    "Via": "1.1 google",
                },
                limited="global",
                retry_after=retry_after,
            )
        if window.full(now):
            self._counters.route_limited[route] += 1
            headers = self._bucket_headers(window, bucket_name, now)
            retry_after = float(headers["X-RateLimit-Reset-After"])
            headers |= {
                "Retry-After": str(math.ceil(retry_after)),
                "X-RateLimit-Scope": "user",
                "Via": "1.1 google",
            }
            return Verdict(headers, limited="user", retry_after=retry_after)

        window.take(now)
        if counts_globally:
            self._global.take(now)
            self._counters.peak_per_second = max(self._counters.peak_per_second, self._global.count)
        self._counters.served += 1
        return Verdict(self._bucket_headers(window, bucket_name, now))

    def _bucket_headers(self, window: _Window, bucket_name: str, now: float) -> dict[str, str]:
        reset_after = _ceil_ms(window.reset_after(now))
        return {
            "X-RateLimit-Limit": str(window.limit),
            "X-RateLimit-Remaining": str(max(0, window.limit - window.count)),
            "X-RateLimit-Reset": f"{self._epoch() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": _bucket_hash(bucket_name),
        }


def _ceil_ms(seconds: float) -> float:
    # Rounded up, so a client that waits exactly this long never arrives before the reset.
    return math.ceil(seconds * 1000) / 1000


def _bucket_hash(name: str) -> str:
    """An opaque, stable id like Discord's (it names the bucket, not the top-level resource)."""
    return hashlib.blake2s(name.encode(), digest_size=16).hexdigest()
