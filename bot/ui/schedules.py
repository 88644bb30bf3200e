"""Rendering schedules and previews for Discord (Discord timestamps; the zone's wall clock)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import discord

from bot.scheduling import Recurrence, ScheduleInfo
from bot.timezones import parse_timezone
from bot.ui.text import safe_text
from bot.wording import discord_timestamp

KIND_NAMES = {"prompt": "Prompt", "chat.start": "Chat", "chat.announce": "Chat announcement"}
PER_PAGE = 8
# Option descriptions are at most 100 characters.
WHEN_HELP = "e.g. weekly on tue at 19:00 · daily at 08:00 · monthly on 2nd tue at 19:00"


def when_line(instant: datetime, zone_name: str) -> str:
    """`<t:…:F>` (each reader's zone) plus the schedule's own wall clock, e.g. 19:00 EDT."""
    local = instant.astimezone(parse_timezone(zone_name))
    epoch = instant.timestamp()
    return (
        f"{discord_timestamp(epoch, 'F')} ({discord_timestamp(epoch, 'R')})"
        f" · {local:%a %d %b %H:%M} {local.tzname()}"
    )


def preview_text(rule: Recurrence, instants: Sequence[datetime]) -> str:
    lines = [f"**{safe_text(rule.describe())}**", "Next runs:"]
    lines += [f"{n}. {when_line(i, rule.timezone)}" for n, i in enumerate(instants, 1)]
    return "\n".join(lines)


def schedule_field(info: ScheduleInfo) -> tuple[str, str]:
    kind = KIND_NAMES.get(info.kind, info.kind)
    name = f"#{info.id} · {kind}" + (f" · {info.label}" if info.label else "")
    if info.paused:
        state = "⏸ paused"
    elif info.next_run_at is None:
        state = "finished"
    else:
        state = "next: " + when_line(info.next_run_at, info.rule.timezone)
    return name[:256], f"{safe_text(info.rule.describe(), 400)}\n{state}"[:1024]


def schedule_pages(infos: Sequence[ScheduleInfo]) -> list[discord.Embed]:
    pages = []
    for start in range(0, len(infos), PER_PAGE):
        embed = discord.Embed(title="Schedules", colour=discord.Colour.blurple())
        for info in infos[start : start + PER_PAGE]:
            name, value = schedule_field(info)
            embed.add_field(name=name, value=value, inline=False)
        pages.append(embed)
    return pages or [discord.Embed(title="Schedules", description="No schedules yet.")]
