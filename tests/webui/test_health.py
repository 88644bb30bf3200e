"""`plnbot health` with the web UI on asks the site's /healthz, as Docker's HEALTHCHECK does."""

from __future__ import annotations

import socket

from support.webui import Web

from bot.settings import WebUISettings
from bot.webui.health import web_problem


async def test_health_is_good_while_the_site_answers_and_says_why_when_not(web: Web) -> None:
    assert web.site.port is not None
    assert (
        await web_problem(WebUISettings(enabled=True, bind="0.0.0.0", port=web.site.port)) is None
    )

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    problem = await web_problem(WebUISettings(enabled=True, port=closed))
    assert problem is not None and f"127.0.0.1:{closed}/healthz" in problem
