"""The demo's clock: it runs like a wall clock from the story's start and jumps forward when the
story skips to its next moment (Wednesday 09:00, the chat hour...)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


class DemoClock:
    """Satisfies `bot.clock.Clock`. Between jumps time flows at real speed, so what the bot
    schedules by the wall clock (its alarm, in interactive mode) still happens on time."""

    def __init__(self, start: datetime, *, monotonic: Callable[[], float] = time.monotonic):
        if start.tzinfo is None:
            raise ValueError("DemoClock needs an aware datetime")
        self._monotonic = monotonic
        self._base = start.astimezone(UTC)
        self._anchor = monotonic()

    def now(self) -> datetime:
        return self._base + timedelta(seconds=self._monotonic() - self._anchor)

    def jump_to(self, instant: datetime) -> datetime:
        """Move to `instant`; never backwards (a moment already passed is left as it is)."""
        if instant.tzinfo is None:
            raise ValueError("DemoClock needs an aware datetime")
        if instant > self.now():
            self._base = instant.astimezone(UTC)
            self._anchor = self._monotonic()
        return self.now()
