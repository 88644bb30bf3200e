"""REST fault injection: answer the next n requests on a route with a 429 or a 5xx, or stall them.

A faulted request never reaches its handler, so nothing happens in the emulator's world and the
client's retry is what makes the action happen, as with the real Discord.

A stall holds a request until the test releases it: before its handler (nothing has happened
yet) or after it (the action happened, the answer has not gone out). A test kills the bot while a
request is held to see what a crash at exactly that point leaves behind. Stalls still held when
the emulator stops are dropped: a request held before its handler never reaches it.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class _Fault:
    method: str
    template: str
    status: int
    remaining: int
    retry_after: float = 0.0


@dataclass
class Stall:
    """Requests held on a route (`after_handler`: once their handler has run)."""

    method: str
    template: str
    after_handler: bool
    remaining: int
    limit: float = 5.0  # how long `wait` waits for a request to come
    held: int = 0
    _reached: asyncio.Event = field(default_factory=asyncio.Event)
    _released: asyncio.Event = field(default_factory=asyncio.Event)
    dropped: bool = False

    async def wait(self) -> None:
        """Until a request is held here (TimeoutError naming the route after `limit` s)."""
        try:
            async with asyncio.timeout(self.limit):
                await self._reached.wait()
        except TimeoutError:
            where = "after" if self.after_handler else "before"
            raise TimeoutError(
                f"no {self.method} {self.template} was stalled ({where} its handler) "
                f"within {self.limit} s"
            ) from None

    def release(self) -> None:
        """Let the held requests (and later ones this stall would hold) go on."""
        self.remaining = 0
        self._released.set()

    def drop(self) -> None:
        """Give up the held requests: one held before its handler never reaches it."""
        self.dropped = True
        self.release()

    async def hold(self) -> bool:
        """Hold one request; False if it was dropped rather than released."""
        self.held += 1
        self._reached.set()
        await self._released.wait()
        return not self.dropped


class FaultInjector:
    def __init__(self) -> None:
        self._faults: list[_Fault] = []
        self._stalls: list[Stall] = []
        self.served: list[tuple[str, str, int]] = []  # (method, template, status) of each fault

    def stall(
        self,
        method: str,
        template: str,
        *,
        times: int = 1,
        after_handler: bool = False,
        limit: float = 5.0,
    ) -> Stall:
        """Hold the next `times` requests on the route until `release()` (see the module);
        `wait()` gives up after `limit` seconds."""
        stall = Stall(method.upper(), template, after_handler, times, limit)
        self._stalls.append(stall)
        return stall

    def take_stall(self, method: str, template: str) -> Stall | None:
        for stall in self._stalls:
            if stall.method == method and stall.template == template and stall.remaining > 0:
                stall.remaining -= 1
                return stall
        return None

    def drop_stalls(self) -> None:
        """At shutdown: nothing stays held (the server could not stop)."""
        for stall in self._stalls:
            stall.drop()

    def rate_limit(
        self, method: str, template: str, *, times: int = 1, retry_after: float = 0.05
    ) -> None:
        """Answer 429 with `retry_after` (seconds) the next `times` requests on the route."""
        self._faults.append(_Fault(method.upper(), template, 429, times, retry_after))

    def server_error(
        self, method: str, template: str, *, times: int = 1, status: int = 500
    ) -> None:
        """Answer a 5xx the next `times` requests (discord.py retries 500/502/504 after 1 s+)."""
        self._faults.append(_Fault(method.upper(), template, status, times))

    def pending(self) -> int:
        return sum(f.remaining for f in self._faults) + sum(s.remaining for s in self._stalls)

    def take(self, method: str, template: str) -> web.Response | None:
        for fault in self._faults:
            if fault.method == method and fault.template == template and fault.remaining > 0:
                fault.remaining -= 1
                self.served.append((method, template, fault.status))
                return _response(fault)
        return None


def _response(fault: _Fault) -> web.Response:
    if fault.status == 429:
        body = {
            "message": "You are being rate limited.",
            "retry_after": fault.retry_after,
            "global": False,
        }
        headers = {
            # discord.py treats a 429 without Via as a Cloudflare ban and gives up.
            "Via": "1.1 google",
            "Retry-After": str(max(1, round(fault.retry_after))),
            "X-RateLimit-Scope": "user",
        }
    else:
        body = {"message": f"{fault.status}: Internal Server Error", "code": 0}
        headers = {}
    response = web.Response(body=json.dumps(body).encode(), status=fault.status, headers=headers)
    response.headers["Content-Type"] = "application/json"
    return response
