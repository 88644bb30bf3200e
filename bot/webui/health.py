"""`plnbot health` with the web UI on: the web server must answer /healthz too."""

from __future__ import annotations

import aiohttp

from bot.settings import WebUISettings

TIMEOUT_SECONDS = 3.0


async def web_problem(settings: WebUISettings) -> str | None:
    """Why this machine's web server is unhealthy, or None if it answers /healthz."""
    host = settings.bind if settings.bind not in ("0.0.0.0", "::", "") else "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    url = f"http://{host}:{settings.port}/healthz"
    try:
        timeout = aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)
        async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url) as answer:
            if answer.status == 200:
                return None
            return f"The web UI answered {answer.status} at {url}."
    except (aiohttp.ClientError, TimeoutError) as exc:
        return f"The web UI does not answer at {url} ({type(exc).__name__})."
