"""Posting a stored recap exactly once, and the scheduling core's "recap" kind (Discord-free).

Exactly once: the recap of a slot is stored once (unique guild/trigger/slot), then each rendered
part is posted through the outbox under the recap's own scope ("recap:<id>", bot/scheduling/
outbox): written before it is sent, recorded right after, sent with a nonce Discord enforces.
A restart (the runner re-runs a slot that was claimed but not finished: `resume_after_crash`)
loads the same snapshot, renders the same parts, skips those recorded, finds on Discord a part
that went out unrecorded, and sends the rest; `/mod recap now` posts through the same scope.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime, time, timedelta
from typing import TypeVar

from bot.errors import UserFacingError
from bot.recap.records import RecapConfig, RecapView
from bot.recap.service import RecapService
from bot.scheduling import Outbox, Outgoing, Recurrence, SchedulingCore, SlotContext
from bot.timezones import parse_timezone

RECAP_KIND = "recap"
RECAP_GRACE = timedelta(hours=24)

PartT = TypeVar("PartT")
Publisher = Callable[[RecapView], Awaitable[str]]


def recap_scope(recap_id: int) -> str:
    """The recap's scope in the outbox (also what its history looks up for the first message)."""
    return f"recap:{recap_id}"


async def post_remaining(
    outbox: Outbox,
    service: RecapService,
    view: RecapView,
    parts: Sequence[PartT],
    outgoing: Callable[[int, PartT], Outgoing],
) -> list[int]:
    """`outgoing(index, part)` describes one part's message. Post each part once (those sent
    before are skipped), mark the recap posted; returns every message id, in order."""
    assert view.recap_id is not None and view.channel_id is not None
    scope = outbox.scope(view.guild_id, recap_scope(view.recap_id))
    ids = []
    for index, part in enumerate(parts):
        sent = await scope.once(str(index), outgoing(index, part))
        ids.append(sent.id)
    await service.mark_posted(view.guild_id, view.recap_id)
    return ids


class RecapSlots:
    """The "recap" kind's handler: store the slot's recap once, then publish what is left."""

    def __init__(self, service: RecapService, publish: Publisher) -> None:
        self._service = service
        self._publish = publish

    async def run_slot(self, slot: SlotContext) -> str | None:
        guild_id = slot.schedule.guild_id
        config = await self._service.config(guild_id)
        if not config.enabled:
            return "recap is off (no channel)"
        view = await self._service.prepare(guild_id, slot.slot_at, trigger="schedule")
        return await self._publish(view)


def recap_rule(config: RecapConfig, today: date) -> Recurrence:
    hours, minutes = (int(p) for p in config.local_time.split(":"))
    return Recurrence(
        frequency="weekly",
        local_time=time(hours, minutes),
        timezone=config.timezone,
        starts_on=today,
        weekdays=(config.weekday,),
    )


async def sync_schedule(
    core: SchedulingCore,
    service: RecapService,
    config: RecapConfig,
    guild_name: str,
    actor_id: int,
    now: datetime,
) -> RecapConfig:
    """Keep the guild's one "recap" schedule in step with its settings (created on first use)."""
    today = now.astimezone(parse_timezone(config.timezone)).date()
    rule = recap_rule(config, today)
    if config.schedule_id is not None:
        try:
            await core.schedules.update(config.guild_id, config.schedule_id, actor_id, rule=rule)
        except UserFacingError:  # the schedule was deleted with /schedule: make a new one
            config = RecapConfig(**{**config.__dict__, "schedule_id": None})
    if config.schedule_id is None:
        info = await core.schedules.create(
            config.guild_id,
            guild_name,
            actor_id,
            kind=RECAP_KIND,
            rule=rule,
            label="weekly recap",
            audit=False,
        )
        await service.link_schedule(config.guild_id, info.id)
        config = RecapConfig(**{**config.__dict__, "schedule_id": info.id})
    await core.changed()
    return config
