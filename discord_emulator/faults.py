"""REST fault injection: answer the next n requests on a route with a 429 or a 5xx.

A faulted request never reaches its handler, so nothing happens in the emulator's world and the
client's retry is what makes the action happen, as with the real Discord.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from aiohttp import web


@dataclass
class _Fault:
    method: str
    template: str
    status: int
    remaining: int
    retry_after: float = 0.0


class FaultInjector:
    def __init__(self) -> None:
        self._faults: list[_Fault] = []
        self.served: list[tuple[str, str, int]] = []  # (method, template, status) of each fault

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
        return sum(f.remaining for f in self._faults)

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
