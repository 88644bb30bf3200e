"""The Discord-free scheduling core shared by prompts, chats, the weekly recap and feeds.

core = SchedulingCore(sessions, clock, scheduler, guild_visible=..., report=..., find_post=...)
core.registry.register("recap.weekly", handler, grace=timedelta(hours=6), resume_after_crash=True)
# in the handler: await slot.outbox.once("part", outgoing)   # each post exactly once
info = await core.schedules.create(guild_id, guild_name, actor_id, kind="recap.weekly",
                                   rule=parse_when("weekly on mon at 09:00", tz, now))
await core.changed()       # after any create/update/pause/delete: re-arm the alarm
await core.runner.run_due()  # claim and run what is due; tests call it after moving a FakeClock
core.stop(); await core.wait_idle()  # at shutdown: release queued slots, wait for running ones
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.clock import Clock
from bot.database import SessionFactory
from bot.scheduling.alarm import Alarm
from bot.scheduling.outbox import Finder, Memo, Outbox, OutboxScope, Outgoing, Sent
from bot.scheduling.recurrence import Recurrence, to_utc
from bot.scheduling.registry import Handler, KindRegistry, KindSpec, SlotContext
from bot.scheduling.runner import Reporter, Runner, RunPass, RunReport
from bot.scheduling.schedules import RunInfo, ScheduleInfo, ScheduleService, preview
from bot.scheduling.when import parse_when

__all__ = [
    "Alarm",
    "Finder",
    "Handler",
    "KindRegistry",
    "KindSpec",
    "Memo",
    "Outbox",
    "OutboxScope",
    "Outgoing",
    "Recurrence",
    "Reporter",
    "RunInfo",
    "RunPass",
    "RunReport",
    "Runner",
    "ScheduleInfo",
    "ScheduleService",
    "SchedulingCore",
    "Sent",
    "SlotContext",
    "parse_when",
    "preview",
    "to_utc",
]


class SchedulingCore:
    """Schedules, the kind registry, the runner and its alarm, wired together once per bot."""

    def __init__(
        self,
        sessions: SessionFactory,
        clock: Clock,
        scheduler: Any | None,
        *,
        guild_visible: Callable[[int], bool],
        report: Reporter,
        find_post: Finder | None = None,
        owner: str | None = None,
    ) -> None:
        self.schedules = ScheduleService(sessions, clock)
        self.registry = KindRegistry()
        # `find_post` (the Discord side) tells whether a post of a crashed run reached Discord.
        self.outbox = Outbox(sessions, clock, find_post)
        self.runner = Runner(
            sessions,
            clock,
            self.registry,
            guild_visible=guild_visible,
            report=report,
            owner=owner,
            outbox=self.outbox,
        )
        self.alarm = Alarm(self.runner, scheduler, clock) if scheduler is not None else None

    async def start(self) -> RunReport:
        """At start-up: recover interrupted runs, catch up on missed slots, arm the alarm.

        The alarm is armed once the catch-up is claimed, not after it ran (thousands of paced
        digests could take many minutes); returns when the catch-up has run.
        """
        catch_up = await self.runner.start_due()
        await self.changed()
        return await catch_up.wait()

    async def listed(self, guild_id: int) -> list[ScheduleInfo]:
        """What /mod schedule list shows: schedules of kinds that are moderators' business."""
        infos = await self.schedules.for_guild(guild_id)
        return [info for info in infos if self.registry.is_listed(info.kind)]

    async def changed(self) -> None:
        if self.alarm is not None:
            await self.alarm.arm()

    def stop(self) -> None:
        """At shutdown: no more wake-ups, passes or handlers start."""
        if self.alarm is not None:
            self.alarm.disarm()
        self.runner.stop()

    async def wait_idle(self) -> None:
        """After `stop()`: release the claimed slots not started, wait for running handlers."""
        await self.runner.wait_idle()
