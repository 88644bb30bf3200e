"""A published library served by the real site on a loopback port."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from support.webui import Web, serve_site

from bot.clock import FakeClock
from bot.database import SessionFactory


@pytest.fixture
async def web(sessions: SessionFactory, clock: FakeClock) -> AsyncIterator[Web]:
    async for served in serve_site(sessions, clock):
        yield served
